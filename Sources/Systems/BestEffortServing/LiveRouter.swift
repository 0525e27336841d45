// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization

/// Routes live server requests to quality tiers with a trained policy (`tern serve --router`).
///
/// It builds the same state vector the policy was trained on in the simulator: the request's task
/// one-hot, the requests waiting or running per tier ÷ `queueScale`, and the arrivals of the last
/// `rateWindow` seconds ÷ (`rateWindow` · `rateScale`). A request without a task label gets an all-zero
/// task part (the policy was not trained on such states; it still sees the load). Thread-safe: the
/// server calls it from many request tasks at once.
public final class LiveRouter: Sendable {
    /// Tiers in the policy's action order.
    public let tiers: [TierSpec]
    /// Tasks in the policy's one-hot order.
    public let tasks: [ChoiceTask]
    public let settings: SimulationSettings
    /// The learned Q-network, or nil for a fixed tier or a heuristic baseline.
    let network: QNetworkWeights?
    let fixedTier: Int
    /// A heuristic baseline served live (greedy deadline or random) and the tier profiles it reads.
    let baseline: (name: String, model: ServingModel)?
    let clock: @Sendable () -> Double
    let state: Mutex<State>
    /// The highest value of each counter recorded by `recordMetrics(into:)` ("name|tier").
    let reported = Mutex<[String: Int]>([:])

    struct State {
        /// Arrival times within the rate window, oldest first.
        var arrivals: [Double] = []
        var routed: [Int], inFlight: [Int], finished: [Int], onTime: [Int]
        var dropped = 0
        var unlabeled = 0
        /// The live baseline's policy (random keeps its generator here, under the lock).
        var heuristic: (any RoutingPolicy)?
        init(tiers: Int) { (routed, inFlight, finished, onTime) = ([Int](repeating: 0, count: tiers), [Int](repeating: 0, count: tiers), [Int](repeating: 0, count: tiers), [Int](repeating: 0, count: tiers)) }
    }

    /// Seconds on the monotone uptime clock.
    static let monotonic: @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Why a router cannot be built from a policy and a tier table.
    public struct MismatchError: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - policy: a policy written by `tern best-effort train`.
    ///   - table: tiers from `tern profile`; every tier the policy names must be in it.
    ///   - modelLayers: the served model's depth; tiers must run on the served model (no `modelPath`).
    ///   - clock: seconds on a monotone clock (injectable for tests).
    public init(policy: RouterPolicyFile, table: [TierSpec], modelLayers: Int,
                clock: (@Sendable () -> Double)? = nil) throws(MismatchError) {
        var tiers: [TierSpec] = []
        for name in policy.tiers {
            guard let t = table.first(where: { $0.name == name }) else {
                throw MismatchError(description: "the policy routes to tier '\(name)', which the tier table does not define (it has \(table.map(\.name).joined(separator: ", ")))")
            }
            guard t.modelPath == nil else {
                throw MismatchError(description: "tier '\(name)' runs another model (\(t.modelPath!)); live routing serves tiers of the loaded model only")
            }
            guard (1...modelLayers).contains(t.layers) else {
                throw MismatchError(description: "tier '\(name)' runs \(t.layers) layers; the served model has \(modelLayers)")
            }
            tiers.append(t)
        }
        var tasks: [ChoiceTask] = []
        for name in policy.tasks {
            guard let t = ChoiceTask.allCases.first(where: { $0.name == name }) else {
                throw MismatchError(description: "the policy was trained on task '\(name)', which this build does not know")
            }
            tasks.append(t)
        }
        let actions = tiers.count + (policy.settings.allowDrop ? 1 : 0)
        guard policy.network.inputs == tasks.count + tiers.count + 1, policy.network.outputs == actions else {
            throw MismatchError(description: "the policy network has \(policy.network.inputs) inputs and \(policy.network.outputs) outputs; \(tasks.count) tasks and \(tiers.count) tiers need \(tasks.count + tiers.count + 1) and \(actions)")
        }
        guard policy.settings.deadlines.count == tasks.count else {
            throw MismatchError(description: "the policy has \(policy.settings.deadlines.count) deadlines for \(tasks.count) tasks")
        }
        self.tiers = tiers
        self.tasks = tasks
        self.settings = policy.settings
        self.network = policy.network
        fixedTier = 0
        baseline = nil
        self.clock = clock ?? Self.monotonic
        state = Mutex(State(tiers: self.tiers.count))
    }

    /// A static policy served live: every request goes to `tier` (the paper's static baseline is the
    /// best tier). The other tiers are listed so the counters and metrics have the same shape.
    public init(staticTier tier: String, table: [TierSpec], settings: SimulationSettings, modelLayers: Int,
                clock: (@Sendable () -> Double)? = nil) throws(MismatchError) {
        guard let k = table.firstIndex(where: { $0.name == tier }) else {
            throw MismatchError(description: "static tier '\(tier)' is not in the tier table (it has \(table.map(\.name).joined(separator: ", ")))")
        }
        guard table[k].modelPath == nil, (1...modelLayers).contains(table[k].layers) else {
            throw MismatchError(description: "tier '\(tier)' does not run on the served model")
        }
        guard settings.deadlines.count == ChoiceTask.allCases.count else {
            throw MismatchError(description: "\(settings.deadlines.count) deadlines for \(ChoiceTask.allCases.count) tasks")
        }
        tiers = table
        tasks = ChoiceTask.allCases
        self.settings = settings
        network = nil
        fixedTier = k
        baseline = nil
        self.clock = clock ?? Self.monotonic
        state = Mutex(State(tiers: self.tiers.count))
    }

    /// A heuristic baseline served live through the same plumbing: `greedy-deadline` (the
    /// simulator's ``GreedyDeadlinePolicy``, predicting each tier's finish time from the sequences in
    /// flight and the table's latency profile) or `random` (a uniformly random tier). The oracle has
    /// no live form: it needs the running batch's exact end, which only the simulator knows.
    public init(baseline name: String, table: TierTable, settings: SimulationSettings, modelLayers: Int, seed: UInt64 = 4242,
                clock: (@Sendable () -> Double)? = nil) throws(MismatchError) {
        for t in table.tiers.map(\.spec) where t.modelPath != nil || !(1...modelLayers).contains(t.layers) {
            throw MismatchError(description: "tier '\(t.name)' does not run on the served model")
        }
        guard settings.deadlines.count == ChoiceTask.allCases.count else {
            throw MismatchError(description: "\(settings.deadlines.count) deadlines for \(ChoiceTask.allCases.count) tasks")
        }
        let policy: any RoutingPolicy
        switch name {
        case "greedy-deadline": policy = GreedyDeadlinePolicy()
        case "random": policy = RandomPolicy(seed: seed)
        default: throw MismatchError(description: "unknown live baseline '\(name)' (greedy-deadline, random; the oracle needs hindsight and runs only in the simulator)")
        }
        tiers = table.tiers.map(\.spec)
        tasks = ChoiceTask.allCases
        self.settings = settings
        network = nil
        fixedTier = 0
        baseline = (name, ServingModel(table: table))
        self.clock = clock ?? Self.monotonic
        var initial = State(tiers: self.tiers.count)
        initial.heuristic = policy
        state = Mutex(initial)
    }

    /// The index of a task by its name (`compare`, `sentiment`, ...), or nil.
    public func taskIndex(named name: String) -> Int? { tasks.firstIndex { $0.name == name } }

    /// One routing decision.
    public struct Decision: Sendable {
        /// The tier's index, or nil when the policy dropped the request.
        public let tier: Int?
        /// The request's task, if labelled.
        public let task: Int?
        /// When it arrived (router clock).
        public let arrival: Double
    }

    /// Routes one arriving request and records its arrival. Call ``started(_:count:)`` once it is
    /// submitted and ``finished(_:)`` when each of its sequences ends.
    public func route(task: Int?) -> Decision {
        state.withLock { s in
            let now = clock()
            s.arrivals.append(now)
            let cut = s.arrivals.firstIndex { $0 >= now - settings.rateWindow } ?? s.arrivals.count
            if cut > 0 { s.arrivals.removeFirst(cut) }
            if task == nil { s.unlabeled += 1 }
            if let baseline, s.heuristic != nil {
                // An unlabelled request is judged against the tightest deadline.
                let t = task ?? settings.deadlines.indices.min { settings.deadlines[$0] < settings.deadlines[$1] }!
                let context = RoutingContext(
                    request: Request(id: 0, arrival: now, task: t), now: now, features: [], queueLengths: s.inFlight,
                    busyUntil: [Double](repeating: now, count: tiers.count), exactFinish: [],
                    rateEstimate: Double(s.arrivals.count) / settings.rateWindow)
                let a = s.heuristic!.route(context, model: baseline.model, settings: settings)
                guard a < tiers.count else {
                    s.dropped += 1
                    return Decision(tier: nil, task: task, arrival: now)
                }
                return Decision(tier: a, task: task, arrival: now)
            }
            guard let network else { return Decision(tier: fixedTier, task: task, arrival: now) }
            var features = [Float](repeating: 0, count: network.inputs)
            if let task { features[task] = 1 }
            let T = tasks.count
            for m in 0..<tiers.count { features[T + m] = Float(Double(s.inFlight[m]) / settings.queueScale) }
            features[T + tiers.count] = Float(Double(s.arrivals.count) / settings.rateWindow / settings.rateScale)
            let a = network.argmax(features)
            guard a < tiers.count else {
                s.dropped += 1
                return Decision(tier: nil, task: task, arrival: now)
            }
            return Decision(tier: a, task: task, arrival: now)
        }
    }

    /// `count` sequences of a routed request were accepted by the engine.
    public func started(_ d: Decision, count: Int = 1) {
        guard let m = d.tier else { return }
        state.withLock { $0.inFlight[m] += count; $0.routed[m] += count }
    }

    /// One sequence of a routed request ended (finished, failed or cancelled). It counts as on
    /// time when `completed` and within its task's deadline (unlabelled: the shortest deadline).
    public func finished(_ d: Decision, completed: Bool) {
        guard let m = d.tier else { return }
        let latency = clock() - d.arrival
        let deadline = d.task.map { settings.deadlines[$0] } ?? settings.deadlines.min()!
        state.withLock { s in
            s.inFlight[m] -= 1
            s.finished[m] += 1
            if completed && latency <= deadline { s.onTime[m] += 1 }
        }
    }

    /// Counters for `/metrics` and the status panel.
    public struct Snapshot: Sendable, Codable, Equatable {
        public struct Tier: Sendable, Codable, Equatable {
            public var name: String
            public var layers: Int
            public var shots: Int
            public var routed: Int
            public var inFlight: Int
            public var finished: Int
            public var onTime: Int
        }
        public var tiers: [Tier]
        public var dropped: Int
        public var unlabeled: Int
        /// Arrivals per second over the rate window.
        public var arrivalRate: Double
    }

    public func snapshot() -> Snapshot {
        state.withLock { s in
            let now = clock()
            let recent = s.arrivals.filter { $0 >= now - settings.rateWindow }.count
            return Snapshot(tiers: tiers.indices.map { m in
                Snapshot.Tier(name: tiers[m].name, layers: tiers[m].layers, shots: tiers[m].shots, routed: s.routed[m],
                              inFlight: s.inFlight[m], finished: s.finished[m], onTime: s.onTime[m])
            }, dropped: s.dropped, unlabeled: s.unlabeled, arrivalRate: Double(recent) / settings.rateWindow)
        }
    }
}
