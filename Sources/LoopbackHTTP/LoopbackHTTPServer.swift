import Dispatch
import Foundation
import Glibc
import Synchronization

/// A minimal HTTP/1.1 server on POSIX sockets, with byte-level control of the wire.
///
/// One plain `Thread` accepts, one `Thread` serves each connection, so a
/// handler may block (sleep, wait) without touching the Swift cooperative
/// pool. Keep-alive is on for HTTP/1.1 unless a side says `Connection: close`;
/// request bodies are read by `Content-Length` (chunked request bodies get 411).
/// The handler's `HTTPReply` may also truncate a body or reset the connection,
/// which is what fault injection needs.
///
/// Configuration: `host` must be an IPv4 literal (default `127.0.0.1`);
/// `port` 0 (the default) lets the kernel choose, and `start()` reports it;
/// a connection that sends nothing for `idleTimeout` (default 60 s) is closed.
public final class LoopbackHTTPServer: Sendable {
    /// Why the listener could not be set up.
    public struct StartError: Error, CustomStringConvertible {
        public var operation: String
        public var errno: Int32
        public var description: String { "\(operation) failed: \(String(cString: strerror(errno)))" }
    }

    private struct State {
        var listenFD: Int32 = -1
        var port: Int?
        var started = false
        var stopping = false
        var connections: Set<Int32> = []
    }

    private let host: String
    private let requestedPort: Int
    private let idleTimeout: Duration
    private let handler: @Sendable (HTTPRequest) -> HTTPReply
    private let state = Mutex(State())
    private let acceptorExited = DispatchSemaphore(value: 0)

    /// Largest request head (request line plus headers) accepted, in bytes.
    public static let maximumHeadSize = 64 * 1024
    /// Largest request body accepted, in bytes.
    public static let maximumBodySize = 16 * 1024 * 1024

    public init(
        host: String = "127.0.0.1", port: Int = 0, idleTimeout: Duration = .seconds(60),
        handler: @escaping @Sendable (HTTPRequest) -> HTTPReply
    ) {
        self.host = host
        self.requestedPort = port
        self.idleTimeout = idleTimeout
        self.handler = handler
    }

    /// The bound port once started, else nil.
    public var port: Int? { state.withLock { $0.port } }

    /// The number of connections currently open.
    public var openConnections: Int { state.withLock { $0.connections.count } }

    /// Binds, listens and starts accepting; returns the bound port. Calling it
    /// again while running returns the same port; a stopped server cannot restart
    /// (make a new one).
    @discardableResult
    public func start() throws -> Int {
        let (running, stopped) = state.withLock { ($0.started ? $0.port : nil, $0.stopping) }
        if stopped { throw StartError(operation: "start after stop", errno: EINVAL) }
        if let running { return running }
        // Close-on-exec, like every socket here: a child process started meanwhile (a tool, the
        // daemon under test) must not hold a connection open after this server closes it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StartError(operation: "socket", errno: errno) }
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: requestedPort)).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw StartError(operation: "inet_pton(\(host))", errno: EINVAL)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw StartError(operation: "bind", errno: code)
        }
        guard listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw StartError(operation: "listen", errno: code)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        state.withLock {
            $0.listenFD = fd
            $0.port = port
            $0.started = true
        }
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.name = "loopback-http-accept"
        thread.start()
        return port
    }

    /// Closes the listening socket (waiting for the acceptor to leave) and
    /// shuts down every open connection. Idempotent.
    public func stop() {
        // shutdown() wakes a thread blocked in accept(); that thread closes the fd. Both happen
        // under the lock, so the number shut down here is never one the acceptor already gave back.
        let wasRunning = state.withLock { state -> Bool in
            let running = state.started && !state.stopping
            state.stopping = true
            if running, state.listenFD >= 0 { _ = shutdown(state.listenFD, Int32(SHUT_RDWR)) }
            return running
        }
        guard wasRunning else { return }
        _ = acceptorExited.wait(timeout: .now() + 5)
        // Connection threads own their descriptors: they stay registered (so
        // the numbers cannot be reused) until their thread closes them.
        state.withLock { state in
            for connection in state.connections { _ = shutdown(connection, Int32(SHUT_RDWR)) }
        }
    }

    // MARK: - Accepting

    private func acceptLoop(_ listenFD: Int32) {
        defer {
            state.withLock { state in
                close(listenFD)
                state.listenFD = -1
            }
            acceptorExited.signal()
        }
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                let code = errno
                if state.withLock({ $0.stopping }) { return }
                if code == EINTR || code == ECONNABORTED { continue }
                if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                    usleep(10_000)
                    continue
                }
                return
            }
            let accepted = state.withLock { state -> Bool in
                if state.stopping { return false }
                state.connections.insert(client)
                return true
            }
            guard accepted else {
                close(client)
                return
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            var yes: Int32 = 1
            _ = setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            let (seconds, attoseconds) = idleTimeout.components
            var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
            if timeout.tv_sec == 0, timeout.tv_usec == 0 { timeout.tv_usec = 1000 }
            _ = setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let thread = Thread { [self] in serve(client) }
            thread.name = "loopback-http-connection"
            thread.start()
        }
    }

    // MARK: - Serving one connection

    private enum Ending { case keepOpen, close, reset }

    private func serve(_ fd: Int32) {
        var ending = Ending.close
        defer {
            state.withLock { _ = $0.connections.remove(fd) }
            if ending == .reset {
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            }
            close(fd)
        }
        var reader = ConnectionReader(fd: fd)
        while true {
            guard let request = reader.nextRequest() else {
                ending = .close
                return
            }
            switch request {
            case .failure(let failure):
                let status = failure.status
                _ = sendAll(fd, serialize(status: status, headers: [("Content-Type", "text/plain")],
                                          body: Array(HTTPReply.reasonPhrase(status).utf8), close: true))
                ending = .close
                return
            case .success(let parsed):
                let reply = handler(parsed.request)
                ending = write(reply, to: fd, clientWantsClose: !parsed.keepAlive)
                if ending != .keepOpen { return }
            }
        }
    }

    private func write(_ reply: HTTPReply, to fd: Int32, clientWantsClose: Bool) -> Ending {
        switch reply {
        case .reset:
            return .reset
        case .response(let status, let headers, let body):
            let handlerWantsClose = headers.contains {
                $0.0.lowercased() == "connection" && $0.1.lowercased().contains("close")
            }
            let closing = clientWantsClose || handlerWantsClose
            guard sendAll(fd, serialize(status: status, headers: headers, body: body, close: closing)) else {
                return .close
            }
            return closing ? .close : .keepOpen
        case .truncated(let status, let headers, let body, let sendBytes):
            var bytes = serialize(status: status, headers: headers, body: [], close: true, contentLength: body.count)
            bytes.append(contentsOf: body.prefix(max(0, min(sendBytes, body.count))))
            _ = sendAll(fd, bytes)
            return .close
        }
    }

    private func serialize(
        status: Int, headers: [(String, String)], body: [UInt8], close: Bool, contentLength: Int? = nil
    ) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(HTTPReply.reasonPhrase(status))\r\n"
        var hasLength = false
        var hasConnection = false
        for (name, value) in headers {
            let lower = name.lowercased()
            if lower == "content-length" {
                if contentLength != nil { continue }
                hasLength = true
            }
            if lower == "connection" { hasConnection = true }
            head += "\(name): \(value)\r\n"
        }
        if !hasLength { head += "Content-Length: \(contentLength ?? body.count)\r\n" }
        if close && !hasConnection { head += "Connection: close\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        bytes.append(contentsOf: body)
        return bytes
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { buffer in
                send(fd, buffer.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += sent
        }
        return true
    }
}
