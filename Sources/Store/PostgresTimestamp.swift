import Foundation

/// Text conversion of timestamps: always UTC, microsecond precision.
enum PostgresTimestamp {
    /// `2026-11-29 07:19:00.123456+00` (years before 1 get ` BC`).
    static func format(_ date: Date) -> String {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        guard micros.isFinite, abs(micros) < 9.0e18 else { return micros < 0 ? "-infinity" : "infinity" }
        let total = Int64(micros)
        var days = total / 86_400_000_000
        var rest = total % 86_400_000_000
        if rest < 0 { rest += 86_400_000_000; days -= 1 }
        let (year, month, day) = civil(fromDays: days)
        let seconds = rest / 1_000_000
        let fraction = rest % 1_000_000
        let (displayYear, era) = year > 0 ? (year, "") : (1 - year, " BC")
        return pad(displayYear, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + " "
            + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
            + "." + pad(fraction, 6) + "+00" + era
    }

    /// Parses PostgreSQL's ISO output of timestamptz, timestamp (UTC) and date.
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        var bytes = Array(text.utf8)[...]
        var bc = false
        if bytes.count > 3, bytes.suffix(3) == Array(" BC".utf8)[...] { bc = true; bytes = bytes.dropLast(3) }
        var position = bytes.startIndex
        func number(maxDigits: Int = 10) -> Int64? {
            var value: Int64 = 0
            var digits = 0
            while position < bytes.endIndex, digits < maxDigits, let d = digit(bytes[position]) {
                value = value * 10 + Int64(d)
                position += 1
                digits += 1
            }
            return digits == 0 ? nil : value
        }
        func expect(_ c: Character) -> Bool {
            guard position < bytes.endIndex, bytes[position] == c.asciiValue! else { return false }
            position += 1
            return true
        }
        guard var year = number(), expect("-"), let month = number(), expect("-"), let day = number() else { return nil }
        if bc { year = 1 - year }
        var seconds: Int64 = 0
        var micros: Int64 = 0
        var offset: Int64 = 0
        if position < bytes.endIndex {
            guard expect(" ") || expect("T"), let hour = number(), expect(":"), let minute = number(), expect(":"),
                let second = number()
            else { return nil }
            seconds = hour * 3600 + minute * 60 + second
            if expect(".") {
                let start = position
                guard let fraction = number(maxDigits: 9) else { return nil }
                var scaled = fraction
                var digits = position - start
                while digits < 6 { scaled *= 10; digits += 1 }
                while digits > 6 { scaled /= 10; digits -= 1 }
                micros = scaled
            }
            if position < bytes.endIndex {
                let sign: Int64
                if expect("+") { sign = 1 } else if expect("-") { sign = -1 } else if expect("Z") { sign = 0 } else { return nil }
                if sign != 0 {
                    guard let hours = number(maxDigits: 2) else { return nil }
                    var total = hours * 3600
                    if expect(":") { guard let m = number(maxDigits: 2) else { return nil }; total += m * 60 }
                    if expect(":") { guard let s = number(maxDigits: 2) else { return nil }; total += s }
                    offset = sign * total
                }
            }
            guard position == bytes.endIndex else { return nil }
        }
        let days = days(fromCivil: year, Int64(month), Int64(day))
        let totalMicros = (days * 86_400 + seconds - offset) * 1_000_000 + micros
        return Date(timeIntervalSince1970: Double(totalMicros) / 1_000_000)
    }

    private static func digit(_ c: UInt8) -> Int? {
        c >= 48 && c <= 57 ? Int(c - 48) : nil
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
