/// How a `WorkOSSimulator` generates its data and behaves.
///
/// Defaults: API key `sk_test_simulator`, seed 1, 2 directories of 100 users
/// and 10 groups each, embedded `groups` empty (post-2026 behaviour),
/// deactivated users deleted (WorkOS default since 2023), WorkOS's rate limits
/// on, no added latency, deprecated user fields included.
public struct SimulatorConfiguration: Sendable {
    /// The only accepted `Authorization: Bearer` token. A secret in real life: never log it.
    public var apiKey: String = "sk_test_simulator"
    /// Seed of the deterministic generator: the same seed gives the same data and ids.
    public var seed: UInt64 = 1
    /// Number of directories generated at start.
    public var directories: Int = 2
    /// Users generated per directory.
    public var usersPerDirectory: Int = 100
    /// Groups generated per directory.
    public var groupsPerDirectory: Int = 10
    /// When true, each user carries its groups in `groups`; when false (post-2026), `groups` is `[]`.
    public var embeddedGroups: Bool = false
    /// What deactivating a user does: delete it, or keep it with `state: "inactive"`.
    public var deactivation: Deactivation = .delete
    /// Rate limits enforced; nil turns them off.
    public var rateLimit: RateLimit? = RateLimit()
    /// Added to every response before it is sent.
    public var latency: Duration = .zero
    /// When false, users are served without the deprecated `emails`, `username`,
    /// `job_title` and `raw_attributes` (WorkOS may drop them); events keep them.
    public var includeDeprecatedFields: Bool = true
    /// How `created_at`/`updated_at` are written: WorkOS's usual ISO-8601 with `Z`,
    /// or the legacy form with a space and no zone.
    public var timestampStyle: TimestampStyle = .iso8601
    /// How long `/events` keeps an event (WorkOS: 30 days). Older events are
    /// no longer served, and an `after` naming one (or any id the feed does not
    /// hold) is refused with 400 `invalid_cursor`.
    public var eventRetention: Duration = .seconds(30 * 86_400)

    public init(
        apiKey: String = "sk_test_simulator",
        seed: UInt64 = 1,
        directories: Int = 2,
        usersPerDirectory: Int = 100,
        groupsPerDirectory: Int = 10,
        embeddedGroups: Bool = false,
        deactivation: Deactivation = .delete,
        rateLimit: RateLimit? = RateLimit(),
        latency: Duration = .zero,
        includeDeprecatedFields: Bool = true,
        timestampStyle: TimestampStyle = .iso8601
    ) {
        self.apiKey = apiKey
        self.seed = seed
        self.directories = directories
        self.usersPerDirectory = usersPerDirectory
        self.groupsPerDirectory = groupsPerDirectory
        self.embeddedGroups = embeddedGroups
        self.deactivation = deactivation
        self.rateLimit = rateLimit
        self.latency = latency
        self.includeDeprecatedFields = includeDeprecatedFields
        self.timestampStyle = timestampStyle
    }
}
