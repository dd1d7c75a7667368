import Foundation
public import Reconciler
public import WorkOS
import Yams

/// Everything `workos-dsync` reads at start: one optional YAML file
/// (`--config`, default `/etc/workos-dsync/config.yaml`) with environment
/// overrides. Every setting has a default, so `WORKOS_API_KEY` and
/// `DATABASE_URL` alone are enough. A wrong setting fails at start with a
/// message naming it; `deploy/config.example.yaml` documents each key.
public struct Settings: Sendable {
    /// `workos.api_key_file`, `WORKOS_API_KEY`, `WORKOS_API_KEY_FILE` or the
    /// systemd credential `workos-api-key`. Never logged.
    public var apiKey: Secret?
    /// `workos.base_url` / `WORKOS_BASE_URL`. Default `https://api.workos.com`.
    public var baseURL = "https://api.workos.com"
    /// `workos.ca_file`: a CA bundle for TLS behind an intercepting proxy. Default: the system's.
    public var caFile: String?
    /// `workos.connect_timeout`. Default `10s`.
    public var connectTimeout: Duration = .seconds(10)
    /// `workos.request_timeout`. Default `60s`.
    public var requestTimeout: Duration = .seconds(60)
    /// `workos.directory_users_per_second`: pacing per directory. Default 4 (WorkOS's limit).
    public var directoryUsersPerSecond = 4.0
    /// `workos.requests_per_second`: pacing per API key. Default 100.
    public var requestsPerSecond = 100.0
    /// `database.url` / `DATABASE_URL`: a libpq connection string or URI; nil
    /// means libpq's own `PG*` variables and `.pgpass`. Never logged.
    public var databaseURL: String?
    /// `sync.interval`: how often each directory is reconciled from a complete
    /// listing. Default `1h` in `hybrid` mode (the events poller deprovisions
    /// in seconds meanwhile), `10m` in `full` mode.
    public var interval: Duration {
        get { explicitInterval ?? (mode == .hybrid ? .seconds(3_600) : .seconds(600)) }
        set { explicitInterval = newValue }
    }
    private var explicitInterval: Duration?
    /// `sync.mode` / `run --mode`: `hybrid` (default: the events poller plus the full reconcile as safety net) or `full`.
    public var mode: SyncMode = .hybrid
    /// `events.interval` / `run --events-interval`: how long the poller waits once caught up. Default `5s`.
    public var eventsInterval: Duration = .seconds(5)
    /// `events.guard_window`: the sliding window over which the guard counts disables by events. Default `1h`.
    public var eventsGuardWindow: Duration = .seconds(3_600)
    /// `events.retention`: how long WorkOS keeps events. Default `30d`. A
    /// complete listing older than this (less a margin) cannot replace a lost cursor.
    public var eventsRetention: Duration = .seconds(30 * 86_400)
    /// `sync.concurrency`: directories reconciled at once by one replica (each
    /// a PostgreSQL session). Default: enough to spend the key's budget,
    /// ``lanesForBudget(requestsPerSecond:directoryUsersPerSecond:)``.
    public var concurrency: Int {
        get { explicitConcurrency ?? Self.lanesForBudget(requestsPerSecond: requestsPerSecond, directoryUsersPerSecond: directoryUsersPerSecond) }
        set { explicitConcurrency = newValue }
    }
    private var explicitConcurrency: Int?
    /// `sync.max_users_in_memory`: the expected users (each directory's last
    /// listing) of the listings one replica holds at once; a directory that
    /// would exceed it waits for a run to finish (one runs alone whatever its
    /// size). About 1.5 KiB each. Default 200,000.
    public var maxUsersInMemory = 200_000
    /// `sync.claim_ttl`: how long a replica's claim on a directory (and its
    /// heartbeat) lasts without renewal; a dead replica's directories are taken
    /// over after at most this. Renewed every third of it. Default `30s`.
    public var claimTTL: Duration = .seconds(30)
    /// `sync.directories`: only these directory ids (default: every directory of the API key).
    public var directories: [String] = []
    /// `guard.min_users`, `guard.fraction`, `guard.max_users`, `guard.on_directory_removed`, `guard.max_unexplained`,
    /// `guard.missing_after_listings`, and `deprovisioning.keep_active_states` (global and per directory).
    public var safety = SafetyPolicy()
    /// `retention.sync_runs`: `purge` deletes `sync_runs` rows older than this. Default `90d`.
    public var syncRunsRetention: Duration = .seconds(90 * 86_400)
    /// `retention.events`: `purge` deletes rows of the `events` table (the audit
    /// trail, not WorkOS's feed: see `events.retention`) older than this.
    /// Default `keep` (nil: the audit trail stays).
    public var eventTableRetention: Duration?
    /// `revoke_sessions_sql`: run in the apply transaction when persons are
    /// disabled, with `$1` the `uuid[]` of their `users.id`. Default none.
    public var revokeSessionsSQL: String?
    /// `http.listen`: address of `/metrics`, `/healthz`, `/readyz`. Default `127.0.0.1:9464`.
    public var listen = "127.0.0.1:9464"
    /// `http.max_listing_age`: `/readyz` fails when a directory's last complete
    /// listing is older. Default: twice `sync.interval`, at least `30m` (a listing
    /// is due one interval, +10 %, after the last, then takes its own time:
    /// docs/operations.md gives it per directory size).
    public var maxListingAge: Duration {
        get { explicitMaxListingAge ?? max(.seconds(1_800), interval * 2) }
        set { explicitMaxListingAge = newValue }
    }
    private var explicitMaxListingAge: Duration?
    /// `purge.cooling_off`: disabled accounts younger than this are never anonymised. Default `30d`.
    public var purgeCoolingOff: Duration = .seconds(30 * 86_400)
    /// `purge.schedule`: the daemon purges (as `purge --older-than` `purge.cooling_off`) this often.
    /// Default `off` (nil). Needs the opt-in role `workos_dsync_purger` (`sql/roles.sql`).
    public var purgeSchedule: Duration?
    /// `log.format`: `logfmt` (default) or `json`.
    public var logFormat = "logfmt"
    /// `log.level`: `debug`, `info` (default), `notice`, `warning`, `error`.
    public var logLevel = "info"

    public init() {}

    /// Directories listed at once that spend `requestsPerSecond`, each paced at
    /// `directoryUsersPerSecond` on `/directory_users`: the ratio and a quarter
    /// more (a run also plans and writes, sending no request meanwhile), rounded
    /// up; 1...64. At WorkOS's limits (100 and 4): 32.
    public static func lanesForBudget(requestsPerSecond: Double, directoryUsersPerSecond: Double) -> Int {
        guard requestsPerSecond.isFinite, directoryUsersPerSecond.isFinite, directoryUsersPerSecond > 0 else { return 64 }
        let lanes = (requestsPerSecond / directoryUsersPerSecond * 1.25).rounded(.up)
        return Int(min(max(lanes, 1), 64))
    }

    /// The default config file path.
    public static let defaultPath = "/etc/workos-dsync/config.yaml"

    /// Reads the file (when `path` is given it must exist; the default path is
    /// optional), applies the environment on top, then `overrides` (command-line
    /// flags such as `--log-level`). Precedence: flags > environment > file > defaults.
    public static func load(
        path: String?, environment: [String: String], overrides: [SettingOverride] = []
    ) throws(SettingsError) -> Settings {
        var settings = Settings()
        let filePath = path ?? defaultPath
        if FileManager.default.fileExists(atPath: filePath) {
            let text: String
            do {
                text = try String(contentsOfFile: filePath, encoding: .utf8)
            } catch {
                throw SettingsError(key: "--config", problem: "cannot read \(filePath): \(error.localizedDescription)")
            }
            try settings.apply(yaml: text, source: filePath)
        } else if path != nil {
            throw SettingsError(key: "--config", problem: "\(filePath) does not exist")
        }
        try settings.apply(environment: environment)
        for override in overrides {
            try settings.set(override.key, plainScalar(override.value), source: override.source)
        }
        return settings
    }

    /// Applies a YAML document; unknown keys are errors.
    mutating func apply(yaml text: String, source: String) throws(SettingsError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw SettingsError(key: source, problem: "is not valid YAML: \(Self.yamlProblem(error))")
        }
        guard let root else { return }
        var values: [String: Node] = [:]
        try Self.flatten(root, prefix: "", into: &values)
        for (key, node) in values.sorted(by: { $0.key < $1.key }) {
            try set(key, node)
        }
    }

    /// Where and what a YAML error is, without the offending text: the line may hold a secret.
    private static func yamlProblem(_ error: any Error) -> String {
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(problem)" + (context.map { " (\($0.text))" } ?? "")
        case .reader(let problem, let offset?, _, let yaml):
            let lines = yaml.prefix(offset).split(separator: "\n", omittingEmptySubsequences: false)
            return "line \(lines.count), column \((lines.last?.count ?? 0) + 1): \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "line \(context.mark.line), column \(context.mark.column): duplicated keys "
                + duplicates.sorted().joined(separator: ", ")
        default:
            return "unreadable"
        }
    }

    private static func flatten(_ node: Node, prefix: String, into values: inout [String: Node]) throws(SettingsError) {
        guard let mapping = node.mapping else {
            if prefix.isEmpty { throw SettingsError(key: "config", problem: "must be a mapping of settings") }
            values[prefix] = node
            return
        }
        if !prefix.isEmpty && !nestedSections.contains(prefix) {
            values[prefix] = node
            return
        }
        for (key, value) in mapping {
            guard let name = key.string else { throw SettingsError(key: prefix, problem: "has a key that is not a string") }
            try flatten(value, prefix: prefix.isEmpty ? name : "\(prefix).\(name)", into: &values)
        }
    }

    private static let nestedSections: Set<String> = [
        "workos", "database", "sync", "events", "guard", "http", "purge", "log", "deprovisioning", "retention",
    ]

    /// Sets `key` from `node` as the YAML file would; errors name `source`
    /// (an environment variable or a flag) and the key when they differ.
    private mutating func set(_ key: String, _ node: Node, source: String) throws(SettingsError) {
        do throws(SettingsError) {
            try set(key, node)
        } catch {
            throw SettingsError(key: source == key ? key : "\(source) (\(key))", problem: error.problem)
        }
    }

    private mutating func set(_ key: String, _ node: Node) throws(SettingsError) {
        func string() throws(SettingsError) -> String {
            guard let value = node.scalar?.string else { throw SettingsError(key: key, problem: "must be a string") }
            return value
        }
        func duration() throws(SettingsError) -> Duration {
            let text = try string()
            guard let value = DurationText.parse(text), value > .zero else {
                throw SettingsError(key: key, problem: "must be a duration like 90s, 10m or 1h, at most 3650d (got \"\(text)\")")
            }
            return value
        }
        func number(_ range: ClosedRange<Double>) throws(SettingsError) -> Double {
            guard let value = Double(try string()), range.contains(value) else {
                throw SettingsError(key: key, problem: "must be a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        func integer(_ range: ClosedRange<Int>) throws(SettingsError) -> Int {
            guard let value = Int(try string()), range.contains(value) else {
                throw SettingsError(key: key, problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        func oneOf(_ choices: [String]) throws(SettingsError) -> String {
            let value = try string()
            guard choices.contains(value) else {
                throw SettingsError(key: key, problem: "must be one of \(choices.joined(separator: ", ")) (got \"\(value)\")")
            }
            return value
        }
        switch key {
        case "workos.api_key_file": apiKey = Secret(try Self.readSecret(try string(), key: key))
        case "workos.base_url": baseURL = try Self.url(try string(), key: key)
        case "workos.ca_file": caFile = try string()
        case "workos.connect_timeout": connectTimeout = try duration()
        case "workos.request_timeout": requestTimeout = try duration()
        case "workos.directory_users_per_second": directoryUsersPerSecond = try number(0.1...1_000)
        case "workos.requests_per_second": requestsPerSecond = try number(0.1...10_000)
        case "database.url": databaseURL = try string()
        case "sync.interval": interval = try duration()
        case "sync.concurrency": concurrency = try integer(1...64)
        case "sync.max_users_in_memory": maxUsersInMemory = try integer(1...Int(Int32.max))
        case "sync.claim_ttl": claimTTL = try duration()
        case "sync.mode": mode = SyncMode(rawValue: try oneOf(SyncMode.allCases.map(\.rawValue)))!
        case "events.interval": eventsInterval = try duration()
        case "events.guard_window": eventsGuardWindow = try duration()
        case "events.retention": eventsRetention = try duration()
        case "sync.directories":
            guard let items = node.sequence else { throw SettingsError(key: key, problem: "must be a list of directory ids") }
            directories = try items.map { (item: Node) throws(SettingsError) -> String in
                guard let id = item.string else { throw SettingsError(key: key, problem: "must be a list of directory ids") }
                return id
            }
        case "guard.min_users": safety.minUsers = try integer(0...Int(Int32.max))
        case "guard.fraction": safety.fraction = try number(0...1)
        case "guard.max_users": safety.maxUsers = node.null != nil ? nil : try integer(0...Int(Int32.max))
        case "guard.max_unexplained": safety.maxUnexplained = try integer(0...Int(Int32.max))
        case "guard.missing_after_listings": safety.missingAfterListings = try integer(1...100)
        case "deprovisioning.keep_active_states":
            safety.deprovisioning.keepActiveStates = try Self.keptStates(node, key: key)
        case "deprovisioning.directories":
            guard let mapping = node.mapping else {
                throw SettingsError(key: key, problem: "must map directory ids to {keep_active_states: [...]}")
            }
            for (idNode, settings) in mapping {
                guard let id = idNode.string, let entries = settings.mapping else {
                    throw SettingsError(key: key, problem: "must map directory ids to {keep_active_states: [...]}")
                }
                for (nameNode, value) in entries {
                    let name = "\(key).\(id).\(nameNode.string ?? "?")"
                    guard nameNode.string == "keep_active_states" else {
                        throw SettingsError(key: name, problem: "is not a known setting (see deploy/config.example.yaml)")
                    }
                    safety.deprovisioning.keepActiveStatesByDirectory[id] = try Self.keptStates(value, key: name)
                }
            }
        case "retention.sync_runs": syncRunsRetention = try duration()
        case "retention.events": eventTableRetention = try string() == "keep" ? nil : try duration()
        case "guard.on_directory_removed":
            safety.onDirectoryRemoved = SafetyPolicy.DirectoryRemovedAction(rawValue: try oneOf(["hold", "disable"]))!
        case "revoke_sessions_sql": revokeSessionsSQL = try string()
        case "http.listen": listen = try Self.listenAddress(try string(), key: key)
        case "http.max_listing_age": maxListingAge = try duration()
        case "purge.cooling_off": purgeCoolingOff = try duration()
        case "purge.schedule": purgeSchedule = try string() == "off" ? nil : try duration()
        case "log.format": logFormat = try oneOf(["logfmt", "json"])
        case "log.level": logLevel = try oneOf(["trace", "debug", "info", "notice", "warning", "error", "critical"])
        default: throw SettingsError(key: key, problem: Self.unknownKeyProblem)
        }
    }

    private static let unknownKeyProblem = "is not a known setting (see deploy/config.example.yaml)"

    /// The prefix of the environment variable of every setting: `sync.interval`
    /// is `WORKOS_DSYNC_SYNC_INTERVAL`.
    public static let environmentPrefix = "WORKOS_DSYNC_"

    /// Variables with the prefix that are not settings: the tests' and scripts' path to the binary, and
    /// the commit `scripts/test` and `scripts/package` export for the build (inherited by what the tests run).
    static let nonSettingVariables: Set<String> = ["WORKOS_DSYNC_BINARY", "WORKOS_DSYNC_BIN", "WORKOS_DSYNC_COMMIT"]

    /// The environment variable of a setting: `sync.interval` → `WORKOS_DSYNC_SYNC_INTERVAL`.
    public static func environmentName(of key: String) -> String {
        environmentPrefix + key.replacingOccurrences(of: ".", with: "_").uppercased()
    }

    /// The setting an environment variable names, the inverse of ``environmentName(of:)``:
    /// the first word is a section when it is one (`SYNC_INTERVAL` → `sync.interval`),
    /// else the key is top-level (`REVOKE_SESSIONS_SQL` → `revoke_sessions_sql`).
    package static func key(ofEnvironmentName name: String) -> String? {
        guard name.hasPrefix(environmentPrefix), !nonSettingVariables.contains(name) else { return nil }
        let rest = name.dropFirst(environmentPrefix.count).lowercased()
        if let underscore = rest.firstIndex(of: "_"), nestedSections.contains(String(rest[..<underscore])) {
            return rest[..<underscore] + "." + rest[rest.index(after: underscore)...]
        }
        return rest
    }

    /// Applies `WORKOS_API_KEY`, `WORKOS_API_KEY_FILE`, the systemd credential
    /// `workos-api-key` (`$CREDENTIALS_DIRECTORY`), `WORKOS_BASE_URL` and `DATABASE_URL`,
    /// then every `WORKOS_DSYNC_<KEY>` variable through the same parser as the
    /// file (so they win over the former). An empty variable counts as unset; a
    /// value that reads as a YAML flow list is one (`[directory_1, directory_2]`).
    /// A `WORKOS_DSYNC_` variable that names no setting is refused, as an
    /// unknown key in the file is: a typo must not go unnoticed.
    mutating func apply(environment: [String: String]) throws(SettingsError) {
        if let directory = environment["CREDENTIALS_DIRECTORY"],
            FileManager.default.fileExists(atPath: directory + "/workos-api-key")
        {
            apiKey = Secret(try Self.readSecret(directory + "/workos-api-key", key: "credential workos-api-key"))
        }
        if let file = environment["WORKOS_API_KEY_FILE"], !file.isEmpty {
            apiKey = Secret(try Self.readSecret(file, key: "WORKOS_API_KEY_FILE"))
        }
        if let key = environment["WORKOS_API_KEY"], !key.isEmpty { apiKey = Secret(key) }
        if let url = environment["WORKOS_BASE_URL"], !url.isEmpty { baseURL = try Self.url(url, key: "WORKOS_BASE_URL") }
        if let url = environment["DATABASE_URL"], !url.isEmpty { databaseURL = url }
        let settingVariables = environment.compactMap { name, value in
            Self.key(ofEnvironmentName: name).map { (name: name, key: $0, value: value) }
        }
        for variable in settingVariables.sorted(by: { $0.name < $1.name }) where !variable.value.isEmpty {
            let node = Self.environmentNode(variable.value)
            do throws(SettingsError) {
                try set(variable.key, node, source: variable.name)
            } catch where error.problem == Self.unknownKeyProblem {
                throw SettingsError(
                    key: variable.name,
                    problem: "names no setting (\(variable.key) \(Self.unknownKeyProblem); "
                        + "WORKOS_DSYNC_<KEY> is the key upper-cased, dots as underscores, e.g. WORKOS_DSYNC_SYNC_INTERVAL)")
            }
        }
    }

    /// `value` as a plain YAML scalar with the tag the file's parser would give it (`null`, `~` are null).
    private static func plainScalar(_ value: String) -> Node {
        Node.scalar(Node.Scalar(value, Tag(.implicit), .plain))
    }

    /// An environment value as a YAML node: a flow list when it reads as one
    /// (`[directory_1, directory_2]`), else a plain string (so `[::1]:9464` stays an address).
    private static func environmentNode(_ value: String) -> Node {
        if value.hasPrefix("["), let node = try? Yams.compose(yaml: value), node.sequence != nil { return node }
        return plainScalar(value)
    }

    /// The API key, or an error naming every way to give one.
    public func requireAPIKey() throws(SettingsError) -> Secret {
        guard let apiKey, !apiKey.isEmpty else {
            throw SettingsError(
                key: "WORKOS_API_KEY",
                problem: "is not set (set WORKOS_API_KEY, WORKOS_API_KEY_FILE, workos.api_key_file or the systemd credential workos-api-key)")
        }
        return apiKey
    }

    private static func readSecret(_ path: String, key: String) throws(SettingsError) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SettingsError(key: key, problem: "cannot read \(path)")
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { throw SettingsError(key: key, problem: "\(path) is empty") }
        return secret
    }

    /// An http(s) URL without its trailing slash; plain `http` only to a loopback host (tests, the demo).
    private static func url(_ text: String, key: String) throws(SettingsError) -> String {
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme),
            let host = url.host
        else {
            throw SettingsError(key: key, problem: "must be an http(s) URL (got \"\(text)\")")
        }
        guard scheme == "https" || isLoopback(host) else {
            throw SettingsError(
                key: key,
                problem: "must be an https URL: http:// would send the API key in clear (allowed only to a loopback host: "
                    + "127.0.0.0/8, localhost, ::1)")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// `localhost`, an address of 127.0.0.0/8, or `::1`.
    private static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }), octets[0] == "127" { return true }
        return ["localhost", "::1", "0:0:0:0:0:0:0:1"].contains(name)
    }

    /// A list of WorkOS user states that keep an account active; `active` is
    /// implied, and the states that always disable are refused.
    private static func keptStates(_ node: Node, key: String) throws(SettingsError) -> Set<String> {
        guard let items = node.sequence else { throw SettingsError(key: key, problem: "must be a list of user states, e.g. [on_leave]") }
        var states = Set<String>()
        for item in items {
            guard let state = item.string, !state.isEmpty else {
                throw SettingsError(key: key, problem: "must be a list of user states, e.g. [on_leave]")
            }
            if DeprovisioningPolicy.alwaysDisabling.contains(state) {
                throw SettingsError(key: key, problem: "cannot keep \"\(state)\" users active: inactive and suspended always disable")
            }
            states.insert(state)
        }
        return states
    }

    private static func listenAddress(_ text: String, key: String) throws(SettingsError) -> String {
        _ = try ListenAddress(text, key: key)
        return text
    }
}

/// A setting given on the command line (e.g. `--log-level`): it wins over the
/// environment and the file, and errors name `source`.
public struct SettingOverride: Sendable, Hashable {
    /// What the operator typed, e.g. `--log-level`.
    public var source: String
    /// The setting, e.g. `log.level`.
    public var key: String
    public var value: String

    public init(source: String, key: String, value: String) {
        self.source = source
        self.key = key
        self.value = value
    }
}

/// How `run` keeps the database in step (`sync.mode`).
public enum SyncMode: String, Sendable, Hashable, CaseIterable {
    /// Poll the WorkOS Events API every `events.interval` and reconcile from
    /// complete listings every `sync.interval` as the safety net.
    case hybrid
    /// Only reconcile from complete listings.
    case full
}

/// A setting that is wrong, named so the operator can fix it.
public struct SettingsError: Error, Sendable, Hashable, CustomStringConvertible {
    public var key: String
    public var problem: String

    package init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { "configuration error: \(key) \(problem)" }
}
