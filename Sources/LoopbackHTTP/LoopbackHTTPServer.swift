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
/// Configuration: `host` must be an IPv4 or IPv6 literal (default `127.0.0.1`;
/// `::` also accepts IPv4 connections); `port` 0 (the default) lets the kernel
/// choose, and `start()` reports it; a connection that sends nothing for
/// `idleTimeout` (default 60 s) is closed.
///
/// Limits, so that a client cannot tie the server up: at most `maxConnections`
/// are served at once (one more is answered 503 and closed, without a thread);
/// a request's head and body must arrive within `requestTimeout` of its first
/// byte (else 408 and close, however slowly the bytes trickle in), and each
/// answer must be taken by the client within `requestTimeout` too; a head
/// larger than ``maximumHeadSize`` gets 431, a body larger than
/// `maxBodySize` (at most ``maximumBodySize``, the default) 413.
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
    private let maxConnections: Int
    private let requestTimeout: Duration
    private let maxBodySize: Int
    private let handler: @Sendable (HTTPRequest) -> HTTPReply
    private let state = Mutex(State())
    private let acceptorExited = DispatchSemaphore(value: 0)

    /// Largest request head (request line plus headers) accepted, in bytes.
    public static let maximumHeadSize = 64 * 1024
    /// Largest request body accepted unless the server is given a smaller `maxBodySize`, in bytes.
    public static let maximumBodySize = 16 * 1024 * 1024

    public init(
        host: String = "127.0.0.1", port: Int = 0, idleTimeout: Duration = .seconds(60), maxConnections: Int = 256,
        requestTimeout: Duration = .seconds(30), maxBodySize: Int = maximumBodySize,
        handler: @escaping @Sendable (HTTPRequest) -> HTTPReply
    ) {
        self.host = host
        self.requestedPort = port
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
        self.maxBodySize = min(maxBodySize, Self.maximumBodySize)
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
        guard let address = SocketAddress(host: host, port: requestedPort) else {
            throw StartError(operation: "parsing \(host) port \(requestedPort) as an IP address", errno: EINVAL)
        }
        // Close-on-exec, like every socket here: a child process started meanwhile (a tool, the
        // daemon under test) must not hold a connection open after this server closes it.
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StartError(operation: "socket", errno: errno) }
        var yes: Int32 = 1
        var no: Int32 = 0
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        // `::` takes IPv4 connections too, whatever the system's default.
        if address.family == AF_INET6 {
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &no, socklen_t(MemoryLayout<Int32>.size))
        }
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let code = errno
            close(fd)
            throw StartError(operation: "bind", errno: code)
        }
        guard listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw StartError(operation: "listen", errno: code)
        }
        guard let port = SocketAddress.boundPort(of: fd) else {
            let code = errno
            close(fd)
            throw StartError(operation: "getsockname", errno: code)
        }
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
            let admission = state.withLock { state -> Admission in
                if state.stopping { return .stopping }
                if state.connections.count >= maxConnections { return .full }
                state.connections.insert(client)
                return .admitted
            }
            switch admission {
            case .stopping:
                close(client)
                return
            case .full:
                refuse(client)
                continue
            case .admitted:
                break
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            var yes: Int32 = 1
            _ = setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in serve(client) }
            thread.name = "loopback-http-connection"
            thread.start()
        }
    }

    private enum Admission { case admitted, full, stopping }

    /// Answers 503 to a connection over the limit and closes it, without waiting for anything:
    /// what the client already sent is discarded first, so the close is not a reset.
    private func refuse(_ client: Int32) {
        let answer = serialize(status: 503, headers: [("Content-Type", "text/plain")], body: Array("too many connections\n".utf8), close: true)
        _ = answer.withUnsafeBytes { send(client, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        _ = shutdown(client, Int32(SHUT_WR))
        var chunk = [UInt8](repeating: 0, count: 16384)
        while chunk.withUnsafeMutableBytes({ recv(client, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
        close(client)
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
        var reader = ConnectionReader(
            fd: fd, idleTimeout: idleTimeout, requestTimeout: requestTimeout, maximumBodySize: maxBodySize)
        while true {
            guard let request = reader.nextRequest() else {
                ending = .close
                return
            }
            switch request {
            case .failure(let failure):
                let status = failure.status
                _ = reader.send(serialize(status: status, headers: [("Content-Type", "text/plain")],
                                          body: Array(HTTPReply.reasonPhrase(status).utf8), close: true))
                // A client too slow to send its request in time is not waited for once more.
                if status != 408 { reader.finishAfterError() }
                ending = .close
                return
            case .success(let parsed):
                let reply = handler(parsed.request)
                ending = write(reply, with: reader, clientWantsClose: !parsed.keepAlive)
                if ending != .keepOpen { return }
            }
        }
    }

    private func write(_ reply: HTTPReply, with reader: ConnectionReader, clientWantsClose: Bool) -> Ending {
        switch reply {
        case .reset:
            return .reset
        case .response(let status, let headers, let body):
            let handlerWantsClose = headers.contains {
                $0.0.lowercased() == "connection" && $0.1.lowercased().contains("close")
            }
            let closing = clientWantsClose || handlerWantsClose
            guard reader.send(serialize(status: status, headers: headers, body: body, close: closing)) else {
                return .close
            }
            return closing ? .close : .keepOpen
        case .truncated(let status, let headers, let body, let sendBytes):
            var bytes = serialize(status: status, headers: headers, body: [], close: true, contentLength: body.count)
            bytes.append(contentsOf: body.prefix(max(0, min(sendBytes, body.count))))
            _ = reader.send(bytes)
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
}
