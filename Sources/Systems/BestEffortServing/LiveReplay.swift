// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Replays a trace against the real model in wall-clock time on one machine, with the same routing
/// state, the same shared-machine batching rule and the same deadlines as the simulator, so the
/// measured availability and quality can be set beside the simulator's prediction for that trace.
///
/// A request is one generated choice item of its task; it counts as delivered quality 1 when the
/// tier answers it correctly within the deadline (the simulator uses the tier's measured accuracy
/// instead, so the two agree in expectation).
public struct LiveReplay {
    public let measurer: TierMeasurer
    public let tiers: [TierSpec]
    public let model: ServingModel
    public let settings: SimulationSettings

    public init(measurer: TierMeasurer, tiers: [TierSpec], model: ServingModel, settings: SimulationSettings) {
        self.measurer = measurer; self.tiers = tiers; self.model = model; self.settings = settings
    }

    /// What the live run measured.
    public struct Result: Sendable {
        public var availability: Double
        /// Correct-and-on-time answers ÷ what the best tier per task would score (its measured accuracy).
        public var relativeQuality: Double
        /// Requests routed to each tier (drops are not in here).
        public var tierCounts: [Int]
        /// Requests the policy dropped (action = tier count, only with ``SimulationSettings/allowDrop``):
        /// never served, counted as unavailable and as zero delivered quality, as in the simulator.
        public var dropped: Int
        public var wallSeconds: Double
    }

    /// The choice item request `r` asks, deterministic in `seed` (shared with the HTTP replay).
    public static func item(for r: Request, seed: UInt64) -> ChoiceItem {
        ChoiceTask.allCases[r.task].items(count: 1, seed: seed &+ UInt64(r.id) &* 7_777).last!
    }

    /// Runs `trace` live through `policy`. Items are drawn per request from `seed`.
    public func run<P: RoutingPolicy>(_ trace: Trace, policy: inout P, seed: UInt64) throws -> Result {
        let M = model.tierCount, T = model.taskCount
        let tasks = ChoiceTask.allCases
        let items = trace.requests.map { Self.item(for: $0, seed: seed) }
        var queues = [[Int]](repeating: [], count: M)
        var next = 0
        var onTime = 0, delivered = 0.0, peak = 0.0
        var counts = [Int](repeating: 0, count: M)
        var dropped = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        var done = 0
        while done < trace.requests.count {
            // Admit and route every request that has arrived.
            let t = now()
            while next < trace.requests.count && trace.requests[next].arrival <= t {
                let req = trace.requests[next]
                let windowStart = req.arrival - settings.rateWindow
                var n = 0
                for j in stride(from: next, through: 0, by: -1) where trace.requests[j].arrival >= windowStart { n += 1 }
                let rate = Double(n) / settings.rateWindow
                let lengths = queues.map(\.count)
                var features = [Float](repeating: 0, count: T + M + 1)
                features[req.task] = 1
                for m in 0..<M { features[T + m] = Float(Double(lengths[m]) / settings.queueScale) }
                features[T + M] = Float(rate / settings.rateScale)
                let context = RoutingContext(request: req, now: t, features: features, queueLengths: lengths,
                                             busyUntil: [Double](repeating: t, count: M),
                                             exactFinish: (0..<M).map { m in t + model.latency[m](min(lengths[m] + 1, settings.maxBatch)) },
                                             rateEstimate: rate)
                let a = policy.route(context, model: model, settings: settings)
                peak += model.peak(task: req.task)
                if a >= M {
                    // A drop: no tier runs it; it is done now, late by definition.
                    precondition(settings.allowDrop, "policy \(policy.name) dropped a request but drops are off")
                    dropped += 1
                    done += 1
                } else {
                    queues[a].append(next)
                    counts[a] += 1
                }
                next += 1
            }
            // Serve the tier whose oldest request arrived first, or wait for the next arrival.
            guard let m = (0..<M).filter({ !queues[$0].isEmpty }).min(by: {
                trace.requests[queues[$0][0]].arrival < trace.requests[queues[$1][0]].arrival
            }) else {
                if next < trace.requests.count {
                    let wait = trace.requests[next].arrival - now()
                    if wait > 0 { usleep(UInt32(min(wait, 1) * 1e6)) }
                }
                continue
            }
            let batch = Array(queues[m].prefix(settings.maxBatch))
            queues[m].removeFirst(batch.count)
            let answers = try measurer.answer(batch.map { (items[$0], tasks[trace.requests[$0].task]) }, tier: tiers[m])
            let finished = now()
            for (i, r) in batch.enumerated() {
                let req = trace.requests[r]
                if finished - req.arrival <= settings.deadlines[req.task] {
                    onTime += 1
                    if answers[i] == items[r].answer { delivered += 1 }
                }
            }
            done += batch.count
        }
        let n = Double(max(trace.requests.count, 1))
        return Result(availability: Double(onTime) / n, relativeQuality: peak > 0 ? delivered / peak : 0,
                      tierCounts: counts, dropped: dropped, wallSeconds: now())
    }
}
