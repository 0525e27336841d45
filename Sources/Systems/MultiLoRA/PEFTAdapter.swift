// SPDX-License-Identifier: Apache-2.0

import Support
import Foundation
public import TransformerModels

/// Loads LoRA adapters saved by Hugging Face PEFT: a directory with `adapter_config.json` and
/// `adapter_model.safetensors`.
///
/// Keys look like `base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight` (`[r, in]`) and
/// `….lora_B.weight` (`[out, r]`). Hugging Face stores the rows of `q_proj` and `k_proj` in the
/// rotary "half-split" order while GGUF models (converted by llama.cpp) interleave them, so the
/// rows of `B` for those two projections are permuted the same way llama.cpp's converter permutes
/// the base weights. Scale: `lora_alpha / r`, or `lora_alpha / √r` with `use_rslora`.
public enum PEFTAdapter {
    /// Why a PEFT adapter could not be read.
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ s: String) { description = s }
    }

    struct Config: Decodable {
        var r: Int?
        var lora_alpha: Double?
        var use_rslora: Bool?
        var fan_in_fan_out: Bool?
        var bias: String?
        var modules_to_save: [String]?
        var alpha_pattern: [String: Double]?
        var rank_pattern: [String: Int]?
        var use_dora: Bool?
        var peft_type: String?
    }

    /// Reads the adapter in `directory` for a model with hyperparameters `hp`.
    public static func load(directory: String, name: String, hyperparameters hp: ModelHyperparameters) throws(LoadError) -> LoRAAdapter {
        let configPath = directory + "/adapter_config.json", weightsPath = directory + "/adapter_model.safetensors"
        let config: Config
        do {
            config = try JSONDecoder().decode(Config.self, from: Data(contentsOf: URL(fileURLWithPath: configPath)))
        } catch {
            throw LoadError("adapter_config.json: \(error)")
        }
        if let t = config.peft_type, t.uppercased() != "LORA" { throw LoadError("peft_type is '\(t)'; only LORA adapters are supported") }
        if config.fan_in_fan_out == true { throw LoadError("fan_in_fan_out adapters (GPT-2 Conv1D layers) are not supported") }
        if let b = config.bias, b != "none" { throw LoadError("bias '\(b)': adapters that train biases are not supported") }
        if let m = config.modules_to_save, !m.isEmpty { throw LoadError("modules_to_save \(m): adapters that replace whole modules are not supported") }
        if let a = config.alpha_pattern, !a.isEmpty { throw LoadError("alpha_pattern is not supported (per-module alpha)") }
        if config.use_dora == true { throw LoadError("DoRA adapters are not supported") }
        guard let alpha = config.lora_alpha, alpha.isFinite, alpha >= 0 else { throw LoadError("adapter_config.json lacks a valid lora_alpha") }
        let tensors: [String: SafeTensor]
        do {
            tensors = try SafeTensors.read(path: weightsPath).tensors
        } catch {
            throw LoadError("adapter_model.safetensors: \(error)")
        }

        var a: [String: SafeTensor] = [:], b: [String: SafeTensor] = [:]
        for (key, t) in tensors {
            let k = key.replacingOccurrences(of: ".default.weight", with: ".weight")
            if k.hasSuffix(".lora_A.weight") { a[String(k.dropLast(".lora_A.weight".count))] = t }
            else if k.hasSuffix(".lora_B.weight") { b[String(k.dropLast(".lora_B.weight".count))] = t }
            else if k.contains("lora_embedding") || k.contains("magnitude") { throw LoadError("tensor '\(key)' is not a LoRA A/B matrix of a linear layer") }
        }
        guard !a.isEmpty else { throw LoadError("no lora_A / lora_B tensors found") }
        var pairs = [[LoRAAdapter.Pair?]](repeating: [LoRAAdapter.Pair?](repeating: nil, count: LoRAAdapter.Target.allCases.count), count: hp.layers)
        for (module, ta) in a {
            guard let tb = b[module] else { throw LoadError("'\(module)' has lora_A but no lora_B") }
            // …layers.<i>.(self_attn|mlp).<proj>
            let parts = module.split(separator: ".")
            guard let li = parts.firstIndex(of: "layers"), li + 1 < parts.count, let layer = Int(parts[li + 1]),
                  let target = LoRAAdapter.Target.allCases.first(where: { $0.peftName == parts.last! }) else {
                throw LoadError("'\(module)' is not a supported projection (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj of a decoder layer)")
            }
            guard layer >= 0 && layer < hp.layers else { throw LoadError("'\(module)' is layer \(layer); the model has \(hp.layers)") }
            let (inputs, outputs) = target.dimensions(hp)
            guard ta.shape.count == 2, tb.shape.count == 2, ta.shape[1] == inputs, tb.shape[0] == outputs, ta.shape[0] == tb.shape[1], ta.shape[0] >= 1 else {
                throw LoadError("'\(module)': lora_A \(ta.shape), lora_B \(tb.shape); expected [r, \(inputs)] and [\(outputs), r]")
            }
            let rank = ta.shape[0]
            var bm = tb.floats
            if target == .q || target == .k {
                bm = permuteRotaryRows(bm, heads: target == .q ? hp.heads : hp.kvHeads, columns: rank)
            }
            let av = ta.floats
            guard av.allSatisfy(\.isFinite), bm.allSatisfy(\.isFinite) else { throw LoadError("'\(module)' contains NaN or infinite values") }
            let scale = Float(config.use_rslora == true ? alpha / Double(rank).squareRoot() : alpha / Double(rank))
            pairs[layer][target.rawValue] = LoRAAdapter.Pair(a: av, b: bm, rank: rank, inputs: inputs, outputs: outputs, scale: scale)
        }
        return LoRAAdapter(name: name, alpha: Float(alpha), pairs: pairs)
    }

    /// llama.cpp's Q/K permutation: rows `[heads, 2, half, columns]` become `[heads, half, 2, columns]`.
    public static func permuteRotaryRows(_ m: [Float], heads: Int, columns: Int) -> [Float] {
        let rows = m.count / columns, headDim = rows / heads, half = headDim / 2
        var out = [Float](repeating: 0, count: m.count)
        for h in 0..<heads {
            for p in 0..<2 {
                for j in 0..<half {
                    let src = h * headDim + p * half + j, dst = h * headDim + j * 2 + p
                    for c in 0..<columns { out[dst * columns + c] = m[src * columns + c] }
                }
            }
        }
        return out
    }
}
