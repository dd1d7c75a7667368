public import WorkOS
import Foundation

/// Hashes of the normalised fields a stored row came from.
///
/// Only rows whose fingerprint differs are written, so an unchanged directory
/// costs zero row writes. Two independent 64-bit FNV-1a hashes over a
/// length-prefixed field encoding give a 128-bit digest: stable across
/// processes and releases (unlike `Hasher`) and without a crypto dependency.
/// Held as two integers (16 bytes, no heap string per user); the database
/// stores its 32-digit hex form.
public struct Fingerprint: Sendable, Hashable, CustomStringConvertible {
    private let first: UInt64
    private let second: UInt64

    /// Bump when the normalisation changes, so every row is rewritten once.
    static let version = "v1"

    /// The 32 lowercase hex digits stored in the `fingerprint` columns.
    public var hex: String { Self.hex(first) + Self.hex(second) }

    public var description: String { hex }

    /// Reads a stored `fingerprint` column; nil for anything but 32 hex digits
    /// (such a row never matches, so it is rewritten).
    public init?(hex: String) {
        let digits = hex.utf8
        let isHexDigit = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) }
        guard digits.count == 32, digits.allSatisfy(isHexDigit), let first = UInt64(hex.prefix(16), radix: 16), let second = UInt64(hex.suffix(16), radix: 16) else {
            return nil
        }
        self.first = first
        self.second = second
    }

    private init(first: UInt64, second: UInt64) {
        self.first = first
        self.second = second
    }

    /// A user's fingerprint, including its group ids (in any order).
    public static func of(user: DirectoryUser, groupIDs: [String]) -> Fingerprint {
        of(user: user, sortedGroupIDs: groupIDs.sorted()[...])
    }

    /// A user's fingerprint, from group ids already sorted.
    static func of(user: DirectoryUser, sortedGroupIDs: ArraySlice<String>) -> Fingerprint {
        var fields: [String?] = [
            version, user.id, user.idpID, user.email, user.firstName, user.lastName,
            user.username, user.jobTitle, user.state.rawValue, user.roleSlug,
            user.customAttributesText,
            user.updatedAt.map { String($0.timeIntervalSince1970) },
        ]
        fields.append(contentsOf: sortedGroupIDs.map { Optional($0) })
        return digest(fields)
    }

    /// A group's fingerprint.
    public static func of(group: DirectoryGroup) -> Fingerprint {
        digest([version, group.id, group.idpID, group.name])
    }

    static func digest(_ fields: [String?]) -> Fingerprint {
        var first = FNV1a(basis: 0xcbf2_9ce4_8422_2325)
        var second = FNV1a(basis: 0x8422_2325_cbf2_9ce4)
        for field in fields {
            guard let field else {
                first.add(0xFF)
                second.add(0xFF)
                continue
            }
            let bytes = normalisedUTF8(field)
            for byte in withUnsafeBytes(of: UInt32(bytes.count).littleEndian, Array.init) {
                first.add(byte)
                second.add(byte)
            }
            for byte in bytes {
                first.add(byte)
                second.add(byte ^ 0x5A)
            }
        }
        return Fingerprint(first: first.state, second: second.state)
    }

    /// The NFC form's UTF-8. ASCII text is already NFC, so only the rest goes
    /// through Foundation's normaliser (which bridges through `NSString` and
    /// cost a quarter of an unchanged resync's CPU when every field took it).
    static func normalisedUTF8(_ field: String) -> [UInt8] {
        let bytes = Array(field.utf8)
        var isASCII = true
        for byte in bytes where byte >= 0x80 {
            isASCII = false
            break
        }
        return isASCII ? bytes : Array(field.precomposedStringWithCanonicalMapping.utf8)
    }

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    private struct FNV1a {
        var state: UInt64
        init(basis: UInt64) { state = basis }
        mutating func add(_ byte: UInt8) {
            state ^= UInt64(byte)
            state &*= 0x0000_0100_0000_01B3
        }
    }
}
