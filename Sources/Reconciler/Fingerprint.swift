import Foundation
public import WorkOSModel

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
        of(user: user, sortedGroupIDs: groupIDs.sorted())
    }

    /// A user's fingerprint, from group ids already sorted.
    static func of(user: DirectoryUser, sortedGroupIDs: some Collection<String>) -> Fingerprint {
        var digest = Digest()
        digest.add(version)
        digest.add(user.id)
        digest.add(user.idpID)
        digest.add(user.email)
        digest.add(user.firstName)
        digest.add(user.lastName)
        digest.add(user.username)
        digest.add(user.jobTitle)
        digest.add(user.state.rawValue)
        digest.add(user.roleSlug)
        digest.add(user.customAttributesText)
        digest.add(user.updatedAt.map { String($0.timeIntervalSince1970) })
        for groupID in sortedGroupIDs { digest.add(groupID) }
        return digest.fingerprint
    }

    /// A group's fingerprint.
    public static func of(group: DirectoryGroup) -> Fingerprint {
        var digest = Digest()
        for field in [version, group.id, group.idpID, group.name] { digest.add(field) }
        return digest.fingerprint
    }

    /// The two hashes over a sequence of optional fields: nil is the byte 0xFF;
    /// a string is its UTF-8 length (32-bit little endian), then its NFC UTF-8
    /// bytes (the second hash sees them XOR 0x5A).
    private struct Digest {
        private var first = FNV1a(basis: 0xcbf2_9ce4_8422_2325)
        private var second = FNV1a(basis: 0x8422_2325_cbf2_9ce4)

        var fingerprint: Fingerprint { Fingerprint(first: first.state, second: second.state) }

        /// UTF-8 lead byte of U+0300 (the first combining mark): every byte of
        /// a text below U+0300 is smaller.
        static let firstUTF8LeadByteNeedingNFC: UInt8 = 0xCC

        mutating func add(_ value: String?) {
            guard var field = value else {
                first.add(0xFF)
                second.add(0xFF)
                return
            }
            // Text below U+0300 (ASCII, Latin-1, Latin Extended: no combining
            // marks, no character NFC changes) is already NFC: hashed in place.
            // Only the rest goes through Foundation's normaliser (it bridges
            // through `NSString`: a quarter of an unchanged resync's CPU when
            // every field took it, a twentieth of planning with accented names).
            if field.utf8.contains(where: { $0 >= Self.firstUTF8LeadByteNeedingNFC }) {
                field = field.precomposedStringWithCanonicalMapping
            }
            field.withUTF8 { bytes in
                var length = UInt32(bytes.count).littleEndian
                withUnsafeBytes(of: &length) { lengthBytes in
                    for byte in lengthBytes {
                        first.add(byte)
                        second.add(byte)
                    }
                }
                for byte in bytes {
                    first.add(byte)
                    second.add(byte ^ 0x5A)
                }
            }
        }
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
