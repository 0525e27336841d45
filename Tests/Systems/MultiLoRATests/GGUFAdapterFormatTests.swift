// SPDX-License-Identifier: Apache-2.0

import GGUF
import MultiLoRA
import TestSupport
import Testing
import TransformerModels

/// The tiny random-weight Llama's shapes (what adapters are checked against).
func tinyHyperparameters() throws -> ModelHyperparameters {
    try ArchitectureRegistry.load(file: GGUFFile(bytes: TinyModels.llama())).model.hyperparameters
}

@Suite("llama.cpp's GGUF adapter layout")
struct GGUFAdapterFormatTests {
    @Test("GGUF adapter layout round-trips")
    func ggufRoundTrip() throws {
        let hp = try tinyHyperparameters()
        let a = LoRAAdapter.synthetic(name: "rt", hyperparameters: hp, rank: 6, targets: [.q, .k, .o, .up], seed: 9)
        let file = try GGUFFile(bytes: a.ggufWriter(architecture: "llama").bytes())
        #expect(file.tensor(named: "blk.0.attn_q.weight.lora_a")?.shape == [hp.hidden, 6])
        #expect(file.tensor(named: "blk.1.ffn_up.weight.lora_b")?.shape == [6, hp.feedForward])
        let back = try LoRAAdapter(file: file, name: "rt", hyperparameters: hp)
        #expect(back.targets == [.q, .k, .o, .up] && back.maxRank == 6 && back.alpha == a.alpha)
        for l in 0..<hp.layers {
            for t in LoRAAdapter.Target.allCases {
                #expect(back.pair(layer: l, t)?.a == a.pair(layer: l, t)?.a)
                #expect(back.pair(layer: l, t)?.bT == a.pair(layer: l, t)?.bT)
            }
        }
    }

    @Test("malformed adapters are rejected with a reason")
    func malformed() throws {
        let hp = try tinyHyperparameters()
        func load(_ w: GGUFWriter) -> String? {
            do {
                _ = try LoRAAdapter(file: try GGUFFile(bytes: w.bytes()), name: "bad", hyperparameters: hp)
                return nil
            } catch { return "\(error)" }
        }
        let good = LoRAAdapter.synthetic(name: "g", hyperparameters: hp, rank: 2, targets: [.q], seed: 1)
        var notAdapter = good.ggufWriter(architecture: "llama")
        notAdapter.set("general.type", .string("model"))
        #expect(load(notAdapter)?.contains("expected 'adapter'") == true)
        let otherArch = good.ggufWriter(architecture: "gemma")
        #expect(load(otherArch)?.contains("architecture 'gemma'") == true)

        func withTensors(_ add: (inout GGUFWriter) -> Void) -> GGUFWriter {
            var w = GGUFWriter()
            w.set("general.architecture", .string("llama"))
            w.set("general.type", .string("adapter"))
            w.set("adapter.type", .string("lora"))
            w.set("adapter.lora.alpha", .float32(4))
            add(&w)
            return w
        }
        let h = hp.hidden
        #expect(load(withTensors { $0.addTensor(name: "blk.0.attn_q.weight.lora_a", shape: [h, 2], floats: .init(repeating: 0, count: 2 * h)) })?
            .contains("only one of") == true)
        #expect(load(withTensors {
            $0.addTensor(name: "blk.0.attn_q.weight.lora_a", shape: [h, 2], floats: .init(repeating: 0, count: 2 * h))
            $0.addTensor(name: "blk.0.attn_q.weight.lora_b", shape: [3, h], floats: .init(repeating: 0, count: 3 * h))
        })?.contains("expected") == true)
        #expect(load(withTensors {
            $0.addTensor(name: "blk.9.attn_q.weight.lora_a", shape: [h, 2], floats: .init(repeating: 0, count: 2 * h))
            $0.addTensor(name: "blk.9.attn_q.weight.lora_b", shape: [2, h], floats: .init(repeating: 0, count: 2 * h))
        })?.contains("layer 9") == true)
        #expect(load(withTensors {
            $0.addTensor(name: "blk.0.attn_q.weight.lora_a", shape: [h, 2], floats: [.nan] + .init(repeating: 0, count: 2 * h - 1))
            $0.addTensor(name: "blk.0.attn_q.weight.lora_b", shape: [2, h], floats: .init(repeating: 0, count: 2 * h))
        })?.contains("NaN") == true)
        #expect(load(withTensors { $0.addTensor(name: "token_embd.weight", shape: [4], floats: [1, 2, 3, 4]) })?
            .contains("unexpected tensor") == true)
        #expect(load(withTensors { _ in })?.contains("no LoRA tensors") == true)
    }
}
