// SPDX-License-Identifier: Apache-2.0

/// Finds stop strings in streamed text and withholds only what could still become one.
///
/// Text goes in piece by piece as the detokenizer makes it final; what comes out never contains a
/// stop string or anything after it, and the longest suffix that is a prefix of some stop string is
/// held back until the next piece decides it. Both generation loops (single-sequence and engine) use
/// this one matcher.
///
/// ```swift
/// var matcher = StopStringMatcher(["\nUser:"])
/// matcher.append("Hello\nUs")   // (text: "Hello", stopped: false); "\nUs" is held
/// matcher.append("er: hi")      // (text: "", stopped: true)
/// ```
public struct StopStringMatcher: Sendable {
    /// The stop strings (empty ones are ignored).
    public let stops: [String]
    /// Text withheld because it might be the start of a stop string.
    public private(set) var held = ""
    private let longest: Int

    /// Creates a matcher; with no stop strings every appended piece passes straight through.
    public init(_ stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
        longest = self.stops.map(\.count).max() ?? 0
    }

    /// Appends final text. Returns the text that is safe to emit, and whether a stop string was found
    /// (then `text` is everything before the earliest one and nothing is held).
    public mutating func append(_ piece: String) -> (text: String, stopped: Bool) {
        guard !stops.isEmpty else { return (piece, false) }
        held += piece
        if let cut = firstStop(in: held) {
            let text = String(held[..<cut])
            held = ""
            return (text, true)
        }
        var keep = 0
        for k in stride(from: min(held.count, longest - 1), to: 0, by: -1) {
            let tail = held.suffix(k)
            if stops.contains(where: { $0.hasPrefix(tail) }) { keep = k; break }
        }
        let text = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        return (text, false)
    }

    /// Returns and clears the held text (generation ended for another reason).
    public mutating func flush() -> String {
        defer { held = "" }
        return held
    }

    private func firstStop(in s: String) -> String.Index? {
        var best: String.Index?
        for stop in stops {
            if let r = s.firstRange(of: stop), best.map({ r.lowerBound < $0 }) ?? true { best = r.lowerBound }
        }
        return best
    }
}
