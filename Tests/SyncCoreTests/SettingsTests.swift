import Foundation
import Reconciler
import SyncCore
import Testing
import WorkOS
import WorkOSModel

@Suite struct SettingsTests {
    func write(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dsync-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func environmentAloneIsEnough() throws {
        let settings = try Settings.load(
            path: nil, environment: ["WORKOS_API_KEY": "sk_test_1", "DATABASE_URL": "postgresql://localhost/app"])
        #expect(try settings.requireAPIKey().reveal() == "sk_test_1")
        #expect(settings.databaseURL == "postgresql://localhost/app")
        #expect(settings.baseURL == "https://api.workos.com")
        #expect(settings.interval == .seconds(3_600), "hybrid mode: the full reconcile is the hourly safety net")
        #expect(settings.mode == .hybrid)
        #expect(settings.eventsInterval == .seconds(5))
        #expect(settings.safety == SafetyPolicy())
    }

    @Test func fleetDefaultsFollowTheBudgetAndTheInterval() throws {
        let defaults = try Settings.load(path: nil, environment: [:])
        #expect(defaults.concurrency == 32, "ceil(1.25 × 100 / 4): enough lanes to spend the key's budget")
        #expect(defaults.maxUsersInMemory == 200_000)
        #expect(defaults.claimTTL == .seconds(30))
        #expect(defaults.maxListingAge == .seconds(7_200), "hybrid: twice the 1h interval")
        #expect(Settings.lanesForBudget(requestsPerSecond: 10, directoryUsersPerSecond: 4) == 4)
        #expect(Settings.lanesForBudget(requestsPerSecond: 10_000, directoryUsersPerSecond: 4) == 64)

        let path = try write("""
            workos:
              requests_per_second: 20
            sync:
              mode: full
              max_users_in_memory: 50000
              claim_ttl: 10s
            """)
        let settings = try Settings.load(path: path, environment: [:])
        #expect(settings.concurrency == 7, "ceil(1.25 × 20 / 4)")
        #expect(settings.maxUsersInMemory == 50_000)
        #expect(settings.claimTTL == .seconds(10))
        #expect(settings.maxListingAge == .seconds(1_800), "full: 10m interval, at least 30m")
        var explicit = settings
        explicit.maxListingAge = .seconds(60)
        explicit.concurrency = 3
        #expect(explicit.maxListingAge == .seconds(60) && explicit.concurrency == 3)
    }

    @Test func fileSettingsAreReadAndEnvironmentWins() throws {
        let keyFile = try write("sk_from_file\n")
        let path = try write("""
            workos:
              api_key_file: \(keyFile)
              base_url: http://127.0.0.1:8080/
            sync:
              interval: 1h30m
              concurrency: 4
              directories: [directory_1, directory_2]
            guard:
              min_users: 5
              fraction: 0.2
              max_users: 100
              on_directory_removed: disable
            http:
              listen: 0.0.0.0:9000
            revoke_sessions_sql: DELETE FROM app.sessions WHERE user_id = ANY($1)
            """)
        let settings = try Settings.load(path: path, environment: ["WORKOS_BASE_URL": "https://proxy.internal"])
        #expect(settings.apiKey?.reveal() == "sk_from_file")
        #expect(settings.baseURL == "https://proxy.internal")
        #expect(settings.interval == .seconds(5_400))
        #expect(settings.concurrency == 4)
        #expect(settings.directories == ["directory_1", "directory_2"])
        #expect(settings.safety == SafetyPolicy(minUsers: 5, fraction: 0.2, maxUsers: 100, onDirectoryRemoved: .disable))
        #expect(settings.listen == "0.0.0.0:9000")
        #expect(settings.revokeSessionsSQL?.contains("ANY($1)") == true)
    }

    @Test func aWrongSettingIsNamed() throws {
        let cases: [(String, String)] = [
            ("sync:\n  interval: 10 minutes", "sync.interval"),
            ("guard:\n  fraction: 1.5", "guard.fraction"),
            ("guard:\n  min_users: many", "guard.min_users"),
            ("sync:\n  intervall: 10m", "sync.intervall"),
            ("workos:\n  base_url: ftp://x", "workos.base_url"),
            ("http:\n  listen: localhost", "http.listen"),
            ("log:\n  format: xml", "log.format"),
            ("guard:\n  missing_after_listings: 0", "guard.missing_after_listings"),
            ("deprovisioning:\n  keep_active_states: on_leave", "deprovisioning.keep_active_states"),
            ("deprovisioning:\n  keep_active_states: [on_leave, inactive]", "deprovisioning.keep_active_states"),
            ("deprovisioning:\n  keep_active_state: [on_leave]", "deprovisioning.keep_active_state"),
            ("deprovisioning:\n  directories:\n    directory_1:\n      keep_active: [on_leave]", "deprovisioning.directories.directory_1.keep_active"),
            ("deprovisioning:\n  directories:\n    directory_1:\n      keep_active_states: [suspended]", "deprovisioning.directories.directory_1.keep_active_states"),
            ("retention:\n  sync_runs: forever", "retention.sync_runs"),
            ("purge:\n  schedule: daily", "purge.schedule"),
        ]
        for (yaml, key) in cases {
            let path = try write(yaml)
            #expect(throws: SettingsError.self) { try Settings.load(path: path, environment: [:]) }
            do {
                _ = try Settings.load(path: path, environment: [:])
            } catch {
                #expect(error.key == key)
                #expect(error.description.contains(key))
            }
        }
    }

    @Test func adminWorkflowSettingsAreRead() throws {
        let defaults = try Settings.load(path: nil, environment: [:])
        #expect(defaults.safety.missingAfterListings == 1)
        #expect(defaults.safety.deprovisioning == DeprovisioningPolicy())
        #expect(defaults.syncRunsRetention == .seconds(90 * 86_400))
        #expect(defaults.eventTableRetention == nil)
        #expect(defaults.purgeSchedule == nil)
        let settings = try Settings.load(path: try write("""
            guard:
              missing_after_listings: 2
            deprovisioning:
              keep_active_states: [on_leave]
              directories:
                directory_2:
                  keep_active_states: [on_leave, sabbatical]
                directory_3:
                  keep_active_states: []
            retention:
              sync_runs: 30d
              events: 400d
            purge:
              schedule: 24h
            """), environment: [:])
        #expect(settings.safety.missingAfterListings == 2)
        let policy = settings.safety.deprovisioning
        #expect(policy.grantsAccess(.unknown("on_leave"), directoryID: "directory_1"))
        #expect(!policy.grantsAccess(.unknown("sabbatical"), directoryID: "directory_1"))
        #expect(policy.grantsAccess(.unknown("sabbatical"), directoryID: "directory_2"))
        #expect(!policy.grantsAccess(.unknown("on_leave"), directoryID: "directory_3"))
        #expect(!policy.grantsAccess(.inactive, directoryID: "directory_2"))
        #expect(settings.syncRunsRetention == .seconds(30 * 86_400))
        #expect(settings.eventTableRetention == .seconds(400 * 86_400))
        #expect(settings.purgeSchedule == .seconds(86_400))
        let off = try Settings.load(path: try write("retention:\n  events: keep\npurge:\n  schedule: \"off\"\n"), environment: [:])
        #expect(off.eventTableRetention == nil)
        #expect(off.purgeSchedule == nil)
    }

    /// The `SettingsError` loading `yaml` throws, or nil.
    func loadError(_ yaml: String, environment: [String: String] = [:]) throws -> SettingsError? {
        let path = try write(yaml)
        do {
            _ = try Settings.load(path: path, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test func hostileDurationsAreRefusedNamingTheKey() throws {
        for text in ["99999999999999999999h", "1e400s", "9223372036854775807d", "106751991167301d", "3651d",
                     "3650d1ms", "9223372036854775807ms9223372036854775807ms"] {
            for key in ["sync.interval", "workos.connect_timeout", "purge.cooling_off"] {
                let section = key.split(separator: ".")
                let error = try loadError("\(section[0]):\n  \(section[1]): \(text)")
                #expect(error?.key == key, "\(key): \(text)")
                #expect(error?.description.contains("at most 3650d") == true)
            }
        }
        #expect(try Settings.load(path: try write("purge:\n  cooling_off: 3650d"), environment: [:]).purgeCoolingOff
            == .seconds(3_650 * 86_400))
        #expect(DurationText.parse("3650d") == DurationText.longest)
        #expect(DurationText.parse("1d1h1m1s1ms") == .milliseconds(90_061_001))
    }

    @Test func aYAMLSyntaxErrorNamesThePlaceButNeverTheText() throws {
        let cases = [
            "workos:\n  base_url: https://api.workos.com\ndatabase:\n  url: postgresql://app:s3cret-pw@db/app: x\n",
            "database:\n  url: \"postgresql://app:s3cret-pw@db/app\n",
            "database:\n\turl: postgresql://app:s3cret-pw@db/app\n",
            "database:\n  url: [postgresql://app:s3cret-pw@db/app\n",
            "database:\n  url: postgresql://app:s3cret-pw@db/app\u{07}\n",
            "database:\n  url: postgresql://app:s3cret-pw@db/app\n  url: postgresql://app:s3cret-pw@db/app\n",
        ]
        for yaml in cases {
            let error = try #require(try loadError(yaml), "\(yaml.debugDescription) was accepted")
            #expect(!error.description.contains("s3cret"), "\(error)")
            #expect(!error.description.contains("postgresql"), "\(error)")
            #expect(error.key.hasSuffix(".yaml"))
            #expect(error.description.contains("is not valid YAML: line "), "\(error)")
            #expect(error.description.contains("column "), "\(error)")
        }
        let mapping = try #require(try loadError(cases[0]))
        #expect(mapping.problem == "is not valid YAML: line 4, column 41: mapping values are not allowed in this context")
    }

    @Test func plainHTTPIsRefusedExceptToALoopbackHost() throws {
        for url in ["http://api.workos.com", "http://10.0.0.1:8080", "http://127.0.0.1.example.com", "http://[::2]:80",
                    "http://localhost.example.com/"] {
            let error = try loadError("workos:\n  base_url: \(url)")
            #expect(error?.key == "workos.base_url", "\(url)")
            #expect(error?.problem.contains("https") == true)
            let fromEnvironment = try loadError("{}", environment: ["WORKOS_BASE_URL": url])
            #expect(fromEnvironment?.key == "WORKOS_BASE_URL", "\(url)")
        }
        for url in ["http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:9000/", "http://LOCALHOST",
                    "http://[::1]:8080", "https://api.workos.com", "https://10.0.0.1"] {
            let settings = try Settings.load(path: try write("workos:\n  base_url: \(url)"), environment: [:])
            #expect(settings.baseURL == (url.hasSuffix("/") ? String(url.dropLast()) : url))
        }
    }

    @Test func listenAddressesAreAcceptedExactlyWhenTheListenerCanBindThem() throws {
        for good in ["127.0.0.1:9464", "0.0.0.0:9000", "[::1]:9464", "[::]:9464", "localhost:9464", "*:9464", ":9464", "127.0.0.1:0"] {
            let path = try write("http:\n  listen: \"\(good)\"\n")
            #expect(try Settings.load(path: path, environment: [:]).listen == good)
        }
        let bad = [
            "localhost", "example.com:9464", "::1:9464", "[::1]", "[::1:9464", "[127.0.0.1]:9464", "[fe80::1%eth0]:9464",
            "127.0.0.1:65536", "127.0.0.1:-1", "256.0.0.1:9464", "[]:9464",
        ]
        for text in bad {
            let path = try write("http:\n  listen: \"\(text)\"\n")
            do {
                _ = try Settings.load(path: path, environment: [:])
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.key == "http.listen", "\(text)")
                #expect(error.description.hasPrefix("configuration error: http.listen") && error.description.contains(text))
            }
        }
    }

    @Test func anExplicitMissingFileIsAnErrorButTheDefaultPathIsOptional() throws {
        #expect(throws: SettingsError.self) { try Settings.load(path: "/nonexistent/dsync.yaml", environment: [:]) }
        let settings = try Settings.load(path: nil, environment: [:])
        #expect(throws: SettingsError.self) { try settings.requireAPIKey() }
    }

    @Test func systemdCredentialProvidesTheKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "sk_credential\n".write(to: directory.appendingPathComponent("workos-api-key"), atomically: true, encoding: .utf8)
        let settings = try Settings.load(path: nil, environment: ["CREDENTIALS_DIRECTORY": directory.path])
        #expect(settings.apiKey?.reveal() == "sk_credential")
    }

    @Test func durationsReadAndWriteTheSameWay() {
        #expect(DurationText.parse("90s") == .seconds(90))
        #expect(DurationText.parse("10m") == .seconds(600))
        #expect(DurationText.parse("1h30m") == .seconds(5_400))
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("10") == nil)
        #expect(DurationText.parse("m") == nil)
        #expect(DurationText.parse("") == nil)
        #expect(DurationText.format(.seconds(5_400)) == "1h30m")
        #expect(DurationText.format(.seconds(600)) == "10m")
    }

    /// The error `load` throws, or nil.
    func error(path: String? = nil, environment: [String: String], overrides: [SettingOverride] = []) -> SettingsError? {
        do {
            _ = try Settings.load(path: path, environment: environment, overrides: overrides)
            return nil
        } catch {
            return error
        }
    }

    @Test func everySettingHasAnEnvironmentVariableParsedAsTheFileParsesIt() throws {
        let keyFile = try write("sk_from_variable\n")
        let settings = try Settings.load(
            path: nil,
            environment: [
                "WORKOS_DSYNC_WORKOS_API_KEY_FILE": keyFile,
                "WORKOS_DSYNC_WORKOS_CONNECT_TIMEOUT": "3s",
                "WORKOS_DSYNC_WORKOS_REQUESTS_PER_SECOND": "50",
                "WORKOS_DSYNC_DATABASE_URL": "postgresql://localhost/from-variable",
                "WORKOS_DSYNC_SYNC_INTERVAL": "20m",
                "WORKOS_DSYNC_SYNC_MODE": "full",
                "WORKOS_DSYNC_SYNC_DIRECTORIES": "[directory_1, directory_2]",
                "WORKOS_DSYNC_EVENTS_GUARD_WINDOW": "2h",
                "WORKOS_DSYNC_GUARD_MAX_USERS": "null",
                "WORKOS_DSYNC_GUARD_ON_DIRECTORY_REMOVED": "disable",
                "WORKOS_DSYNC_REVOKE_SESSIONS_SQL": "DELETE FROM app.sessions WHERE user_id = ANY($1)",
                "WORKOS_DSYNC_HTTP_LISTEN": "[::1]:9000",
                "WORKOS_DSYNC_PURGE_COOLING_OFF": "60d",
                "WORKOS_DSYNC_LOG_LEVEL": "debug",
                "WORKOS_DSYNC_BINARY": "/somewhere/workos-dsync",
            ])
        #expect(settings.apiKey?.reveal() == "sk_from_variable")
        #expect(settings.connectTimeout == .seconds(3))
        #expect(settings.requestsPerSecond == 50)
        #expect(settings.databaseURL == "postgresql://localhost/from-variable")
        #expect(settings.interval == .seconds(1_200))
        #expect(settings.mode == .full)
        #expect(settings.directories == ["directory_1", "directory_2"])
        #expect(settings.eventsGuardWindow == .seconds(7_200))
        #expect(settings.safety.maxUsers == nil)
        #expect(settings.safety.onDirectoryRemoved == .disable)
        #expect(settings.revokeSessionsSQL == "DELETE FROM app.sessions WHERE user_id = ANY($1)")
        #expect(settings.listen == "[::1]:9000")
        #expect(settings.purgeCoolingOff == .seconds(60 * 86_400))
        #expect(settings.logLevel == "debug")
    }

    @Test func environmentNamesAndKeysMapBothWays() {
        for key in ["sync.interval", "workos.api_key_file", "guard.on_directory_removed", "revoke_sessions_sql", "log.level"] {
            let name = Settings.environmentName(of: key)
            #expect(name.hasPrefix("WORKOS_DSYNC_"))
            #expect(Settings.key(ofEnvironmentName: name) == key, "\(name)")
        }
        #expect(Settings.environmentName(of: "sync.interval") == "WORKOS_DSYNC_SYNC_INTERVAL")
        #expect(Settings.key(ofEnvironmentName: "WORKOS_DSYNC_BINARY") == nil, "the tests' binary path is no setting")
        #expect(Settings.key(ofEnvironmentName: "WORKOS_API_KEY") == nil)
    }

    @Test func flagsWinOverTheEnvironmentWhichWinsOverTheFile() throws {
        let path = try write("sync:\n  interval: 10m\n  concurrency: 3\nlog:\n  level: warning\n")
        let fileOnly = try Settings.load(path: path, environment: [:])
        #expect(fileOnly.interval == .seconds(600))
        #expect(fileOnly.logLevel == "warning")
        let environment = ["WORKOS_DSYNC_SYNC_INTERVAL": "15m", "WORKOS_DSYNC_LOG_LEVEL": "error", "WORKOS_DSYNC_SYNC_CONCURRENCY": ""]
        let withEnvironment = try Settings.load(path: path, environment: environment)
        #expect(withEnvironment.interval == .seconds(900))
        #expect(withEnvironment.logLevel == "error")
        #expect(withEnvironment.concurrency == 3, "an empty variable counts as unset")
        let withFlag = try Settings.load(
            path: path, environment: environment, overrides: [SettingOverride(source: "--log-level", key: "log.level", value: "debug")])
        #expect(withFlag.logLevel == "debug")
        #expect(withFlag.interval == .seconds(900))
        let overlapping = try Settings.load(
            path: nil, environment: ["DATABASE_URL": "host=a", "WORKOS_DSYNC_DATABASE_URL": "host=b"])
        #expect(overlapping.databaseURL == "host=b", "the variable named after the key wins over the shorthand")
    }

    @Test func aWrongOrUnknownVariableIsRefusedNamingIt() throws {
        let wrong = try #require(error(environment: ["WORKOS_DSYNC_GUARD_FRACTION": "2"]))
        #expect(wrong.key == "WORKOS_DSYNC_GUARD_FRACTION (guard.fraction)")
        #expect(wrong.description.contains("must be a number from 0.0 to 1.0"))
        let typo = try #require(error(environment: ["WORKOS_DSYNC_SYNC_INTERVALL": "10m"]))
        #expect(typo.key == "WORKOS_DSYNC_SYNC_INTERVALL")
        #expect(typo.problem.contains("names no setting"))
        let notAList = try #require(error(environment: ["WORKOS_DSYNC_SYNC_DIRECTORIES": "[directory_1"]))
        #expect(notAList.key == "WORKOS_DSYNC_SYNC_DIRECTORIES (sync.directories)")
        #expect(notAList.problem.contains("must be a list"))
        let flag = try #require(
            error(environment: [:], overrides: [SettingOverride(source: "--log-level", key: "log.level", value: "loud")]))
        #expect(flag.key == "--log-level (log.level)")
        #expect(flag.problem.contains("must be one of"))
        // The build's and the tests' own variables are not settings: a daemon started by scripts/test inherits them.
        for name in ["WORKOS_DSYNC_COMMIT", "WORKOS_DSYNC_BINARY"] {
            #expect(error(environment: [name: "1a2b3c4"]) == nil, "\(name) is refused")
        }
    }
}
