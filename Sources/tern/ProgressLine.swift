// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress display on standard error, redrawn at most 10 times a second, shown only on a TTY.
final class ProgressLine {
    let label: String
    let total: Int64
    private var last = 0.0
    private let enabled = isatty(STDERR_FILENO) != 0

    init(label: String, total: Int64) {
        self.label = label
        self.total = total
    }

    func update(_ done: Int64) {
        guard enabled else { return }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let t = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        guard t - last >= 0.1 || done == total else { return }
        last = t
        let pct = total > 0 ? Double(done) / Double(total) * 100 : 0
        FileHandleStderr.write("\r\(label): \(done >> 20) / \(total >> 20) MiB (\(Int(pct))%)\u{1B}[K")
    }

    func finish() {
        guard enabled else { return }
        update(total)
        FileHandleStderr.write("\n")
    }
}
