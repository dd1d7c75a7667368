import Foundation
import Glibc

/// systemd's notify protocol without libsystemd: one datagram per message to
/// the `AF_UNIX` socket named by `$NOTIFY_SOCKET` (a leading `@` is the
/// abstract namespace). Without `$NOTIFY_SOCKET` every call does nothing.
///
/// Messages the daemon sends: `READY=1` once the database is reachable, the
/// schema current and the HTTP listener bound; `WATCHDOG=1` from the
/// scheduling loop at half of `$WATCHDOG_USEC`; `STATUS=…` after each run;
/// `STOPPING=1` when shutdown begins.
public struct SystemdNotifier: Sendable {
    /// The socket path (`@` for abstract), nil when not under systemd.
    public let socketPath: String?
    /// Half of `$WATCHDOG_USEC` (when it applies to this process), else nil.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        var watchdog: Duration?
        if let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 {
            let pid = environment["WATCHDOG_PID"].flatMap { Int32($0) }
            if pid == nil || pid == getpid() { watchdog = .microseconds(usec / 2) }
        }
        watchdogInterval = watchdog
    }

    /// Whether messages go anywhere.
    public var isEnabled: Bool { socketPath != nil }

    /// Sends one message (e.g. `READY=1`, or several `KEY=value` lines). Returns false when it could not.
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        let abstract = pathBytes.first == UInt8(ascii: "@")
        if abstract { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity || (abstract && pathBytes.count <= capacity) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in pathBytes.enumerated() { buffer[index] = byte }
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        // Abstract names are exactly their bytes; filesystem paths end with a NUL.
        let length = socklen_t(pathOffset + pathBytes.count + (abstract ? 0 : 1))
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length) }
            }
        }
        return sent == bytes.count
    }
}
