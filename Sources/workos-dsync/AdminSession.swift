import ArgumentParser
import Daemon
import Foundation
import Logging
import Store
import SyncCore

/// Settings and one PostgreSQL session for the commands that only talk to
/// the database (`status`, `purge`, `conflicts`, `roles`, `hold`): the
/// connection of `--database-url-env` when given, else `database.url` /
/// `DATABASE_URL`.
struct AdminSession {
    let settings: Settings
    let connection: PostgresConnection
    let store: SyncStore

    /// Who runs the command, for `resolved_by` and the events' `by`: `SUDO_USER`, else `USER`.
    static var actor: String {
        let environment = ProcessInfo.processInfo.environment
        return environment["SUDO_USER"] ?? environment["USER"] ?? "cli"
    }

    /// Connects, or exits 6 (a wrong setting) or 1 (the database is unreachable).
    static func open(_ options: ConfigOptions, owner: OwnerConnectionOptions? = nil, label: String) async throws -> AdminSession {
        let settings = try options.loadSettings()
        let logger = LogSetup.bootstrap(settings: settings, label: label)
        let conninfo = try owner?.conninfo(fallback: settings.databaseURL) ?? settings.databaseURL
        do {
            let connection = try await PostgresConnection.connect(conninfo, logger: logger)
            return AdminSession(settings: settings, connection: connection, store: SyncStore(connection: connection, logger: logger))
        } catch {
            printError("cannot reach the database: \(error)")
            throw ExitStatus.error.exitCode
        }
    }

    /// Runs `body`, closes the session, and turns a refusal into exit 5 and
    /// a privilege error or any other failure into exit 1, all with nothing changed.
    func run<T>(_ what: String, _ body: (SyncStore) async throws -> T) async throws -> T {
        do {
            let value = try await body(store)
            await connection.close()
            return value
        } catch let refused as AdminRefused {
            await connection.close()
            printError("refused, nothing changed: \(refused.description)")
            throw ExitStatus.approvalRefused.exitCode
        } catch let error as PostgresError where error.sqlState == "42501" {
            await connection.close()
            printError(
                "\(what) refused by PostgreSQL, nothing changed: \(error.message). Run it as a role with the grants it "
                    + "needs (see README, \"Admin commands\"): put that connection string in an environment variable and "
                    + "name it with --database-url-env NAME.")
            throw ExitStatus.error.exitCode
        } catch {
            await connection.close()
            printError("\(what) failed, nothing changed: \(error)")
            throw ExitStatus.error.exitCode
        }
    }
}

/// `--format table|json` of the listing commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json

    /// Prints `value` as sorted, pretty JSON.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
