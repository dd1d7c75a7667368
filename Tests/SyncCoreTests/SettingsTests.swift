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
}
