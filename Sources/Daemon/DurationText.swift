import Foundation

/// Durations as the config file and flags write them: `90s`, `10m`, `1h`,
/// `1h30m`, `500ms`, `30d`.
public enum DurationText {
    /// Parses a duration, or returns nil for anything else (including a bare number).
    public static func parse(_ text: String) -> Duration? {
        var total = Duration.zero
        var digits = ""
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        while let character = rest.first {
            if character.isASCII && character.isNumber {
                digits.append(character)
                rest = rest.dropFirst()
                continue
            }
            guard let amount = Int64(digits) else { return nil }
            digits = ""
            let unit: Duration
            if rest.hasPrefix("ms") {
                unit = .milliseconds(1)
                rest = rest.dropFirst(2)
            } else {
                switch character {
                case "s": unit = .seconds(1)
                case "m": unit = .seconds(60)
                case "h": unit = .seconds(3_600)
                case "d": unit = .seconds(86_400)
                default: return nil
                }
                rest = rest.dropFirst()
            }
            total += unit * amount
        }
        return digits.isEmpty ? total : nil
    }

    /// Formats a duration the same way (`10m`, `1h30m`, `45s`).
    public static func format(_ duration: Duration) -> String {
        var seconds = duration.components.seconds
        if seconds == 0 { return "\(duration.components.attoseconds / 1_000_000_000_000_000)ms" }
        var text = ""
        for (unit, symbol) in [(Int64(86_400), "d"), (3_600, "h"), (60, "m"), (1, "s")] where seconds >= unit {
            text += "\(seconds / unit)\(symbol)"
            seconds %= unit
        }
        return text
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
