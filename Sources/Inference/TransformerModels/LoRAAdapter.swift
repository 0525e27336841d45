// SPDX-License-Identifier: Apache-2.0

public import GGUF
import Synchronization

/// Source of ``LoRAAdapter/instanceID``.
private let adapterInstances = Atomic<UInt64>(1)

/// A LoRA adapter for a Llama model: for some layers and projections a pair `A [rank, in]`,
/// `B [out, rank]` and a scale, so the projection becomes `W·x + scale · B·(A·x)`.
///
/// The base weights are never modified: ``LlamaModel`` adds each token's own adapter term after
/// the shared base projection, so requests with different adapters (or none) share one batch.
/// Ranks may differ between projections and between adapters.
///
/// This is the engine's view of an adapter (weights, ranks, scales). The file formats (llama.cpp's
/// GGUF adapter layout, PEFT directories), the host store and merging live in `MultiLoRA`.
public final class LoRAAdapter: @unchecked Sendable {
    /// A projection an adapter can target, by llama.cpp's tensor name.
    public enum Target: Int, CaseIterable, Sendable, CustomStringConvertible {
        case q, k, v, o, gate, up, down

        /// The block tensor this projection adapts.
        public var block: GGUFTensorName.Block {
            switch self {
            case .q: .query
            case .k: .key
            case .v: .value
            case .o: .attentionOutput
            case .gate: .gate
            case .up: .up
            case .down: .down
            }
        }

        /// The target adapting `block`, nil for the norms.
        public init?(_ block: GGUFTensorName.Block) {
            guard let t = Target.allCases.first(where: { $0.block == block }) else { return nil }
            self = t
        }

        /// The GGUF tensor stem: `attn_q`, `attn_k`, `attn_v`, `attn_output`, `ffn_gate`, `ffn_up`, `ffn_down`.
        public var ggufName: String { block.rawValue }

        /// Hugging Face / PEFT module name: `q_proj`, …, `down_proj`.
        public var peftName: String {
            switch self {
            case .q: "q_proj"
            case .k: "k_proj"
            case .v: "v_proj"
            case .o: "o_proj"
            case .gate: "gate_proj"
            case .up: "up_proj"
            case .down: "down_proj"
            }
        }

        public var description: String { ggufName }

        /// `q`, `k`, `v`, `o`, `gate`, `up` or `down` (as on the command line).
        public var shortName: String { String(peftName.dropLast("_proj".count)) }

        /// The target of that short name.
        public init?(shortName: String) {
            guard let t = Target.allCases.first(where: { $0.shortName == shortName }) else { return nil }
            self = t
        }

        /// `(inputs, outputs)` of this projection in a model with hyperparameters `hp`.
        public func dimensions(_ hp: ModelHyperparameters) -> (inputs: Int, outputs: Int) {
            switch self {
            case .q: (hp.hidden, hp.heads * hp.headDim)
            case .k, .v: (hp.hidden, hp.kvDim)
            case .o: (hp.heads * hp.headDim, hp.hidden)
            case .gate, .up: (hp.hidden, hp.feedForward)
            case .down: (hp.feedForward, hp.hidden)
            }
        }
    }

    /// One low-rank pair.
    public struct Pair: Sendable {
        /// Rank r.
        public let rank: Int
        /// Input features.
        public let inputs: Int
        /// Output features.
        public let outputs: Int
        /// The multiplier of `B·A` (llama.cpp: `alpha / rank`, or 1 when alpha is 0).
        public let scale: Float
        /// `[rank, inputs]`.
        public let a: [Float]
        /// `[rank, outputs]`: B transposed, for contiguous expansion.
        public let bT: [Float]

        /// Creates a pair from `a [rank, inputs]` and `b [outputs, rank]` (PyTorch's layouts).
        public init(a: [Float], b: [Float], rank: Int, inputs: Int, outputs: Int, scale: Float) {
            precondition(a.count == rank * inputs && b.count == outputs * rank, "LoRAAdapter.Pair: shapes do not match rank \(rank)")
            self.rank = rank
            self.inputs = inputs
            self.outputs = outputs
            self.scale = scale
            self.a = a
            var t = [Float](repeating: 0, count: rank * outputs)
            for o in 0..<outputs { for r in 0..<rank { t[r * outputs + o] = b[o * rank + r] } }
            bT = t
        }

        /// `B` in `[outputs, rank]` layout.
        public var b: [Float] {
            var m = [Float](repeating: 0, count: rank * outputs)
            for o in 0..<outputs { for r in 0..<rank { m[o * rank + r] = bT[r * outputs + o] } }
            return m
        }
    }

    /// The adapter's name (a model id when served).
    public let name: String
    /// Unique per loaded instance (never reused in a process): KV computed under one adapter is
    /// never served to another, even one later loaded under the same name.
    public let instanceID: UInt64
    /// `alpha` as stored (0 when the file gave none).
    public let alpha: Float
    /// `[layer][Target.rawValue]`: the pair for that projection, or nil.
    public let pairs: [[Pair?]]

    /// Largest rank of any pair.
    public var maxRank: Int { pairs.joined().compactMap { $0?.rank }.max() ?? 0 }
    /// Number of adapter parameters (A and B of every pair).
    public var parameterCount: Int { pairs.joined().compactMap { $0 }.reduce(0) { $0 + $1.rank * ($1.inputs + $1.outputs) } }
    /// Bytes of adapter weights held in memory (f32).
    public var byteCount: Int { parameterCount * 4 }
    /// Which projections some layer adapts.
    public var targets: [Target] { Target.allCases.filter { t in pairs.contains { $0[t.rawValue] != nil } } }

    /// The pair for `target` in `layer`, if any.
    @inline(__always)
    public func pair(layer: Int, _ target: Target) -> Pair? { pairs[layer][target.rawValue] }

    /// Creates an adapter from its pairs, `[layer][Target.rawValue]`.
    public init(name: String, alpha: Float, pairs: [[Pair?]]) {
        precondition(pairs.allSatisfy { $0.count == Target.allCases.count }, "LoRAAdapter: one slot per target per layer")
        self.name = name
        self.alpha = alpha
        self.pairs = pairs
        instanceID = adapterInstances.add(1, ordering: .relaxed).newValue
    }

    /// A deterministic synthetic adapter (S-LoRA's synthetic setting): every listed projection of
    /// every layer gets a rank-`rank` pair with entries uniform in ±`magnitude`, from `seed`.
    public static func synthetic(name: String, hyperparameters hp: ModelHyperparameters, rank: Int,
                                 targets: [Target] = [.q, .k, .v, .o], alpha: Float? = nil, magnitude: Float = 0.05,
                                 seed: UInt64) -> LoRAAdapter {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> Float {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * magnitude
        }
        let alpha = alpha ?? Float(rank)
        let pairs: [[Pair?]] = (0..<hp.layers).map { _ in
            Target.allCases.map { t -> Pair? in
                guard targets.contains(t) else { return nil }
                let (i, o) = t.dimensions(hp)
                let a = (0..<(rank * i)).map { _ in next() }
                let b = (0..<(o * rank)).map { _ in next() }
                return Pair(a: a, b: b, rank: rank, inputs: i, outputs: o, scale: alpha == 0 ? 1 : alpha / Float(rank))
            }
        }
        return LoRAAdapter(name: name, alpha: alpha, pairs: pairs)
    }
}
