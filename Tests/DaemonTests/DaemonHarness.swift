import Daemon
import Foundation
import Glibc
import Logging
import LoopbackHTTP
import Store
import Synchronization
import WorkOS
import WorkOSSimulator

let quietLogger: Logger = {
    var logger = Logger(label: "daemon-tests")
    logger.logLevel = .warning
    return logger
}()

/// A migrated database, the bundled simulator on loopback, and settings
/// pointing at both; `start` builds an in-process daemon with the same
/// `DaemonApp.build` the `run` command uses.
struct DaemonHarness {
    let simulator: WorkOSSimulator
    let databaseURL: String
    var settings: Settings

    static func make(
        directories: Int = 2, users: Int = 30, groups: Int = 3, latency: Duration = .zero, interval: Duration = .seconds(60),
        concurrency: Int = 2, databaseURL: String? = nil
    ) async throws -> DaemonHarness {
        let url: String
        if let databaseURL { url = databaseURL } else { url = try await TestDatabase.create("daemon", logger: quietLogger) }
        let admin = try await PostgresConnection.connect(url, logger: quietLogger)
        _ = try await Migrator.apply(on: admin, logger: quietLogger)
        await admin.close()
        let simulator = WorkOSSimulator(SimulatorConfiguration(
            seed: 5, directories: directories, usersPerDirectory: users, groupsPerDirectory: groups, rateLimit: nil, latency: latency))
        let baseURL = try simulator.start()
        var settings = Settings()
        settings.apiKey = Secret(simulator.apiKey)
        settings.baseURL = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        settings.databaseURL = url
        settings.interval = interval
        settings.concurrency = concurrency
        settings.listen = "127.0.0.1:0"
        // These tests are about the scheduler and its metrics; events mode has its own (EventsModeTests).
        settings.mode = .full
        return DaemonHarness(simulator: simulator, databaseURL: url, settings: settings)
    }

    /// Options for tests: no signal traps, no pacing, fast retries, the given environment.
    static func options(
        environment: [String: String] = [:], configPath: String? = nil, shutdownGrace: Duration = .seconds(20),
        pageSize: Int = 100
    ) -> DaemonApp.Options {
        DaemonApp.Options(
            configPath: configPath, environment: environment, trapSignals: false,
            scheduler: Scheduler.Configuration(tick: .milliseconds(100), backoffBase: .milliseconds(500), shutdownGrace: shutdownGrace),
            tuneClient: { client in
                client.pageSize = pageSize
                client.directoryUsersPerSecond = .infinity
                client.requestsPerSecond = .infinity
                client.retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
            })
    }

    func build(_ options: DaemonApp.Options = DaemonHarness.options()) async throws -> DaemonApp {
        try await DaemonApp.build(settings: settings, options: options, logger: quietLogger)
    }

    /// A read-only look at the database on a connection of its own.
    func query(_ sql: PostgresQuery) async throws -> [PostgresRow] {
        let connection = try await PostgresConnection.connect(databaseURL, logger: quietLogger)
        defer { Task { await connection.close() } }
        return try await connection.query(sql)
    }

    func count(_ sql: PostgresQuery) async throws -> Int {
        try await query(sql)[0].decode(Int.self, "count")
    }
}

/// Runs a daemon in a task; `stop` shuts it down gracefully and waits.
final class RunningDaemon: Sendable {
    let app: DaemonApp
    let task: Task<Void, any Error>

    init(_ app: DaemonApp) {
        self.app = app
        task = Task { try await app.run() }
    }

    func stop() async throws {
        await app.shutdown()
        try await task.value
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
/// The default is generous on purpose: in CI's parallel phase on two cores a first sync of a
/// few dozen users has taken over 20 s; unloaded these conditions hold within a second or two.
func eventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// One HTTP/1.1 GET over a fresh loopback connection (`Connection: close`), on a thread of its own.
/// `host` is an IPv4 or IPv6 literal.
func httpGet(host: String = "127.0.0.1", port: Int, path: String) async throws -> (status: Int, body: String) {
    try await httpRequest(host: host, port: port, method: "GET", path: path)
}

/// One HTTP/1.1 request (a body goes with its `Content-Length`), as ``httpGet(host:port:path:)``.
func httpRequest(
    host: String = "127.0.0.1", port: Int, method: String, path: String, body: [UInt8] = []
) async throws -> (status: Int, body: String) {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try blockingRequest(host: host, port: port, method: method, path: path, body: body) })
        }
        thread.start()
    }
}

struct TestFailure: Error, CustomStringConvertible { var description: String }

private func blockingRequest(host: String, port: Int, method: String, path: String, body: [UInt8]) throws -> (status: Int, body: String) {
    guard let address = SocketAddress(host: host, port: port) else { throw TestFailure(description: "not an address: \(host)") }
    let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw TestFailure(description: "socket failed") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 15, tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    guard address.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
        throw TestFailure(description: "connect to \(host) port \(port) failed: errno \(errno)")
    }
    let length = body.isEmpty ? "" : "Content-Length: \(body.count)\r\n"
    let request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\(length)\r\n".utf8) + body
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        response.append(contentsOf: chunk[0..<count])
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let headEnd = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else {
        throw TestFailure(description: "no HTTP response from \(path)")
    }
    return (status, String(text[headEnd.upperBound...]))
}

/// An `AF_UNIX` datagram socket standing in for systemd's notify socket.
final class NotifyListener: Sendable {
    /// The value for `NOTIFY_SOCKET` (`@name` for the abstract namespace).
    let address: String
    private let fd: Int32
    private let received = Mutex<[String]>([])
    private let open = Atomic<Bool>(true)

    init(abstract: Bool) throws {
        let name = abstract
            ? "@workos-dsync-test-\(UUID().uuidString.prefix(12))"
            : NSTemporaryDirectory() + "/wds-notify-\(UUID().uuidString.prefix(8)).sock"
        address = name
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure(description: "socket failed") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        let length = socklen_t(offset + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw TestFailure(description: "bind \(name) failed: errno \(errno)") }
        let thread = Thread { [self] in receiveLoop() }
        thread.start()
    }

    private func receiveLoop() {
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while open.load(ordering: .sequentiallyConsistent) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                let message = String(decoding: buffer[0..<count], as: UTF8.self)
                received.withLock { $0.append(message) }
            }
        }
        Glibc.close(fd)
        if !address.hasPrefix("@") { unlink(address) }
    }

    /// Every datagram so far, in arrival order.
    var messages: [String] { received.withLock { $0 } }

    func close() { open.store(false, ordering: .sequentiallyConsistent) }
}

/// The built `workos-dsync` executable: `WORKOS_DSYNC_BINARY`, else the newest of
/// `.build/debug` and `.build-*/debug` next to the package.
func daemonBinary() throws -> URL {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["WORKOS_DSYNC_BINARY"], !path.isEmpty { return URL(fileURLWithPath: path) }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let folders = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0 == ".build" || $0.hasPrefix(".build-") }
    let candidates = folders.map { root.appendingPathComponent($0).appendingPathComponent("debug/workos-dsync") }
        .filter { FileManager.default.isExecutableFile(atPath: $0.path) }
    func modified(_ url: URL) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
    }
    guard let newest = candidates.max(by: { modified($0) < modified($1) }) else {
        throw TestFailure(description: "build the executable first (swift build --build-tests) or set WORKOS_DSYNC_BINARY")
    }
    return newest
}
