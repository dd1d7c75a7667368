import Reconciler
import Store
import WorkOS

extension Settings {
    /// The settings in force as `key: value` lines, for `check`: the API key is
    /// only said to be set, a connection string's password is `***`, the
    /// session-revocation SQL is shown (it holds no secret).
    public var redactedLines: [String] {
        func duration(_ value: Duration) -> String { DurationText.format(value) }
        func states(_ values: Set<String>) -> String { values.isEmpty ? "none" : "[" + values.sorted().joined(separator: ", ") + "]" }
        let values: [(String, String)] = [
            ("workos.api_key", apiKey.map { $0.isEmpty ? "empty" : "set (\($0.reveal().count) characters, not shown)" } ?? "not set"),
            ("workos.base_url", baseURL),
            ("workos.ca_file", caFile ?? "system bundle"),
            ("workos.connect_timeout", duration(connectTimeout)),
            ("workos.request_timeout", duration(requestTimeout)),
            ("workos.directory_users_per_second", "\(directoryUsersPerSecond)"),
            ("workos.requests_per_second", "\(requestsPerSecond)"),
            ("database.url", databaseURL.map { ConnectionString.redact($0, conninfo: $0) } ?? "libpq defaults (PG* variables, .pgpass)"),
            ("sync.mode", mode.rawValue),
            ("sync.interval", duration(interval)),
            ("sync.concurrency", "\(concurrency)"),
            ("sync.max_users_in_memory", "\(maxUsersInMemory)"),
            ("sync.claim_ttl", duration(claimTTL)),
            ("sync.directories", directories.isEmpty ? "all" : directories.joined(separator: ", ")),
            ("events.interval", duration(eventsInterval)),
            ("events.guard_window", duration(eventsGuardWindow)),
            ("events.retention", duration(eventsRetention)),
            ("guard.min_users", "\(safety.minUsers)"),
            ("guard.fraction", "\(safety.fraction)"),
            ("guard.max_users", safety.maxUsers.map { "\($0)" } ?? "none"),
            ("guard.max_unexplained", "\(safety.maxUnexplained)"),
            ("guard.on_directory_removed", safety.onDirectoryRemoved.rawValue),
            ("guard.missing_after_listings", "\(safety.missingAfterListings)"),
            ("deprovisioning.keep_active_states", states(safety.deprovisioning.keepActiveStates)),
            ("deprovisioning.directories", safety.deprovisioning.keepActiveStatesByDirectory.isEmpty ? "none"
                : safety.deprovisioning.keepActiveStatesByDirectory.sorted { $0.key < $1.key }
                    .map { "\($0.key): keep_active_states \(states($0.value))" }.joined(separator: "; ")),
            ("revoke_sessions_sql", revokeSessionsSQL ?? "none"),
            ("http.listen", listen),
            ("http.max_listing_age", duration(maxListingAge)),
            ("purge.cooling_off", duration(purgeCoolingOff)),
            ("purge.schedule", purgeSchedule.map(duration) ?? "off"),
            ("retention.sync_runs", duration(syncRunsRetention)),
            ("retention.events", eventTableRetention.map(duration) ?? "keep"),
            ("log.format", logFormat),
            ("log.level", logLevel),
        ]
        return values.map { "\($0.0): \($0.1)" }
    }
}
