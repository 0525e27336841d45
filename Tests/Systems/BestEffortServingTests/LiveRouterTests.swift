// SPDX-License-Identifier: Apache-2.0

import BestEffortServing
import Synchronization
import Testing

@Suite struct LiveRouterTests {
    /// Q(L1) = 1 − 10·queue(L1), Q(L2) = 0.5: the cheap tier until it holds a request, then the other.
    func policy(allowDrop: Bool = false) -> RouterPolicyFile {
        let inputs = 4 + 2 + 1
        var w1 = [Float](repeating: 0, count: inputs * inputs)
        for i in 0..<inputs { w1[i * inputs + i] = 1 }
        var w2 = [Float](repeating: 0, count: 2 * inputs)
        w2[0 * inputs + 4] = -10
        let net = QNetworkWeights(inputs: inputs, hidden: inputs, outputs: 2, w1: w1, b1: .init(repeating: 0, count: inputs), w2: w2, b2: [1, 0.5])
        return RouterPolicyFile(tiers: ["L1", "L2"], tasks: ChoiceTask.allCases.map(\.name),
                                settings: SimulationSettings(deadlines: [1, 2, 3, 4], queueScale: 16, rateWindow: 2), network: net, training: [:])
    }
    let tiers = [TierSpec(name: "L2", layers: 2, shots: 0), TierSpec(name: "L1", layers: 1, shots: 0)]

    @Test("the state is the simulator's: queue per tier moves the decision; rate window; deadlines per task")
    func state() throws {
        let now = Mutex<Double>(100)
        let r = try LiveRouter(policy: policy(), table: tiers, modelLayers: 2, clock: { now.withLock { $0 } })
        #expect(r.tiers.map(\.name) == ["L1", "L2"])  // the policy's action order, not the table's
        let a = r.route(task: 0)
        #expect(a.tier == 0)
        r.started(a)
        let b = r.route(task: 0)
        #expect(b.tier == 1)  // 1 − 10/16 < 0.5
        r.started(b)
        now.withLock { $0 = 100.5 }
        r.finished(a, completed: true)  // 0.5 s ≤ deadline 1
        now.withLock { $0 = 103 }
        r.finished(b, completed: true)  // 3 s > 1
        #expect(r.route(task: 0).tier == 0)
        let s = r.snapshot()
        #expect(s.tiers.map(\.routed) == [1, 1] && s.tiers.map(\.inFlight) == [0, 0] && s.tiers.map(\.onTime) == [1, 0])
        #expect(s.arrivalRate == 0.5)  // only the arrival at t = 103 is inside the 2 s window
    }

    @Test("a static tier served live: every request, any load, goes to that tier")
    func staticTier() throws {
        let settings = SimulationSettings(deadlines: [1, 1, 1, 1])
        let r = try LiveRouter(staticTier: "L1", table: tiers, settings: settings, modelLayers: 2)
        for task in [0, 1, nil, 3] {
            let d = r.route(task: task)
            #expect(d.tier == 1)
            r.started(d)
        }
        #expect(r.snapshot().tiers.map(\.routed) == [0, 4] && r.snapshot().unlabeled == 1)
        #expect(throws: LiveRouter.MismatchError.self) { _ = try LiveRouter(staticTier: "L9", table: tiers, settings: settings, modelLayers: 2) }
    }

    /// Two tiers: "fast" (0.1 s per batch, quality 0.5) and "good" (0.4 s per batch, quality 0.9 on every task).
    let table = TierTable(machine: "test", model: "test", itemsPerTask: 1, threads: 1, tasks: ChoiceTask.allCases.map(\.name), tiers: [
        TierProfile(spec: TierSpec(name: "fast", layers: 1, shots: 0), quality: [0.5, 0.5, 0.5, 0.5], batchSizes: [1, 4], seconds: [0.1, 0.1]),
        TierProfile(spec: TierSpec(name: "good", layers: 2, shots: 0), quality: [0.9, 0.9, 0.9, 0.9], batchSizes: [1, 4], seconds: [0.4, 0.4]),
    ])

    @Test("greedy deadline served live: the best tier while its predicted finish fits the deadline, then the fast one")
    func greedyLive() throws {
        // Deadline 1 s, slack 0.9, batches of 4: the good tier's prediction is 0.4·(q+4)/4 (+0.2 when busy).
        let settings = SimulationSettings(deadlines: [1, 1, 1, 1], maxBatch: 4)
        let r = try LiveRouter(baseline: "greedy-deadline", table: table, settings: settings, modelLayers: 2)
        var tiers: [Int?] = []
        for _ in 0..<6 {
            let d = r.route(task: 0)
            tiers.append(d.tier)
            r.started(d)
        }
        // q = 0: 0.4 ≤ 0.9 → good; q = 1, 2, 3: 0.2 + 0.4 = 0.6 → good; q = 4: 0.2 + 0.8 = 1.0 > 0.9 → fast.
        #expect(tiers == [1, 1, 1, 1, 0, 0])
        #expect(r.snapshot().tiers.map(\.inFlight) == [2, 4])
        #expect(r.route(task: nil).tier != nil && r.snapshot().unlabeled == 1)  // judged against the tightest deadline
    }

    @Test("random served live spreads over the tiers; an unknown baseline or the oracle is refused")
    func randomLive() throws {
        let settings = SimulationSettings(deadlines: [1, 1, 1, 1])
        let r = try LiveRouter(baseline: "random", table: table, settings: settings, modelLayers: 2, seed: 7)
        var counts = [0, 0]
        for _ in 0..<200 { counts[r.route(task: 1).tier!] += 1 }
        #expect(counts[0] > 60 && counts[1] > 60)
        #expect(throws: LiveRouter.MismatchError.self) { _ = try LiveRouter(baseline: "oracle", table: table, settings: settings, modelLayers: 2) }
        #expect(throws: LiveRouter.MismatchError.self) { _ = try LiveRouter(baseline: "random", table: table, settings: settings, modelLayers: 1) }
    }

    @Test("mismatched policy and tier table are refused with the reason")
    func mismatch() {
        #expect(throws: LiveRouter.MismatchError.self) { _ = try LiveRouter(policy: policy(), table: [tiers[0]], modelLayers: 2) }
        #expect(throws: LiveRouter.MismatchError.self) { _ = try LiveRouter(policy: policy(), table: tiers, modelLayers: 1) }
        var p = policy()
        p.settings.allowDrop = true  // the network has no drop output
        #expect(throws: LiveRouter.MismatchError.self) { _ = try LiveRouter(policy: p, table: tiers, modelLayers: 2) }
        let other = [TierSpec(name: "L1", layers: 1, shots: 0, modelPath: "/x.gguf"), tiers[0]]
        #expect(throws: LiveRouter.MismatchError.self) { _ = try LiveRouter(policy: policy(), table: other, modelLayers: 2) }
    }
}
