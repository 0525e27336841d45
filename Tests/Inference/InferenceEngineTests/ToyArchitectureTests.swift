// SPDX-License-Identifier: Apache-2.0

import GGUF
import InferenceEngine
import TestSupport
import Testing
import Tokenization
import TransformerModels

/// A whole architecture in one file: the next token's logits are row `token` of a `[vocab, vocab]`
/// table (`bigram.weight`). It keeps no keys or values; it only advances its caches.
final class BigramModel: LanguageModel, @unchecked Sendable {
    let architecture = "toy-bigram"
    let hyperparameters: ModelHyperparameters
    let maxBatchTokens = 64
    var maxContext: Int { hyperparameters.contextLength }
    private let table: [Float]  // [vocab, vocab]
    private let rows: UnsafeMutablePointer<Float>  // [maxOutputRows, vocab]
    private let maxOutputRows = 256

    init(file: GGUFFile) throws {
        hyperparameters = try ModelHyperparameters(file: file, arch: architecture)
        guard let t = file.tensor(named: "bigram.weight") else { throw ModelError.missingTensor("bigram.weight") }
        let vocab = hyperparameters.vocabularySize
        guard t.shape == [vocab, vocab] else { throw ModelError.badTensorShape("bigram.weight", expected: [vocab, vocab], found: t.shape) }
        table = file.floats(for: t)
        rows = .allocate(capacity: maxOutputRows * vocab)
    }

    deinit { rows.deallocate() }

    func makeCache(capacity: Int) -> KVCache { KVCache(hyperparameters: hyperparameters, capacity: min(capacity, maxContext)) }

    func forward(_ batch: ForwardBatch) throws(ModelError) -> ForwardOutput {
        let vocab = hyperparameters.vocabularySize
        var perSlot = [Int](repeating: 0, count: batch.caches.count)
        var wanted: [Int] = []
        for i in 0..<batch.count {
            guard (0..<vocab).contains(batch.tokens[i]) else { throw .tokenOutOfRange(batch.tokens[i], vocabularySize: vocab) }
            perSlot[batch.sequences[i]] += 1
            if batch.outputs[i] { wanted.append(i) }
        }
        guard wanted.count <= maxOutputRows else { throw .invalidArgument("at most \(maxOutputRows) output rows") }
        for (r, i) in wanted.enumerated() {
            for j in 0..<vocab { rows[r * vocab + j] = table[batch.tokens[i] * vocab + j] }
        }
        for (s, n) in perSlot.enumerated() { batch.caches[s].advance(by: n) }
        return ForwardOutput(tokenIndices: wanted, width: vocab, base: rows)
    }

    func check(_ adapter: LoRAAdapter) throws(ModelError) { throw .badAdapter("toy-bigram takes no adapters") }

    /// The chain the table encodes: never a control token (ids 0...2).
    static func next(_ t: Int) -> Int { 3 + (t * 7 + 5) % (TinyModels.vocabularySize - 3) }

    /// A GGUF image of the toy: tiny-model tokenizer metadata, one-hot rows at ``next(_:)``.
    static func file() -> [UInt8] {
        let vocab = TinyModels.vocabularySize
        var w = GGUFWriter()
        w.set("general.architecture", .string("toy-bigram"))
        for (k, v) in [("block_count", 1), ("embedding_length", 8), ("feed_forward_length", 8), ("attention.head_count", 2),
                       ("context_length", 128)] {
            w.set("toy-bigram." + k, .uint32(UInt32(v)))
        }
        for (k, v) in TinyModels.tokenizerMetadata() { w.set(k, v) }
        var table = [Float](repeating: 0, count: vocab * vocab)
        for t in 0..<vocab { table[t * vocab + next(t)] = 1 }
        w.addTensor(name: "bigram.weight", shape: [vocab, vocab], floats: table)
        return w.bytes()
    }
}

@Suite("A new architecture is one file plus one registry entry")
struct ToyArchitectureTests {
    @Test("the toy bigram model loads through the registry and serves concurrent requests through the engine")
    func servesThroughEngine() async throws {
        ArchitectureRegistry.register("toy-bigram") { file, _ in try BigramModel(file: file) }
        #expect(ArchitectureRegistry.names.contains("toy-bigram"))
        let loaded = try ArchitectureRegistry.load(file: GGUFFile(bytes: BigramModel.file()))
        #expect(loaded.model is BigramModel && loaded.model.architecture == "toy-bigram")
        var c = EngineConfiguration()
        c.kvMemoryBytes = 1 << 20
        c.pageSize = 4
        c.contextSize = 128
        let engine = EngineClient(model: loaded.model, tokenizer: loaded.tokenizer, configuration: c)
        engine.start()
        defer { engine.shutdown() }
        let starts = [10, 50, 200]
        let outcomes = try await withThrowingTaskGroup(of: (Int, [Int]).self) { group in
            for (i, s) in starts.enumerated() {
                group.addTask {
                    var r = GenerationRequest(prompt: [5, 6, s])
                    r.maxTokens = 6
                    r.sampling = .greedy
                    r.ignoreEndOfGeneration = true
                    return (i, try await run(engine, r).tokens)
                }
            }
            var out = [[Int]](repeating: [], count: starts.count)
            for try await (i, tokens) in group { out[i] = tokens }
            return out
        }
        for (i, s) in starts.enumerated() {
            var expected: [Int] = []
            var t = s
            for _ in 0..<6 {
                t = BigramModel.next(t)
                expected.append(t)
            }
            #expect(outcomes[i] == expected, "request \(i)")
        }
        // Adapters are refused by the architecture itself, a clear error.
        #expect(throws: ModelError.badAdapter("toy-bigram takes no adapters")) {
            try loaded.model.check(LoRAAdapter.synthetic(name: "x", hyperparameters: loaded.model.hyperparameters, rank: 2, magnitude: 1, seed: 1))
        }
    }
}
