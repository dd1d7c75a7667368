import Foundation
public import Glibc
public import Logging
import Store
import Synchronization

/// A disposable PostgreSQL server for tests and the demo: `initdb` into a
/// fresh directory under the system temp folder, started on a free loopback
/// port with durability turned off (`fsync`, `synchronous_commit`,
/// `full_page_writes`), trust authentication, user `postgres`.
///
/// As root the server binaries refuse to run, so they are run as the
/// `postgres` system user through `runuser -u postgres --`, and the directory
/// is handed to that user. The binaries are taken from the highest
/// `/usr/lib/postgresql/*/bin` (or `Configuration.binDirectory`).
public final class ThrowawayPostgres: Sendable {
    /// Where the server binaries are and how the server is found.
    public struct Configuration: Sendable {
        /// The directory of `initdb`/`pg_ctl`; default: the highest `/usr/lib/postgresql/*/bin`.
        public var binDirectory: String?
        /// Default: a free port on 127.0.0.1.
        public var port: Int?
        public init(binDirectory: String? = nil, port: Int? = nil) {
            self.binDirectory = binDirectory
            self.port = port
        }
    }

    /// Why the server could not be started or used.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The server's directory (data in `data/`, socket and log beside it).
    public let directory: String
    /// The TCP port on 127.0.0.1.
    public let port: Int
    let binDirectory: String
    let asPostgresUser: Bool
    private let stopped = Atomic<Bool>(false)

    private init(directory: String, port: Int, binDirectory: String, asPostgresUser: Bool) {
        self.directory = directory
        self.port = port
        self.binDirectory = binDirectory
        self.asPostgresUser = asPostgresUser
    }

    /// Initialises and starts a server (about a second).
    public static func start(_ configuration: Configuration = Configuration(), logger: Logger) async throws -> ThrowawayPostgres {
        try await runOnOwnThread { try startBlocking(configuration, logger: logger) }
    }

    static func startBlocking(_ configuration: Configuration, logger: Logger) throws -> ThrowawayPostgres {
        let binDirectory = try configuration.binDirectory ?? findBinDirectory()
        let asPostgresUser = getuid() == 0
        var template = Array((NSTemporaryDirectory() + "/workos-dsync-pg-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "cannot create a temporary directory") }
        let directory = String(cString: made)
        if asPostgresUser {
            guard let entry = getpwnam("postgres") else {
                throw Failure(description: "running as root but there is no 'postgres' user to run the server as")
            }
            guard chown(directory, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
                throw Failure(description: "cannot hand \(directory) to the postgres user")
            }
        }
        try runTool(
            binDirectory + "/initdb",
            ["-D", directory + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            asPostgresUser: asPostgresUser)
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try configuration.port ?? freePort()
            let options = serverOptions(directory: directory, port: port)
            do {
                try runTool(
                    binDirectory + "/pg_ctl",
                    ["-D", directory + "/data", "-l", directory + "/log", "-w", "-t", "60", "start", "-o", options],
                    asPostgresUser: asPostgresUser)
                logger.info("throwaway PostgreSQL started", metadata: ["postgres.port": "\(port)", "postgres.directory": "\(directory)"])
                let server = ThrowawayPostgres(directory: directory, port: port, binDirectory: binDirectory, asPostgresUser: asPostgresUser)
                return server
            } catch {
                lastError = error
                if configuration.port != nil { break }
            }
        }
        throw lastError ?? Failure(description: "PostgreSQL did not start")
    }

    /// A connection string for `database` on this server.
    public func connectionString(database: String = "postgres") -> String {
        "host=127.0.0.1 port=\(port) user=postgres dbname=\(ConnectionString.quote(database))"
    }

    /// Creates a database and returns its connection string.
    public func createDatabase(_ name: String, logger: Logger) async throws -> String {
        let admin = try await PostgresConnection.connect(connectionString(), logger: logger)
        do {
            try await admin.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(quoteIdentifier(name))"))
            await admin.close()
            return connectionString(database: name)
        } catch {
            await admin.close()
            throw error
        }
    }

    /// The `postgres` options the server runs with (socket directory, port, durability off).
    private static func serverOptions(directory: String, port: Int) -> String {
        "-k \(directory) -p \(port) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    }

    /// Stops the server (`pg_ctl -m fast`: sessions are ended, committed data
    /// kept) so ``restart()`` brings it back on the same port and data.
    public func halt() async throws {
        _ = try await runOnOwnThread { [self] in
            try Self.runTool(
                binDirectory + "/pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "stop"],
                asPostgresUser: asPostgresUser)
        }
    }

    /// Starts a halted server again on the same port and data.
    public func restart() async throws {
        _ = try await runOnOwnThread { [self] in
            try Self.runTool(
                binDirectory + "/pg_ctl",
                ["-D", directory + "/data", "-l", directory + "/log", "-w", "-t", "60", "start", "-o",
                 Self.serverOptions(directory: directory, port: port)],
                asPostgresUser: asPostgresUser)
        }
    }

    /// Stops the server at once (`pg_ctl -m immediate`) and removes its directory.
    public func stop() {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        _ = try? Self.runTool(
            binDirectory + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"],
            asPostgresUser: asPostgresUser)
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }

    static func findBinDirectory() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let candidates = versions.compactMap { version -> (Int, String)? in
            guard let number = Int(version), FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") else { return nil }
            return (number, "\(root)/\(version)/bin")
        }
        guard let best = candidates.max(by: { $0.0 < $1.0 }) else {
            throw Failure(description: "no PostgreSQL server binaries in \(root)/*/bin (install postgresql-15)")
        }
        return best.1
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "cannot open a socket to find a free port") }
        defer { Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure(description: "cannot bind a socket to find a free port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Adds "close every descriptor from 3 up" to `actions`: glibc's
    /// `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time
    /// because `<spawn.h>` declares it only under `_GNU_SOURCE`.
    public static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) throws {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            throw Failure(description: "posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or later is needed)")
        }
        let result = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
        guard result == 0 else { throw Failure(description: "posix_spawn_file_actions_addclosefrom_np: \(String(cString: strerror(result)))") }
    }

    /// Runs a tool (as `postgres` through runuser when root) and waits for it.
    /// Uses `posix_spawn` and `waitpid` directly, output to a temporary file.
    @discardableResult
    static func runTool(_ tool: String, _ arguments: [String], asPostgresUser: Bool) throws -> String {
        let command = asPostgresUser ? ["/usr/sbin/runuser", "-u", "postgres", "--", tool] + arguments : [tool] + arguments
        // Start in the temp folder: the server user may not be allowed into the current directory.
        let argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", NSTemporaryDirectory()] + command
        let outputPath = NSTemporaryDirectory() + "/workos-dsync-tool-\(UUID().uuidString).log"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours goes to the tool: pg_ctl leaves a postmaster running that would
        // otherwise keep every socket and pipe this process had open (test servers, pipes of
        // other children) open until it stops.
        try closeInheritedDescriptors(&actions)
        let cArguments = argv.map { strdup($0) }
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments + [nil], environ)
        guard spawned == 0 else {
            throw Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure(description: "waitpid failed for \(tool)") }
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            throw Failure(
                description: "\((tool as NSString).lastPathComponent) failed (status \(status)): \(text.suffix(2000))")
        }
        return text
    }
}
