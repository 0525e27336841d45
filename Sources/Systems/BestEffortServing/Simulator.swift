// SPDX-License-Identifier: Apache-2.0

/// How lateness turns into reward.
public enum DeadlineMode: String, Codable, Sendable {
    /// On time: the tier's quality on the task; late: `-penalty`.
    case hard
    /// Quality scaled by `f(latency / deadline)`: 1 up to 1, falling linearly to 0 at 2; beyond, `-penalty`.
    case soft
}

/// Every simulator and router setting the paper does not pin down (documented in docs/best-effort.md).
public struct SimulationSettings: Codable, Sendable, Equatable {
    /// Deadline per task (seconds).
    public var deadlines: [Double]
    public var mode: DeadlineMode
    /// Reward of a late request in hard mode (and past 2x the deadline in soft mode).
    public var penalty: Double
    /// Largest batch a tier server runs.
    public var maxBatch: Int
    /// Queue lengths are divided by this in the router state.
    public var queueScale: Double
    /// Sliding window (s) of the arrival-rate estimate.
    public var rateWindow: Double
    /// The rate estimate is divided by this in the router state (requests/s).
    public var rateScale: Double
    /// Whether the router may drop a request (action index = tier count); a drop earns 0.
    public var allowDrop: Bool
    /// One machine runs every tier (our 2-core CPU): one batch at a time, taken from the tier whose
    /// oldest waiting request arrived first. False: one server per tier (the paper's one model per GPU group).
    public var sharedServer: Bool

    public init(deadlines: [Double], mode: DeadlineMode = .hard, penalty: Double = 1, maxBatch: Int = 8,
                queueScale: Double = 16, rateWindow: Double = 2, rateScale: Double = 20, allowDrop: Bool = false,
                sharedServer: Bool = false) {
        self.sharedServer = sharedServer
        self.deadlines = deadlines
        self.mode = mode
        self.penalty = penalty
        self.maxBatch = maxBatch
        self.queueScale = queueScale
        self.rateWindow = rateWindow
        self.rateScale = rateScale
        self.allowDrop = allowDrop
    }

    /// Reward of serving `quality` with `latency` against `deadline`.
    public func reward(quality: Double, latency: Double, deadline: Double) -> Double {
        let x = latency / deadline
        switch mode {
        case .hard: return x <= 1 ? quality : -penalty
        case .soft:
            if x <= 1 { return quality }
            if x <= 2 { return quality * (2 - x) }
            return -penalty
        }
    }

    /// Quality actually delivered (what availability and window metrics count): the reward without the penalty.
    public func servedQuality(quality: Double, latency: Double, deadline: Double) -> Double {
        max(0, reward(quality: quality, latency: latency, deadline: deadline))
    }
}

/// The serving system being simulated: per-tier quality and latency.
public struct ServingModel: Sendable {
    /// `quality[m][t]`: accuracy of tier m on task t.
    public var quality: [[Double]]
    /// `latency[m](b)`: seconds for a batch of b on tier m.
    public var latency: [@Sendable (Int) -> Double]

    public init(quality: [[Double]], latency: [@Sendable (Int) -> Double]) {
        self.quality = quality
        self.latency = latency
    }

    /// From measured profiles.
    public init(table: TierTable) {
        quality = table.tiers.map(\.quality)
        latency = table.tiers.map { p in { b in p.latency(batch: b) } }
    }

    public var tierCount: Int { quality.count }
    public var taskCount: Int { quality[0].count }

    /// Sustained throughput of tier m at full batches (requests/s).
    public func capacity(_ m: Int, maxBatch: Int) -> Double { Double(maxBatch) / latency[m](maxBatch) }

    /// The tier with the best mean quality over tasks (ties: the cheaper one): "static-best".
    public var bestTier: Int {
        var best = 0
        for m in 0..<tierCount where mean(quality[m]) > mean(quality[best]) + 1e-12 { best = m }
        return best
    }

    /// The best quality any tier reaches on task t (peak).
    public func peak(task t: Int) -> Double { quality.map { $0[t] }.max()! }

    func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
}

/// What the router sees when a request arrives.
public struct RoutingContext {
    public var request: Request
    public var now: Double
    /// The state vector: one-hot task, queue length per tier / queueScale, rate estimate / rateScale.
    public var features: [Float]
    /// Requests waiting or running per tier.
    public var queueLengths: [Int]
    /// When each tier's running batch completes (`now` when idle).
    public var busyUntil: [Double]
    /// Exact completion time of this request on each tier if no later request joined its batch
    /// (for the oracle only; a real router cannot know the running batch's end).
    public var exactFinish: [Double]
    /// Arrival-rate estimate (requests/s).
    public var rateEstimate: Double
}

/// A routing policy: state in, tier index out (index `tierCount` = drop, when allowed).
public protocol RoutingPolicy {
    var name: String { get }
    mutating func route(_ context: RoutingContext, model: ServingModel, settings: SimulationSettings) -> Int
}

/// What happened to one request.
public struct Outcome: Sendable, Equatable {
    public var request: Request
    /// Tier index, or -1 when dropped.
    public var tier: Int
    /// When its batch started and completed (equal to arrival for drops).
    public var start: Double, completion: Double
    public var reward: Double
    /// Quality delivered (0 when late in hard mode or dropped).
    public var served: Double
    public var onTime: Bool
    /// Router state at arrival, and the action taken.
    public var features: [Float]
    public var action: Int
}

/// Result of one simulation, outcomes in arrival order.
public struct SimulationResult: Sendable {
    public var outcomes: [Outcome]
    /// Times of every processed event, in processing order (monotone).
    public var eventTimes: [Double]
    /// Per tier, request ids in the order their batches started.
    public var startOrder: [[Int]]
}

/// A deterministic discrete-event simulator of per-tier servers with FIFO queues and batching.
///
/// Each tier server takes up to `maxBatch` queued requests when idle, runs them for `L_m(b)` seconds
/// and completes them together. The router acts once per arrival. After the last arrival the
/// servers drain, so every request gets exactly one outcome.
public struct Simulator {
    public var model: ServingModel
    public var settings: SimulationSettings

    public init(model: ServingModel, settings: SimulationSettings) {
        self.model = model
        self.settings = settings
    }

    public func run<P: RoutingPolicy>(_ trace: Trace, policy: inout P) -> SimulationResult {
        let M = model.tierCount, T = model.taskCount
        var queues = [[Int]](repeating: [], count: M)      // indices into trace.requests, FIFO
        var queueHead = [Int](repeating: 0, count: M)
        var running = [[Int]](repeating: [], count: M)
        var busyUntil = [Double](repeating: 0, count: M)
        var busy = [Bool](repeating: false, count: M)
        var outcomes = [Outcome?](repeating: nil, count: trace.requests.count)
        var eventTimes: [Double] = []
        var startOrder = [[Int]](repeating: [], count: M)
        var rateWindowStart = 0  // first arrival inside the rate window
        var start = [Double](repeating: 0, count: trace.requests.count)
        var routed: [(features: [Float], action: Int)] = Array(repeating: ([], 0), count: trace.requests.count)

        func startNext(at now: Double) {
            // Shared machine: when idle, serve the tier whose oldest waiting request arrived first.
            guard !busy.contains(true) else { return }
            let candidates = (0..<M).filter { queues[$0].count > queueHead[$0] }
            guard let m = candidates.min(by: { trace.requests[queues[$0][queueHead[$0]]].arrival < trace.requests[queues[$1][queueHead[$1]]].arrival })
            else { return }
            startBatch(m, at: now, force: true)
        }
        func startBatch(_ m: Int, at now: Double, force: Bool = false) {
            if settings.sharedServer && !force { startNext(at: now); return }
            let waiting = queues[m].count - queueHead[m]
            guard !busy[m], waiting > 0 else { return }
            let b = min(waiting, settings.maxBatch)
            running[m] = Array(queues[m][queueHead[m]..<queueHead[m] + b])
            queueHead[m] += b
            if queueHead[m] > 1024 { queues[m].removeFirst(queueHead[m]); queueHead[m] = 0 }
            busy[m] = true
            busyUntil[m] = now + model.latency[m](b)
            for r in running[m] { start[r] = now; startOrder[m].append(trace.requests[r].id) }
        }
        func complete(_ m: Int, at now: Double) {
            for r in running[m] {
                let req = trace.requests[r]
                let q = model.quality[m][req.task]
                let lat = now - req.arrival
                let d = settings.deadlines[req.task]
                outcomes[r] = Outcome(request: req, tier: m, start: start[r], completion: now,
                                      reward: settings.reward(quality: q, latency: lat, deadline: d),
                                      served: settings.servedQuality(quality: q, latency: lat, deadline: d),
                                      onTime: lat <= d, features: routed[r].features, action: routed[r].action)
            }
            running[m] = []
            busy[m] = false
            startBatch(m, at: now)
            if settings.sharedServer { startNext(at: now) }
        }
        /// Completion time of a new request on tier m if nothing else joined (FIFO batches). On a
        /// shared machine every request already waiting (any tier) is served first.
        func exactFinish(_ m: Int, now: Double) -> Double {
            var t = busy[m] ? busyUntil[m] : now
            if settings.sharedServer {
                t = (0..<M).filter { busy[$0] }.map { busyUntil[$0] }.max() ?? now
                for k in 0..<M where k != m {
                    var left = queues[k].count - queueHead[k]
                    while left > 0 { let b = min(left, settings.maxBatch); t += model.latency[k](b); left -= b }
                }
            }
            var remaining = queues[m].count - queueHead[m] + 1
            while true {
                let b = min(remaining, settings.maxBatch)
                t += model.latency[m](b)
                remaining -= b
                if remaining == 0 { return t }
            }
        }

        for (i, req) in trace.requests.enumerated() {
            // Completions due before (or at) this arrival, earliest first.
            while let m = (0..<M).filter({ busy[$0] && busyUntil[$0] <= req.arrival }).min(by: { busyUntil[$0] < busyUntil[$1] }) {
                eventTimes.append(busyUntil[m])
                complete(m, at: busyUntil[m])
            }
            let now = req.arrival
            eventTimes.append(now)
            while trace.requests[rateWindowStart].arrival < now - settings.rateWindow { rateWindowStart += 1 }
            let rate = Double(i - rateWindowStart + 1) / settings.rateWindow
            let lengths = (0..<M).map { queues[$0].count - queueHead[$0] + running[$0].count }
            var features = [Float](repeating: 0, count: T + M + 1)
            features[req.task] = 1
            for m in 0..<M { features[T + m] = Float(Double(lengths[m]) / settings.queueScale) }
            features[T + M] = Float(rate / settings.rateScale)
            let context = RoutingContext(request: req, now: now, features: features, queueLengths: lengths,
                                         busyUntil: (0..<M).map { busy[$0] ? busyUntil[$0] : now },
                                         exactFinish: (0..<M).map { exactFinish($0, now: now) }, rateEstimate: rate)
            let a = policy.route(context, model: model, settings: settings)
            routed[i] = (features, a)
            if a >= M {
                precondition(settings.allowDrop, "policy \(policy.name) dropped a request but drops are off")
                outcomes[i] = Outcome(request: req, tier: -1, start: now, completion: now, reward: 0, served: 0,
                                      onTime: false, features: features, action: a)
                continue
            }
            queues[a].append(i)
            startBatch(a, at: now)
        }
        // Drain.
        while let m = (0..<M).filter({ busy[$0] }).min(by: { busyUntil[$0] < busyUntil[$1] }) {
            eventTimes.append(busyUntil[m])
            complete(m, at: busyUntil[m])
        }
        return SimulationResult(outcomes: outcomes.map { $0! }, eventTimes: eventTimes, startOrder: startOrder)
    }
}
