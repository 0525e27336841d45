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
            guard steps >= 1, batch >= 1, examples >= 1, (1...256).contains(rank), eval >= 1 else {
                throw ValidationError("--steps, --batch, --examples, --eval must be >= 1 and --rank 1...256")
            }
            var run = StyleAdapterRun()
            run.name = name
            run.opening = opening
            run.examples = examples
            run.heldOutQuestions = eval
            run.training.rank = rank
            run.training.alpha = alpha
            run.training.targets = try parseTargets(targets)
            run.training.steps = steps
            run.training.batchSize = batch
            run.training.learningRate = learningRate
            run.training.seed = seed
            let path = try ModelStore().resolve(model, progress: true)
            let file: GGUFFile
            do { file = try GGUFFile(path: path) } catch { throw CLIError("\(path): \(error)") }
            FileHandleStderr.write("loading \(URL(fileURLWithPath: path).lastPathComponent) as f32 for training…\n")
            // One pool for training (tensor kernels split on it) and for the serving check.
            let report = try await run.run(file: file, path: path, output: output, pool: ThreadPool(threads: threads))
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try e.encode(report), as: UTF8.self))
                return
            }
            print(String(format: "trained %@ (rank %d on %@, %d steps, %.1f s/step): reply loss %.3f → %.3f on held-out questions",
                         output, rank, targets, steps, report.seconds_per_step, report.heldout_loss_before, report.heldout_loss_after))
            print("held-out replies opening with \"\(opening)\": base \(report.base_replies_with_opening)/\(eval), adapter \(report.adapter_replies_with_opening)/\(eval)")
            for s in report.samples { print("  Q: \(s["question"]!)\n     base:    \(s["base"]!)\n     adapter: \(s["adapter"]!)") }
        }
    }
}
