// SPDX-License-Identifier: Apache-2.0

public import BestEffortServing
import Foundation
import OpenAIAPI
import OpenAIClient

/// `tern best-effort replay`: a bursty trace (Markov-modulated between 0.25, 0.5 and 2 times the
/// best tier's capacity) served live, beside the simulator's prediction for the same trace. The
/// policy file's settings (deadlines, batch, state scales, drops) are what the router was trained
/// for, so the live run and the prediction both use them.
public struct RouterReplay: Sendable {
    public let setup: BestEffortSetup
    public let policy: RouterPolicyFile
    /// Seconds of trace.
    public let seconds: Double

    public init(setup: BestEffortSetup, policy: RouterPolicyFile, seconds: Double) {
        self.setup = setup; self.policy = policy; self.seconds = seconds
    }

    /// The replayed trace (seed 4001).
    public var trace: Trace {
        let capBest = setup.model.capacity(setup.best, maxBatch: setup.settings.maxBatch)
        return Trace.markovModulated(levels: [0.25 * capBest, 0.5 * capBest, 2.0 * capBest], meanDwell: setup.dqn.meanDwell,
                                     duration: seconds, mix: [(0, [Double](repeating: 1, count: setup.model.taskCount))], seed: 4_001)
    }

    /// In process: each named policy (`learned`, `static-best`, `static-small`, `greedy-deadline`)
    /// routes the trace live on `measurer`'s model; a table line per policy goes to `write` as it finishes.
    public func inProcess(measurer: TierMeasurer, policies: [String], write: (String) -> Void) throws {
        guard setup.table.tiers.allSatisfy({ $0.spec.modelPath == nil }) else { throw RouterReplayError("replay supports default-model tiers only") }
        let trace = self.trace
        let live = LiveReplay(measurer: measurer, tiers: setup.table.tiers.map(\.spec), model: setup.model, settings: setup.settings)
        write("trace: \(trace.label), \(trace.requests.count) requests over \(seconds) s; deadline \(String(format: "%.2f", setup.settings.deadlines[0])) s\n")
        write("policy            live avail  sim avail  live quality  sim quality  tiers used (live), dropped\n")
        for name in policies {
            func make() throws -> any RoutingPolicy {
                switch name {
                case "learned": return LearnedPolicy(network: policy.network)
                case "static-best": return StaticPolicy(tier: setup.best, name: name)
                case "static-small": return StaticPolicy(tier: 0, name: name)
                case "greedy-deadline": return GreedyDeadlinePolicy()
                default: throw RouterReplayError("unknown policy \(name)")
                }
            }
            var p = AnyRoutingPolicy(try make())
            let r = try live.run(trace, policy: &p, seed: 5)
            let sim = BestEffortEvaluation(model: setup.model, settings: setup.settings).metrics(try make(), on: trace)
            write(String(format: "%@ %10.3f %10.3f %13.3f %12.3f  %@\n", name.padding(toLength: 16, withPad: " ", startingAt: 0),
                         r.availability, sim.availability, r.relativeQuality, sim.relativeQuality, "\(r.tierCounts), \(r.dropped)"))
        }
    }

    /// Over HTTP against a running server (`tern serve --router`) at `baseURL` (`http://HOST:PORT/v1`):
    /// every request is sent at its arrival time as a `/v1/completions` call constrained to the
    /// item's options, labelled with its task in `metadata`; the tier the server chose comes back in
    /// `system_fingerprint`. Writes the live availability and quality, the simulator's prediction,
    /// the tiers used and any errors.
    public func overHTTP(baseURL base: String, write: (String) -> Void) async {
        let trace = self.trace
        let client = OpenAIHTTPClient(baseURL: base, timeout: 120)
        let tiers = setup.table.tiers.map(\.spec.name)
        struct Outcome: Sendable { var latency: Double; var correct: Bool; var tier: String?; var error: String? }
        write("trace: \(trace.label), \(trace.requests.count) requests over \(seconds) s against \(base); deadline \(String(format: "%.2f", setup.settings.deadlines[0])) s\n")
        let clock = ContinuousClock()
        let start = clock.now
        let outcomes = await withTaskGroup(of: (Int, Outcome).self) { group -> [Outcome] in
            for (i, r) in trace.requests.enumerated() {
                let due = start + .milliseconds(Int64(r.arrival * 1000))
                try? await Task.sleep(until: due, clock: clock)
                let item = LiveReplay.item(for: r, seed: 5)
                var q = CompletionRequest(model: "tern", prompt: .text(item.prompt))
                q.max_tokens = 8
                q.temperature = 0
                q.guided_choice = item.options
                q.metadata = ["task": ChoiceTask.allCases[r.task].name]
                group.addTask {
                    do {
                        let c = try await client.complete(q)
                        let latency = (clock.now - due) / .seconds(1)
                        return (i, Outcome(latency: latency, correct: c.choices.first?.text == item.options[item.answer],
                                           tier: c.system_fingerprint.map { String($0.dropFirst("tern-tier-".count)) }))
                    } catch {
                        return (i, Outcome(latency: .infinity, correct: false, tier: nil, error: "\(error)"))
                    }
                }
            }
            var out = [Outcome](repeating: Outcome(latency: .infinity, correct: false), count: trace.requests.count)
            for await (i, o) in group { out[i] = o }
            return out
        }
        var onTime = 0, delivered = 0.0, peak = 0.0
        var counts: [String: Int] = [:]
        for (r, o) in zip(trace.requests, outcomes) {
            peak += setup.model.peak(task: r.task)
            counts[o.tier ?? (o.error == nil ? "full (no router)" : "error"), default: 0] += 1
            if o.latency <= setup.settings.deadlines[r.task] {
                onTime += 1
                if o.correct { delivered += 1 }
            }
        }
        let n = Double(max(trace.requests.count, 1))
        let evaluation = BestEffortEvaluation(model: setup.model, settings: setup.settings)
        let learned = evaluation.metrics(LearnedPolicy(network: policy.network), on: trace)
        let staticBest = evaluation.metrics(StaticPolicy(tier: setup.best, name: "static-best"), on: trace)
        write(String(format: "live server:  availability %.3f, quality ÷ peak %.3f\n", Double(onTime) / n, delivered / max(peak, 1e-9)))
        var predicted = String(format: "simulator:    learned %.3f / %.3f, static-best (%@) %.3f / %.3f",
                               learned.availability, learned.relativeQuality, tiers[setup.best], staticBest.availability, staticBest.relativeQuality)
        // A server without --router runs every request at full depth, zero-shot.
        let depth = setup.table.tiers.map(\.spec.layers).max() ?? 0
        if let full = setup.table.tiers.firstIndex(where: { $0.spec.layers == depth && $0.spec.shots == 0 }), full != setup.best {
            let m = evaluation.metrics(StaticPolicy(tier: full, name: "no-router"), on: trace)
            predicted += String(format: ", no router (%@) %.3f / %.3f", tiers[full], m.availability, m.relativeQuality)
        }
        write(predicted + " (availability / quality ÷ peak)\n")
        let used = (tiers + counts.keys.filter { !tiers.contains($0) }.sorted()).compactMap { t in counts[t].map { "\(t) \($0)" } }
        write("tiers used:   \(used.joined(separator: ", "))\n")
        if let e = outcomes.first(where: { $0.error != nil })?.error {
            write("errors:       \(outcomes.filter { $0.error != nil }.count), first: \(e)\n")
        }
    }
}

/// Why a replay could not run.
public struct RouterReplayError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
