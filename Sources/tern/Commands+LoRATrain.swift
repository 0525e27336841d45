// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import GGUF
import InferenceEngine
import Kernels
import MultiLoRA
import Support
import Tensors
import Tokenization
import TransformerModels

extension Tern {
    /// `tern lora train`: a real LoRA adapter trained on the frozen base, then checked in the serving engine.
    struct LoRATrain: AsyncParsableCommand, ReportsJSON {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Train a LoRA adapter that teaches the base model a fixed answer style, and check it in the serving engine.",
            discussion: """
            Every training reply opens with --opening and answers a templated question (capitals, sums, colours). The base \
            weights are dequantized to f32 and frozen; only the LoRA pairs train (next-token cross entropy on reply tokens, \
            Adam with warm-up). The adapter is written in llama.cpp's GGUF adapter layout, loaded into the continuous-batching \
            engine next to the base model, and both answer held-out questions (facts never seen in training): the report \
            counts the replies that open with the trained phrase.
            """)

        @Option(name: .shortAndLong, help: "Registered base model name or path to its GGUF file.") var model = ModelRegistry.defaultName
        @Option(name: .shortAndLong, help: "Where to write the adapter (GGUF).") var output = "style-lora.gguf"
        @Option(help: "The adapter's name inside the file.") var name = "style"
        @Option(help: "Phrase every trained reply opens with.") var opening = "Ahoy, matey!"
        @Option(help: "Optimizer steps.") var steps = 60
        @Option(help: "Sequences per step.") var batch = 4
        @Option(help: "Training examples (cycled).") var examples = 96
        @Option(help: "LoRA rank.") var rank = 8
        @Option(help: "LoRA alpha (scale = alpha / rank).") var alpha: Float = 16
        @Option(help: "Projections to adapt: comma-separated from q,k,v,o,gate,up,down.") var targets = "q,v"
        @Option(name: .customLong("lr"), help: "Peak learning rate (Adam).") var learningRate: Float = 2e-3
        @Option(help: "Held-out questions to check in the engine.") var eval = 16
        @Option(help: "Seed.") var seed: UInt64 = 1
        @Option(name: .shortAndLong, help: "Threads for matrix products.") var threads = 2
        @OptionGroup var format: JSONOption

        func run() async throws {
            let names = ["q": LoRAAdapter.Target.q, "k": .k, "v": .v, "o": .o, "gate": .gate, "up": .up, "down": .down]
            let list = try targets.split(separator: ",").map { t -> LoRAAdapter.Target in
                guard let x = names[t.trimmingCharacters(in: .whitespaces)] else { throw ValidationError("--targets: unknown projection '\(t)'") }
                return x
            }
            guard steps >= 1, batch >= 1, examples >= 1, (1...256).contains(rank), eval >= 1 else {
                throw ValidationError("--steps, --batch, --examples, --eval must be >= 1 and --rank 1...256")
            }
            let path = try ModelStore().resolve(model, progress: true)
            let file: GGUFFile
            do { file = try GGUFFile(path: path) } catch { throw CLIError("\(path): \(error)") }
            // One pool for training (tensor kernels split on it) and for the serving check.
            let pool = ThreadPool(threads: threads)
            FileHandleStderr.write("loading \(URL(fileURLWithPath: path).lastPathComponent) as f32 for training…\n")
            let twin = try TrainableLlama(file: file)
            // The serving side (tokenizer, template, the engine that checks the adapter) over the same file.
            let loaded = try ArchitectureRegistry.load(file: file, path: path, options: ModelLoadOptions(pool: pool, maxContext: 2048))
            let tokenizer = loaded.tokenizer, template = loaded.chatTemplate
            var settings = LoRAStyleTrainer.Settings()
            settings.rank = rank
            settings.alpha = alpha
            settings.targets = list
            settings.steps = steps
            settings.batchSize = batch
            settings.learningRate = learningRate
            settings.seed = seed
            let trainer = LoRAStyleTrainer(model: twin, tokenizer: tokenizer, template: template, settings: settings)
            let task = AnswerStyleTask(opening: opening)
            let train = task.examples(count: examples, heldOut: false, seed: seed)
            let heldOut = task.examples(count: eval, heldOut: true, seed: seed &+ 1_000)
            let progress = ProgressReporter(label: "train", logInterval: 5)
            var losses: [Float] = []
            var seconds = 0.0
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
            let adapter = trainer.lora.adapter(name: name)
            let arch = file.string("general.architecture") ?? "llama"
            do { try adapter.ggufWriter(architecture: arch).write(to: output) } catch { throw CLIError("\(output): \(error)") }

            // The check: the serving engine, base model and the adapter just written (read back from disk).
            let llama = loaded.model
            let store = AdapterStore(hyperparameters: llama.hyperparameters, architecture: arch)
            do { _ = try store.loadTrusted(name: name, path: output) } catch { throw CLIError("reading back \(output): \(error)") }
            let engine = EngineClient(model: llama, tokenizer: tokenizer, configuration: EngineConfiguration(), adapters: store)
            engine.start()
            defer { engine.shutdown() }
            func replies(_ adapter: String?) async throws -> [String] {
                let streams = try heldOut.map { e in
                    try engine.submit(GenerationRequest(prompt: trainer.encode(e).prompt, maxTokens: 24, adapter: adapter))
                }
                var out: [String] = []
                for s in streams {
                    var text = ""
                    for try await ev in s { if case .token(_, let t, _) = ev { text += t } }
                    out.append(text)
                }
                return out
            }
            let base = try await replies(nil), tuned = try await replies(name)
            let hits = { (r: [String]) in r.filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix(opening) }.count }
            struct Report: Encodable {
                var output: String, steps: Int, seconds_per_step: Double, loss_first_step: Float, loss_last_step: Float
                var heldout_loss_before: Float, heldout_loss_after: Float
                var heldout_questions: Int, base_replies_with_opening: Int, adapter_replies_with_opening: Int
                var samples: [[String: String]]
            }
            let report = Report(output: output, steps: steps, seconds_per_step: seconds / Double(steps), loss_first_step: losses.first!,
                                loss_last_step: losses.last!, heldout_loss_before: lossBefore, heldout_loss_after: lossAfter,
                                heldout_questions: heldOut.count, base_replies_with_opening: hits(base), adapter_replies_with_opening: hits(tuned),
                                samples: (0..<min(3, heldOut.count)).map { ["question": heldOut[$0].question, "base": base[$0], "adapter": tuned[$0]] })
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try e.encode(report), as: UTF8.self))
                return
            }
            print(String(format: "trained %@ (rank %d on %@, %d steps, %.1f s/step): reply loss %.3f → %.3f on held-out questions",
                         output, rank, targets, steps, report.seconds_per_step, lossBefore, lossAfter))
            print("held-out replies opening with \"\(opening)\": base \(hits(base))/\(heldOut.count), adapter \(hits(tuned))/\(heldOut.count)")
            for s in report.samples { print("  Q: \(s["question"]!)\n     base:    \(s["base"]!)\n     adapter: \(s["adapter"]!)") }
        }
    }
}
