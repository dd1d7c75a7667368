public import WorkOSModel

/// The scheduler's decisions as a value: which directories are due, which
/// may start under `sync.concurrency`, how long a failing directory (or a
/// failing listing) backs off, and how long the loop may sleep.
///
/// Pure, like the planner: every decision takes the current instant as an
/// argument, and a uniform random draw in `0..<1` where jitter applies;
/// nothing here reads a clock, sleeps, logs or does I/O. ``Scheduler`` keeps
/// one, tells it what happened (a listing, a finished run, a reload) and
/// executes what it answers; tests drive it with instants they choose.
///
/// The rules (timings from ``RunTiming``):
/// - The directory listing is due at once, then every `interval` after a
///   success; after `n` failures in a row it is retried with backoff.
/// - A directory that appears in the listing (and is selected by
///   `sync.directories`) is due at once; one the database knows but the
///   listing no longer has is *vanished* and due at once too, for the
///   engine's removal path. One that is neither listed nor known, or no
///   longer selected, is forgotten — after its run when it is running.
/// - After a run that did not fail, a directory is due one jittered
///   `interval` later; after `n` failed runs in a row, after
///   ``RunTiming/delay(failures:interval:base:random:)``: doubling from
///   `backoffBase`, jittered, never more than `interval`.
/// - At most `concurrency` directories run at once; the earliest due first.
/// - The listings held at once stay within `maxUsersInMemory`, counted by
///   each directory's expected users (its last listing; unknown counts 0): the
///   earliest due that does not fit waits, and nothing after it starts, until
///   runs finish (so a large directory is not passed over for ever). One
///   directory always runs, whatever its size.
/// - Replicas share the schedule in PostgreSQL: a started directory may turn
///   out not claimable (another replica ran it or holds it); it is then
///   ``deferred(_:claimableIn:expectedUsers:at:)`` to when it may be, with no
///   failure counted. A directory picked up by a listing is due when the
///   shared schedule says, not at once.
/// - A reload that changes the interval makes nobody wait longer than the
///   new one (jittered); one that narrows `sync.directories` forgets the
///   directories left out.
public struct SchedulePlan<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// One directory as the plan tracks it.
    public struct Entry: Sendable, Equatable {
        public var directory: Directory
        /// Known to the database but no longer listed by WorkOS: runs the engine's removal path.
        public var vanished: Bool
        /// When it may run next (it is due once this instant has come).
        public var nextDue: Instant
        /// Failed runs in a row (0 after any run that did not fail).
        public var failures: Int
        public var running: Bool
        /// Out of scope while it ran: forgotten when its run finishes.
        public var retiring: Bool
        /// Users of its last complete listing (nil: unknown), for the memory cap.
        public var expectedUsers: Int?

        init(directory: Directory, vanished: Bool, nextDue: Instant, failures: Int = 0, running: Bool = false, expectedUsers: Int? = nil) {
            self.directory = directory
            self.vanished = vanished
            self.nextDue = nextDue
            self.failures = failures
            self.running = running
            self.retiring = false
            self.expectedUsers = expectedUsers
        }
    }

    /// What a listing changed, for the loop to log and to register metrics.
    public struct ListingChanges: Sendable, Equatable {
        /// Listed for the first time (or again after being forgotten): due now.
        public var pickedUp: [Directory] = []
        /// Known to the database, no longer listed: due now, through the removal path.
        public var vanished: [Directory] = []
        /// Neither listed nor known any more: forgotten (after their run, if running).
        public var dropped: [String] = []

        /// Nothing changed.
        public var isEmpty: Bool { pickedUp.isEmpty && vanished.isEmpty && dropped.isEmpty }
    }

    /// `sync.interval` in force.
    public private(set) var interval: Duration
    /// `sync.directories` in force (empty: every directory).
    public private(set) var selection: [String]
    /// `sync.concurrency`: at most this many runs at once (fixed for the life of the process).
    public let concurrency: Int
    /// Fewer lanes while this replica has only a share of the key's budget
    /// (``Settings/lanesForBudget(requestsPerSecond:directoryUsersPerSecond:)`` of
    /// its share): more listings at once would only wait for the key and hold memory. Nil: all.
    public var shareLanes: Int?
    /// The lanes in use: `concurrency`, or fewer under ``shareLanes``.
    public var lanes: Int { min(concurrency, max(1, shareLanes ?? concurrency)) }
    /// The first retry delay after a failure (``Scheduler/Configuration/backoffBase``).
    public let backoffBase: Duration
    /// `sync.max_users_in_memory`: expected users of the listings held at once.
    public let maxUsersInMemory: Int
    /// The directories tracked, by id.
    public private(set) var entries: [String: Entry] = [:]
    /// When the directory listing is due next.
    public private(set) var listingDue: Instant
    /// Failed listings in a row.
    public private(set) var listingFailures = 0
    /// A listing was started and has not been reported yet.
    public private(set) var listingInFlight = false

    /// A plan with nothing tracked yet; the first listing is due at `now`.
    public init(
        interval: Duration, concurrency: Int, backoffBase: Duration = .seconds(5), selection: [String] = [],
        maxUsersInMemory: Int = .max, now: Instant
    ) {
        self.interval = interval
        self.selection = selection
        self.concurrency = max(1, concurrency)
        self.maxUsersInMemory = max(1, maxUsersInMemory)
        self.backoffBase = backoffBase
        self.listingDue = now
    }

    // MARK: - Questions

    /// Runs in flight.
    public var running: Int { entries.values.count(where: \.running) }

    /// The ids of the directories running, sorted.
    public var runningIDs: [String] { entries.values.filter(\.running).map(\.directory.id).sorted() }

    /// Expected users of the listings in flight (unknown sizes count 0).
    public var usersInMemory: Int { entries.values.filter(\.running).reduce(0) { $0 + ($1.expectedUsers ?? 0) } }

    /// Directories whose last run failed.
    public var failing: Int { entries.values.count(where: { $0.failures > 0 }) }

    /// Whether `id` is in scope of `sync.directories`.
    public func isSelected(_ id: String) -> Bool { selection.isEmpty || selection.contains(id) }

    /// The directories due at `now` and not running, the earliest due first (ties by id).
    public func due(at now: Instant) -> [Entry] {
        entries.values.filter { !$0.running && $0.nextDue <= now }
            .sorted { ($0.nextDue, $0.directory.id) < ($1.nextDue, $1.directory.id) }
    }

    /// The delay before the next run after `failures` failed runs in a row (0: a success):
    /// capped at the interval and jittered by `random` (see ``RunTiming``).
    public func backoff(failures: Int, random: Double) -> Duration {
        RunTiming.delay(failures: failures, interval: interval, base: backoffBase, random: random)
    }

    /// The next instant something may start: the listing when it is not in
    /// flight, a directory when a lane is free. Nil when everything waits for a
    /// run or the listing to finish (the loop is woken by that).
    public func nextWake() -> Instant? {
        var next = listingInFlight ? nil : listingDue
        if running < lanes, let directory = entries.values.filter({ !$0.running }).map(\.nextDue).min() {
            next = next.map { min($0, directory) } ?? directory
        }
        return next
    }

    /// How long the loop may sleep at `now`: until ``nextWake()``, never more than `limit`.
    public func sleep(at now: Instant, atMost limit: Duration) -> Duration {
        guard let next = nextWake() else { return limit }
        return min(max(now.duration(to: next), .zero), limit)
    }

    // MARK: - Decisions

    /// Starts the listing when it is due and not in flight; true when the caller must list now.
    public mutating func startListingIfDue(at now: Instant) -> Bool {
        guard !listingInFlight && now >= listingDue else { return false }
        listingInFlight = true
        return true
    }

    /// Starts as many due directories as there are free lanes (``lanes``
    /// minus those running) and room under `maxUsersInMemory`, the earliest due
    /// first; returns them, now running.
    public mutating func startDue(at now: Instant) -> [Entry] {
        var free = max(0, lanes - running)
        var inMemory = usersInMemory
        var alone = running == 0
        var started: [Entry] = []
        for entry in due(at: now) where free > 0 {
            let users = entry.expectedUsers ?? 0
            guard alone || inMemory + users <= maxUsersInMemory else { break }
            started.append(entry)
            free -= 1
            inMemory += users
            alone = false
        }
        for entry in started { entries[entry.directory.id]?.running = true }
        return started.map { entry in
            var entry = entry
            entry.running = true
            return entry
        }
    }

    /// Merges a successful listing: `listed` are the directories WorkOS lists,
    /// `known` those the database knows; `shared` is the shared schedule, by
    /// id: how long until each may be claimed, and its expected users. A
    /// directory picked up is due after its wait (at once when it has no row).
    /// The next listing is due one interval later.
    public mutating func listingSucceeded(
        listed: [Directory], known: [Directory], shared: [String: (claimableIn: Duration, expectedUsers: Int?)] = [:], at now: Instant
    ) -> ListingChanges {
        defer {
            for (id, row) in shared where entries[id] != nil {
                if let users = row.expectedUsers { entries[id]?.expectedUsers = users }
            }
        }
        func firstDue(_ id: String) -> Instant { now.advanced(by: shared[id]?.claimableIn ?? .zero) }
        listingInFlight = false
        listingFailures = 0
        listingDue = now.advanced(by: interval)
        var changes = ListingChanges()
        let listed = listed.filter { isSelected($0.id) }
        let listedIDs = Set(listed.map(\.id))
        var keep: Set<String> = []
        for directory in listed {
            keep.insert(directory.id)
            if var entry = entries[directory.id] {
                entry.directory = directory
                entry.vanished = false
                entry.retiring = false
                entries[directory.id] = entry
            } else {
                entries[directory.id] = Entry(directory: directory, vanished: false, nextDue: firstDue(directory.id))
                changes.pickedUp.append(directory)
            }
        }
        for directory in known where !listedIDs.contains(directory.id) && isSelected(directory.id) {
            keep.insert(directory.id)
            if entries[directory.id]?.vanished != true {
                let running = entries[directory.id]?.running ?? false
                entries[directory.id] = Entry(
                    directory: directory, vanished: true, nextDue: running ? now : firstDue(directory.id), running: running)
                changes.vanished.append(directory)
            } else {
                entries[directory.id]?.retiring = false
            }
        }
        for id in entries.keys.sorted() where !keep.contains(id) && entries[id]?.retiring != true {
            changes.dropped.append(id)
            forget(id)
        }
        return changes
    }

    /// Records a failed listing; returns the delay until it is retried (backoff, see ``RunTiming``).
    public mutating func listingFailed(at now: Instant, random: Double) -> Duration {
        listingInFlight = false
        listingFailures += 1
        let delay = backoff(failures: listingFailures, random: random)
        listingDue = now.advanced(by: delay)
        return delay
    }

    /// Records the end of `id`'s run (`users`: its complete listing's, nil
    /// when it had none); returns the delay until its next run, or nil when
    /// the directory is no longer tracked (forgotten meanwhile).
    @discardableResult
    public mutating func finished(_ id: String, failed: Bool, users: Int? = nil, at now: Instant, random: Double) -> Duration? {
        guard var entry = entries[id] else { return nil }
        guard !entry.retiring else {
            entries[id] = nil
            return nil
        }
        entry.running = false
        if let users { entry.expectedUsers = users }
        entry.failures = failed ? entry.failures + 1 : 0
        let delay = backoff(failures: entry.failures, random: random)
        entry.nextDue = now.advanced(by: delay)
        entries[id] = entry
        return delay
    }

    /// Records that `id` was started but could not be claimed in the shared
    /// schedule (another replica ran it this interval, or holds it): it is due
    /// again after `claimableIn`, with no failure counted.
    public mutating func deferred(_ id: String, claimableIn: Duration, expectedUsers: Int?, at now: Instant) {
        guard entries[id] != nil else { return }
        guard entries[id]?.retiring != true else {
            entries[id] = nil
            return
        }
        entries[id]?.running = false
        entries[id]?.nextDue = now.advanced(by: max(claimableIn, .zero))
        if let expectedUsers { entries[id]?.expectedUsers = expectedUsers }
    }

    /// Applies reloaded settings: a changed interval caps every wait (and the
    /// listing's) at the new interval, jittered with one draw of `random` per
    /// directory; directories left out of a narrowed `sync.directories` are
    /// forgotten (after their run, if running). Returns the ids forgotten.
    @discardableResult
    public mutating func reload(interval newInterval: Duration, selection newSelection: [String], at now: Instant, random: () -> Double) -> [String] {
        if newInterval != interval {
            interval = newInterval
            for (id, entry) in entries.sorted(by: { $0.key < $1.key }) where !entry.running {
                entries[id]?.nextDue = min(entry.nextDue, now.advanced(by: RunTiming.jittered(newInterval, random: random())))
            }
            listingDue = min(listingDue, now.advanced(by: newInterval))
        }
        selection = newSelection
        var dropped: [String] = []
        for id in entries.keys.sorted() where !isSelected(id) && entries[id]?.retiring != true {
            dropped.append(id)
            forget(id)
        }
        return dropped
    }

    /// Removes `id` now, or when its run finishes.
    private mutating func forget(_ id: String) {
        if entries[id]?.running == true {
            entries[id]?.retiring = true
        } else {
            entries[id] = nil
        }
    }
}
