import Foundation
import Glibc
import TestHelpers
import Testing

/// A signalled bench stops its throwaway PostgreSQL: times a run, so it runs in the timing phase.
@Suite struct BenchInterruptTests {
    /// Synchronous on purpose: between start and signal the test holds its thread
    /// (a suspended test could wait for a free cooperative thread longer than the
    /// bench runs, when the parallel phase loads the machine).
    @Test func anInterruptedBenchLeavesNoPostgreSQLBehind() throws {
        let bench = try builtBinary("dsync-bench")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("bench-interrupted-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = SpawnedProcess()
        process.executableURL = bench
        // Nine floor runs of 20k users: minutes of work, so it is mid-run when signalled.
        process.arguments = ["--users", "20000", "--repeats", "9", "--only", "floor-decode"]
        var environment = ProcessInfo.processInfo.environment
        environment["no_proxy"] = "127.0.0.1,localhost,::1"
        environment["DSYNC_BENCH_LOG"] = "info"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func logText() -> String { String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self) }
        // Once the simulator is up (the server started before it), mid-run.
        let deadline = ContinuousClock.now + .seconds(60)
        while !logText().contains("simulator ready") && ContinuousClock.now < deadline && process.isRunning {
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(process.isRunning, "the bench ended before it was signalled:\n\(logText().suffix(2_000))")
        let directory = logText().split(separator: " ").first { $0.hasPrefix("postgres.directory=") }
            .map { String($0.dropFirst("postgres.directory=".count)) }
        let serverDirectory = try #require(directory, "no server started:\n\(logText().suffix(2_000))")
        #expect(FileManager.default.fileExists(atPath: serverDirectory + "/data/postmaster.pid"))

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + SIGTERM, "\(logText().suffix(2_000))")
        #expect(logText().contains("interrupted: stopping the throwaway PostgreSQL"))
        // Its data directory is gone, and no server process runs on it.
        #expect(!FileManager.default.fileExists(atPath: serverDirectory))
        #expect(!runningCommandLines().contains { $0.contains(serverDirectory) }, "a server still runs on \(serverDirectory)")
    }


    /// Command lines of every process on the machine (`/proc/*/cmdline`).
    private func runningCommandLines() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.compactMap { pid in
            (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")))
                .map { String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self) }
        }
    }
}
