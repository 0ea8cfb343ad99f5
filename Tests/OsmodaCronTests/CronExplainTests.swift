import OsmodaCron
import Testing

struct CronExplainTests {
    @Test(arguments: [
        ("5 4 1-15 * SUN", "At 04:05 on every day-of-month from 1 through 15 and on Sunday"),
        ("* * * * *", "At every minute"),
        ("*/5 * * * *", "At every 5th minute"),
        ("0 9,17 * * MON-FRI", "At 09:00 and 17:00 on every day-of-week from Monday through Friday"),
        ("5 */2 * * *", "At minute 5 past every 2nd hour"),
        ("0-10 4 * * *", "At every minute from 0 through 10 past hour 4"),
        ("0 0 */2 * MON", "At 00:00 on every 2nd day-of-month if it is Monday"),
        ("0 0 1 JAN,JUL *", "At 00:00 on day-of-month 1 in January and July"),
        ("30 1 * 3-5 5-7", "At 01:30 on every day-of-week from Friday through Sunday in every month from March through May"),
        ("@reboot", "Once, when the system starts"),
        ("@hourly", "At minute 0"),
        ("1,2,3 0 * * *", "At minute 1, 2 and 3 past hour 0"),
    ])
    func explains(_ c: (String, String)) throws {
        #expect(try CronExpression(c.0).explanation == c.1)
    }
}
