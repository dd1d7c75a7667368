public import Foundation
import Glibc
public import Logging
import LoopbackHTTP
import Store
import WorkOS
import WorkOSModel

/// `workos-dsync check`: whether a deployment can start, one finding per check
/// (credentials, database, migrations, grants, the WorkOS key, the listen address).
/// Reads and binds only; writes nothing, to PostgreSQL or WorkOS.
public enum SetupCheck {
    /// One line of the report.
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        /// `ok`, `FAIL`, or `skip` (not checked because an earlier check failed).
        public enum Verdict: String, Sendable, Hashable {
            case ok, fail = "FAIL", skip
        }

        public var check: String
        public var verdict: Verdict
        public var detail: String

        /// `ok   database: …` — the verdict padded so the names line up.
        public var description: String {
            verdict.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0) + check + ": "
                + detail.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        }
    }

    /// Runs every check against `settings` (already loaded: a setting that
    /// cannot be read stops before this). Later checks that depend on a failed
    /// one are reported as `skip`.
    public static func run(settings: Settings, environment: [String: String], logger: Logger) async -> [Finding] {
        var findings = credentials(settings: settings, environment: environment)
        findings += await database(settings: settings, logger: logger)
        findings.append(await workosKey(settings: settings, logger: logger))
        findings.append(listen(settings.listen))
        return findings
    }

    /// The API key is set; a `PGPASSFILE` (or `~/.pgpass`) libpq would read is
    /// readable and not open to group or others (libpq ignores it otherwise).
    static func credentials(settings: Settings, environment: [String: String]) -> [Finding] {
        var findings: [Finding] = []
        if let key = settings.apiKey, !key.isEmpty {
            findings.append(Finding(check: "credentials.workos_api_key", verdict: .ok, detail: "set (\(key.reveal().count) characters)"))
        } else {
            findings.append(Finding(
                check: "credentials.workos_api_key", verdict: .fail,
                detail: "not set (WORKOS_API_KEY, WORKOS_API_KEY_FILE, workos.api_key_file or the systemd credential workos-api-key)"))
        }
        let explicit = environment["PGPASSFILE"].flatMap { $0.isEmpty ? nil : $0 }
        let path = explicit ?? environment["HOME"].map { $0 + "/.pgpass" }
        guard let path, explicit != nil || FileManager.default.fileExists(atPath: path) else { return findings }
        let name = explicit != nil ? "credentials.pgpassfile" : "credentials.pgpass"
        var status = stat()
        if stat(path, &status) != 0 {
            findings.append(Finding(check: name, verdict: .fail, detail: "\(path): \(String(cString: strerror(errno)))"))
        } else if status.st_mode & 0o077 != 0 {
            findings.append(Finding(
                check: name, verdict: .fail,
                detail: "\(path) has mode \(String(status.st_mode & 0o777, radix: 8)): libpq ignores a password file group or others can read; make it 0600"))
        } else if access(path, R_OK) != 0 {
            findings.append(Finding(check: name, verdict: .fail, detail: "\(path) is not readable by uid \(getuid()): \(String(cString: strerror(errno)))"))
        } else {
            findings.append(Finding(check: name, verdict: .ok, detail: "\(path) readable, mode \(String(status.st_mode & 0o777, radix: 8))"))
        }
        return findings
    }

    /// Reachable, migrations current, the role's grants.
    static func database(settings: Settings, logger: Logger) async -> [Finding] {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(settings.databaseURL, logger: logger)
        } catch {
            return [
                Finding(check: "database", verdict: .fail, detail: "cannot connect: \(ConnectionString.redact("\(error)", conninfo: settings.databaseURL))"),
                Finding(check: "database.migrations", verdict: .skip, detail: "database unreachable"),
                Finding(check: "database.grants", verdict: .skip, detail: "database unreachable"),
            ]
        }
        var findings: [Finding] = []
        let store = SyncStore(connection: connection, logger: logger)
        let role = (try? await store.currentRole()) ?? "?"
        findings.append(Finding(check: "database", verdict: .ok, detail: "connected as \(role)"))
        func failure(_ error: any Error) -> String { ConnectionString.redact("\(error)", conninfo: settings.databaseURL) }
        do {
            let pending = try await Migrator.pending(on: connection, logger: logger)
            if pending.isEmpty {
                findings.append(Finding(check: "database.migrations", verdict: .ok, detail: "current (\(Migration.embedded.count) migrations)"))
            } else {
                findings.append(Finding(
                    check: "database.migrations", verdict: .fail,
                    detail: "pending: \(pending.map { "\($0.version) \($0.name)" }.joined(separator: ", ")) (run `workos-dsync migrate` as the schema owner)"))
            }
        } catch {
            findings.append(Finding(check: "database.migrations", verdict: .fail, detail: failure(error)))
        }
        if findings.last?.verdict != .ok {
            findings.append(Finding(check: "database.grants", verdict: .skip, detail: "migrations not current"))
        } else {
            do {
                let missing = try await store.missingDaemonPrivileges()
                findings.append(missing.isEmpty
                    ? Finding(check: "database.grants", verdict: .ok, detail: "\(role) has what the daemon needs (sql/roles.sql: workos_dsync_daemon)")
                    : Finding(check: "database.grants", verdict: .fail, detail: "\(role) lacks \(missing.joined(separator: ", ")) (grant workos_dsync_daemon, sql/roles.sql)"))
            } catch {
                findings.append(Finding(check: "database.grants", verdict: .fail, detail: failure(error)))
            }
        }
        await connection.close()
        return findings
    }

    /// `GET /directories?limit=1` with the configured key (two attempts at most).
    static func workosKey(settings: Settings, logger: Logger) async -> Finding {
        let client: WorkOSClient
        do {
            client = try Runtime.makeClient(settings: settings, logger: logger) {
                $0.pageSize = 1
                $0.maxAttempts = 2
            }
        } catch {
            return Finding(check: "workos", verdict: .skip, detail: error.description)
        }
        do {
            var pages = client.directoryPages().makeAsyncIterator()
            let page = try await pages.next()
            let more = page?.after != nil ? " or more" : ""
            return Finding(
                check: "workos", verdict: .ok,
                detail: "\(settings.baseURL) accepted the API key (GET /directories?limit=1: \(page?.items.count ?? 0) directory\(more))")
        } catch let error as WorkOSError where error.code == .unauthorized {
            return Finding(check: "workos", verdict: .fail, detail: "\(settings.baseURL) refused the API key (401): \(error)")
        } catch {
            return Finding(check: "workos", verdict: .fail, detail: "GET \(settings.baseURL)/directories failed: \(error)")
        }
    }

    /// Binds `http.listen` as `run` would, then lets it go.
    static func listen(_ address: String) -> Finding {
        guard let parsed = try? ListenAddress(address, key: "http.listen") else {
            return Finding(check: "http.listen", verdict: .fail, detail: "\(address) is not an address")
        }
        let server = LoopbackHTTPServer(host: parsed.host, port: parsed.port) { _ in .text(503, "workos-dsync check") }
        do {
            let port = try server.start()
            server.stop()
            return Finding(check: "http.listen", verdict: .ok, detail: "\(address) can be bound (port \(port))")
        } catch {
            return Finding(
                check: "http.listen", verdict: .fail,
                detail: "\(address): \(error) (in use by a running daemon or another program?)")
        }
    }
}
