// SPDX-License-Identifier: Apache-2.0

import Support
import ArgumentParser
import Benchmarks
import BestEffortServing
import BestEffortTraining
import Foundation
import GGUF
import InferenceEngine
import Kernels
import OpenAIAPI
import OpenAIClient
import Tokenization
import TransformerModels

#if canImport(Glibc)
import Glibc
#endif

/// Default location of the committed tier profile (relative to the repository root).
let bestEffortTierFile = BestEffortSetup.Options().tiers

extension Tern {
    /// `tern profile`: measure each quality tier's accuracy per task and batch-latency profile.
    struct Profile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure best-effort quality tiers: accuracy per local task and batch latency on this machine.")

        @Option(name: .shortAndLong, help: "Registered model name or path to a GGUF file.") var model = ModelRegistry.defaultName
        @Option(name: .shortAndLong, help: "Threads for matrix products.") var threads = 2
        @Option(help: "Generated items per task for the quality table.") var items = 24
        @Option(name: .customLong("batch-sizes"), help: "Comma-separated batch sizes to time.") var batchSizes = "1,2,4,8"
        @Option(help: "Timed repetitions per batch size (fastest kept).") var repetitions = 3
        @Option(name: .customLong("extra-model"), help: "A second GGUF (registered name or path) added as a full-depth zero-shot tier.")
        var extraModel: String?
        @Option(name: .shortAndLong, help: "Where to write the tier table (JSON).") var output = bestEffortTierFile
        @Flag(help: "Tiny run for tests: 4 items per task, batch sizes 1,2, one repetition.") var quick = false
        @Flag(name: .customLong("latency-only"), help: "Re-time the tiers only; keep the quality measured in the existing --output file.")
        var latencyOnly = false
        @Option(help: "scoring: a request is one forward pass scoring every option (the simulator's original setting); engine: a request is served as `tern serve` serves it, a generation constrained to the options through the continuous-batching engine with the tier's early exit and few-shot prefix (profile for `tern serve --router`).")
        var serving = "scoring"

        func validate() throws {
            guard ["scoring", "engine"].contains(serving) else { throw ValidationError("--serving must be scoring or engine") }
            if serving == "engine" && extraModel != nil { throw ValidationError("--serving engine profiles tiers of one served model; drop --extra-model") }
        }

        func run() async throws {
            let store = ModelStore()
            let path = try store.resolve(model, progress: false)
            var sources: [(TierSpec, String)] = TierSpec.smolLM2Default.map { ($0, path) }
            if let extraModel {
                let p = try store.resolve(extraModel, progress: false)
                let layers = try ModelHyperparameters(file: GGUFFile(path: p), arch: "llama").layers
                sources.append((TierSpec(name: URL(fileURLWithPath: p).deletingPathExtension().lastPathComponent + "-0shot",
                                         layers: layers, shots: 0, modelPath: p), p))
            }
            let sizes = quick ? [1, 2] : batchSizes.split(separator: ",").compactMap { Int($0) }
            let count = quick ? 4 : items
            let reps = quick ? 1 : repetitions
            let previous = latencyOnly ? try TierTable(contentsOf: output) : nil
            var loaded: [String: TierMeasurer] = [:]
            var profiles: [TierProfile] = []
            let progress = ProgressReporter(label: "profile", total: sources.count * (ChoiceTask.allCases.count * ((count + 3) / 4) + sizes.count))
            for (spec, p) in sources {
                if loaded[p] == nil {
                    loaded[p] = TierMeasurer(try ArchitectureRegistry.load(path: p, options: ModelLoadOptions(threads: threads)))
                }
                let m = loaded[p]!
                if serving == "engine" {
                    // One engine per tier run, prefix caching on as in `tern serve`.
                    var config = EngineConfiguration()
                    config.threads = threads
                    config.maxRunningSequences = sizes.max() ?? 4
                    let engine = EngineClient(model: m.model, tokenizer: m.tokenizer, configuration: config)
                    engine.start()
                    defer { engine.shutdown() }
                    let served = EngineTierServer(engine: engine, tokenizer: m.tokenizer)
                    let quality: [Double]
                    if let old = previous?.tiers.first(where: { $0.spec == spec }) {
                        quality = old.quality
                    } else {
                        quality = try await served.quality(spec, itemsPerTask: count) { progress.step() }
                    }
                    var seconds: [Double] = []
                    for b in sizes {
                        seconds.append(try await served.latency(spec, batch: b, repetitions: reps))
                        progress.step()
                    }
                    progress.log("\(spec.name): quality \(quality.map { String(format: "%.2f", $0) }) latency \(seconds.map { String(format: "%.3f", $0) }) s")
                    profiles.append(TierProfile(spec: spec, quality: quality, batchSizes: sizes, seconds: seconds))
                    continue
                }
                let quality: [Double]
                if let old = previous?.tiers.first(where: { $0.spec == spec }) {
                    quality = old.quality
                } else {
                    if previous != nil { throw CLIError("--latency-only: \(output) has no tier \(spec.name)") }
                    quality = try m.quality(tier: spec, itemsPerTask: count) { progress.step() }
                }
                var seconds: [Double] = []
                for b in sizes {
                    seconds.append(try m.latency(tier: spec, batch: b, repetitions: reps))
                    progress.step()
                }
                progress.log("\(spec.name): quality \(quality.map { String(format: "%.2f", $0) }) latency \(seconds.map { String(format: "%.3f", $0) }) s")
                profiles.append(TierProfile(spec: spec, quality: quality, batchSizes: sizes, seconds: seconds))
            }
            progress.finish()
            profiles.sort { $0.seconds[0] < $1.seconds[0] }
            let table = TierTable(machine: MachineInfo.current().summary, model: URL(fileURLWithPath: path).lastPathComponent,
                                  itemsPerTask: previous?.itemsPerTask ?? count, threads: threads, tasks: ChoiceTask.allCases.map(\.name), tiers: profiles)
            try table.write(to: output)
            Stdout.write("wrote \(output)\n")
        }
    }

    /// `tern best-effort`: the learned best-effort router.
    struct BestEffort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "best-effort", abstract: "Learned best-effort serving: train the Double-DQN router.",
            subcommands: [BestEffortTrain.self, BestEffortReplay.self])
    }

    struct BestEffortTrain: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "train", abstract: "Train the router in the simulator and write the policy JSON.")
        @OptionGroup var options: BestEffortOptions
        @Option(help: "Training episodes.") var episodes = 300
        @Option(name: .shortAndLong, help: "Policy file to write.") var output = "policy.json"

        func run() throws {
            let setup = try options.setup()
            var dqn = setup.dqn
            dqn.episodes = episodes
            let policy = setup.trainRouter(dqn: dqn, showProgress: true)
            try policy.write(to: output)
            Stdout.write("wrote \(output)\n")
        }
    }
}

extension Tern {
    /// `tern best-effort replay`: a bursty trace against the real model, next to the simulator's prediction.
    struct BestEffortReplay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay", abstract: "Replay a bursty trace live on the real model and compare with the simulator.")
        @OptionGroup var options: BestEffortOptions
        @Option(help: "Policy file from `tern best-effort train`.") var policy = "bench/best-effort/policy.json"
        @Option(name: .shortAndLong, help: "Registered model name or path to a GGUF file.") var model = ModelRegistry.defaultName
        @Option(help: "Seconds of trace per policy.") var seconds = 60.0
        @Option(help: "Comma-separated policies: learned, static-best, greedy-deadline, static-small.") var policies = "learned,static-best"
        @Option(name: .shortAndLong, help: "Threads for matrix products.") var threads = 2
        @Option(name: .customLong("base-url"), help: "Replay over HTTP against a running server (e.g. `tern serve --router policy.json`) at this API root (http://HOST:PORT/v1) instead of in-process.")
        var baseURL: String?

        func run() async throws {
            // The policy file's settings (deadlines, batch, state scales, drops) are what the router
            // was trained for: the live run and the simulator's prediction both use them.
            let file = try RouterPolicyFile(contentsOf: policy)
            let setup = try options.setup().using(policy: file, path: policy, note: { FileHandleStderr.write("note: \($0)\n") })
            if let baseURL { return try await replayOverHTTP(baseURL, setup, file: file) }
            let path = try ModelStore().resolve(model, progress: false)
            let measurer = TierMeasurer(try ArchitectureRegistry.load(path: path, options: ModelLoadOptions(threads: threads)))
            guard setup.table.tiers.allSatisfy({ $0.spec.modelPath == nil }) else { throw CLIError("replay supports default-model tiers only") }
            let capBest = setup.model.capacity(setup.best, maxBatch: setup.settings.maxBatch)
            let trace = Trace.markovModulated(levels: [0.25 * capBest, 0.5 * capBest, 2.0 * capBest], meanDwell: setup.dqn.meanDwell,
                                              duration: seconds, mix: [(0, [Double](repeating: 1, count: setup.model.taskCount))], seed: 4_001)
            let live = LiveReplay(measurer: measurer, tiers: setup.table.tiers.map(\.spec), model: setup.model, settings: setup.settings)
            Stdout.write("trace: \(trace.label), \(trace.requests.count) requests over \(seconds) s; deadline \(String(format: "%.2f", setup.settings.deadlines[0])) s\n")
            Stdout.write("policy            live avail  sim avail  live quality  sim quality  tiers used (live), dropped\n")
            for name in policies.split(separator: ",").map(String.init) {
                func make() throws -> any RoutingPolicy {
                    switch name {
                    case "learned": return LearnedPolicy(network: file.network)
                    case "static-best": return StaticPolicy(tier: setup.best, name: name)
                    case "static-small": return StaticPolicy(tier: 0, name: name)
                    case "greedy-deadline": return GreedyDeadlinePolicy()
                    default: throw CLIError("unknown policy \(name)")
                    }
                }
                var p = AnyRoutingPolicy(try make())
                let r = try live.run(trace, policy: &p, seed: 5)
                let sim = BestEffortEvaluation(model: setup.model, settings: setup.settings).metrics(try make(), on: trace)
                Stdout.write(String(format: "%@ %10.3f %10.3f %13.3f %12.3f  %@\n", name.padding(toLength: 16, withPad: " ", startingAt: 0),
                                    r.availability, sim.availability, r.relativeQuality, sim.relativeQuality, "\(r.tierCounts), \(r.dropped)"))
            }
        }
    }
}

/// Settings shared by `best-effort train` and `bench best-effort`.
struct BestEffortOptions: ParsableArguments {
    @Option(name: .customLong("tiers"), help: "Tier table from `tern profile`.") var tierFile = bestEffortTierFile
    @Option(help: "Deadline of every task as a multiple of the best tier's full-batch latency.") var deadlineScale = 3.0
    @Option(help: "hard or soft deadlines.") var mode = "hard"
    @Option(help: "Largest batch per tier server (keep within the profiled batch sizes).") var maxBatch = 4
    @Flag(help: "Let the router drop requests (an extra action).") var allowDrop = false
    @Flag(name: .customLong("separate-servers"), help: "One server per tier (the paper's one model per GPU group) instead of one shared machine.")
    var separateServers = false
    @Option(help: "Training seed.") var seed: UInt64 = 1
    @Option(help: "DQN discount per arrival (larger sees the delay a choice imposes on later requests).") var gamma = 0.9

    /// The setup these options describe (tier table read, deadlines derived).
    func setup() throws -> BestEffortSetup {
        var o = BestEffortSetup.Options()
        o.tiers = tierFile; o.deadlineScale = deadlineScale; o.mode = mode; o.maxBatch = maxBatch; o.allowDrop = allowDrop
        o.separateServers = separateServers; o.seed = seed; o.gamma = gamma
        do { return try BestEffortSetup(o) } catch { throw CLIError("\(error)") }
    }
}

extension Tern.BestEffortReplay {
    /// Replays the bursty trace against a live server over HTTP: every request is sent at its arrival
    /// time as a `/v1/completions` call constrained to the item's options, labelled with its task in
    /// `metadata`; the tier the server chose comes back in `system_fingerprint`.
    func replayOverHTTP(_ base: String, _ setup: BestEffortSetup, file: RouterPolicyFile) async throws {
        let capBest = setup.model.capacity(setup.best, maxBatch: setup.settings.maxBatch)
        let trace = Trace.markovModulated(levels: [0.25 * capBest, 0.5 * capBest, 2.0 * capBest], meanDwell: setup.dqn.meanDwell,
                                          duration: seconds, mix: [(0, [Double](repeating: 1, count: setup.model.taskCount))], seed: 4_001)
        let client = OpenAIHTTPClient(baseURL: base, timeout: 120)
        let tiers = setup.table.tiers.map(\.spec.name)
        struct Outcome: Sendable { var latency: Double; var correct: Bool; var tier: String?; var error: String? }
        Stdout.write("trace: \(trace.label), \(trace.requests.count) requests over \(seconds) s against \(base); deadline \(String(format: "%.2f", setup.settings.deadlines[0])) s\n")
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
        let learned = evaluation.metrics(LearnedPolicy(network: file.network), on: trace)
        let staticBest = evaluation.metrics(StaticPolicy(tier: setup.best, name: "static-best"), on: trace)
        Stdout.write(String(format: "live server:  availability %.3f, quality ÷ peak %.3f\n", Double(onTime) / n, delivered / max(peak, 1e-9)))
        var predicted = String(format: "simulator:    learned %.3f / %.3f, static-best (%@) %.3f / %.3f",
                               learned.availability, learned.relativeQuality, tiers[setup.best], staticBest.availability, staticBest.relativeQuality)
        // A server without --router runs every request at full depth, zero-shot.
        let depth = setup.table.tiers.map(\.spec.layers).max() ?? 0
        if let full = setup.table.tiers.firstIndex(where: { $0.spec.layers == depth && $0.spec.shots == 0 }), full != setup.best {
            let m = evaluation.metrics(StaticPolicy(tier: full, name: "no-router"), on: trace)
            predicted += String(format: ", no router (%@) %.3f / %.3f", tiers[full], m.availability, m.relativeQuality)
        }
        Stdout.write(predicted + " (availability / quality ÷ peak)\n")
        let used = (tiers + counts.keys.filter { !tiers.contains($0) }.sorted()).compactMap { t in counts[t].map { "\(t) \($0)" } }
        Stdout.write("tiers used:   \(used.joined(separator: ", "))\n")
        if let e = outcomes.first(where: { $0.error != nil })?.error {
            Stdout.write("errors:       \(outcomes.filter { $0.error != nil }.count), first: \(e)\n")
        }
    }
}

/// Serves choice items the way `tern serve` does: each item a generation constrained to its options,
/// through the continuous-batching engine with the tier's early exit and few-shot prefix.
struct EngineTierServer {
    let engine: EngineClient
    let tokenizer: Tokenizer

    /// The chosen option of each item, all submitted at once.
    func answer(_ batch: [(ChoiceItem, ChoiceTask)], tier: TierSpec) async throws -> [Int] {
        let streams = try batch.map { item, task in
            let prompt = (tier.shots > 0 ? task.fewShotPrefix(shots: tier.shots) : "") + item.prompt
            return try engine.submit(GenerationRequest(prompt: tokenizer.encode(prompt), maxTokens: 8,
                                                       constraint: ChoiceConstraint(item.options),
                                                       layerLimit: tier.layers < engine.layerCount ? tier.layers : nil))
        }
        var answers: [Int] = []
        for (s, (item, _)) in zip(streams, batch) {
            var text = ""
            for try await e in s { if case .token(_, let t, _) = e { text += t } }
            answers.append(item.options.firstIndex(of: text) ?? -1)
        }
        return answers
    }

    func quality(_ tier: TierSpec, itemsPerTask count: Int, progress: () -> Void) async throws -> [Double] {
        var out: [Double] = []
        for task in ChoiceTask.allCases {
            let items = task.items(count: count, seed: 7)
            var correct = 0
            for start in stride(from: 0, to: items.count, by: 4) {
                let slice = Array(items[start..<min(start + 4, items.count)])
                let answers = try await answer(slice.map { ($0, task) }, tier: tier)
                correct += zip(answers, slice).filter { $0 == $1.answer }.count
                progress()
            }
            out.append(Double(correct) / Double(items.count))
        }
        return out
    }

    /// Seconds for `b` requests submitted together (tasks round-robin, new items each repetition so
    /// only the few-shot prefix can come from the prefix cache, as on a live server): the fastest
    /// of `repetitions` after one warm-up.
    func latency(_ tier: TierSpec, batch b: Int, repetitions: Int) async throws -> Double {
        let tasks = ChoiceTask.allCases
        func batch(_ r: Int) -> [(ChoiceItem, ChoiceTask)] {
            (0..<b).map { i in (tasks[i % tasks.count].items(count: 1 + i / tasks.count, seed: 99 &+ UInt64(r) &* 1_009).last!, tasks[i % tasks.count]) }
        }
        _ = try await answer(batch(0), tier: tier)
        var best = Double.infinity
        for r in 1...repetitions {
            let work = batch(r)
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try await answer(work, tier: tier)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return best
    }
}
