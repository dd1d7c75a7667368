import ArgumentParser
import Daemon
import Demo
import Foundation
import Glibc
import Logging

/// `workos-dsync demo`: the one-command tour on a throwaway PostgreSQL and the bundled simulator.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "A one-command tour: a directory user's life from first sync to rehire, on a throwaway PostgreSQL and a simulated WorkOS.",
        discussion: """
            Needs the PostgreSQL server binaries (postgresql-15; scripts/demo installs them). Nothing leaves \
            this machine: PostgreSQL and the simulated WorkOS listen on 127.0.0.1 and are removed at the end. \
            Exits 0 when the tour completed, 1 otherwise.
            """)

    @Option(help: "Users in the simulated directory (at least 20).")
    var users = 40

    @Option(help: "Seed of the simulated directory's data.")
    var seed: UInt64 = 42

    func validate() throws {
        guard users >= 20 else { throw ValidationError("--users must be at least 20 (the tour drops 8 at once).") }
    }

    func run() async throws {
        // Loopback only: never through a proxy.
        setenv("no_proxy", "127.0.0.1,localhost,::1", 1)
        setenv("NO_PROXY", "127.0.0.1,localhost,::1", 1)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .error
            return handler
        }
        var logger = Logger(label: "workos-dsync.demo")
        logger.logLevel = .error
        var configuration = Demo.Configuration()
        configuration.users = users
        configuration.seed = seed
        // Ctrl-C or SIGTERM: stop the throwaway PostgreSQL and the simulator, then exit 128 + the signal (130, 143).
        do {
            _ = try await TerminationSignals.exitingAfterCleanUp(onSignal: { _ in
                printError("\nworkos-dsync demo: interrupted; cleaning up.")
                Demo.cleanUpNow()
                fflush(nil)
            }) {
                try await Demo.run(configuration, logger: logger) { line in print(line) }
            }
        } catch {
            printError("workos-dsync demo failed: \(error)")
            throw ExitStatus.error.exitCode
        }
    }
}
