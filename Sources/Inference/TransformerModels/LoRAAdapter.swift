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
/// Load llama.cpp's GGUF adapter layout with ``init(file:name:hyperparameters:architecture:)``
/// (`general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha`,
/// `blk.N.attn_q.weight.lora_a` `[in, rank]` and `.lora_b` `[rank, out]` in ggml order).
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

    /// Loads an adapter in llama.cpp's GGUF layout and checks it against the base model.
    ///
    /// - Throws: ``ModelError/badAdapter(_:)`` naming what is wrong: not an adapter file, not
    ///   LoRA, a tensor for a layer or projection the model lacks, mismatched shapes or ranks, an
    ///   A without its B, non-finite values.
    public convenience init(file: GGUFFile, name: String, hyperparameters hp: ModelHyperparameters,
                            architecture: String = "llama") throws(ModelError) {
        guard file.string("general.type") == "adapter" else {
            throw .badAdapter("\(name): general.type is \(file.string("general.type").map { "'\($0)'" } ?? "missing"), expected 'adapter'")
        }
        guard file.string("adapter.type") == "lora" else {
            throw .badAdapter("\(name): adapter.type is \(file.string("adapter.type").map { "'\($0)'" } ?? "missing"), expected 'lora'")
        }
        if let arch = file.string("general.architecture"), arch != architecture {
            throw .badAdapter("\(name): made for architecture '\(arch)', the model is '\(architecture)'")
        }
        let alpha = Float(file.double("adapter.lora.alpha") ?? 0)
        guard alpha.isFinite, alpha >= 0 else { throw .badAdapter("\(name): adapter.lora.alpha \(alpha) is not a finite non-negative number") }
        var pairs = [[Pair?]](repeating: [Pair?](repeating: nil, count: Target.allCases.count), count: hp.layers)
        var seen = Set<String>()
        for info in file.tensors {
            let n = info.name
            guard n.hasSuffix(".lora_a") || n.hasSuffix(".lora_b") else {
                throw .badAdapter("\(name): unexpected tensor '\(n)' (a LoRA adapter holds only .lora_a / .lora_b tensors)")
            }
            let stem = String(n.dropLast(7))  // blk.N.attn_q.weight
            guard !seen.contains(stem) else { continue }
            seen.insert(stem)
            guard let (layer, block) = GGUFTensorName.Block.parse(stem), let target = Target(block) else {
                throw .badAdapter("\(name): tensor '\(n)' does not name a supported projection (blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down}.weight)")
            }
            guard layer >= 0 && layer < hp.layers else {
                throw .badAdapter("\(name): tensor '\(n)' is for layer \(layer), the model has \(hp.layers)")
            }
            guard let ta = file.tensor(named: stem + ".lora_a"), let tb = file.tensor(named: stem + ".lora_b") else {
                throw .badAdapter("\(name): '\(stem)' has only one of .lora_a and .lora_b")
            }
            let (inputs, outputs) = target.dimensions(hp)
            guard ta.shape.count == 2, tb.shape.count == 2, ta.shape[0] == inputs, tb.shape[1] == outputs,
                  ta.shape[1] == tb.shape[0], ta.shape[1] >= 1 else {
                throw .badAdapter("\(name): '\(stem)' has lora_a \(ta.shape) and lora_b \(tb.shape); expected [\(inputs), r] and [r, \(outputs)] for this model")
            }
            let rank = ta.shape[1]
            let a = file.floats(for: ta), b = file.floats(for: tb)
            guard a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else {
                throw .badAdapter("\(name): '\(stem)' contains NaN or infinite values")
            }
            let scale: Float = alpha == 0 ? 1 : alpha / Float(rank)
            pairs[layer][target.rawValue] = Pair(a: a, b: b, rank: rank, inputs: inputs, outputs: outputs, scale: scale)
        }
        guard !seen.isEmpty else { throw .badAdapter("\(name): the file holds no LoRA tensors") }
        self.init(name: name, alpha: alpha, pairs: pairs)
    }

    /// Writes the adapter in llama.cpp's GGUF adapter layout (f32 tensors).
    public func ggufWriter(architecture: String) -> GGUFWriter {
        var w = GGUFWriter()
        w.set("general.architecture", .string(architecture))
        w.set("general.type", .string("adapter"))
        w.set("general.name", .string(name))
        w.set("adapter.type", .string("lora"))
        w.set("adapter.lora.alpha", .float32(alpha))
        for (layer, row) in pairs.enumerated() {
            for target in Target.allCases {
                guard let p = row[target.rawValue] else { continue }
                let stem = target.block.name(layer: layer)
                w.addTensor(name: stem + ".lora_a", shape: [p.inputs, p.rank], floats: p.a)
                w.addTensor(name: stem + ".lora_b", shape: [p.rank, p.outputs], floats: p.b)
            }
        }
        return w
    }

    /// The base model with this adapter merged in: every adapted projection becomes an f32 tensor
    /// `W + scale·B·A` (dequantized first); every other tensor and all metadata are copied as they
    /// are. This is how vLLM-style serving runs an adapter (one model copy per adapter).
    public func merged(into base: GGUFFile) -> GGUFWriter {
        var w = GGUFWriter(alignment: base.alignment)
        for key in base.metadataKeys where key != "general.alignment" { w.set(key, base.metadata[key]!) }
        for info in base.tensors {
            if let (layer, block) = GGUFTensorName.Block.parse(info.name), layer < pairs.count,
               let target = Target(block), let p = pair(layer: layer, target) {
                var m = base.floats(for: info)  // [outputs, inputs]
                var ba = [Float](repeating: 0, count: p.inputs)
                for o in 0..<p.outputs {
                    for i in 0..<p.inputs { ba[i] = 0 }
                    for r in 0..<p.rank {
                        let b = p.bT[r * p.outputs + o]
                        let a = p.a[(r * p.inputs)..<((r + 1) * p.inputs)]
                        for (i, av) in a.enumerated() { ba[i] += b * av }
                    }
                    for i in 0..<p.inputs { m[o * p.inputs + i] += p.scale * ba[i] }
                }
                w.addTensor(name: info.name, shape: info.shape, floats: m)
            } else {
                w.addTensor(name: info.name, shape: info.shape, type: info.type, data: Array(base.data(for: info)))
            }
        }
        return w
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
