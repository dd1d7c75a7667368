import Foundation

/// Durations as the config file and flags write them: `90s`, `10m`, `1h`,
/// `1h30m`, `500ms`, `30d`; at most ``longest``.
public enum DurationText {
    /// The longest duration accepted: 3650 days (ten years). Longer ones (and
    /// ones that would overflow) are refused rather than wrapped or trapped on.
    public static let longest = Duration.seconds(3_650 * 86_400)

    /// Parses a duration, or returns nil for anything else (including a bare
    /// number and anything longer than ``longest``).
    public static func parse(_ text: String) -> Duration? {
        var milliseconds: Int64 = 0
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
            let unit: Int64
            if rest.hasPrefix("ms") {
                unit = 1
                rest = rest.dropFirst(2)
            } else {
                switch character {
                case "s": unit = 1_000
                case "m": unit = 60_000
                case "h": unit = 3_600_000
                case "d": unit = 86_400_000
                default: return nil
                }
                rest = rest.dropFirst()
            }
            let (part, partOverflow) = amount.multipliedReportingOverflow(by: unit)
            let (sum, sumOverflow) = milliseconds.addingReportingOverflow(part)
            guard !partOverflow, !sumOverflow else { return nil }
            milliseconds = sum
        }
        let total = Duration.milliseconds(milliseconds)
        return digits.isEmpty && total <= longest ? total : nil
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
