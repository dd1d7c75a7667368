public import Foundation
public import Logging
import WorkOSModel

/// Turns one log event into one line: logfmt (`level=info label=… msg="…" directory.id=…`)
/// or a JSON object. No colours; keys of the metadata in a stable (sorted)
/// order; newlines inside values escaped, so every event is exactly one line
/// for journald.
public struct LogLineFormatter: Sendable {
    /// The two line formats of `log.format`.
    public enum Format: String, Sendable, CaseIterable {
        case logfmt, json
    }

    public var format: Format
    /// Whether to start each line with `ts=` (RFC 3339, UTC, milliseconds). Default true;
    /// journald adds its own time, so it is only a convenience.
    public var timestamps: Bool

    /// Whether to start each line with its sd-daemon priority (`<3>` error … `<7>` debug)
    /// so journald files it at that level (`journalctl -p warning`). Default false;
    /// ``LogSetup`` turns it on when standard error is the journal (`JOURNAL_STREAM`).
    public var journalPriorities: Bool

    public init(format: Format, timestamps: Bool = true, journalPriorities: Bool = false) {
        self.format = format
        self.timestamps = timestamps
        self.journalPriorities = journalPriorities
    }

    /// The syslog priority of a swift-log level: 2 critical, 3 error, 4 warning, 5 notice, 6 info, 7 debug and trace.
    public static func journalPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        case .debug, .trace: 7
        }
    }

    /// One line, without the trailing newline.
    public func line(
        level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, timestamp: Date? = nil
    ) -> String {
        var fields: [(String, String)] = []
        if timestamps, let timestamp { fields.append(("ts", Self.timestamp(timestamp))) }
        fields.append(("level", level.rawValue))
        fields.append(("label", label))
        fields.append(("msg", message))
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !["ts", "level", "label", "msg"].contains(key) {
            fields.append((key, Self.flatten(value)))
        }
        let prefix = journalPriorities ? "<\(Self.journalPriority(level))>" : ""
        switch format {
        case .logfmt:
            return prefix + fields.map { "\(Self.logfmtKey($0.0))=\(Self.logfmtValue($0.1))" }.joined(separator: " ")
        case .json:
            return prefix + "{" + fields.map { "\(Self.jsonString($0.0)):\(Self.jsonString($0.1))" }.joined(separator: ",") + "}"
        }
    }

    /// A metadata value as text: lists as `[a, b]`, dictionaries as `{k: v}` (sorted keys).
    static func flatten(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): "[" + values.map(flatten).joined(separator: ", ") + "]"
        case .dictionary(let values):
            "{" + values.sorted { $0.key < $1.key }.map { "\($0.key): \(flatten($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// A logfmt key: characters other than letters, digits and `._-/` become `_`.
    static func logfmtKey(_ key: String) -> String {
        let cleaned = String(key.unicodeScalars.map { scalar -> Character in
            let allowed = (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))) || "._-/".unicodeScalars.contains(scalar)
            return allowed ? Character(scalar) : "_"
        })
        return cleaned.isEmpty ? "_" : cleaned
    }

    /// A logfmt value: bare when it has no space, quote, `=` or control
    /// character; otherwise quoted with JSON's escapes (`\"`, `\\`, `\n`, `\r`,
    /// `\t`, `\b`, `\f`, `\uXXXX`).
    static func logfmtValue(_ value: String) -> String {
        if value.isEmpty { return "\"\"" }
        let needsQuotes = value.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7f }
        guard needsQuotes else { return value }
        return quoted(value) { $0.value < 0x20 || $0.value == 0x7f }
    }

    /// A JSON string literal (RFC 8259 escapes; non-ASCII kept as UTF-8).
    static func jsonString(_ value: String) -> String {
        quoted(value) { $0.value < 0x20 || $0.value == 0x7f || $0.value == 0x2028 || $0.value == 0x2029 }
    }

    /// `value` in double quotes with JSON's escapes, and `\uXXXX` for the
    /// other scalars `needsUnicodeEscape` names.
    private static func quoted(_ value: String, needsUnicodeEscape: (Unicode.Scalar) -> Bool) -> String {
        var out = ""
        JSONValue.appendQuoted(value, to: &out, escapingAlso: needsUnicodeEscape)
        return out
    }

    /// `2026-11-29T08:03:15.123Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!))
    }
}
