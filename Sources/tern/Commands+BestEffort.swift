// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import BestEffortServing
import BestEffortTraining
import Foundation

/// Default location of the committed tier profile (relative to the repository root).
let bestEffortTierFile = BestEffortSetup.Options().tiers

extension Tern {
    /// `tern profile`: measure each quality tier's accuracy per task and batch-latency profile.
    struct Profile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure best-effort quality tiers: accuracy per local task and batch latency on this machine.")

        @OptionGroup var modelOptions: ModelOptions<TierModelDefaults>
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
            guard TierProfiler.Serving(rawValue: serving) != nil else { throw ValidationError("--serving must be scoring or engine") }
            if serving == "engine" && extraModel != nil { throw ValidationError("--serving engine profiles tiers of one served model; drop --extra-model") }
        }

        func run() async throws {
            let store = ModelStore()
            var profiler = TierProfiler(modelPath: try store.resolve(modelOptions.model, progress: false))
            profiler.extraModelPath = try extraModel.map { try store.resolve($0, progress: false) }
            profiler.threads = modelOptions.threads
            profiler.itemsPerTask = quick ? 4 : items
            profiler.batchSizes = quick ? [1, 2] : batchSizes.split(separator: ",").compactMap { Int($0) }
            profiler.repetitions = quick ? 1 : repetitions
            profiler.serving = TierProfiler.Serving(rawValue: serving)!
            profiler.previous = latencyOnly ? try TierTable(contentsOf: output) : nil
            do { try await profiler.run().write(to: output) } catch let e as TierProfilerError { throw CLIError("--latency-only: \(output): \(e)") }
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
        @OptionGroup var modelOptions: ModelOptions<TierModelDefaults>
        @Option(help: "Seconds of trace per policy.") var seconds = 60.0
        @Option(help: "Comma-separated policies: learned, static-best, greedy-deadline, static-small.") var policies = "learned,static-best"
        @Option(name: .customLong("base-url"), help: "Replay over HTTP against a running server (e.g. `tern serve --router policy.json`) at this API root (http://HOST:PORT/v1) instead of in-process.")
        var baseURL: String?

        func run() async throws {
            // The policy file's settings (deadlines, batch, state scales, drops) are what the router
            // was trained for: the live run and the simulator's prediction both use them.
            let file = try RouterPolicyFile(contentsOf: policy)
            let setup = try options.setup().using(policy: file, path: policy, note: { FileHandleStderr.write("note: \($0)\n") })
            let replay = RouterReplay(setup: setup, policy: file, seconds: seconds)
            if let baseURL { return await replay.overHTTP(baseURL: baseURL) { Stdout.write($0) } }
            let measurer = TierMeasurer(try modelOptions.load(progress: false))
            do {
                try replay.inProcess(measurer: measurer, policies: policies.split(separator: ",").map(String.init)) { Stdout.write($0) }
            } catch let e as RouterReplayError {
                throw CLIError("\(e)")
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
