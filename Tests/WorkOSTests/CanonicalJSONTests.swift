import Foundation
import Testing
import WorkOS
import WorkOSModel
import WorkOSSimulator

/// `JSONValue.canonicalText` is written out by hand for speed; fingerprints
/// stored in PostgreSQL depend on it, so it must stay byte for byte what
/// `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`) writes.
@Suite struct CanonicalJSONTests {
    static let pieces = [
        "", "a", "B", "z", "10", "9", "department", "a b", "é", "e\u{301}", "ﬀ", "日本", "😀", "👩🏽‍💻", "\u{FFFF}", "\u{10000}",
        "\"", "\\", "/", "\n", "\r", "\t", "\u{8}", "\u{C}", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "\u{2028}", "\r\n", "</script>",
    ]
    static let numbers: [Double] = [
        0, -0.0, 1, -1, 1.5, 100, 0.1, 1e20, 1e21, 1e-7, 2.5e-300, 1e300, 123_456_789_012, 9_007_199_254_740_993, -3.25, 1 / 3,
    ]

    static func string(_ generator: inout SplitMix64) -> String {
        (0..<Int.random(in: 0...3, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }

    static func value(depth: Int, _ generator: inout SplitMix64) -> JSONValue {
        switch Int.random(in: 0..<(depth > 2 ? 4 : 6), using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .number(numbers.randomElement(using: &generator)! * (Bool.random(using: &generator) ? 1 : 7.25))
        case 3: return .string(string(&generator))
        case 4: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in value(depth: depth + 1, &generator) })
        default:
            var fields: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &generator) { fields[string(&generator)] = value(depth: depth + 1, &generator) }
            return .object(fields)
        }
    }

    @Test func canonicalTextIsWhatJSONEncoderWrites() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var generator = SplitMix64(seed: 20_261_129)
        var checked = 0
        for round in 0..<3_000 {
            let value = Self.value(depth: 0, &generator)
            let expected = String(decoding: try encoder.encode(value), as: UTF8.self)
            #expect(value.canonicalText == expected, "round \(round)")
            checked += expected.count
        }
        #expect(checked > 10_000)
    }

    @Test func nonFiniteNumbersAreNullAndAstralEscapesAreSurrogatePairs() {
        #expect(JSONValue.array([.number(.nan), .number(.infinity), .number(-.infinity)]).canonicalText == "[null,null,null]")
        var text = ""
        JSONValue.appendQuoted("a😀\u{2028}", to: &text) { $0.value > 0x7f }
        #expect(text == #""a\ud83d\ude00\u2028""#)
        let decoded = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? String
        #expect(decoded == "a😀\u{2028}")
    }

    @Test func containsNULLooksIntoKeysAndNestedValues() {
        #expect(!JSONValue.object(["a": .array([.string("x"), .number(0)])]).containsNUL)
        #expect(JSONValue.object(["a": .array([.string("x\u{0}")])]).containsNUL)
        #expect(JSONValue.object(["k\u{0}": .null]).containsNUL)
        #expect(JSONValue.string("\u{0}").containsNUL)
    }
}
