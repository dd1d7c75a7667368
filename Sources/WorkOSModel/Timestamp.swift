public import Foundation

/// Lenient parsing of WorkOS timestamps.
///
/// WorkOS sends ISO-8601 (`2024-01-02T03:04:05.678Z`), but older records and
/// some directory types send a space instead of `T` and no zone
/// (`2024-01-02 03:04:05.678`), which is read as UTC.
public enum Timestamp {
    /// Parses any of the accepted forms, or returns nil.
    public static func parse(_ text: String) -> Date? {
        var normalized = text.trimmingCharacters(in: .whitespaces)
        if normalized.count > 10, normalized[normalized.index(normalized.startIndex, offsetBy: 10)] == " " {
            let index = normalized.index(normalized.startIndex, offsetBy: 10)
            normalized.replaceSubrange(index...index, with: "T")
        }
        if !hasZone(normalized) { normalized += "Z" }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(normalized) {
            return date
        }
        return try? Date.ISO8601FormatStyle().parse(normalized)
    }

    /// Formats a date the way WorkOS does: UTC with milliseconds.
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    private static func hasZone(_ text: String) -> Bool {
        guard let timeStart = text.firstIndex(of: "T") else { return false }
        let time = text[timeStart...]
        return time.hasSuffix("Z") || time.contains("+") || time.dropFirst().contains("-")
    }
}
