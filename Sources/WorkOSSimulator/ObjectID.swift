/// ULID-like ids (`directory_user_01J…`): 10 Crockford base-32 characters of
/// milliseconds, then 16 of randomness, so ids sort in creation order as long
/// as every new id gets a later millisecond (the simulator's clock ensures it).
enum ObjectID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    static func make(prefix: String, milliseconds: Int64, using generator: inout SplitMix64) -> String {
        var characters = [UInt8](repeating: 0, count: 26)
        var time = UInt64(milliseconds)
        for index in stride(from: 9, through: 0, by: -1) {
            characters[index] = alphabet[Int(time & 31)]
            time >>= 5
        }
        var high = generator.next()
        var low = generator.next()
        for index in 10..<26 {
            if index < 18 {
                characters[index] = alphabet[Int(high & 31)]
                high >>= 5
            } else {
                characters[index] = alphabet[Int(low & 31)]
                low >>= 5
            }
        }
        return prefix + "_" + String(decoding: characters, as: UTF8.self)
    }
}
