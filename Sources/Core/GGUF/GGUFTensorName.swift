// SPDX-License-Identifier: Apache-2.0

/// The GGUF tensor names of Llama-family decoders, as llama.cpp writes them. Inference, LoRA
/// adapters, the trainable twin, merge tools and the test models all spell names through this table.
///
/// ```swift
/// file.tensor(named: GGUFTensorName.tokenEmbedding)
/// file.tensor(named: GGUFTensorName.Block.query.name(layer: 3))  // "blk.3.attn_q.weight"
/// ```
public enum GGUFTensorName {
    /// Token embeddings, `[vocab, hidden]`.
    public static let tokenEmbedding = "token_embd.weight"
    /// The final RMSNorm weight, `[hidden]`.
    public static let outputNorm = "output_norm.weight"
    /// The output head, `[vocab, hidden]` (absent when tied to the embeddings).
    public static let output = "output.weight"

    /// A per-block tensor, `blk.N.<stem>.weight`.
    public enum Block: String, CaseIterable, Sendable {
        case attentionNorm = "attn_norm"
        case query = "attn_q"
        case key = "attn_k"
        case value = "attn_v"
        case attentionOutput = "attn_output"
        case feedForwardNorm = "ffn_norm"
        case gate = "ffn_gate"
        case up = "ffn_up"
        case down = "ffn_down"

        /// The full name of this tensor in block `layer`.
        public func name(layer: Int) -> String { "blk.\(layer).\(rawValue).weight" }

        /// Parses `blk.N.<stem>.weight`; nil for any other name.
        public static func parse(_ name: some StringProtocol) -> (layer: Int, block: Block)? {
            let parts = name.split(separator: ".")
            guard parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0, parts[3] == "weight",
                  let block = Block(rawValue: String(parts[2])) else { return nil }
            return (layer, block)
        }
    }
}
