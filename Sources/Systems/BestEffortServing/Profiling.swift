// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
import Foundation
import GGUF
import InferenceEngine
import Support
import TransformerModels

/// `tern profile`: measures each quality tier's accuracy per task and its batch latency on this
/// machine, the table the simulator, the router and `tern serve --router` read.
public struct TierProfiler: Sendable {
    /// How a request is served while profiling.
    public enum Serving: String, Sendable, CaseIterable {
        /// One forward pass scoring every option (the simulator's original setting).
        case scoring
        /// As `tern serve` serves it: a generation constrained to the options through the
        /// continuous-batching engine with the tier's early exit and few-shot prefix.
        case engine
    }

    /// GGUF of the default tiers.
    public var modelPath: String
    /// A second GGUF added as a full-depth zero-shot tier.
    public var extraModelPath: String?
    public var threads = 2
    /// Generated items per task for the quality table.
    public var itemsPerTask = 24
    /// Batch sizes to time.
    public var batchSizes = [1, 2, 4, 8]
    /// Timed repetitions per batch size (fastest kept).
    public var repetitions = 3
    public var serving = Serving.scoring
    /// Re-time only: keep the quality of these tiers (a table measured before).
    public var previous: TierTable?

    /// A profiler of the default SmolLM2 tiers of `modelPath`.
    public init(modelPath: String) {
        self.modelPath = modelPath
    }

    /// Profiles every tier, fastest first, with progress on stderr.
    /// - Throws: ``TierProfilerError`` for a re-time whose previous table lacks a tier; load errors.
    public func run(showProgress: Bool = true) async throws -> TierTable {
        var sources: [(TierSpec, String)] = TierSpec.smolLM2Default.map { ($0, modelPath) }
        if let p = extraModelPath {
            let layers = try ModelHyperparameters(file: GGUFFile(path: p), arch: "llama").layers
            sources.append((TierSpec(name: URL(fileURLWithPath: p).deletingPathExtension().lastPathComponent + "-0shot",
                                     layers: layers, shots: 0, modelPath: p), p))
        }
        let progress = ProgressReporter(label: "profile", total: sources.count * (ChoiceTask.allCases.count * ((itemsPerTask + 3) / 4) + batchSizes.count),
                                        enabled: showProgress)
        var loaded: [String: TierMeasurer] = [:]
        var profiles: [TierProfile] = []
        for (spec, p) in sources {
            if loaded[p] == nil { loaded[p] = TierMeasurer(try ArchitectureRegistry.load(path: p, options: ModelLoadOptions(threads: threads))) }
            let m = loaded[p]!
            let old = previous?.tiers.first { $0.spec == spec }
            let quality: [Double], seconds: [Double]
            switch serving {
            case .engine:
                // One engine per tier run, prefix caching on as in `tern serve`.
                var config = EngineConfiguration()
                config.threads = threads
                config.maxRunningSequences = batchSizes.max() ?? 4
                let engine = EngineClient(model: m.model, tokenizer: m.tokenizer, configuration: config)
                engine.start()
                defer { engine.shutdown() }
                let served = EngineTierServer(engine: engine, tokenizer: m.tokenizer)
                if let old { quality = old.quality } else { quality = try await served.quality(spec, itemsPerTask: itemsPerTask) { progress.step() } }
                var s: [Double] = []
                for b in batchSizes {
                    s.append(try await served.latency(spec, batch: b, repetitions: repetitions))
                    progress.step()
                }
                seconds = s
            case .scoring:
                // Re-timing keeps the measured quality; a tier the table lacks is an error here (the
                // engine mode measures it instead, as before).
                if previous != nil && old == nil { throw TierProfilerError(description: "the re-timed table has no tier \(spec.name)") }
                if let old { quality = old.quality } else { quality = try m.quality(tier: spec, itemsPerTask: itemsPerTask) { progress.step() } }
                var s: [Double] = []
                for b in batchSizes {
                    s.append(try m.latency(tier: spec, batch: b, repetitions: repetitions))
                    progress.step()
                }
                seconds = s
            }
            progress.log("\(spec.name): quality \(quality.map { String(format: "%.2f", $0) }) latency \(seconds.map { String(format: "%.3f", $0) }) s")
            profiles.append(TierProfile(spec: spec, quality: quality, batchSizes: batchSizes, seconds: seconds))
        }
        progress.finish()
        profiles.sort { $0.seconds[0] < $1.seconds[0] }
        return TierTable(machine: MachineInfo.current().summary, model: URL(fileURLWithPath: modelPath).lastPathComponent,
                         itemsPerTask: previous?.itemsPerTask ?? itemsPerTask, threads: threads, tasks: ChoiceTask.allCases.map(\.name), tiers: profiles)
    }
}

/// Why a profile could not be made.
public struct TierProfilerError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
