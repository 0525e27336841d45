// SPDX-License-Identifier: Apache-2.0

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One progress line on standard error for long commands.
///
/// On a TTY the line is redrawn in place (`\r`, erase to end of line) at most 10 times a second;
/// elsewhere (a log file, CI) it writes a plain line at most every `logInterval` seconds, so logs
/// stay readable. Quiet or `--json` runs pass `enabled: false` and nothing is written. Results
/// never go through here: they go to standard output.
///
/// ```swift
/// let progress = ProgressReporter(label: "train", enabled: !json)
/// for step in 1...steps { progress.update("step \(step)/\(steps) | loss \(loss)") }
/// progress.finish()   // ends the redrawn line
/// ```
public final class ProgressReporter: Sendable {
    /// The prefix of every line (`label: ...`); empty for none.
    public let label: String
    /// Whether anything is written at all.
    public let enabled: Bool
    /// Whether standard error is a terminal (redrawn line) or not (plain, throttled log lines).
    public let isTerminal: Bool
    /// The number of steps ``step(_:)`` counts towards, when known.
    public let total: Int?
    private let logInterval: Double
    private let state = Mutex<(last: Double, drawn: Bool, done: Int)>((-.infinity, false, 0))

    /// Creates a reporter. `enabled: false` makes every call a no-op; `total` is the step count
    /// ``step(_:)`` shows progress against.
    public init(label: String = "", total: Int? = nil, enabled: Bool = true, logInterval: Double = 10) {
        self.label = label
        self.total = total
        self.enabled = enabled
        self.isTerminal = isatty(STDERR_FILENO) != 0
        self.logInterval = logInterval
    }

    /// Shows `message`, throttled (10 Hz on a TTY, every `logInterval` s otherwise). `force` skips
    /// the throttle (the last step of a phase).
    public func update(_ message: String, force: Bool = false) {
        guard enabled else { return }
        let t = Self.seconds()
        let line = label.isEmpty ? message : "\(label): \(message)"
        let write: String? = state.withLock { s in
            guard force || t - s.last >= (isTerminal ? 0.1 : logInterval) else { return nil }
            s.last = t
            s.drawn = isTerminal
            return isTerminal ? "\r" + line + "\u{1B}[K" : line + "\n"
        }
        if let write { Self.writeStandardError(write) }
    }

    /// Shows `done/total` with an optional detail.
    public func update(done: Int, total: Int, _ detail: String = "") {
        update("\(done)/\(total)" + (detail.isEmpty ? "" : " " + detail), force: done == total)
    }

    /// Counts one step and shows `done/total detail`.
    public func step(_ detail: String = "") {
        let done = state.withLock { s in
            s.done += 1
            return s.done
        }
        if let total { update(done: done, total: total, detail) } else { update("\(done)" + (detail.isEmpty ? "" : " " + detail)) }
    }

    /// Shows bytes processed as `done / total MiB (percent)`.
    public func update(bytes done: Int64, of total: Int64) {
        let percent = total > 0 ? Int(Double(done) / Double(total) * 100) : 0
        update("\(done >> 20) / \(total >> 20) MiB (\(percent)%)", force: done == total)
    }

    /// Writes a line that stays (a finished phase), on a TTY above the redrawn line.
    public func log(_ message: String) {
        guard enabled else { return }
        let line = label.isEmpty ? message : "\(label): \(message)"
        Self.writeStandardError((takeDrawn() ? "\r\u{1B}[K" : "") + line + "\n")
    }

    /// Ends the redrawn line, if one is showing.
    public func finish() {
        if enabled && takeDrawn() { Self.writeStandardError("\n") }
    }

    /// Clears the redrawn line without leaving it on screen.
    public func clear() {
        if enabled && takeDrawn() { Self.writeStandardError("\r\u{1B}[K") }
    }

    /// Whether a redrawn line is showing; it is not afterwards.
    private func takeDrawn() -> Bool {
        state.withLock { s in
            defer { s.drawn = false }
            return s.drawn
        }
    }

    private static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Writes all of `s` to standard error unbuffered, retrying short writes.
    public static func writeStandardError(_ s: String) { writeAll(2, s) }
}

/// Writes all of `s` to a file descriptor, retrying short writes (logs and progress: fd 2; streamed
/// results: fd 1).
public func writeAll(_ fd: Int32, _ s: String) {
    var s = s
    s.withUTF8 { buf in
        var off = 0
        while off < buf.count {
            #if canImport(Glibc)
            let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
            #else
            let n = Darwin.write(fd, buf.baseAddress! + off, buf.count - off)
            #endif
            if n <= 0 { return }
            off += n
        }
    }
}
