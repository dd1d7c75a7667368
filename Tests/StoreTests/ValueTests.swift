import Foundation
import Store
import Testing

@Suite struct ValueTests {
    @Test func typedValuesRoundTrip() async throws {
        let (_, connection) = try await freshDatabase("values_round_trip", migrated: false)
        let id = UUID()
        let date = Date(timeIntervalSince1970: 1_764_400_000.123456)
        let rows = try await connection.query("""
            SELECT \("text")::text AS s, \(42)::int AS i, \(Int64.max) AS big, \(true) AS b, \(1.5) AS d, \(date) AS t,
                   \(id) AS u, \(["a", "b c", "quote\"", "back\\slash", "{braces}", "NULL", ""]) AS arr,
                   \(nil as String?)::text AS missing, \(Data([0, 1, 255])) AS bytes, \(PostgresJSON(#"{"k": [1, "é"]}"#)) AS doc,
                   \([id]) AS ids, '2026-01-02 03:04:05+05:30'::timestamptz AS offset_time, 'infinity'::timestamptz AS forever
            """)
        let row = try #require(rows.first)
        #expect(try row.decode(String.self, "s") == "text")
        #expect(try row.decode(Int.self, "i") == 42)
        #expect(try row.decode(Int64.self, "big") == Int64.max)
        #expect(try row.decode(Bool.self, "b"))
        #expect(try row.decode(Double.self, "d") == 1.5)
        #expect(try abs(row.decode(Date.self, "t").timeIntervalSince(date)) < 0.000_001)
        #expect(try row.decode(UUID.self, "u") == id)
        #expect(try row.decode([String].self, "arr") == ["a", "b c", "quote\"", "back\\slash", "{braces}", "NULL", ""])
        #expect(try row.decode(String?.self, "missing") == nil)
        #expect(try row.decode(Data.self, "bytes") == Data([0, 1, 255]))
        #expect(try row.decode(PostgresJSON.self, "doc").text.contains("é"))
        #expect(try row.decode([UUID].self, "ids") == [id])
        #expect(try row.decode(Date.self, "offset_time") == Date(timeIntervalSince1970: 1_767_323_045 - 5 * 3600 - 1800))
        #expect(try row.decode(Date.self, "forever") == .distantFuture)
        let built = try await connection.query(PostgresQuery(sql: "SELECT $1::int AS a, $2::text AS b, $3::text AS c", binds: [7, "x", nil as String?]))[0]
        #expect(try built.decode(Int.self, "a") == 7)
        #expect(try built.decode(String.self, "b") == "x")
        #expect(try built.decode(String?.self, "c") == nil)
        let nulls = try await connection.query("SELECT \([Optional("x"), nil])::text[] AS arr")[0]
        #expect(try nulls.decode([String?].self, "arr") == ["x", nil])
    }

    @Test func decodeErrorsNameColumnExpectedAndGot() async throws {
        let (_, connection) = try await freshDatabase("values_decode_errors", migrated: false)
        let row = try await connection.query("SELECT 'abc'::text AS email, NULL::text AS missing, 7 AS n")[0]
        let wrongType = try #require(await thrownError { _ = try row.decode(Int.self, "email") } as? PostgresDecodingError)
        #expect(wrongType.column == "email")
        #expect(wrongType.expected == "Int")
        #expect(wrongType.got.contains("text"))
        let null = try #require(await thrownError { _ = try row.decode(String.self, "missing") } as? PostgresDecodingError)
        #expect(null.got.contains("NULL"))
        #expect("\(null)" == "cannot decode column \"missing\" as String: got NULL (text)")
        let absent = try #require(await thrownError { _ = try row.decode(String.self, "nope") } as? PostgresDecodingError)
        #expect(absent.got.contains("no such column"))
        let notUUID = try #require(await thrownError { _ = try row.decode(UUID.self, "n") } as? PostgresDecodingError)
        #expect(notUUID.got.contains("integer"))
        #expect(try row.decode(String.self, "n") == "7")
        #expect(try row.decode(Int?.self, "n") == 7)
    }

    @Test func aNULByteIsRefusedWithAClearError() async throws {
        let (_, connection) = try await freshDatabase("values_nul")
        let bind = try #require(await thrownError { try await connection.query("SELECT \("a\u{0}b")::text") } as? PostgresError)
        #expect(bind.code == .invalidText)
        #expect(bind.column == "$1")
        #expect(bind.message.contains("NUL"))
        try await connection.execute(PostgresQuery(unsafeSQL: "CREATE TABLE t (a text, b text)"))
        let copy = try #require(
            await thrownError {
                try await connection.copy(into: "t", columns: ["a", "b"], rows: [["fine", "ok"], ["fine", "bad\u{0}value"]])
            } as? PostgresError)
        #expect(copy.code == .invalidText)
        #expect(copy.column == "b")
        #expect(copy.message.contains("column \"b\" of COPY row 2"))
        #expect(try await connection.query("SELECT * FROM t").isEmpty, "the COPY is aborted as a whole")
        // The connection is still usable afterwards.
        #expect(try await connection.copy(into: "t", columns: ["a", "b"], rows: [["x", nil]]) == 1)
        // Bytes (bytea) carry NUL fine.
        #expect(try await connection.query("SELECT \(Data([0, 0]))::bytea AS b")[0].decode(Data.self, "b") == Data([0, 0]))
    }

    @Test func uuidsAreReadInPostgreSQLsFormAndOthersRefused() async throws {
        let (_, connection) = try await freshDatabase("values_uuids", migrated: false)
        // The server's own output form, for many values: each equals Foundation's reading of it.
        let rows = try await connection.query("SELECT gen_random_uuid() AS u, 'ffffffff-0000-4000-8abc-00000000000a'::uuid AS fixed FROM generate_series(1, 2000)")
        for row in rows {
            let text = try #require(row.text("u") ?? nil)
            #expect(try row.decode(UUID.self, "u") == UUID(uuidString: text))
        }
        #expect(try rows.first?.decode(UUID.self, "fixed") == UUID(uuidString: "FFFFFFFF-0000-4000-8ABC-00000000000A"))
        func decode(_ text: String) -> UUID? {
            try? UUID.decode(postgresText: text, typeOID: PostgresTypeOID.uuid, column: "id")
        }
        let id = UUID()
        #expect(decode(id.uuidString) == id, "upper case")
        #expect(decode(id.uuidString.lowercased()) == id)
        for malformed in [
            "", String(id.uuidString.dropLast()), id.uuidString + "0", "g" + id.uuidString.dropFirst(),
            id.uuidString.replacingOccurrences(of: "-", with: "_"), String(id.uuidString.filter { $0 != "-" }),
        ] {
            #expect(decode(malformed) == nil, "\(malformed) was read as a UUID")
        }
    }

    @Test func bytesAreValidatedNotRepaired() throws {
        #expect(try PostgresText.validated(utf8: Array("é🧑🏽‍💻".utf8), column: "name") == "é🧑🏽‍💻")
        #expect((try? PostgresText.validated(utf8: [0x61, 0xC3], column: "name")) == nil, "a truncated sequence is refused")
        do {
            _ = try PostgresText.validated(utf8: [0x61, 0xFF, 0x62], column: "first_name")
            Issue.record("invalid UTF-8 was accepted")
        } catch let error as PostgresError {
            #expect(error.code == .invalidText)
            #expect(error.column == "first_name")
        }
        do {
            _ = try PostgresText.validated(utf8: [0x61, 0x00], column: "email")
            Issue.record("a NUL byte was accepted")
        } catch let error as PostgresError {
            #expect(error.code == .invalidText)
            #expect(error.message.contains("NUL"))
        }
    }

    @Test func largeAndOddStringsRoundTrip() async throws {
        let (_, connection) = try await freshDatabase("values_odd")
        let big = String(repeating: "0123456789abcdé\t\n\\", count: 1_048_576 / 18)
        #expect(big.utf8.count > 1_000_000)
        let odd = [
            "e\u{301}", "é", "🧑🏽‍💻", "👨‍👩‍👧‍👦", "\u{200B}zero width", "\u{FEFF}bom", "right\u{202E}to left", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
            "\u{10FFFF}", "\u{FFFD}", "'; DROP TABLE users; --", "$1", "\\N", "\r\n", "tab\there", "\u{7F}\u{1}\u{1F}",
            "ĳ", "ﬀ", "日本語", "עברית", "", " ",
        ]
        for value in [big] + odd {
            let echoed = try await connection.query("SELECT \(value)::text AS v, length(\(value)::text) AS n")[0]
            #expect(try echoed.decode(String.self, "v") == value)
            #expect(try echoed.decode(Int.self, "n") == value.unicodeScalars.count)
        }
        try await connection.execute(PostgresQuery(unsafeSQL: "CREATE TABLE odd (v text)"))
        try await connection.copy(into: "odd", columns: ["v"], rows: ([big] + odd).map { [$0] })
        let stored = try await connection.query("SELECT v FROM odd").map { try $0.decode(String.self, "v") }
        #expect(Set(stored) == Set([big] + odd))
    }
}
