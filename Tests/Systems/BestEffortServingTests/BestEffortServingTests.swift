// SPDX-License-Identifier: Apache-2.0

import BestEffortServing
import BestEffortTraining
import GGUF
import Testing
import TestSupport
import Tokenization
import TransformerModels

/// A three-tier model with made-up but monotone costs, for simulator tests.
func threeTierModel() -> ServingModel {
    ServingModel(quality: [[0.5, 0.6], [0.7, 0.65], [0.9, 0.8]],
                 latency: [{ b in 0.02 + 0.005 * Double(b) }, { b in 0.05 + 0.01 * Double(b) }, { b in 0.2 + 0.05 * Double(b) }])
}

@Suite struct SimulatorTests {
    @Test func everyRequestHasOneOutcomeFIFOAndMonotoneTime() {
        let model = threeTierModel()
        let settings = SimulationSettings(deadlines: [0.5, 1.0], maxBatch: 4)
        let trace = Trace.markovModulated(levels: [2, 20, 60], meanDwell: 5, duration: 60, mix: [(0, [1, 1]), (30, [1, 3])], seed: 3)
        #expect(trace.requests.count > 500)
        var policy = RandomPolicy(seed: 5)
        let r = Simulator(model: model, settings: settings).run(trace, policy: &policy)
        // No request lost or duplicated, outcomes in arrival order.
        #expect(r.outcomes.map(\.request.id) == trace.requests.map(\.id))
        #expect(r.startOrder.flatMap { $0 }.sorted() == trace.requests.map(\.id))
        // FIFO per tier: batches start in arrival order.
        for order in r.startOrder { #expect(order == order.sorted()) }
        // Time only moves forward; nothing completes before it arrives or starts before arriving.
        #expect(zip(r.eventTimes, r.eventTimes.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(r.outcomes.allSatisfy { $0.request.arrival <= $0.start && $0.start < $0.completion })
        // Every tier used by a random policy.
        #expect(Set(r.outcomes.map(\.tier)) == [0, 1, 2])
    }

    @Test func sharedMachineRunsOneBatchAtATimeAndKeepsEveryInvariant() {
        let model = threeTierModel()
        let settings = SimulationSettings(deadlines: [0.5, 1.0], maxBatch: 4, sharedServer: true)
        let trace = Trace.markovModulated(levels: [2, 20, 60], meanDwell: 5, duration: 60, mix: [(0, [1, 1])], seed: 4)
        var policy = RandomPolicy(seed: 6)
        let r = Simulator(model: model, settings: settings).run(trace, policy: &policy)
        #expect(r.outcomes.map(\.request.id) == trace.requests.map(\.id))
        for order in r.startOrder { #expect(order == order.sorted()) }
        #expect(zip(r.eventTimes, r.eventTimes.dropFirst()).allSatisfy { $0 <= $1 })
        // Batches (distinct start times) never overlap on the one machine.
        var batches: [Double: Double] = [:]
        for o in r.outcomes { batches[o.start] = o.completion }
        let sorted = batches.sorted { $0.key < $1.key }
        #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $0.value <= $1.key + 1e-12 })
        // The oracle's exact finish prediction holds for a request alone in an idle system.
        var oracle = OraclePolicy()
        let single = Simulator(model: model, settings: settings).run(Trace(requests: [Request(id: 0, arrival: 1, task: 0)], duration: 2, label: "one"), policy: &oracle)
        #expect(single.outcomes[0].onTime)
    }

    @Test func batchesNeverExceedMaxBatchAndLatencyMatchesProfile() {
        let model = threeTierModel()
        let settings = SimulationSettings(deadlines: [1, 1], maxBatch: 3)
        let trace = Trace.poisson(rate: 40, duration: 20, mix: [(0, [1, 1])], seed: 9)
        var policy = StaticPolicy(tier: 2, name: "static-best")
        let r = Simulator(model: model, settings: settings).run(trace, policy: &policy)
        var byStart: [Double: [Outcome]] = [:]
        for o in r.outcomes { byStart[o.start, default: []].append(o) }
        for (_, batch) in byStart {
            #expect(batch.count <= 3)
            let expected = model.latency[2](batch.count)
            #expect(abs(batch[0].completion - batch[0].start - expected) < 1e-9)
        }
        // Overloaded top tier (capacity 3/0.35 ≈ 8.6 req/s at 40 req/s): availability collapses.
        #expect(ServingMetrics(r, model: model, window: 10).availability < 0.2)
    }

    @Test func rewards() {
        var s = SimulationSettings(deadlines: [1], mode: .hard, penalty: 0.7)
        #expect(s.reward(quality: 0.8, latency: 0.99, deadline: 1) == 0.8)
        #expect(s.reward(quality: 0.8, latency: 1.01, deadline: 1) == -0.7)
        #expect(s.servedQuality(quality: 0.8, latency: 1.01, deadline: 1) == 0)
        s.mode = .soft
        #expect(s.reward(quality: 0.8, latency: 1.0, deadline: 1) == 0.8)
        #expect(abs(s.reward(quality: 0.8, latency: 1.5, deadline: 1) - 0.4) < 1e-12)
        #expect(s.reward(quality: 0.8, latency: 2.5, deadline: 1) == -0.7)
        // Rewards in a simulation follow the same rule.
        let model = threeTierModel()
        let sim = Simulator(model: model, settings: SimulationSettings(deadlines: [0.3, 0.3], maxBatch: 2))
        var p = StaticPolicy(tier: 2, name: "s")
        let r = sim.run(Trace.poisson(rate: 10, duration: 10, mix: [(0, [1, 1])], seed: 1), policy: &p)
        for o in r.outcomes {
            let lat = o.completion - o.request.arrival
            #expect(o.reward == (lat <= 0.3 ? model.quality[2][o.request.task] : -1))
        }
    }

    @Test func softDeadlinesScaleRewardThroughTheSimulator() {
        // One tier, no batching, 0.4 s per request, six requests at t = 0, deadline 1 s: they finish
        // at 0.4, 0.8, ..., 2.4 s, i.e. latency/deadline 0.4 .. 2.4, every band of the soft rule.
        let model = ServingModel(quality: [[0.8]], latency: [{ _ in 0.4 }])
        let settings = SimulationSettings(deadlines: [1], mode: .soft, penalty: 0.7, maxBatch: 1)
        let trace = Trace(requests: (0..<6).map { Request(id: $0, arrival: 0, task: 0) }, duration: 3, label: "six at once")
        var p = StaticPolicy(tier: 0, name: "only")
        let r = Simulator(model: model, settings: settings).run(trace, policy: &p)
        let expected: [Double] = [0.8, 0.8, 0.8 * 0.8, 0.8 * 0.4, 0, -0.7]
        for (o, e) in zip(r.outcomes, expected) { #expect(abs(o.reward - e) < 1e-9, "latency \(o.completion) reward \(o.reward) expected \(e)") }
        #expect(zip(r.outcomes, expected).allSatisfy { abs($0.served - max($1, 0)) < 1e-9 })
        #expect(r.outcomes.map(\.onTime) == [true, true, false, false, false, false])
        let m = ServingMetrics(r, model: model, window: 10)
        #expect(abs(m.availability - 2.0 / 6) < 1e-12)
        // Partial credit counts as delivered quality; the penalty does not subtract from it.
        #expect(abs(m.relativeQuality - (0.8 + 0.8 + 0.64 + 0.32) / (6 * 0.8)) < 1e-9)
        #expect(abs(m.meanReward - expected.reduce(0, +) / 6) < 1e-9)
        // The same trace with hard deadlines: late is late.
        let hard = Simulator(model: model, settings: SimulationSettings(deadlines: [1], mode: .hard, penalty: 0.7, maxBatch: 1)).run(trace, policy: &p)
        #expect(hard.outcomes.map(\.reward) == [0.8, 0.8, -0.7, -0.7, -0.7, -0.7])
    }

    /// Drops every request whose id is a multiple of 3, else tier 0.
    struct DropEveryThird: RoutingPolicy {
        let name = "drop-every-third"
        func route(_ c: RoutingContext, model: ServingModel, settings: SimulationSettings) -> Int {
            c.request.id % 3 == 0 ? model.tierCount : 0
        }
    }

    @Test func dropsAreCountedAsUnavailableAndEarnNothing() {
        let model = threeTierModel()
        let settings = SimulationSettings(deadlines: [5, 5], maxBatch: 4, allowDrop: true)
        let trace = Trace.poisson(rate: 5, duration: 30, mix: [(0, [1, 1])], seed: 12)
        var p = DropEveryThird()
        let r = Simulator(model: model, settings: settings).run(trace, policy: &p)
        let dropped = r.outcomes.filter { $0.tier == -1 }
        #expect(dropped.count == trace.requests.filter { $0.id % 3 == 0 }.count && dropped.count > 10)
        #expect(dropped.allSatisfy { $0.action == model.tierCount && !$0.onTime && $0.reward == 0 && $0.served == 0 })
        // Nothing else is late (5 s deadlines, a light load on the fast tier), so availability is exactly the served share.
        let m = ServingMetrics(r, model: model, window: 10)
        #expect(r.outcomes.filter { $0.tier == 0 }.allSatisfy { $0.onTime })
        #expect(abs(m.availability - Double(trace.requests.count - dropped.count) / Double(trace.requests.count)) < 1e-12)
        #expect(r.startOrder.flatMap { $0 }.count == trace.requests.count - dropped.count)
        // Greedy with drops allowed drops under overload instead of queueing hopelessly late requests.
        let tight = SimulationSettings(deadlines: [0.5, 0.5], maxBatch: 4, allowDrop: true)
        var g = GreedyDeadlinePolicy()
        let overload = Simulator(model: model, settings: tight).run(Trace.poisson(rate: 300, duration: 10, mix: [(0, [1, 1])], seed: 2), policy: &g)
        let drops = overload.outcomes.filter { $0.tier == -1 }.count
        #expect(drops > 0)
        #expect(ServingMetrics(overload, model: model, window: 10).availability <= 1 - Double(drops) / Double(overload.outcomes.count) + 1e-12)
    }

    @Test func greedyAndOracleBeatStaticBestUnderOverload() {
        let model = threeTierModel()
        let settings = SimulationSettings(deadlines: [0.5, 0.5], maxBatch: 4)
        let sim = Simulator(model: model, settings: settings)
        let trace = Trace.poisson(rate: 30, duration: 60, mix: [(0, [1, 1])], seed: 2)
        var s = StaticPolicy(tier: 2, name: "s"), g = GreedyDeadlinePolicy(), o = OraclePolicy()
        let a = ServingMetrics(sim.run(trace, policy: &s), model: model, window: 10).availability
        let b = ServingMetrics(sim.run(trace, policy: &g), model: model, window: 10).availability
        let c = ServingMetrics(sim.run(trace, policy: &o), model: model, window: 10).availability
        #expect(b > a + 0.3)
        #expect(c > a + 0.3)
    }

    @Test func latencyProfileIsPositiveAndMonotoneEvenWithNoisyMeasurements() {
        let p = TierProfile(spec: TierSpec(name: "t", layers: 1, shots: 0), quality: [1], batchSizes: [1, 2, 4], seconds: [1.0, 0.8, 1.2])
        let l = (1...16).map { p.latency(batch: $0) }
        #expect(zip(l, l.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(l[0] == 1.0 && l[1] == 1.0 && l[3] == 1.2)
        #expect(abs(l[7] - 1.6) < 1e-12)  // slope of the last two (monotone) points: 0.1 per request
    }

    @Test func tasksAreDeterministicAndWellFormed() {
        for task in ChoiceTask.allCases {
            let a = task.items(count: 20, seed: 7), b = task.items(count: 20, seed: 7)
            #expect(a == b)
            #expect(a != task.items(count: 20, seed: 8))
            for item in a {
                #expect(item.options.indices.contains(item.answer))
                #expect(Set(item.options).count == item.options.count)
            }
        }
    }
}

@Suite struct RouterTrainingTests {
    /// Two tiers, one task: small (quality 0.5, 10 ms) and big (quality 1.0, 0.4 s, no batching),
    /// deadline 1 s. Optimal: big while its queue is empty, small when it is backed up.
    static func toy() -> (ServingModel, SimulationSettings, DQNSettings) {
        let model = ServingModel(quality: [[0.5], [1.0]], latency: [{ _ in 0.01 }, { _ in 0.4 }])
        let settings = SimulationSettings(deadlines: [1], maxBatch: 1, queueScale: 8, rateWindow: 2, rateScale: 10)
        var dqn = DQNSettings()
        dqn.hidden = 32
        dqn.episodes = 24
        dqn.episodeSeconds = 40
        dqn.rateRange = [0.5, 10]
        dqn.targetSync = 100
        dqn.seed = 11
        return (model, settings, dqn)
    }

    @Test func doubleDQNLearnsTheKnownOptimalTwoTierPolicy() {
        let (model, settings, dqn) = Self.toy()
        // A DQN is stochastic: train five seeds and check the decision most of them take.
        let networks = (0..<5).map { k in
            var d = dqn
            d.seed = dqn.seed + UInt64(k)
            return DQNTrainer(model: model, settings: settings, dqn: d).train()
        }
        func majority(_ state: [Float]) -> Int {
            let bigVotes = networks.filter { $0.argmax(state) == 1 }.count
            return bigVotes * 2 > networks.count ? 1 : 0
        }
        let w = networks[0]
        // Idle system, low rate: the big tier.
        #expect(majority([1, 0, 0, 0.05]) == 1)
        // Big tier backed up (5 waiting: 2 s > deadline), high rate: the small tier.
        #expect(majority([1, 0, 5.0 / 8, 0.8]) == 0)
        // Near the boundary. With q requests at the big tier (the running one included) a new one finishes
        // within (0.4·q, 0.4·(q+1)] s: always on time for q ≤ 1 (reward 1 against the small tier's 0.5;
        // the one later request it can push to the small tier costs at most 0.5, discounted), always
        // late for q ≥ 3 (−1 against 0.5). q = 2 depends on the running request's progress: not checked.
        // q = 1 at the top of the rate range is a near-tie for a 24-episode DQN (2 of 5 seeds chose big in
        // three groups of five seeds): not checked either.
        for rate in [0.05, 0.2, 0.4, 0.6, 0.8, 1.0] as [Float] {
            for q in 0...1 where q == 0 || rate < 1 { #expect(majority([1, 0, Float(q) / 8, rate]) == 1, "q \(q) rate \(rate)") }
            for q in 3...8 { #expect(majority([1, 0, Float(q) / 8, rate]) == 0, "q \(q) rate \(rate)") }
        }
        // And in simulation it beats both static policies on reward at a rate the big tier cannot carry.
        let sim = Simulator(model: model, settings: settings)
        let trace = Trace.poisson(rate: 6, duration: 120, mix: [(0, [1])], seed: 77)
        var learned = LearnedPolicy(network: w), small = StaticPolicy(tier: 0, name: "small"), big = StaticPolicy(tier: 1, name: "big")
        let l = ServingMetrics(sim.run(trace, policy: &learned), model: model, window: 10)
        let s = ServingMetrics(sim.run(trace, policy: &small), model: model, window: 10)
        let b = ServingMetrics(sim.run(trace, policy: &big), model: model, window: 10)
        #expect(l.meanReward > s.meanReward + 0.05)
        #expect(l.meanReward > b.meanReward + 0.05)
        #expect(l.availability > 0.95)
    }

    @Test func trainingIsDeterministicUnderASeed() {
        var (model, settings, dqn) = Self.toy()
        dqn.episodes = 3
        let a = DQNTrainer(model: model, settings: settings, dqn: dqn).train()
        let b = DQNTrainer(model: model, settings: settings, dqn: dqn).train()
        #expect(a == b)
        dqn.seed = 12
        #expect(DQNTrainer(model: model, settings: settings, dqn: dqn).train() != a)
    }
}

@Suite struct EarlyExitTests {
    @Test func earlyExitWithAllLayersEqualsTheFullForward() throws {
        let loaded = try ArchitectureRegistry.load(path: Fixtures.requireDefaultModel(), options: ModelLoadOptions(threads: 2))
        let model = loaded.model, tokenizer = loaded.tokenizer
        let ids = tokenizer.encode("Question: What is the capital of France?\nAnswer:")
        func run(_ limit: Int?) throws -> [[Float]] {
            try model.forward([SequenceChunk(cache: model.makeCache(capacity: 64), tokens: ids, logits: .all)], layerLimit: limit)
        }
        let full = try run(nil)
        #expect(try run(model.hyperparameters.layers) == full)
        #expect(try run(1000) == full)
        let early = try run(10)
        #expect(early.count == full.count)
        #expect(early != full)
        // The measurer answers the same with a full-depth tier as with the plain model.
        let m = TierMeasurer(model: model, tokenizer: tokenizer)
        let item = ChoiceTask.capital.items(count: 1, seed: 1)[0]
        let a = try m.answer([(item, .capital)], tier: TierSpec(name: "full", layers: 30, shots: 0))
        #expect(a.count == 1 && item.options.indices.contains(a[0]))
    }

    @Test func liveReplayRoutesAndServesEveryRequestOnTheRealModel() throws {
        let m = TierMeasurer(try ArchitectureRegistry.load(path: Fixtures.requireDefaultModel(), options: ModelLoadOptions(threads: 2)))
        let tiers = [TierSpec(name: "L10", layers: 10, shots: 0), TierSpec(name: "L30", layers: 30, shots: 0)]
        let serving = ServingModel(quality: [[0.3, 0.3, 0.3, 0.3], [0.8, 0.6, 0.9, 1.0]], latency: [{ _ in 0.1 }, { _ in 0.3 }])
        let settings = SimulationSettings(deadlines: [5, 5, 5, 5], maxBatch: 4, queueScale: 8, sharedServer: true)
        let trace = Trace.poisson(rate: 6, duration: 1.5, mix: [(0, [1, 1, 1, 1])], seed: 3)
        var policy = GreedyDeadlinePolicy()
        let r = try LiveReplay(measurer: m, tiers: tiers, model: serving, settings: settings).run(trace, policy: &policy, seed: 1)
        #expect(r.tierCounts.reduce(0, +) == trace.requests.count)
        #expect(r.tierCounts[1] > 0)  // an idle system with loose deadlines gets the full model
        #expect(r.availability == 1)  // 5 s deadlines on a handful of requests
        #expect(r.relativeQuality > 0)
        #expect(r.dropped == 0)
        // A drop is a drop live too: nothing is served, every dropped request counts as unavailable.
        var dropAll = DropAll()
        let d = try LiveReplay(measurer: m, tiers: tiers, model: serving, settings: SimulationSettings(deadlines: [5, 5, 5, 5], maxBatch: 4, allowDrop: true))
            .run(trace, policy: &dropAll, seed: 1)
        #expect(d.dropped == trace.requests.count && d.tierCounts == [0, 0] && d.availability == 0 && d.relativeQuality == 0)
    }

    struct DropAll: RoutingPolicy {
        let name = "drop-all"
        func route(_ c: RoutingContext, model: ServingModel, settings: SimulationSettings) -> Int { model.tierCount }
    }
}
