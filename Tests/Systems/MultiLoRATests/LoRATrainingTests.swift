// SPDX-License-Identifier: Apache-2.0

import Support
import Autograd
import GGUF
import InferenceEngine
import MultiLoRA
import NeuralNetworks
import Tensors
import TestSupport
import Testing
import Tokenization
import TransformerModels

func tinyF32() throws -> GGUFFile {
    var c = TinyModels.Configuration()
    c.weightType = .f32
    c.embeddingType = .f32
    c.layers = 2
    return try GGUFFile(bytes: TinyModels.llama(c))
}

func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }

@Suite("LoRA training on the autograd Llama twin")
struct LoRATrainingTests {
    @Test("the autograd forward equals LlamaModel's, without and with a LoRA adapter (f32 weights)")
    func parity() throws {
        let file = try tinyF32()
        let engine = try LlamaModel(file: file, threads: 1, maxBatchTokens: 64)
        let twin = try TrainableLlama(file: file)
        let seqs = [[5, 9, 2, 7, 3, 11, 4], [9, 8, 7, 6, 5, 4, 3]]
        let rows = Array(0..<14)
        let base = twin.logits(seqs, rows: rows).value.scalars
        let vocab = twin.hyperparameters.vocabularySize
        var g = SeededRandom(seed: 3)
        let lora = TrainableLoRA(hyperparameters: twin.hyperparameters, rank: 4, alpha: 8, targets: LoRAAdapter.Target.allCases, generator: &g)
        // B starts at zero; give it values so the LoRA term matters.
        for p in lora.parameters where p.shape[1] == 4 { p.value = Tensor(shape: p.shape, scalars: (0..<p.value.count).map { Float($0 % 7) * 0.01 - 0.03 }) }
        let adapted = twin.logits(seqs, rows: rows, lora: lora).value.scalars
        let adapter = lora.adapter(name: "t")
        for (b, s) in seqs.enumerated() {
            let want = try engine.forward([SequenceChunk(cache: engine.makeCache(capacity: 16), tokens: s, logits: .all)]).flatMap { $0 }
            let wantLoRA = try engine.forward([SequenceChunk(cache: engine.makeCache(capacity: 16), tokens: s, logits: .all, adapter: adapter)]).flatMap { $0 }
            let got = Array(base[(b * 7 * vocab)..<((b + 1) * 7 * vocab)])
            let gotLoRA = Array(adapted[(b * 7 * vocab)..<((b + 1) * 7 * vocab)])
            // The engine stores keys and values in f16: agreement to 2e-3 of the logits' scale.
            let scale = want.map(abs).max()!
            #expect(maxDiff(got, want) < 2e-3 * scale, "base, sequence \(b): \(maxDiff(got, want)) of \(scale)")
            #expect(maxDiff(gotLoRA, wantLoRA) < 2e-3 * scale, "LoRA, sequence \(b): \(maxDiff(gotLoRA, wantLoRA)) of \(scale)")
            #expect(maxDiff(wantLoRA, want) > 1e-2 * scale, "the adapter changes the logits: \(maxDiff(wantLoRA, want)) of \(scale)")
        }
    }

    @Test("gradients reach only the LoRA pairs and match finite differences")
    func gradients() throws {
        let twin = try TrainableLlama(file: try tinyF32())
        var g = SeededRandom(seed: 5)
        let lora = TrainableLoRA(hyperparameters: twin.hyperparameters, rank: 2, alpha: 2, targets: [.q, .v], generator: &g)
        for p in lora.parameters where p.shape[1] == 2 { p.value = Tensor(shape: p.shape, scalars: (0..<p.value.count).map { Float($0 % 5) * 0.05 - 0.1 }) }
        let seqs = [[3, 1, 4, 1, 5]]
        func loss() -> Variable { Loss.crossEntropy(twin.logits(seqs, rows: [1, 2, 3], lora: lora), labels: [4, 1, 5]) }
        let l = loss()
        l.backward()
        #expect(lora.parameters.count == 8)
        let p = lora.parameters[1]  // layer 0 q: B
        let analytic = try #require(p.gradient).scalars
        for i in [0, 3, 7] {
            let old = p.value.scalars
            var plus = old, minus = old
            plus[i] += 1e-2
            minus[i] -= 1e-2
            p.value = Tensor(shape: p.shape, scalars: plus)
            let lp = withoutGradient { loss().value.scalars[0] }
            p.value = Tensor(shape: p.shape, scalars: minus)
            let lm = withoutGradient { loss().value.scalars[0] }
            p.value = Tensor(shape: p.shape, scalars: old)
            let numeric = (lp - lm) / 2e-2
            #expect(abs(numeric - analytic[i]) < 2e-3 + 0.05 * abs(numeric), "entry \(i): \(numeric) vs \(analytic[i])")
        }
    }

    @Test("the committed trained adapter answers held-out questions in its trained style in the serving engine; the base never does")
    func trainedBehaviour() async throws {
        let file = try GGUFFile(path: Fixtures.requireDefaultModel())
        let loaded = try ArchitectureRegistry.load(file: file, options: ModelLoadOptions(threads: 2, maxBatchTokens: 512, maxContext: 1024))
        let llama = loaded.model, tokenizer = loaded.tokenizer
        let template = ChatTemplate.detect(from: file.string("tokenizer.chat_template"))
        let store = AdapterStore(hyperparameters: llama.hyperparameters)
        _ = try store.loadTrusted(name: "style", path: Fixtures.path("lora/style-lora.gguf"))
        let engine = EngineClient(model: llama, tokenizer: tokenizer, configuration: EngineConfiguration(), adapters: store)
        engine.start()
        defer { engine.shutdown() }
        let questions = AnswerStyleTask().examples(count: 8, heldOut: true, seed: 77)
        let tuned = try await engine.replies(to: questions.map(\.question), template: template, adapter: "style", maxTokens: 16)
        let base = try await engine.replies(to: questions.map(\.question), template: template, adapter: nil, maxTokens: 16)
        #expect(tuned.filter { $0.hasPrefix("Ahoy, matey!") }.count >= 7, "\(tuned)")
        #expect(base.allSatisfy { !$0.contains("Ahoy") }, "\(base)")
    }

    @Test("training lowers the reply loss on the tiny model; the task's held-out facts are disjoint")
    func training() throws {
        let file = try tinyF32()
        var s = LoRAStyleTrainer.Settings()
        s.steps = 12
        s.learningRate = 1e-2
        s.rank = 4
        let trainer = LoRAStyleTrainer(model: try TrainableLlama(file: file), tokenizer: try Tokenizer(gguf: file),
                                       template: ChatTemplate.detect(from: file.string("tokenizer.chat_template")), settings: s)
        let task = AnswerStyleTask()
        let train = task.examples(count: 8, heldOut: false, seed: 1)
        let before = trainer.step(train, train: false)
        trainer.train(train) { _, _, _ in }
        let after = trainer.step(train, train: false)
        #expect(after < before * 0.8, "\(before) → \(after)")
        let heldOut = Set(task.examples(count: 200, heldOut: true, seed: 2).filter { $0.question.contains("capital") }.map(\.question))
        let seen = Set(task.examples(count: 200, heldOut: false, seed: 2).filter { $0.question.contains("capital") }.map(\.question))
        #expect(heldOut.isDisjoint(with: seen) && !heldOut.isEmpty)
        #expect(train.allSatisfy { $0.reply.hasPrefix("Ahoy, matey!") })
    }
}
