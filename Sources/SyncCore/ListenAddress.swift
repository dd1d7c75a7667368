import LoopbackHTTP

/// `http.listen` (or `--listen`) as the listener binds it.
///
/// `HOST:PORT` where HOST is an IPv4 address (`127.0.0.1`, `0.0.0.0`), an
/// IPv6 address in brackets (`[::1]`; `[::]` takes IPv4 connections too),
/// `localhost` (127.0.0.1), or `*` or nothing (0.0.0.0); PORT is 0...65535
/// (0: any free one). No other name is resolved: what this accepts is exactly
/// what the listener can be asked to bind.
package struct ListenAddress: Equatable {
    package var host: String
    package var port: Int

    /// Parses `text`; the error names `key`, the setting or option it came from.
    package init(_ text: String, key: String) throws(SettingsError) {
        let wrong = SettingsError(
            key: key, problem: "must be HOST:PORT with an IP address, e.g. 127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464 or [::]:9464 (got \"\(text)\")")
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { throw wrong }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]"), host.count > 2 {
            host = String(host.dropFirst().dropLast())
            guard host.contains(":") else { throw wrong }
        } else if host.contains(":") {
            throw SettingsError(key: key, problem: "needs an IPv6 address in brackets, e.g. [::1]:9464 (got \"\(text)\")")
        } else if host == "localhost" {
            host = "127.0.0.1"
        } else if host.isEmpty || host == "*" {
            host = "0.0.0.0"
        }
        guard SocketAddress(host: host, port: port) != nil else { throw wrong }
        self.host = host
        self.port = port
    }
}
