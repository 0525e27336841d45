// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import TransformerModels

/// The defaults a family of commands gives `--threads` and `--ctx-size`.
protocol ModelOptionDefaults {
    static var threads: Int { get }
    static var contextSize: Int { get }
}

/// Generation, chat and serving: every core up to eight, 2,048 positions.
enum StandardModelDefaults: ModelOptionDefaults {
    static var threads: Int { max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)) }
    static var contextSize: Int { 2048 }
}

/// Agents and games: few-shot prompts and growing transcripts want 4,096 positions.
enum AgentModelDefaults: ModelOptionDefaults {
    static var threads: Int { StandardModelDefaults.threads }
    static var contextSize: Int { 4096 }
}

/// The best-effort tier commands (`tern profile`, `tern best-effort replay`): two threads, the
/// setting the committed tier tables were measured with.
enum TierModelDefaults: ModelOptionDefaults {
    static var threads: Int { 2 }
    static var contextSize: Int { 4096 }
}

/// `--model`, `--threads` and `--ctx-size`, shared by every command that runs a model; `Defaults`
/// are the command family's.
struct ModelOptions<Defaults: ModelOptionDefaults>: ParsableArguments {
    @Option(name: .shortAndLong, help: "Registered model name or path to a GGUF file.")
    var model: String = ModelRegistry.defaultName

    @Option(name: .shortAndLong, help: "Threads for matrix products.")
    var threads: Int = Defaults.threads

    @Option(name: .customLong("ctx-size"), help: "Context size (positions) of the KV cache.")
    var contextSize: Int = Defaults.contextSize

    func validate() throws {
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
        guard contextSize >= 16 else { throw ValidationError("--ctx-size must be at least 16") }
    }
}

extension ModelOptions {
    /// Resolves `--model` (fetching a registry model if needed) and loads it through the registry.
    func load(progress: Bool) throws -> LoadedModel {
        try loadModel(path: ModelStore().resolve(model, progress: progress), ModelLoadOptions(threads: threads, maxContext: contextSize))
    }
}

/// Loads `path` through the registry; a bad file or model is a `CLIError` with the reason.
func loadModel(path: String, _ options: ModelLoadOptions) throws -> LoadedModel {
    do {
        return try ArchitectureRegistry.load(path: path, options: options)
    } catch let error as ModelError {
        throw CLIError("\(error)")
    }
}

/// `--json`: one JSON object on stdout instead of the human-readable report. Every command that
/// reports takes it through `@OptionGroup var format: JSONOption` and reads `json` (``ReportsJSON``).
struct JSONOption: ParsableArguments {
    @Flag(help: "Print one JSON object on stdout instead of the human-readable report (progress and logs stay on stderr).")
    var json = false
}

/// A command with `--json`.
protocol ReportsJSON {
    var format: JSONOption { get }
}

extension ReportsJSON {
    /// Whether `--json` was given.
    var json: Bool { format.json }
}

/// `--targets q,k,v,o`: LoRA projections by short name (q, k, v, o, gate, up, down).
func parseTargets(_ text: String) throws -> [LoRAAdapter.Target] {
    try text.split(separator: ",").map { t in
        guard let target = LoRAAdapter.Target(shortName: t.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("--targets: unknown projection '\(t)' (use q,k,v,o,gate,up,down)")
        }
        return target
    }
}
