// SPDX-License-Identifier: Apache-2.0

public import GGUF
public import TransformerModels

/// llama.cpp's GGUF adapter layout: `general.type = adapter`, `adapter.type = lora`,
/// `adapter.lora.alpha`, and per adapted projection `blk.N.<proj>.weight.lora_a` `[in, rank]` and
/// `.lora_b` `[rank, out]` in ggml order. Reading checks the file against the base model; writing
/// emits f32 tensors; merging is the vLLM-style baseline (one model copy per adapter).
extension LoRAAdapter {
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

    /// The base model with this adapter merged in: every adapted projection becomes `W + scale·B·A`
    /// (dequantized first), as f32 or, with `keepStoredTypes`, re-quantized to its stored type (the
    /// copy then runs the same kernels as the base); every other tensor and all metadata are copied
    /// as they are. This is how vLLM-style serving runs an adapter (one model copy per adapter).
    /// Throws ``GGUFError/cannotEncode(tensor:type:)`` for a stored type Tern cannot write.
    public func merged(into base: GGUFFile, keepStoredTypes: Bool = false) throws -> GGUFWriter {
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
                if keepStoredTypes && info.type != .f32 {
                    guard GGMLQuantizer.canEncode(info.type) else { throw GGUFError.cannotEncode(tensor: info.name, type: "\(info.type)") }
                    w.addTensor(name: info.name, shape: info.shape, type: info.type, data: GGMLQuantizer.quantize(m, as: info.type))
                } else {
                    w.addTensor(name: info.name, shape: info.shape, floats: m)
                }
            } else {
                w.addTensor(name: info.name, shape: info.shape, type: info.type, data: Array(base.data(for: info)))
            }
        }
        return w
    }
}
