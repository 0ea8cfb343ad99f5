/// A plain-English reading of a cron expression, in the style of
/// "At 04:05 on every day-of-month from 1 through 15 and on Sunday".
extension CronExpression {
    public var explanation: String {
        if isReboot { return "Once, when the system starts" }
        let (mi, ho, dom, mo, dow) = (items[0], items[1], items[2], items[3], items[4])
        var s = "At "
        let minuteValues = Self.values(mi)
        let hourValues = Self.values(ho)
        if let m = minuteValues, m.count == 1, let h = hourValues, h.count <= 4 {
            s += Self.list(h.map { "\(Self.pad($0)):\(Self.pad(m[0]))" })
        } else {
            s += Self.phrase(mi, unit: "minute", name: { String($0) })
            if ho != [.all(step: 1)] { s += " past " + Self.phrase(ho, unit: "hour", name: { String($0) }) }
        }
        let domAll = dom == [.all(step: 1)], dowAll = dow == [.all(step: 1)]
        let domText = Self.phrase(dom, unit: "day-of-month", name: { String($0) })
        let dowText = Self.phrase(dow, unit: "day-of-week", name: { Self.dayNames[$0 % 7] })
        if !dayOfMonthStar && !dayOfWeekStar {
            s += " on \(domText) and on \(dowText)"
        } else if !domAll && !dowAll {
            s += " on \(domText) if it is \(dowText)"
        } else if !domAll {
            s += " on \(domText)"
        } else if !dowAll {
            s += " on \(dowText)"
        }
        if mo != [.all(step: 1)] { s += " in " + Self.phrase(mo, unit: "month", name: { Self.monthNames[$0 - 1] }) }
        return s
    }

    static let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August",
                             "September", "October", "November", "December"]

    static func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    /// The values of a field made only of single values.
    static func values(_ items: [CronItem]) -> [Int]? {
        var out: [Int] = []
        for i in items {
            guard case .value(let v) = i else { return nil }
            out.append(v)
        }
        return out
    }

    static func ordinal(_ n: Int) -> String {
        let suffix: String
        switch (n % 10, n % 100) {
        case (_, 11...13): suffix = "th"
        case (1, _): suffix = "st"
        case (2, _): suffix = "nd"
        case (3, _): suffix = "rd"
        default: suffix = "th"
        }
        return "\(n)\(suffix)"
    }

    static func list(_ parts: [String]) -> String {
        guard parts.count > 1 else { return parts.first ?? "" }
        return parts.dropLast().joined(separator: ", ") + " and " + (parts.last ?? "")
    }

    /// `minute 5`, `every 15th minute`, `every hour from 9 through 17`, `Monday and Friday`.
    static func phrase(_ items: [CronItem], unit: String, name: (Int) -> String) -> String {
        let named = unit == "month" || unit == "day-of-week"
        var parts: [String] = []
        var singles: [String] = []
        func flush() {
            if !singles.isEmpty { parts.append(named ? list(singles) : "\(unit) \(list(singles))") }
            singles = []
        }
        for item in items {
            switch item {
            case .value(let v):
                singles.append(name(v))
            case .all(let step):
                flush()
                parts.append(step == 1 ? "every \(unit)" : "every \(ordinal(step)) \(unit)")
            case .range(let a, let b, let step):
                flush()
                let every = step == 1 ? "every \(unit)" : "every \(ordinal(step)) \(unit)"
                parts.append("\(every) from \(name(a)) through \(name(b))")
            }
        }
        flush()
        return list(parts)
    }
}
