import Foundation
import TestHelpers
import Testing

/// `dsync-bench` at 1k users as a smoke run (the benchmark proper is not part
/// of `swift test`): every scenario runs against its own PostgreSQL and
/// simulator, and the row-write figures, which do not depend on timing, hold.
@Suite struct BenchSmokeTests {
    @Test func aOneThousandUserRunMeasuresEveryScenario() throws {
        let bench = try builtBinary("dsync-bench")
        let results = FileManager.default.temporaryDirectory.appendingPathComponent("bench-smoke-\(UUID().uuidString).json")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("bench-smoke-\(UUID().uuidString).log")
        defer {
            try? FileManager.default.removeItem(at: results)
            try? FileManager.default.removeItem(at: log)
        }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = SpawnedProcess()
        process.executableURL = bench
        process.arguments = [
            "--users", "1000", "--repeats", "1", "--throttled-users", "100", "--many-directories-users", "200",
            "--events-users", "200", "--events-leavers", "3", "--events-interval", "0.5",
            "--json", results.path,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["no_proxy"] = "127.0.0.1,localhost,::1"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        process.waitUntilExit()
        let errors = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
        try #require(process.terminationStatus == 0, "dsync-bench failed:\n\(errors.suffix(4_000))")

        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: results)) as? [String: Any])
        let rows = try #require(document["rows"] as? [[String: Any]])
        var rowByScenario: [String: [String: Any]] = [:]
        for row in rows { rowByScenario[row["scenario"] as? String ?? ""] = row }
        #expect(Set(rowByScenario.keys) == [
            "floor-fetch", "floor-decode", "floor-write", "floor-write-keys", "full-sync", "unchanged-resync",
            "churn-resync", "throttled", "many-directories", "events-latency",
        ])
        func writes(_ scenario: String) -> [String: Any]? {
            (rowByScenario[scenario]?["measurement"] as? [String: Any])?["writes"] as? [String: Any]
        }
        func measured(_ scenario: String, _ key: String) -> Double? {
            ((rowByScenario[scenario]?["measurement"] as? [String: Any])?[key] as? NSNumber)?.doubleValue
        }
        // The first sync creates every account; an unchanged directory costs no row writes.
        #expect((writes("full-sync")?["byTable"] as? [String: Any])?["directory_users"] as? Int == 1000)
        #expect(writes("unchanged-resync")?["data"] as? Int == 0)
        // The churn writes in proportion to what changed.
        let changed = try #require(rowByScenario["churn-resync"]?["changedObjects"] as? Int)
        let churnWrites = try #require(writes("churn-resync")?["data"] as? Int)
        #expect(changed > 0 && churnWrites > 0 && churnWrites <= 4 * changed)
        // Every scenario was measured (wall time and peak RSS of its own process).
        for scenario in rowByScenario.keys {
            #expect((measured(scenario, "wallSeconds") ?? 0) > 0, "\(scenario) has no wall time")
            #expect((measured(scenario, "peakRSSBytes") ?? 0) > 0, "\(scenario) has no peak RSS")
        }
        // Each resync's ratio is to the mean of the floor b runs just before and just after it,
        // not to the one at the start.
        for scenario in ["unchanged-resync", "churn-resync"] {
            let row = try #require(rowByScenario[scenario])
            let floors = try #require(row["bracketingFloorsSeconds"] as? [NSNumber], "\(scenario) has no bracketing floor b runs")
                .map(\.doubleValue)
            #expect(floors.count == 2 && floors.allSatisfy { $0 > 0 })
            let paired = try #require((row["pairedFloorSeconds"] as? NSNumber)?.doubleValue)
            #expect(abs(paired - floors.reduce(0, +) / 2) < 1e-9)
            let ratio = try #require((row["ratioToFloor"] as? NSNumber)?.doubleValue)
            #expect(abs(ratio - (measured(scenario, "wallSeconds") ?? 0) / paired) < 1e-9)
        }
        // Events mode: each deactivation measured, within two poll intervals plus the requests.
        let latencies = try #require(rowByScenario["events-latency"]?["eventsLatencySeconds"] as? [NSNumber]).map(\.doubleValue)
        #expect(latencies.count == 3 && latencies.allSatisfy { $0 > 0 && $0 < 10 }, "\(latencies)")
        #expect((document["eventsLatency"] as? String)?.hasPrefix("p50 ") == true)
    }
}
