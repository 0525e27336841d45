// SPDX-License-Identifier: Apache-2.0

public import Support
import Foundation

/// Every request to one tier ("static-best" is the paper's static serving; "static-small" the cheapest tier).
public struct StaticPolicy: RoutingPolicy {
    public let tier: Int
    public let name: String
    public init(tier: Int, name: String) { self.tier = tier; self.name = name }
    public func route(_ c: RoutingContext, model: ServingModel, settings: SimulationSettings) -> Int { tier }
}

/// A uniformly random tier.
public struct RandomPolicy: RoutingPolicy {
    var rng: SeededRandom
    public let name = "random"
    public init(seed: UInt64) { rng = SeededRandom.bestEffort(seed: seed) }
    public mutating func route(_ c: RoutingContext, model: ServingModel, settings: SimulationSettings) -> Int {
        rng.nextInt(below: model.tierCount)
    }
}

/// Greedy deadline heuristic: the best-quality tier (for this task) whose finish time, predicted from
/// its queue length and latency profile only, meets the deadline; otherwise the tier predicted to finish first.
///
/// Prediction: half a full batch still running if the server is busy, then `ceil((q+1)/B)` batches.
public struct GreedyDeadlinePolicy: RoutingPolicy {
    public let name: String
    /// Use the exact finish time the simulator knows (running batch end included): the oracle.
    let exact: Bool
    /// Fraction of the deadline the prediction must fit in (below 1 leaves slack for later arrivals joining batches).
    public var slack: Double

    public init(slack: Double = 0.9) { name = "greedy-deadline"; exact = false; self.slack = slack }
    init(exact: Bool, name: String, slack: Double) { self.exact = exact; self.name = name; self.slack = slack }

    public func route(_ c: RoutingContext, model: ServingModel, settings: SimulationSettings) -> Int {
        let B = settings.maxBatch
        let deadline = settings.deadlines[c.request.task]
        var finish: [Double] = []
        // On a shared machine, the work queued on the other tiers runs first.
        var others = [Double](repeating: 0, count: model.tierCount)
        if settings.sharedServer {
            let work = (0..<model.tierCount).map { k in Double((c.queueLengths[k] + B - 1) / B) * model.latency[k](min(max(c.queueLengths[k], 1), B)) }
            for m in 0..<model.tierCount { others[m] = work.enumerated().filter { $0.offset != m }.map(\.element).reduce(0, +) }
        }
        for m in 0..<model.tierCount {
            if exact { finish.append(c.exactFinish[m] - c.now); continue }
            let q = c.queueLengths[m]
            let running = q > 0 ? 0.5 * model.latency[m](B) : 0
            let batches = (q + B) / B
            finish.append(others[m] + running + Double(batches) * model.latency[m](min(q + 1, B)))
        }
        var best = -1
        for m in 0..<model.tierCount where finish[m] <= slack * deadline {
            if best < 0 || model.quality[m][c.request.task] > model.quality[best][c.request.task] { best = m }
        }
        if best >= 0 { return best }
        if settings.allowDrop { return model.tierCount }
        return (0..<model.tierCount).min { finish[$0] < finish[$1] }!
    }
}

/// Oracle reference: greedy on the exact finish time of every tier (it sees the running batch's end,
/// which no real router can), best quality first. A strong reference, not a proven upper bound:
/// it does not know future arrivals that will join or queue behind.
public func OraclePolicy(slack: Double = 1.0) -> GreedyDeadlinePolicy {
    GreedyDeadlinePolicy(exact: true, name: "oracle", slack: slack)
}

/// Weights of the router's Q-network: a 2-layer MLP `state → ReLU(W1·s + b1) → W2·h + b2 → Q per action`.
///
/// Stored row-major as trained; the serving stack only runs this forward pass (no autograd).
public struct QNetworkWeights: Codable, Sendable, Equatable {
    public var inputs: Int, hidden: Int, outputs: Int
    /// `[hidden, inputs]`
    public var w1: [Float]
    /// `[hidden]`
    public var b1: [Float]
    /// `[outputs, hidden]`
    public var w2: [Float]
    /// `[outputs]`
    public var b2: [Float]

    public init(inputs: Int, hidden: Int, outputs: Int, w1: [Float], b1: [Float], w2: [Float], b2: [Float]) {
        precondition(w1.count == hidden * inputs && b1.count == hidden && w2.count == outputs * hidden && b2.count == outputs)
        self.inputs = inputs; self.hidden = hidden; self.outputs = outputs
        self.w1 = w1; self.b1 = b1; self.w2 = w2; self.b2 = b2
    }

    /// Q-values of one state. `s`: `[inputs]` → `[outputs]`.
    public func qValues(_ s: [Float]) -> [Float] {
        precondition(s.count == inputs)
        var h = b1
        for j in 0..<hidden {
            var acc = h[j]
            for i in 0..<inputs { acc += w1[j * inputs + i] * s[i] }
            h[j] = max(acc, 0)
        }
        var q = b2
        for o in 0..<outputs {
            var acc = q[o]
            for j in 0..<hidden { acc += w2[o * hidden + j] * h[j] }
            q[o] = acc
        }
        return q
    }

    /// The greedy action.
    public func argmax(_ s: [Float]) -> Int {
        let q = qValues(s)
        var best = 0
        for a in 1..<q.count where q[a] > q[best] { best = a }
        return best
    }
}

/// The file `tern best-effort train` writes: the Q-network plus what it was trained for.
public struct RouterPolicyFile: JSONFile, Sendable {
    public var tiers: [String]
    public var tasks: [String]
    public var settings: SimulationSettings
    public var network: QNetworkWeights
    /// Training parameters (for the record).
    public var training: [String: String]

    public init(tiers: [String], tasks: [String], settings: SimulationSettings, network: QNetworkWeights, training: [String: String]) {
        self.tiers = tiers; self.tasks = tasks; self.settings = settings; self.network = network; self.training = training
    }
}

/// The learned router: greedy on the Q-network, optionally ε-greedy (training).
public struct LearnedPolicy: RoutingPolicy {
    public var network: QNetworkWeights
    public var epsilon: Double
    var rng: SeededRandom
    public let name = "learned"

    public init(network: QNetworkWeights, epsilon: Double = 0, seed: UInt64 = 0) {
        self.network = network
        self.epsilon = epsilon
        rng = SeededRandom.bestEffort(seed: seed)
    }

    public mutating func route(_ c: RoutingContext, model: ServingModel, settings: SimulationSettings) -> Int {
        if epsilon > 0, rng.nextDouble() < epsilon { return rng.nextInt(below: network.outputs) }
        return network.argmax(c.features)
    }
}
