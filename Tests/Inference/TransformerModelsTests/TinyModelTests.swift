// SPDX-License-Identifier: Apache-2.0

import Support
import GGUF
import Kernels
import TestSupport
import Testing
import Tokenization
import TransformerModels

func tinyModel(_ c: TinyModels.Configuration = TinyModels.Configuration(), threads: Int = 1, maxBatch: Int = 64) throws -> (LlamaModel, Tokenizer) {
    let file = try GGUFFile(bytes: TinyModels.llama(c))
    return (try LlamaModel(file: file, threads: threads, maxBatchTokens: maxBatch), try Tokenizer(gguf: file))
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

@Suite("Llama forward on tiny random-weight models")
struct TinyModelTests {
    let prompt = [5, 70, 200, 33, 101, 268, 40, 41, 42, 7, 99, 150]

    @Test("logits have the vocabulary's shape and are finite", arguments: [GGMLType.q4_1, .q8_0, .f32, .f16, .q4_0])
    func shapes(_ type: GGMLType) throws {
        var c = TinyModels.Configuration()
        c.weightType = type
        c.tiedOutput = type != .q4_1
        let (model, _) = try tinyModel(c)
        let cache = model.makeCache(capacity: 64)
        let rows = try model.forward([SequenceChunk(cache: cache, tokens: prompt, logits: .all)])
        #expect(rows.count == prompt.count)
        #expect(rows.allSatisfy { $0.count == TinyModels.vocabularySize && $0.allSatisfy(\.isFinite) })
        #expect(cache.count == prompt.count)
    }

    @Test("same input, same output (deterministic), for 1 and 2 threads")
    func determinism() throws {
        let (m1, _) = try tinyModel(threads: 1)
        let (m2, _) = try tinyModel(threads: 2)
        let a = try m1.forward([SequenceChunk(cache: m1.makeCache(capacity: 64), tokens: prompt)])
        let b = try m1.forward([SequenceChunk(cache: m1.makeCache(capacity: 64), tokens: prompt)])
        let c = try m2.forward([SequenceChunk(cache: m2.makeCache(capacity: 64), tokens: prompt)])
        #expect(a == b)
        #expect(a == c)  // rows are split across threads, each row's arithmetic is identical
    }

    @Test("KV cache: token-by-token decode equals the one-shot forward")
    func kvCacheEquivalence() throws {
        var c = TinyModels.Configuration()
        c.hidden = 128  // head dim 32
        // F32 weights keep activations unquantized: with 8-bit activations a last-bit difference
        // can flip a rounding and the comparison would measure quantization noise instead.
        c.weightType = .f32
        c.embeddingType = .f32
        let (model, _) = try tinyModel(c)
        let oneShot = try model.forward([SequenceChunk(cache: model.makeCache(capacity: 64), tokens: prompt, logits: .all)])
        let cache = model.makeCache(capacity: 64)
        var stepwise: [[Float]] = []
        for t in prompt { stepwise += try model.forward([SequenceChunk(cache: cache, tokens: [t])]) }
        // Single-token passes accumulate attention in ggml's vector order and multi-token passes in
        // tinyBLAS order (as llama.cpp does), so the two agree to rounding, not bit for bit.
        for i in prompt.indices {
            let scale = oneShot[i].map(abs).max()!
            #expect(maxAbsDiff(oneShot[i], stepwise[i]) <= 1e-4 * scale, "position \(i)")
            #expect(oneShot[i].indices.max { oneShot[i][$0] < oneShot[i][$1] } == stepwise[i].indices.max { stepwise[i][$0] < stepwise[i][$1] })
        }
        // Two-token steps use the same order as the one-shot pass: bit-identical.
        let cache2 = model.makeCache(capacity: 64)
        var pairs: [[Float]] = []
        for i in stride(from: 0, to: prompt.count, by: 2) {
            pairs += try model.forward([SequenceChunk(cache: cache2, tokens: Array(prompt[i..<(i + 2)]), logits: .all)])
        }
        #expect(pairs == oneShot)
    }

    @Test("prompts longer than the batch are chunked with identical results")
    func chunking() throws {
        let (small, _) = try tinyModel(maxBatch: 5)
        let (big, _) = try tinyModel(maxBatch: 64)
        let a = try small.forward([SequenceChunk(cache: small.makeCache(capacity: 64), tokens: prompt, logits: .all)])
        let b = try big.forward([SequenceChunk(cache: big.makeCache(capacity: 64), tokens: prompt, logits: .all)])
        #expect(a == b)
    }

    @Test("two sequences in one batch equal two separate runs")
    func multiSequence() throws {
        let (model, _) = try tinyModel()
        let other = [9, 8, 7, 6, 5]
        let together = try model.forward([
            SequenceChunk(cache: model.makeCache(capacity: 64), tokens: prompt),
            SequenceChunk(cache: model.makeCache(capacity: 64), tokens: other),
        ])
        let a = try model.forward([SequenceChunk(cache: model.makeCache(capacity: 64), tokens: prompt)])
        let b = try model.forward([SequenceChunk(cache: model.makeCache(capacity: 64), tokens: other)])
        #expect(together == a + b)
    }

    @Test("chunks of different early-exit depths in one pass equal each run alone at its depth; caches continue", arguments: [64, 7])
    func mixedDepths(maxBatch: Int) throws {
        var c = TinyModels.Configuration()
        c.layers = 4
        let (model, _) = try tinyModel(c, maxBatch: maxBatch)
        let prompts = [[5, 9, 2, 7, 3, 11], [9, 8, 7, 6, 5], [4, 4, 12, 1], [3, 1, 4, 1, 5, 9, 2]]
        let depths: [Int?] = [1, nil, 3, 1]
        // Prefill all four together (logits for every position), then one decode step together.
        let caches = prompts.map { model.makeCache(capacity: $0.count + 2) }
        func chunks(_ tokens: [[Int]], _ caches: [KVCache]) -> [SequenceChunk] {
            tokens.indices.map { i in
                var ch = SequenceChunk(cache: caches[i], tokens: tokens[i], logits: .all)
                ch.layerLimit = depths[i]
                return ch
            }
        }
        let prefill = try model.forward(chunks(prompts, caches))
        let decode = try model.forward(chunks(prompts.map { [$0[0]] }, caches))
        var row = 0
        for i in prompts.indices {
            let alone = model.makeCache(capacity: prompts[i].count + 2)
            let want = try model.forward([SequenceChunk(cache: alone, tokens: prompts[i], logits: .all)], layerLimit: depths[i])
            for w in want {
                #expect(maxAbsDiff(prefill[row], w) < 1e-4, "sequence \(i) depth \(String(describing: depths[i]))")
                row += 1
            }
            let next = try model.forward([SequenceChunk(cache: alone, tokens: [prompts[i][0]], logits: .all)], layerLimit: depths[i])
            #expect(maxAbsDiff(decode[i], next[0]) < 1e-4, "decode \(i)")
        }
        #expect(row == prefill.count)
        // Depth matters: depth 1 and the full model disagree.
        #expect(maxAbsDiff(prefill[0], try model.forward([SequenceChunk(cache: model.makeCache(capacity: 8), tokens: prompts[0], logits: .all)])[0]) > 1e-3)
    }

    @Test("bad tokens and overflowing contexts are errors and leave the cache unchanged")
    func errors() throws {
        let (model, _) = try tinyModel()
        let cache = model.makeCache(capacity: 8)
        #expect(throws: ModelError.tokenOutOfRange(99_999, vocabularySize: TinyModels.vocabularySize)) {
            try model.forward([SequenceChunk(cache: cache, tokens: [1, 99_999])])
        }
        #expect(throws: ModelError.contextOverflow(needed: 12, capacity: 8)) {
            try model.forward([SequenceChunk(cache: cache, tokens: prompt)])
        }
        #expect(cache.count == 0)
    }

    @Test("unknown architectures and missing tensors are named")
    func loadErrors() throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("mamba"))
        #expect(throws: ModelError.self) { try ArchitectureRegistry.loadModel(try GGUFFile(bytes: w.bytes()), options: ModelLoadOptions(threads: 1)) }
        do {
            _ = try ArchitectureRegistry.loadModel(try GGUFFile(bytes: w.bytes()), options: ModelLoadOptions(threads: 1))
        } catch let e as ModelError {
            #expect(e == .unsupportedArchitecture("mamba"))
            #expect(e.description.contains("llama"))
        }
        let fileNoTensors = try GGUFFile(bytes: {
            var w = GGUFWriter()
            w.set("general.architecture", .string("llama"))
            for (k, v) in [("block_count", 1), ("embedding_length", 64), ("feed_forward_length", 128), ("attention.head_count", 4), ("vocab_size", 10)] {
                w.set("llama.\(k)", .uint32(UInt32(v)))
            }
            return w.bytes()
        }())
        #expect(throws: ModelError.missingTensor("token_embd.weight")) { try ArchitectureRegistry.loadModel(fileNoTensors, options: ModelLoadOptions(threads: 1)) }
    }
}

@Suite("Sampling and generation")
struct SamplingTests {
    @Test("greedy is argmax with the lowest id on ties")
    func greedy() {
        var s = Sampler(.greedy)
        let logits: [Float] = [0, 3, 1, 3, -2]
        #expect(logits.withUnsafeBufferPointer { s.sample($0, history: []) } == 1)
    }

    @Test("top-k 1 equals greedy; a seed makes sampling reproducible; temperature spreads choices")
    func sampling() {
        var rng = SeededRandom(seed: 3)
        let logits = rng.floats(500, in: -3...3)
        var p = SamplingParameters()
        p.topK = 1
        p.seed = 1
        var s = Sampler(p)
        let argmax = logits.withUnsafeBufferPointer { Sampler.argmax($0) }
        #expect(logits.withUnsafeBufferPointer { s.sample($0, history: []) } == argmax)
        p = SamplingParameters()
        p.seed = 42
        p.temperature = 1.5
        p.minP = 0
        p.topP = 1
        p.topK = 0
        var a = Sampler(p), b = Sampler(p)
        let da = (0..<50).map { _ in logits.withUnsafeBufferPointer { a.sample($0, history: []) } }
        let db = (0..<50).map { _ in logits.withUnsafeBufferPointer { b.sample($0, history: []) } }
        #expect(da == db)
        #expect(Set(da).count > 5)
    }

    @Test("top-k sampling only draws from the k best; unfiltered sampling follows the softmax")
    func topKAndUnfiltered() {
        var rng = SeededRandom(seed: 8)
        var logits = rng.floats(5000, in: -4...4)
        logits[1234] = 5  // a clear winner
        let top5 = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(5))
        var p = SamplingParameters()
        p.topK = 5
        p.topP = 1
        p.minP = 0
        p.seed = 3
        var s = Sampler(p)
        for _ in 0..<300 { #expect(top5.contains(logits.withUnsafeBufferPointer { s.sample($0, history: []) })) }
        // Unfiltered at a low temperature: the argmax dominates; at temperature 1 many ids appear.
        p.topK = 0
        p.temperature = 0.05
        var cold = Sampler(p)
        let argmax = logits.withUnsafeBufferPointer { Sampler.argmax($0) }
        let coldDraws = (0..<100).map { _ in logits.withUnsafeBufferPointer { cold.sample($0, history: []) } }
        #expect(coldDraws.filter { $0 == argmax }.count > 90)
        p.temperature = 1
        var warm = Sampler(p)
        #expect(Set((0..<300).map { _ in logits.withUnsafeBufferPointer { warm.sample($0, history: []) } }).count > 100)
    }

    @Test("penalties push repeated tokens down")
    func penalties() {
        let logits: [Float] = [2.0, 1.9, 0]
        var p = SamplingParameters.greedy
        p.presencePenalty = 0.5
        var s = Sampler(p)
        #expect(logits.withUnsafeBufferPointer { s.sample($0, history: [0]) } == 1)
        p = .greedy
        p.repetitionPenalty = 1.1
        s = Sampler(p)
        #expect(logits.withUnsafeBufferPointer { s.sample($0, history: [0]) } == 1)
        p = .greedy
        p.frequencyPenalty = 0.06
        s = Sampler(p)
        #expect(logits.withUnsafeBufferPointer { s.sample($0, history: [0, 0]) } == 1)
    }

    @Test("generator: max tokens, stop strings, callbacks and cache reuse")
    func generator() throws {
        let (model, tokenizer) = try tinyModel()
        let gen = TextGenerator(model: model, tokenizer: tokenizer, contextSize: 128)
        let prompt = tokenizer.encode("hello world")
        var opts = GenerationOptions(maxTokens: 12, sampling: .greedy, ignoreEndOfGeneration: true)
        var streamed = ""
        let full = try gen.generate(prompt: prompt, options: opts) { streamed += $0; return true }
        #expect(full.tokens.count == 12 && full.finishReason == .length)
        #expect(streamed == full.text)
        #expect(full.text == tokenizer.decode(full.tokens))
        // Use a piece of the greedy text as a stop string: output ends right before it.
        let chars = Array(full.text)
        if chars.count >= 4 {
            let stop = String(chars[2..<4])
            opts.stop = [stop]
            var s2 = ""
            let r = try gen.generate(prompt: prompt, options: opts) { s2 += $0; return true }
            #expect(r.finishReason == .stop)
            #expect(r.text == String(full.text[..<full.text.firstRange(of: stop)!.lowerBound]))
            #expect(s2 == r.text)
        }
        // Cancel from the callback.
        opts.stop = []
        let c = try gen.generate(prompt: prompt, options: opts) { _ in false }
        #expect(c.finishReason == .cancelled || c.tokens.count < 12)
        // Reusing the cache for an extended prompt gives the same tokens as a fresh run.
        let ext = prompt + full.tokens.prefix(3)
        _ = try gen.generate(prompt: prompt, options: opts)
        let reused = try gen.generate(prompt: ext, options: opts, reuseCache: true)
        let fresh = try TextGenerator(model: model, tokenizer: tokenizer, contextSize: 128).generate(prompt: ext, options: opts)
        #expect(reused.tokens == fresh.tokens)
        #expect(reused.timings.promptTokens < ext.count)
        // After a reset nothing is reused, and reuse cannot run past what the cache holds.
        gen.reset()
        let afterReset = try gen.generate(prompt: ext, options: opts, reuseCache: true)
        #expect(afterReset.tokens == fresh.tokens && afterReset.timings.promptTokens == ext.count)
        gen.cache.reset()
        #expect(try gen.generate(prompt: ext, options: opts, reuseCache: true).tokens == fresh.tokens)
    }
}
