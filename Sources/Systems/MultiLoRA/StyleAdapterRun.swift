// SPDX-License-Identifier: Apache-2.0

import Foundation
public import GGUF
import InferenceEngine
public import Kernels
import Support
import TransformerModels

/// `tern lora train`: a LoRA adapter trained on the frozen base to open every reply with a fixed
/// phrase, written in llama.cpp's GGUF adapter layout, then checked where it is served: the
/// continuous-batching engine answers held-out questions with and without it.
public struct StyleAdapterRun: Sendable {
    /// Adapter name inside the file.
    public var name = "style"
    /// The phrase every trained reply opens with.
    public var opening = "Ahoy, matey!"
    /// Training examples (cycled).
    public var examples = 96
    /// Held-out questions checked in the engine.
    public var heldOutQuestions = 16
    public var training = LoRAStyleTrainer.Settings()

    public init() {}

    /// What a run measured.
    public struct Report: Encodable, Sendable {
        public var output: String, steps: Int, seconds_per_step: Double, loss_first_step: Float, loss_last_step: Float
        public var heldout_loss_before: Float, heldout_loss_after: Float
        public var heldout_questions: Int, base_replies_with_opening: Int, adapter_replies_with_opening: Int
        public var samples: [[String: String]]
    }

    /// Trains on `file` (the base model at `path`), writes the adapter to `output` and checks it in
    /// the engine (read back from disk), with progress on stderr.
    public func run(file: GGUFFile, path: String, output: String, pool: ThreadPool, showProgress: Bool = true) async throws -> Report {
        let twin = try TrainableLlama(file: file)
        // The serving side (tokenizer, template, the engine that checks the adapter) over the same file.
        let loaded = try ArchitectureRegistry.load(file: file, path: path, options: ModelLoadOptions(pool: pool, maxContext: 2048))
        let trainer = LoRAStyleTrainer(model: twin, tokenizer: loaded.tokenizer, template: loaded.chatTemplate, settings: training)
        let task = AnswerStyleTask(opening: opening)
        let train = task.examples(count: examples, heldOut: false, seed: training.seed)
        let heldOut = task.examples(count: heldOutQuestions, heldOut: true, seed: training.seed &+ 1_000)
        let progress = ProgressReporter(label: "train", enabled: showProgress, logInterval: 5)
        var losses: [Float] = []
        var seconds = 0.0
        let steps = training.steps
        let (lossBefore, lossAfter) = pool.withCurrent {
            let before = trainer.step(Array(heldOut.prefix(8)), train: false)
            trainer.train(train) { step, loss, elapsed in
                losses.append(loss)
                seconds = elapsed
                progress.update(String(format: "step %d/%d | loss %.3f | %.2f s/step", step, steps, loss, elapsed / Double(step)), force: step == steps)
            }
            progress.finish()
            return (before, trainer.step(Array(heldOut.prefix(8)), train: false))
        }
        let arch = file.string("general.architecture") ?? "llama"
        do { try trainer.lora.adapter(name: name).ggufWriter(architecture: arch).write(to: output) } catch {
            throw StyleAdapterRunError(description: "writing \(output): \(error)")
        }

        // The check: the serving engine, base model and the adapter just written (read back from disk).
        let store = AdapterStore(hyperparameters: loaded.model.hyperparameters, architecture: arch)
        do { try store.loadTrusted(name: name, path: output) } catch { throw StyleAdapterRunError(description: "reading back \(output): \(error)") }
        var configuration = EngineConfiguration()
        configuration.adapterResidency = SLoRAResidency()
        let engine = EngineClient(model: loaded.model, tokenizer: loaded.tokenizer, configuration: configuration, adapters: store)
        engine.start()
        defer { engine.shutdown() }
        let questions = heldOut.map(\.question)
        let base = try await engine.replies(to: questions, template: loaded.chatTemplate, adapter: nil, maxTokens: 24)
        let tuned = try await engine.replies(to: questions, template: loaded.chatTemplate, adapter: name, maxTokens: 24)
        let hits = { (r: [String]) in r.filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix(opening) }.count }
        return Report(output: output, steps: steps, seconds_per_step: seconds / Double(steps), loss_first_step: losses.first ?? .nan,
                      loss_last_step: losses.last ?? .nan, heldout_loss_before: lossBefore, heldout_loss_after: lossAfter,
                      heldout_questions: heldOut.count, base_replies_with_opening: hits(base), adapter_replies_with_opening: hits(tuned),
                      samples: (0..<min(3, heldOut.count)).map { ["question": heldOut[$0].question, "base": base[$0], "adapter": tuned[$0]] })
    }
}

/// Why a style-adapter run could not finish.
public struct StyleAdapterRunError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
