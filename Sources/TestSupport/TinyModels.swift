// SPDX-License-Identifier: Apache-2.0

import Support
public import GGUF

/// Builds tiny random-weight Llama GGUF models with a byte-level BPE tokenizer, for tests that need
/// no download.
public enum TinyModels {
    /// Shape and storage choices for a tiny model.
    public struct Configuration: Sendable {
        public var layers = 2
        public var hidden = 64
        public var feedForward = 128
        public var heads = 4
        public var kvHeads = 2
        public var contextLength = 256
        public var weightType: GGMLType = .q4_1
        public var embeddingType: GGMLType = .q8_0
        public var tiedOutput = true
        public var seed: UInt64 = 1
        public var chatTemplate: String? = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"

        public init() {}
    }

    /// The tokenizer metadata of the tiny models: 3 control tokens, 256 byte tokens, and merges
    /// for a handful of English pieces.
    public static func tokenizerMetadata() -> [(String, MetadataValue)] {
        var tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        var types: [MetadataValue] = [.int32(3), .int32(3), .int32(3)]
        // Byte-level symbols for all 256 bytes, in GPT-2's order.
        var printable: [Int] = []
        for r in [0x21...0x7E, 0xA1...0xAC, 0xAE...0xFF] { printable.append(contentsOf: r) }
        var next = 256
        var byteScalar = [String](repeating: "", count: 256)
        for b in 0..<256 {
            if printable.contains(b) {
                byteScalar[b] = String(Unicode.Scalar(UInt32(b))!)
            } else {
                byteScalar[b] = String(Unicode.Scalar(UInt32(next))!)
                next += 1
            }
        }
        for b in 0..<256 {
            tokens.append(byteScalar[b])
            types.append(.int32(1))
        }
        let space = byteScalar[0x20]
        let merges = ["h e", "l l", "\(space) w", "o r", "he ll", "hell o", "\(space)w or", "\(space)wor l", "\(space)worl d", "\(space) t", "\(space)t he"]
        for m in merges {
            let parts = m.split(separator: " ")
            tokens.append(String(parts[0]) + String(parts[1]))
            types.append(.int32(1))
        }
        return [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("smollm")),
            ("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) })),
            ("tokenizer.ggml.token_type", .array(.int32, types)),
            ("tokenizer.ggml.merges", .array(.string, merges.map { .string($0) })),
            ("tokenizer.ggml.bos_token_id", .uint32(1)),
            ("tokenizer.ggml.eos_token_id", .uint32(2)),
            ("tokenizer.ggml.add_bos_token", .bool(false)),
        ]
    }

    /// Vocabulary size of ``tokenizerMetadata()``.
    public static let vocabularySize = 3 + 256 + 11

    /// A complete tiny Llama model as a GGUF image.
    public static func llama(_ c: Configuration = Configuration()) -> [UInt8] {
        var rng = SeededRandom(seed: c.seed)
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("general.name", .string("tiny-test-llama"))
        w.set("llama.block_count", .uint32(UInt32(c.layers)))
        w.set("llama.context_length", .uint32(UInt32(c.contextLength)))
        w.set("llama.embedding_length", .uint32(UInt32(c.hidden)))
        w.set("llama.feed_forward_length", .uint32(UInt32(c.feedForward)))
        w.set("llama.attention.head_count", .uint32(UInt32(c.heads)))
        w.set("llama.attention.head_count_kv", .uint32(UInt32(c.kvHeads)))
        w.set("llama.rope.freq_base", .float32(10000))
        w.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.set("llama.vocab_size", .uint32(UInt32(vocabularySize)))
        for (k, v) in tokenizerMetadata() { w.set(k, v) }
        if let t = c.chatTemplate { w.set("tokenizer.chat_template", .string(t)) }

        let vocab = vocabularySize
        let headDim = c.hidden / c.heads
        func matrix(_ name: String, rows: Int, cols: Int, type: GGMLType, scale: Float) {
            let x = rng.floats(rows * cols, in: -scale...scale)
            w.addTensor(name: name, shape: [cols, rows], type: type, data: Quantizers.quantize(x, as: type))
        }
        func norm(_ name: String, _ n: Int) {
            w.addTensor(name: name, shape: [n], floats: rng.floats(n, in: 0.8...1.2))
        }
        typealias Name = GGUFTensorName
        matrix(Name.tokenEmbedding, rows: vocab, cols: c.hidden, type: c.embeddingType, scale: 1)
        norm(Name.outputNorm, c.hidden)
        if !c.tiedOutput { matrix(Name.output, rows: vocab, cols: c.hidden, type: c.weightType, scale: 0.2) }
        let s = 1 / Float(c.hidden).squareRoot()
        for i in 0..<c.layers {
            norm(Name.Block.attentionNorm.name(layer: i), c.hidden)
            matrix(Name.Block.query.name(layer: i), rows: c.heads * headDim, cols: c.hidden, type: c.weightType, scale: s * 2)
            matrix(Name.Block.key.name(layer: i), rows: c.kvHeads * headDim, cols: c.hidden, type: c.weightType, scale: s * 2)
            matrix(Name.Block.value.name(layer: i), rows: c.kvHeads * headDim, cols: c.hidden, type: c.weightType, scale: s)
            matrix(Name.Block.attentionOutput.name(layer: i), rows: c.hidden, cols: c.heads * headDim, type: c.weightType, scale: s)
            norm(Name.Block.feedForwardNorm.name(layer: i), c.hidden)
            matrix(Name.Block.gate.name(layer: i), rows: c.feedForward, cols: c.hidden, type: c.weightType, scale: s)
            matrix(Name.Block.up.name(layer: i), rows: c.feedForward, cols: c.hidden, type: c.weightType, scale: s)
            matrix(Name.Block.down.name(layer: i), rows: c.hidden, cols: c.feedForward, type: c.weightType, scale: 1 / Float(c.feedForward).squareRoot())
        }
        return w.bytes()
    }
}
