// SPDX-License-Identifier: Apache-2.0

public import Support
import Autograd
public import BestEffortServing
import NeuralNetworks
import Tensors

/// Double-DQN hyper-parameters (the paper does not publish its own; these are ours and documented).
public struct DQNSettings: Codable, Sendable, Equatable {
    public var hidden = 64
    public var gamma = 0.9
    public var learningRate: Float = 1e-3
    public var batchSize = 64
    public var replayCapacity = 100_000
    /// Gradient steps between target-network syncs.
    public var targetSync = 250
    public var epsilonStart = 1.0
    public var epsilonEnd = 0.05
    /// Fraction of the episodes over which ε decays linearly.
    public var epsilonDecayFraction = 0.6
    public var episodes = 300
    /// Simulated seconds per training episode.
    public var episodeSeconds = 120.0
    /// One gradient step per this many simulated arrivals.
    public var arrivalsPerUpdate = 4
    /// Training arrival rates are drawn log-uniformly from this range (requests/s).
    public var rateRange: [Double] = [1, 20]
    /// Half the episodes are Markov-modulated with these multiples of the drawn rate.
    public var burstLevels: [Double] = [0.3, 1, 3]
    public var meanDwell = 15.0
    public var seed: UInt64 = 1

    public init() {}
}

/// Trains the router's Q-network in the simulator with Double DQN: ε-greedy episodes over sampled
/// traces, experience replay, Huber loss on `r + γ·Q_target(s', argmax_a Q_online(s', a))`, and a
/// target network synced every ``DQNSettings/targetSync`` steps. Uses our own autograd and Adam.
/// Deterministic for a seed (the simulator, trace sampler and replay sampler are all seeded).
///
/// Lives above the inference stack (it imports Autograd); the serving stack runs only the exported
/// ``QNetworkWeights`` forward pass.
public final class DQNTrainer {
    public let model: ServingModel
    public let settings: SimulationSettings
    public let dqn: DQNSettings
    let online: Sequential
    let target: Sequential
    let optimizer: Adam
    var rng: SeededRandom
    // Replay ring buffer.
    var states: [[Float]] = [], actions: [Int32] = [], rewards: [Float] = [], nexts: [[Float]] = [], terminal: [Bool] = []
    var replayNext = 0
    public private(set) var gradientSteps = 0
    var actionCount: Int { model.tierCount + (settings.allowDrop ? 1 : 0) }
    var inputCount: Int { model.taskCount + model.tierCount + 1 }

    public init(model: ServingModel, settings: SimulationSettings, dqn: DQNSettings) {
        self.model = model
        self.settings = settings
        self.dqn = dqn
        var gen = SeededRandom(seed: dqn.seed)
        let inputs = model.taskCount + model.tierCount + 1
        let outputs = model.tierCount + (settings.allowDrop ? 1 : 0)
        online = Sequential([Linear(inputs, dqn.hidden, generator: &gen), Activation.relu, Linear(dqn.hidden, outputs, generator: &gen)])
        target = Sequential([Linear(inputs, dqn.hidden, generator: &gen), Activation.relu, Linear(dqn.hidden, outputs, generator: &gen)])
        optimizer = Adam(online.trainableParameters, learningRate: dqn.learningRate)
        rng = SeededRandom.bestEffort(seed: dqn.seed ^ 0x5EED)
        syncTarget()
    }

    func syncTarget() {
        for ((_, t), (_, o)) in zip(target.namedParameters(), online.namedParameters()) { t.value = o.value }
    }

    /// The online network's current weights.
    public func weights() -> QNetworkWeights {
        let p = online.namedParameters().map(\.1.value.scalars)
        return QNetworkWeights(inputs: inputCount, hidden: dqn.hidden, outputs: actionCount, w1: p[0], b1: p[1], w2: p[2], b2: p[3])
    }

    /// The training trace of an episode: Poisson or bursty, random rate and task mix.
    public func trainingTrace(episode: Int) -> Trace {
        var r = SeededRandom.bestEffort(seed: dqn.seed &* 1_000_003 &+ UInt64(episode))
        let lo = log(dqn.rateRange[0]), hi = log(dqn.rateRange[1])
        let rate = exp(lo + (hi - lo) * r.nextDouble())
        let mix = (0..<model.taskCount).map { _ in 0.2 + r.nextDouble() }
        let seed = r.next()
        if episode % 2 == 0 {
            return Trace.poisson(rate: rate, duration: dqn.episodeSeconds, mix: [(0, mix)], seed: seed)
        }
        return Trace.markovModulated(levels: dqn.burstLevels.map { $0 * rate }, meanDwell: dqn.meanDwell,
                                     duration: dqn.episodeSeconds, mix: [(0, mix)], seed: seed)
    }

    func push(_ s: [Float], _ a: Int, _ r: Double, _ next: [Float], _ done: Bool) {
        if states.count < dqn.replayCapacity {
            states.append(s); actions.append(Int32(a)); rewards.append(Float(r)); nexts.append(next); terminal.append(done)
        } else {
            states[replayNext] = s; actions[replayNext] = Int32(a); rewards[replayNext] = Float(r)
            nexts[replayNext] = next; terminal[replayNext] = done
        }
        replayNext = (replayNext + 1) % dqn.replayCapacity
    }

    /// One Double-DQN gradient step on a replay minibatch; returns the loss.
    func update() -> Float {
        let n = dqn.batchSize, d = inputCount
        var idx: [Int] = []
        for _ in 0..<n { idx.append(rng.nextInt(below: states.count)) }
        let s = Tensor(shape: [n, d], scalars: idx.flatMap { states[$0] })      // [batch, inputs]
        let s2 = Tensor(shape: [n, d], scalars: idx.flatMap { nexts[$0] })      // [batch, inputs]
        let (qOnlineNext, qTargetNext) = withoutGradient { (online(Variable(s2)).value.scalars, target(Variable(s2)).value.scalars) }
        var y = [Float](repeating: 0, count: n)
        let A = actionCount
        for i in 0..<n {
            let j = idx[i]
            var best = 0
            for a in 1..<A where qOnlineNext[i * A + a] > qOnlineNext[i * A + best] { best = a }
            let bootstrap = terminal[j] ? 0 : Float(dqn.gamma) * qTargetNext[i * A + best]
            y[i] = rewards[j] + bootstrap
        }
        optimizer.zeroGradients()
        let q = online(Variable(s)).gathered(alongAxis: 1, idx.map { actions[$0] }, k: 1).reshaped([n])  // [batch]
        let loss = Loss.smoothL1(q, Variable(Tensor(shape: [n], scalars: y)))
        loss.backward()
        optimizer.step()
        gradientSteps += 1
        if gradientSteps % dqn.targetSync == 0 { syncTarget() }
        return loss.value.scalars[0]
    }

    /// Progress of one episode.
    public struct EpisodeReport: Sendable {
        public var episode: Int, epsilon: Double, meanReward: Double, availability: Double, loss: Float
    }

    /// Runs all episodes; `progress` is called after each. Returns the trained weights.
    public func train(progress: (EpisodeReport) -> Void = { _ in }) -> QNetworkWeights {
        let simulator = Simulator(model: model, settings: settings)
        let decayEpisodes = max(1, Int(Double(dqn.episodes) * dqn.epsilonDecayFraction))
        for episode in 0..<dqn.episodes {
            let f = min(1, Double(episode) / Double(decayEpisodes))
            let epsilon = dqn.epsilonStart + (dqn.epsilonEnd - dqn.epsilonStart) * f
            var policy = LearnedPolicy(network: weights(), epsilon: epsilon, seed: dqn.seed &+ UInt64(episode) &* 7919)
            let result = simulator.run(trainingTrace(episode: episode), policy: &policy)
            let o = result.outcomes
            for i in o.indices {
                let last = i + 1 == o.count
                push(o[i].features, o[i].action, o[i].reward, last ? o[i].features : o[i + 1].features, last)
            }
            var loss: Float = 0
            if states.count >= dqn.batchSize {
                for _ in 0..<max(1, o.count / dqn.arrivalsPerUpdate) { loss = update() }
            }
            let metrics = ServingMetrics(result, model: model, window: 10)
            progress(EpisodeReport(episode: episode, epsilon: epsilon, meanReward: metrics.meanReward,
                                   availability: metrics.availability, loss: loss))
        }
        return weights()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
