public import Foundation

/// Repairs the two text faults a WorkOS body can carry that make the whole
/// body undecodable: invalid UTF-8 bytes (each bad sequence becomes
/// U+FFFD, `EF BF BD`) and `\uD800`–`\uDFFF` escapes that are not a
/// high/low surrogate pair (each becomes `\uFFFD`).
///
/// Only called when decoding failed, so the pages of a healthy directory
/// never pay for it.
public enum TextRepair {
    /// What was repaired.
    public struct Report: Sendable, Hashable, CustomStringConvertible {
        public var invalidUTF8 = false
        public var loneSurrogates = 0

        public var description: String {
            var parts: [String] = []
            if invalidUTF8 { parts.append("invalid UTF-8") }
            if loneSurrogates > 0 { parts.append("\(loneSurrogates) lone surrogate escape\(loneSurrogates == 1 ? "" : "s")") }
            return parts.joined(separator: " and ") + " replaced by U+FFFD"
        }
    }

    /// The repaired body and what changed, or nil when it has neither fault.
    public static func repair(_ body: Data) -> (body: Data, report: Report)? {
        var report = Report()
        var bytes: [UInt8]
        if let valid = String(validating: body, as: UTF8.self) {
            bytes = Array(valid.utf8)
        } else {
            report.invalidUTF8 = true
            bytes = Array(String(decoding: body, as: UTF8.self).utf8)
        }
        report.loneSurrogates = replaceLoneSurrogateEscapes(in: &bytes)
        guard report.invalidUTF8 || report.loneSurrogates > 0 else { return nil }
        return (Data(bytes), report)
    }

    /// Rewrites each `\uD8xx`–`\uDFxx` escape that is not part of a pair as `\uFFFD`; returns how many.
    static func replaceLoneSurrogateEscapes(in bytes: inout [UInt8]) -> Int {
        var replaced = 0
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                index += 1
                continue
            }
            // Any other escape (`\\`, `\"`, …) is skipped whole, so `\\ud800` stays text.
            guard bytes[index + 1] == UInt8(ascii: "u"), let unit = codeUnit(bytes, at: index) else {
                index += 2
                continue
            }
            if (0xD800...0xDBFF).contains(unit), let low = codeUnit(bytes, at: index + 6), (0xDC00...0xDFFF).contains(low) {
                index += 12
            } else if (0xD800...0xDFFF).contains(unit) {
                bytes.replaceSubrange(index..<index + 6, with: Array("\\uFFFD".utf8))
                replaced += 1
                index += 6
            } else {
                index += 6
            }
        }
        return replaced
    }

    /// The value of a `\uXXXX` escape starting at `index`, if one is there.
    private static func codeUnit(_ bytes: [UInt8], at index: Int) -> UInt16? {
        guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
        var value: UInt16 = 0
        for byte in bytes[index + 2..<index + 6] {
            guard let digit = hexDigitValue(byte) else { return nil }
            value = value << 4 | digit
        }
        return value
    }

    private static func hexDigitValue(_ byte: UInt8) -> UInt16? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt16(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt16(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt16(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
