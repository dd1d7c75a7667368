import Daemon
import Foundation
import Logging
import PostgresTestSupport
import Prometheus
import Reconciler
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOS
import WorkOSSimulator

/// The daemon in process: `/metrics`, `/healthz`, systemd notify, reload.
@Suite(.serialized) struct DaemonServiceTests {
    @Test func metricsShowTheNamedSeriesForEveryDirectory() async throws {
        var harness = try await DaemonHarness.make(directories: 2, users: 25, groups: 3)
        let daemon = RunningDaemon(try await harness.build())
        let port = daemon.app.httpPort
        let directories = harness.simulator.directoryIDs
        let synced = try await eventually {
            try await harness.count("SELECT count(DISTINCT directory_id) AS count FROM workos_dsync.sync_runs WHERE outcome = 'applied'") == 2
        }
        #expect(synced)
        // Gauges are read right after each run; give the second run's a moment.
        let metricsText = try await { () async throws -> String in
            var text = ""
            _ = try await eventually {
                text = try await httpGet(port: port, path: "/metrics").body
                return directories.allSatisfy { text.contains("workos_dsync_accounts{directory=\"\($0)\",status=\"active\"} 25") }
            }
            return text
        }()
        let lines = metricsText.split(separator: "\n").map(String.init)
        func value(_ series: String) -> Double? {
            lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        for directory in directories {
            let label = "directory=\"\(directory)\""
            for outcome in RunOutcome.allCases {
                #expect(value("workos_dsync_runs_total{\(label),outcome=\"\(outcome.rawValue)\"}") != nil, "runs_total \(outcome)")
            }
            #expect((value("workos_dsync_runs_total{\(label),outcome=\"applied\"}") ?? 0) >= 1)
            #expect(value("workos_dsync_runs_total{\(label),outcome=\"failed\"}") == 0)
            for kind in DaemonMetrics.changeKinds {
                #expect(value("workos_dsync_changes_total{\(label),kind=\"\(kind)\"}") != nil, "changes_total \(kind)")
            }
            #expect(value("workos_dsync_changes_total{\(label),kind=\"create\"}") == 25)
            #expect(value("workos_dsync_changes_total{\(label),kind=\"disable\"}") == 0)
            #expect(value("workos_dsync_accounts{\(label),status=\"active\"}") == 25)
            #expect(value("workos_dsync_accounts{\(label),status=\"disabled\"}") == 0)
            #expect(value("workos_dsync_held_plans{\(label)}") == 0)
            let age = try #require(value("workos_dsync_last_complete_listing_age_seconds{\(label)}"))
            #expect(age >= 0 && age < 60)
            #expect((value("workos_dsync_run_duration_seconds_count{\(label)}") ?? 0) >= 1)
            #expect(lines.contains { $0.hasPrefix("workos_dsync_run_duration_seconds_bucket{\(label),le=\"+Inf\"}") })
        }
        #expect((value("workos_dsync_api_requests_total{endpoint=\"directories\",status=\"200\"}") ?? 0) >= 1)
        #expect((value("workos_dsync_api_requests_total{endpoint=\"directory_users\",status=\"200\"}") ?? 0) >= 2)
        #expect(value("workos_dsync_api_retries_total{endpoint=\"directory_users\"}") == 0)
        #expect(value("workos_dsync_api_rate_limited_total{endpoint=\"directory_users\"}") == 0)

        // A disable shows up as a change of its kind and in the account gauges.
        let leaver = try #require(harness.simulator.users(in: directories[0]).first)
        harness.simulator.deleteUser(leaver.id)
        try await daemon.stop()
        // A restart keeps the shared schedule (next run one interval after the last); a shorter interval caps it.
        harness.settings.interval = .seconds(1)
        let second = RunningDaemon(try await harness.build())
        let disabled = try await eventually {
            let text = try await httpGet(port: second.app.httpPort, path: "/metrics").body
            return text.contains("workos_dsync_accounts{directory=\"\(directories[0])\",status=\"disabled\"} 1")
                && text.contains("workos_dsync_changes_total{directory=\"\(directories[0])\",kind=\"disable\"} 1")
        }
        #expect(disabled)

        #expect(try await httpGet(port: second.app.httpPort, path: "/healthz") == (200, "ok\n"))
        #expect(try await httpGet(port: second.app.httpPort, path: "/nope").status == 404)
        try await second.stop()
        harness.simulator.stop()
    }

    /// Prometheus conventions: every series has `# HELP`; the build, process, API latency,
    /// listing-timestamp and directory-name series are there with plausible values.
    @Test func everyMetricHasHelpAndTheBuildProcessLatencyAndListingSeriesAreShown() async throws {
        let harness = try await DaemonHarness.make(directories: 1, users: 10, groups: 2)
        let directory = try #require(harness.simulator.directoryIDs.first)
        let daemon = RunningDaemon(try await harness.build())
        let label = "directory=\"\(directory)\""
        var text = ""
        let listed = try await eventually {
            text = try await httpGet(port: daemon.app.httpPort, path: "/metrics").body
            return text.contains("workos_dsync_accounts{\(label),status=\"active\"} 10")
        }
        #expect(listed)
        try await daemon.stop()
        #expect(Self.typesWithoutHelp(text).isEmpty, "no # HELP: \(Self.typesWithoutHelp(text))")
        let lines = text.split(separator: "\n").map(String.init)
        func value(_ series: String) -> Double? {
            lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        #expect(value("workos_dsync_build_info{version=\"\(BuildInfo.version)\",commit=\"\(BuildInfo.commit)\"}") == 1)
        let name = try #require(try await harness.query("SELECT name FROM workos_dsync.directories").first).decode(String.self, "name")
        #expect(value("workos_dsync_directory_info{\(label),name=\"\(name)\"}") == 1)
        let now = Date().timeIntervalSince1970
        let listing = try #require(value("workos_dsync_last_complete_listing_timestamp_seconds{\(label)}"))
        #expect(listing > now - 120 && listing <= now + 1)
        #expect(lines.contains { $0.hasPrefix("workos_dsync_run_duration_seconds_bucket{\(label),le=\"14400") })
        #expect((value("workos_dsync_api_request_duration_seconds_count{endpoint=\"directory_users\",status=\"200\"}") ?? 0) >= 1)
        #expect((value("workos_dsync_api_request_duration_seconds_sum{endpoint=\"directory_users\",status=\"200\"}") ?? 0) > 0)
        #expect((value("process_cpu_seconds_total") ?? 0) > 0)
        #expect((value("process_resident_memory_bytes") ?? 0) > 1_000_000)
        #expect((value("process_open_fds") ?? 0) >= 3)
        let started = try #require(value("process_start_time_seconds"))
        #expect(started > now - 86_400 && started <= now + 1)

        // The events poller's series (registered only in events mode) have their help too.
        let registry = PrometheusCollectorRegistry()
        _ = EventMetrics(factory: DocumentedPrometheusFactory(registry: registry))
        let events = registry.emitToString()
        #expect(events.contains("# TYPE workos_dsync_events_lag_seconds gauge"))
        #expect(Self.typesWithoutHelp(events).isEmpty, "no # HELP: \(Self.typesWithoutHelp(events))")
        harness.simulator.stop()
    }

    /// The alert rules and the dashboard name only series the daemon registers (with help text).
    @Test func deployRulesAndDashboardUseOnlyRegisteredMetricNames() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let known = Set(DocumentedPrometheusFactory.daemonHelp.keys)
        for file in ["deploy/prometheus-alerts.yml", "deploy/grafana-dashboard.json"] {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            let names = Set(text.matches(of: /workos_dsync_[a-z_]+/).map { String($0.output) })
            #expect(!names.isEmpty)
            let unknown = names.filter { name in
                !known.contains(name) && !["_bucket", "_sum", "_count"].contains { name.hasSuffix($0) && known.contains(String(name.dropLast($0.count))) }
            }
            #expect(unknown.isEmpty, "\(file): \(unknown.sorted())")
        }
    }

    /// The metric names in `text` that have a `# TYPE` line but no non-empty `# HELP` line.
    static func typesWithoutHelp(_ text: String) -> [String] {
        let lines = text.split(separator: "\n")
        let typed = lines.filter { $0.hasPrefix("# TYPE ") }.compactMap { $0.split(separator: " ")[2...].first.map(String.init) }
        let helped = lines.filter { $0.hasPrefix("# HELP ") }.compactMap { line -> String? in
            let parts = line.split(separator: " ", maxSplits: 3)
            return parts.count == 4 ? String(parts[2]) : nil
        }
        return Set(typed).subtracting(helped).sorted()
    }

    /// A run whose `revoke_sessions_sql` failed counts in
    /// `workos_dsync_session_revocation_failures_total` (registered at zero).
    @Test func aFailedSessionRevocationIsCounted() async throws {
        var harness = try await DaemonHarness.make(directories: 1, users: 5, groups: 1)
        harness.settings.revokeSessionsSQL = "SELECT public.no_such_revocation($1)"
        let directory = try #require(harness.simulator.directoryIDs.first)
        let series = "workos_dsync_session_revocation_failures_total{directory=\"\(directory)\"}"
        let first = RunningDaemon(try await harness.build())
        let registered = try await eventually {
            try await httpGet(port: first.app.httpPort, path: "/metrics").body.contains(series + " 0")
        }
        #expect(registered)
        #expect(try await eventually { try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs") == 1 })
        try await first.stop()

        let leaver = try #require(harness.simulator.users(in: directory).first)
        harness.simulator.deleteUser(leaver.id)
        // A restart keeps the shared schedule (next run one interval after the last); a shorter interval caps it.
        harness.settings.interval = .seconds(1)
        let second = RunningDaemon(try await harness.build())
        let counted = try await eventually {
            try await httpGet(port: second.app.httpPort, path: "/metrics").body.contains(series + " 1")
        }
        #expect(counted)
        #expect(try await harness.count("""
            SELECT count(*) AS count FROM workos_dsync.directory_users WHERE workos_id = \(leaver.id) AND status = 'disabled'
            """) == 1)
        try await second.stop()
        harness.simulator.stop()
    }

    @Test func endpointsServeOnTheIPv6WildcardRefuseBodiesAndABusyAddressIsAConfigurationError() async throws {
        var harness = try await DaemonHarness.make(directories: 1, users: 3, groups: 1)
        harness.settings.listen = "[::]:0"
        let daemon = RunningDaemon(try await harness.build())
        let port = daemon.app.httpPort
        #expect(try await httpGet(host: "::1", port: port, path: "/healthz") == (200, "ok\n"))
        #expect(try await httpGet(host: "127.0.0.1", port: port, path: "/healthz") == (200, "ok\n"))
        // No endpoint takes a body: a small one gets the usual answer, a larger one is refused unread.
        let small = try await httpRequest(host: "::1", port: port, method: "POST", path: "/metrics", body: Array(repeating: 65, count: 100))
        #expect(small.status == 405)
        let large = try await httpRequest(host: "::1", port: port, method: "POST", path: "/metrics", body: Array(repeating: 65, count: 100_000))
        #expect(large.status == 413)
        // A second daemon on the same address: a configuration error naming the setting (exit 6: systemd does not restart it).
        harness.settings.listen = "[::]:\(port)"
        do {
            _ = try await harness.build()
            Issue.record("a second daemon bound [::]:\(port)")
        } catch let error as SettingsError {
            #expect(error.key == "http.listen")
            #expect(error.description.contains("[::]:\(port)") && error.description.contains("Address already in use"), "\(error)")
        }
        try await daemon.stop()
        harness.simulator.stop()
    }

    @Test(arguments: [false, true]) func notifySocketGetsReadyThenWatchdogThenStopping(abstract: Bool) async throws {
        let harness = try await DaemonHarness.make(directories: 1, users: 5, groups: 1)
        let listener = try NotifyListener(abstract: abstract)
        defer { listener.close() }
        let environment = ["NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "400000"]
        let app = try await harness.build(DaemonHarness.options(environment: environment))
        #expect(listener.messages.isEmpty, "nothing before run()")
        let daemon = RunningDaemon(app)
        let petted = await eventually(timeout: .seconds(30)) { listener.messages.filter { $0 == "WATCHDOG=1" }.count >= 3 }
        #expect(petted)
        let status = await eventually(timeout: .seconds(30)) { listener.messages.contains { $0.hasPrefix("STATUS=last run: ") } }
        #expect(status)
        try await daemon.stop()
        let messages = listener.messages
        let ready = try #require(messages.firstIndex { $0.split(separator: "\n").contains("READY=1") })
        let firstPet = try #require(messages.firstIndex(of: "WATCHDOG=1"))
        #expect(ready == 0 && ready < firstPet)
        let stopping = await eventually(timeout: .seconds(30)) { listener.messages.contains("STOPPING=1") }
        #expect(stopping)
        harness.simulator.stop()
    }

    @Test func pendingMigrationsRefuseToStartAndSendNothing() async throws {
        let url = try await TestDatabase.create("daemon_unmigrated", logger: quietLogger)
        let listener = try NotifyListener(abstract: false)
        defer { listener.close() }
        var settings = Settings()
        settings.apiKey = Secret("sk_test_x")
        settings.baseURL = "http://127.0.0.1:9"
        settings.databaseURL = url
        settings.listen = "127.0.0.1:0"
        do {
            _ = try await DaemonApp.build(
                settings: settings, options: DaemonHarness.options(environment: ["NOTIFY_SOCKET": listener.address]), logger: quietLogger)
            Issue.record("the daemon started on an unmigrated database")
        } catch let error as DaemonApp.StartError {
            guard case .migrationsPending(let names) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(!names.isEmpty)
            #expect(error.description.contains("workos-dsync migrate"))
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(listener.messages.isEmpty)
    }

    /// `run --listen` skips the config file's checks: a port beyond 65535 must be refused, not wrapped (74000 → 8464).
    @Test func anOutOfRangeListenPortIsRefusedNotWrapped() async throws {
        var harness = try await DaemonHarness.make(directories: 1, users: 1, groups: 0)
        defer { harness.simulator.stop() }
        harness.settings.listen = "127.0.0.1:74000"
        let error = await #expect(throws: SettingsError.self) { _ = try await harness.build() }
        #expect(error?.key == "http.listen")
        #expect(error?.description.contains("127.0.0.1:74000") == true)
    }

    @Test func reloadAppliesAValidFileAndKeepsTheOldSettingsOnAnInvalidOne() async throws {
        let harness = try await DaemonHarness.make(directories: 1, users: 3, groups: 1, interval: .seconds(3_600))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("daemon-\(UUID().uuidString).yaml").path
        try "sync:\n  interval: 1h\nguard:\n  min_users: 25\n".write(toFile: path, atomically: true, encoding: .utf8)
        let environment = [
            "WORKOS_API_KEY": harness.simulator.apiKey, "WORKOS_BASE_URL": harness.settings.baseURL, "DATABASE_URL": harness.databaseURL,
        ]
        let control = LogLevelControl(.info)
        var options = DaemonHarness.options(environment: environment, configPath: path)
        options.levelControl = control
        let daemon = RunningDaemon(try await harness.build(options))
        #expect(daemon.app.settings.interval == .seconds(3_600))

        try "sync:\n  interval: 2s\n  directories: [\(harness.simulator.directoryIDs[0])]\nguard:\n  min_users: 7\nlog:\n  level: debug\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(daemon.app.reload())
        #expect(daemon.app.settings.interval == .seconds(2))
        #expect(daemon.app.settings.safety.minUsers == 7)
        #expect(daemon.app.settings.directories == [harness.simulator.directoryIDs[0]])
        #expect(control.level == .debug)
        // The shorter interval takes effect: a second run follows within seconds.
        let rerun = try await eventually(timeout: .seconds(30)) {
            try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs") >= 2
        }
        #expect(rerun)

        try "sync:\n  interval: [not a duration\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(!daemon.app.reload())
        try "sync:\n  interval: soon\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(!daemon.app.reload())
        #expect(daemon.app.settings.interval == .seconds(2))
        #expect(daemon.app.settings.safety.minUsers == 7)
        try await daemon.stop()
        harness.simulator.stop()
    }
}
