// SPDX-License-Identifier: Apache-2.0

public import Support

/// One request: when it arrives and which task it is.
public struct Request: Sendable, Equatable {
    public var id: Int
    /// Arrival time in seconds from the start of the trace.
    public var arrival: Double
    /// Index into ``ChoiceTask`` (or any task list of the same length as the quality table).
    public var task: Int

    public init(id: Int, arrival: Double, task: Int) { self.id = id; self.arrival = arrival; self.task = task }
}

/// A sequence of requests in arrival order.
public struct Trace: Sendable {
    public var requests: [Request]
    public var duration: Double
    /// Human description with the generator's parameters.
    public var label: String

    public init(requests: [Request], duration: Double, label: String) {
        self.requests = requests
        self.duration = duration
        self.label = label
    }

    /// Draws a task index from a mix (non-negative weights).
    static func draw(_ mix: [Double], _ rng: inout SeededRandom) -> Int {
        let total = mix.reduce(0, +)
        var u = rng.nextDouble() * total
        for (i, w) in mix.enumerated() {
            u -= w
            if u < 0 { return i }
        }
        return mix.count - 1
    }

    /// Which task mix applies at time `t` given `(start, mix)` segments sorted by start.
    static func mixAt(_ t: Double, _ segments: [(start: Double, mix: [Double])]) -> [Double] {
        var current = segments[0].mix
        for s in segments where s.start <= t { current = s.mix }
        return current
    }

    /// Poisson arrivals at a fixed `rate` (requests/s); the task mix may change at given times.
    public static func poisson(rate: Double, duration: Double, mix: [(start: Double, mix: [Double])], seed: UInt64) -> Trace {
        precondition(rate > 0 && rate.isFinite, "poisson: rate \(rate)")
        var rng = SeededRandom.bestEffort(seed: seed)
        var t = 0.0
        var out: [Request] = []
        while true {
            t += rng.nextExponential(rate: rate)
            if t >= duration { break }
            out.append(Request(id: out.count, arrival: t, task: draw(mixAt(t, mix), &rng)))
        }
        return Trace(requests: out, duration: duration, label: "poisson(rate \(rate))")
    }

    /// Bursty, unpredictable arrivals: a Markov-modulated Poisson process. The rate sits at one of
    /// `levels` for an exponential dwell time (mean `meanDwell` s), then jumps to a uniformly chosen
    /// other level. A stand-in for the Azure Functions trace the paper uses (not available offline).
    public static func markovModulated(levels: [Double], meanDwell: Double, duration: Double,
                                       mix: [(start: Double, mix: [Double])], seed: UInt64) -> Trace {
        precondition(levels.allSatisfy { $0 > 0 && $0.isFinite }, "markovModulated: levels \(levels)")
        var rng = SeededRandom.bestEffort(seed: seed)
        var level = rng.nextInt(below: levels.count)
        var segmentEnd = rng.nextExponential(rate: 1 / meanDwell)
        var t = 0.0
        var out: [Request] = []
        while t < duration {
            // Within a segment arrivals are Poisson at the segment's rate (memoryless, so restart at boundaries).
            let next = t + rng.nextExponential(rate: levels[level])
            if next >= segmentEnd {
                t = segmentEnd
                var l = rng.nextInt(below: levels.count - 1)
                if l >= level { l += 1 }
                level = levels.count > 1 ? l : level
                segmentEnd = t + rng.nextExponential(rate: 1 / meanDwell)
                continue
            }
            t = next
            if t >= duration { break }
            out.append(Request(id: out.count, arrival: t, task: draw(mixAt(t, mix), &rng)))
        }
        return Trace(requests: out, duration: duration,
                     label: "mmpp(levels \(levels.map { ($0 * 100).rounded() / 100 }), dwell \(meanDwell) s)")
    }
}
