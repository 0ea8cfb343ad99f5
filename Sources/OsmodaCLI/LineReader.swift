#if canImport(Glibc)
import Glibc
#endif
import OsmodaSystem

/// Splits a byte stream into lines, bounded in length.
///
/// A line longer than `maxLine` is not buffered: its first bytes are reported as
/// oversized and the rest is discarded up to the next newline, so a runaway producer
/// cannot exhaust memory. A final line without a newline is still a line.
public final class LineReader {
    public struct Line {
        /// The line without its newline; empty for an oversized line.
        public var bytes: UnsafeBufferPointer<UInt8>
        /// 1-based line number.
        public var number: Int
        /// The line was longer than the limit and was skipped.
        public var oversized: Bool
    }

    let fd: Int32
    let maxLine: Int
    var buffer: UnsafeMutableBufferPointer<UInt8>
    var start = 0
    var end = 0
    var lineNumber = 0
    var discarding = false

    public init(fd: Int32, maxLine: Int, bufferSize: Int = 256 * 1024) {
        self.fd = fd
        self.maxLine = maxLine
        // The buffer always holds a whole line plus one byte, so a line at the limit is
        // never mistaken for end of input.
        self.buffer = .allocate(capacity: max(bufferSize, maxLine + 1))
    }

    deinit { buffer.deallocate() }

    /// Whether a read would return at once (data or end of file), checked with `poll`.
    func inputReady(timeoutMs: Int32 = 0) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, timeoutMs) > 0
    }

    /// Calls `body` for every line. `idle` is called before a read that may block,
    /// which is where a streaming filter flushes its output; with `wakeEveryMs`, it is
    /// called again each time that long passes with no input, for tools that act on
    /// time (osmoda-watch's deadlines).
    public func forEachLine(idle: () throws -> Void, wakeEveryMs: Int32? = nil, _ body: (Line) throws -> Void) throws {
        guard let base = buffer.baseAddress else { return }
        while true {
            // Hand out every complete line in the buffer.
            while start < end {
                let avail = end - start
                if let nl = memchr(base + start, 0x0A, avail) {
                    let len = base.distance(to: nl.assumingMemoryBound(to: UInt8.self)) - start
                    if discarding {
                        // The tail of a line already reported as oversized.
                        discarding = false
                    } else if len > maxLine {
                        lineNumber += 1
                        try body(Line(bytes: UnsafeBufferPointer(start: base, count: 0), number: lineNumber, oversized: true))
                    } else {
                        lineNumber += 1
                        try body(Line(bytes: UnsafeBufferPointer(start: base + start, count: len), number: lineNumber, oversized: false))
                    }
                    start += len + 1
                } else {
                    break
                }
            }
            // A partial line: keep it, unless it is already too long.
            if end - start > maxLine && !discarding {
                lineNumber += 1
                try body(Line(bytes: UnsafeBufferPointer(start: base, count: 0), number: lineNumber, oversized: true))
                discarding = true
            }
            if discarding {
                start = 0
                end = 0
            } else if start > 0 {
                let rest = end - start
                if rest > 0 { memmove(base, base + start, rest) }
                start = 0
                end = rest
            }
            if !inputReady() {
                try idle()
                if let wakeEveryMs {
                    while !inputReady(timeoutMs: wakeEveryMs) { try idle() }
                }
            }
            let room = UnsafeMutableRawBufferPointer(start: base + end, count: buffer.count - end)
            let n = try Sys.read(fd, into: room)
            if n == 0 {
                if end > start && !discarding {
                    lineNumber += 1
                    try body(Line(bytes: UnsafeBufferPointer(start: base + start, count: end - start), number: lineNumber, oversized: false))
                }
                return
            }
            end += n
        }
    }
}

/// One input named on the command line: a file, or `-` for stdin.
public struct InputSource {
    public var name: String
    public var fd: Int32

    /// Opens the named inputs in order; no names means stdin.
    public static func open(_ paths: [String], diagnostics: Diagnostics) -> (sources: [InputSource], failed: Int) {
        if paths.isEmpty { return ([InputSource(name: "<stdin>", fd: 0)], 0) }
        var out: [InputSource] = []
        var failed = 0
        for p in paths {
            if p == "-" {
                out.append(InputSource(name: "<stdin>", fd: 0))
                continue
            }
            do {
                out.append(InputSource(name: p, fd: try Sys.open(p, O_RDONLY)))
            } catch {
                diagnostics.error("cannot open '\(p)': \(error.message)")
                failed += 1
            }
        }
        return (out, failed)
    }
}
