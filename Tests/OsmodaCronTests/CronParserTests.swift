import OsmodaCore
import OsmodaCron
import Testing

struct CronParserTests {
    /// The wall-clock minutes of one day (2026-06-01, a Monday) that match.
    func minutesOn(_ expr: String, day: (Int, Int, Int) = (2026, 6, 1)) throws -> [String] {
        let e = try CronExpression(expr)
        let d = Civil.days(year: day.0, month: day.1, day: day.2) * 86400
        return stride(from: d, to: d + 86400, by: 60).filter { e.matches(local: $0) }.map {
            let f = Civil.fields($0)
            return "\(f.hour):\(f.minute)"
        }
    }

    func error(_ expr: String) -> CronError? {
        do { _ = try CronExpression(expr); return nil } catch { return error }
    }

    @Test func listsRangesAndSteps() throws {
        #expect(try minutesOn("5,10-12,50-59/4 3 * * *") == ["3:5", "3:10", "3:11", "3:12", "3:50", "3:54", "3:58"])
        #expect(try minutesOn("*/20 */8 * * *") == ["0:0", "0:20", "0:40", "8:0", "8:20", "8:40", "16:0", "16:20", "16:40"])
        #expect(try minutesOn("45/5 22/1 * * *") == ["22:45", "22:50", "22:55", "23:45", "23:50", "23:55"])
        #expect(try minutesOn("0 0 * * TUE").isEmpty)
        #expect(try minutesOn("0 0 * jun mOn") == ["0:0"])
    }

    @Test func sundayIsZeroAndSeven() throws {
        let sunday = (2026, 6, 7)
        for expr in ["0 0 * * 0", "0 0 * * 7", "0 0 * * SUN", "0 0 * * FRI-SUN", "0 0 * * 5-7", "0 0 * * sun"] {
            #expect(try minutesOn(expr, day: sunday) == ["0:0"], "\(expr)")
            #expect(try minutesOn(expr, day: (2026, 6, 3)).isEmpty, "\(expr) on a Wednesday")
        }
    }

    @Test func macros() throws {
        #expect(try CronExpression("@yearly").expanded == "0 0 1 1 *")
        #expect(try CronExpression("@annually").expanded == "0 0 1 1 *")
        #expect(try CronExpression("@monthly").expanded == "0 0 1 * *")
        #expect(try CronExpression("@weekly").expanded == "0 0 * * 0")
        #expect(try CronExpression("@DAILY").expanded == "0 0 * * *")
        #expect(try CronExpression("@midnight").expanded == "0 0 * * *")
        #expect(try CronExpression("@hourly").expanded == "0 * * * *")
        let r = try CronExpression("@reboot")
        #expect(r.isReboot)
        #expect(r.next(after: 0, in: .utc) == nil)
    }

    /// Both restricted: either matches. A field starting with `*` is unrestricted (cronie):
    /// then both must match.
    @Test func dayOfMonthOrDayOfWeek() throws {
        // June 2026: Monday 1, 8, 15, 22, 29.
        func daysOfJune(_ expr: String) throws -> [Int] {
            let e = try CronExpression(expr)
            return (1...30).filter { e.matches(day: Civil.days(year: 2026, month: 6, day: $0)) }
        }
        #expect(try daysOfJune("0 0 1-3 * MON") == [1, 2, 3, 8, 15, 22, 29])
        #expect(try daysOfJune("0 0 1-31/2 * MON") == [1, 3, 5, 7, 8, 9, 11, 13, 15, 17, 19, 21, 22, 23, 25, 27, 29])
        #expect(try daysOfJune("0 0 */2 * MON") == [1, 15, 29])
        // `*/3` in day of week counts as unrestricted too: the 10th only if it is a Sun, Wed or Sat.
        #expect(try daysOfJune("0 0 10 * */3") == [10])
        #expect(try daysOfJune("0 0 11 * */3") == [])
        #expect(try daysOfJune("0 0 1-3 * */2") == [2])
        #expect(try daysOfJune("0 0 * * MON") == [1, 8, 15, 22, 29])
        #expect(try daysOfJune("0 0 15 * *") == [15])
    }

    @Test func errorsNameTheFieldAndColumn() {
        let cases: [(String, String, Int)] = [
            ("0 0 32 * *", "field 3 (day of month): 32 is out of range 1-31", 5),
            ("60 * * * *", "field 1 (minute): 60 is out of range 0-59", 1),
            ("* 24 * * *", "field 2 (hour): 24 is out of range 0-23", 3),
            ("* * * 13 *", "field 4 (month): 13 is out of range 1-12", 7),
            ("* * * * 8", "field 5 (day of week): 8 is out of range 0-7", 9),
            ("* * * FOO *", "field 4 (month): unknown name 'FOO'; expected JAN-DEC", 7),
            ("* * * * MO", "field 5 (day of week): unknown name 'MO'; expected SUN-SAT", 9),
            ("*/0 * * * *", "field 1 (minute): step 0 is not allowed", 3),
            ("5-1 * * * *", "field 1 (minute): range 5-1 is backwards; write it as a list of two ranges", 3),
            ("1,,2 * * * *", "field 1 (minute): empty item in a list", 3),
            ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4", 8),
            ("* * * * * /bin/true", "expected 5 fields (minute hour day-of-month month day-of-week), found 6", 11),
            ("0 0 30 2 *", "field 3 (day of month): no selected day occurs in the selected months, so this never runs", 5),
            ("0 0 31 4,6,9,11 *", "field 3 (day of month): no selected day occurs in the selected months, so this never runs", 5),
            ("@often", "unknown macro '@often'; expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @reboot", 1),
            ("1-x * * * *", "field 1 (minute): 'x' is not a number", 3),
            ("*/ * * * *", "field 1 (minute): expected a step after '/'", 3),
            ("5# * * * *", "field 1 (minute): unexpected '#'", 2),
            ("0 0 1 JAN MON-", "field 5 (day of week): expected a number or a name at the end", 15),
        ]
        for (expr, message, column) in cases {
            let e = error(expr)
            #expect(e?.message == message, "\(expr)")
            #expect(e?.column == column, "\(expr)")
        }
        #expect(error("0 0 29 2 *") == nil, "Feb 29 happens in leap years")
        #expect(error("0 0 30 2 MON") == nil, "the day of week rescues it")
        #expect(CronError("x", column: 5).caret(in: "0 0 32 * *") == "  0 0 32 * *\n      ^")
    }

    /// Columns count characters, not bytes: the caret stands under the culprit after
    /// non-ASCII text, and a stray non-ASCII character is quoted whole.
    @Test func columnsCountCharacters() throws {
        let e1 = try #require(error("0 0 * * 1Ö"))
        #expect(e1.message == "field 5 (day of week): unexpected 'Ö'")
        #expect(e1.column == 10)
        #expect(e1.caret(in: "0 0 * * 1Ö") == "  0 0 * * 1Ö\n           ^")
        // After a two-byte character, byte columns would be one too far right.
        let e2 = try #require(error("0 0 * * Ö 1"))
        #expect(e2.message == "expected 5 fields (minute hour day-of-month month day-of-week), found 6")
        #expect(e2.column == 11)
        #expect(e2.caret(in: "0 0 * * Ö 1") == "  0 0 * * Ö 1\n            ^")
        #expect(try #require(error("0 0 * é")).column == 8)
        let e3 = try #require(error("0 0 * * é"))
        #expect(e3.message == "field 5 (day of week): expected a number or a name at 'é'")
        #expect(e3.column == 9)
    }
}
