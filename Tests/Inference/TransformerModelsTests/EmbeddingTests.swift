// SPDX-License-Identifier: Apache-2.0

import GGUF
import TestSupport
import Testing
import Tokenization
import TransformerModels

@Suite("Pooled hidden-state embeddings")
struct EmbeddingTests {
    let tokens = [5, 70, 200, 33, 101, 268, 40, 41, 42, 7]

    /// The naive reference: one forward pass, every layer's output captured through the tap.
    func layerOutput(_ model: LlamaModel, _ tokens: [Int], layer: Int) throws -> [[Float]] {
        let hidden = model.hyperparameters.hidden
        var rows: [[Float]] = []
        model.tap = { name, values in
            guard name == "l_out-\(layer - 1)" else { return }
            for r in 0..<(values.count / hidden) { rows.append(Array(values[(r * hidden)..<((r + 1) * hidden)])) }
        }
        defer { model.tap = nil }
        _ = try model.forward([SequenceChunk(cache: model.makeCache(capacity: 64), tokens: tokens, logits: .none)])
        return rows
    }

    @Test("mean and last pooling match the layer's rows; any layer; split passes change nothing")
    func pooling() throws {
        // maxBatch 4: a 10-token sequence runs in three passes, which the pooling must join.
        let (model, _) = try tinyModel(maxBatch: 4)
        let (reference, _) = try tinyModel(maxBatch: 64)
        for layer in [1, 2] {
            let rows = try layerOutput(reference, tokens, layer: layer)
            #expect(rows.count == tokens.count)
            let mean = (0..<rows[0].count).map { j in rows.map { $0[j] }.reduce(0, +) / Float(rows.count) }
            let e = try model.embed([tokens, Array(tokens.prefix(3))], pooling: .mean, layer: layer)
            #expect(e.count == 2 && e[0].count == model.hyperparameters.hidden)
            #expect(maxAbsDiff(e[0], mean) < 1e-4)
            let last = try model.embed([tokens], pooling: .last, layer: layer)[0]
            #expect(maxAbsDiff(last, rows.last!) < 1e-4)
            // A causal model: the first three tokens' states do not depend on what follows.
            let prefixMean = (0..<rows[0].count).map { j in rows.prefix(3).map { $0[j] }.reduce(0, +) / 3 }
            #expect(maxAbsDiff(e[1], prefixMean) < 1e-4)
        }
        let unit = try model.embed([tokens], normalize: true)[0]
        #expect(abs(unit.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
    }

    @Test("bad input is a clear error")
    func errors() throws {
        let (model, _) = try tinyModel()
        #expect(throws: ModelError.invalidArgument("cannot embed an empty token sequence")) { try model.embed([[]]) }
        #expect(throws: ModelError.invalidArgument("embedding layer 3 outside 1...2")) { try model.embed([tokens], layer: 3) }
        #expect(throws: ModelError.tokenOutOfRange(99999, vocabularySize: model.hyperparameters.vocabularySize)) { try model.embed([[99999]]) }
    }
}

@Suite("Embeddings of SmolLM2-135M")
struct SmolLM2EmbeddingTests {
    @Test("paraphrases sit closer than unrelated sentences (mean pooling, last layer)")
    func paraphrases() throws {
        let loaded = try ArchitectureRegistry.load(path: Fixtures.requireDefaultModel(), options: ModelLoadOptions(threads: 2, maxBatchTokens: 256))
        let model = loaded.model, tokenizer = loaded.tokenizer
        let texts = ["The cat sat on the mat.", "A cat was sitting on the rug.",
                     "Stock markets fell sharply after the bank raised interest rates.",
                     "Shares dropped when the central bank increased rates."]
        func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map(*).reduce(0, +) }
        // Middle layers are dominated by a few huge shared dimensions (every pair has cosine above
        // 0.999 at layer 15, paraphrases ahead by only 2e-4), so the claim is made at the last layer.
        for layer in [30] {
            let e = try model.embed(texts: texts, tokenizer: tokenizer, pooling: .mean, layer: layer, normalize: true)
            let same = min(cosine(e[0], e[1]), cosine(e[2], e[3]))
            let other = max(cosine(e[0], e[2]), cosine(e[0], e[3]), cosine(e[1], e[2]), cosine(e[1], e[3]))
            #expect(same > other, "layer \(layer): paraphrase min \(same), unrelated max \(other)")
        }
    }
}
