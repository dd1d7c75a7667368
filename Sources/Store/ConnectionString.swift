import CLibPQ
import Foundation

/// Helpers for libpq connection strings and URIs that never leak the password.
public enum ConnectionString {
    /// The settings of a connection string or URI as libpq parses them
    /// (`nil` when libpq cannot parse it).
    public static func parse(_ conninfo: String) -> [String: String]? {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var result: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { result[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return result
    }

    /// A keyword/value connection string equal to `conninfo` but for `database`.
    public static func replacingDatabase(in conninfo: String, with database: String) -> String? {
        guard var settings = parse(conninfo) else { return nil }
        settings["dbname"] = database
        return settings.sorted { $0.key < $1.key }.map { "\($0.key)=\(quote($0.value))" }.joined(separator: " ")
    }

    /// A libpq keyword value, quoted: `'a b\'c'`.
    public static func quote(_ value: String) -> String {
        var out = "'"
        for character in value {
            if character == "'" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "'"
    }

    /// Where a connection goes, for logs: `user@host:port/dbname`, no password.
    public static func describe(_ conninfo: String?) -> String {
        guard let conninfo, !conninfo.isEmpty else { return "(libpq environment)" }
        guard let settings = parse(conninfo) else { return "(unparseable connection string)" }
        let user = settings["user"].map { $0 + "@" } ?? ""
        let host = settings["host"] ?? settings["hostaddr"] ?? "(default host)"
        let port = settings["port"].map { ":" + $0 } ?? ""
        let database = settings["dbname"].map { "/" + $0 } ?? ""
        return user + host + port + database
    }

    /// Removes secrets from a message: the password of `conninfo` (and of
    /// `PGPASSWORD`) wherever it appears, `password=…` settings and the
    /// userinfo of `postgres://user:password@host` URIs.
    public static func redact(_ message: String, conninfo: String?) -> String {
        var text = message
        var secrets: [String] = []
        if let conninfo, let password = parse(conninfo)?["password"] { secrets.append(password) }
        if let password = ProcessInfo.processInfo.environment["PGPASSWORD"] { secrets.append(password) }
        for secret in secrets where secret.count >= 1 {
            text = text.replacingOccurrences(of: secret, with: "***")
        }
        text = redactPasswordSettings(text)
        text = redactURIUserinfo(text)
        return text
    }

    private static func redactPasswordSettings(_ text: String) -> String {
        guard text.lowercased().contains("password") else { return text }
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: "password", options: .caseInsensitive) {
            out += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            var probe = rest.drop { $0 == " " }
            guard probe.first == "=" else { continue }
            probe = probe.dropFirst().drop { $0 == " " }
            out += "=***"
            if probe.first == "'" {
                var index = probe.index(after: probe.startIndex)
                while index < probe.endIndex, probe[index] != "'" {
                    if probe[index] == "\\" { index = probe.index(after: index); if index == probe.endIndex { break } }
                    index = probe.index(after: index)
                }
                rest = index < probe.endIndex ? probe[probe.index(after: index)...] : probe[probe.endIndex...]
            } else {
                rest = probe.drop { !$0.isWhitespace && $0 != "&" }
            }
        }
        return out + rest
    }

    private static func redactURIUserinfo(_ text: String) -> String {
        guard text.contains("://") else { return text }
        var out = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            out += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0.isWhitespace } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                if let colon = userinfo.firstIndex(of: ":") {
                    out += userinfo[..<colon] + ":***"
                } else {
                    out += userinfo
                }
                rest = rest[at...]
            }
        }
        return out + rest
    }
}
