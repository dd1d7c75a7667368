import ArgumentParser
import Daemon
import Foundation
import Logging
import Store
import SyncCore

/// `workos-dsync migrate`: applies the embedded `sql/` migrations (idempotent).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the database migrations (idempotent; safe when several instances start at once).",
        discussion: """
            Runs as the schema's owner (see sql/roles.sql): its connection string comes from database.url / \
            DATABASE_URL, or from the environment variable named by --database-url-env (never from the command \
            line). Prints the migrations it applied, or "schema is current". Exits 6 on a configuration error, \
            non-zero on any error.
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var owner: OwnerConnectionOptions

    func run() async throws {
        let settings = try options.loadSettings()
        let logger = LogSetup.bootstrap(settings: settings, label: "workos-dsync.migrate")
        let conninfo = try owner.conninfo(fallback: settings.databaseURL)
        do {
            let connection = try await PostgresConnection.connect(conninfo, logger: logger)
            let pending = try await Migrator.pending(on: connection, logger: logger)
            let applied = try await Migrator.apply(on: connection, logger: logger)
            await connection.close()
            if applied.isEmpty {
                print("schema is current")
            } else {
                for version in applied {
                    let name = pending.first { $0.version == version }?.name ?? ""
                    print("applied \(version) \(name)")
                }
            }
        } catch {
            let message = ConnectionString.redact("\(error)", conninfo: conninfo)
            FileHandle.standardError.write(Data("workos-dsync migrate: \(message)\n".utf8))
            throw ExitCode.failure
        }
    }
}
