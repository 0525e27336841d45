// SPDX-License-Identifier: Apache-2.0

public import GGUF
import Kernels

/// The merge-swap baseline of S-LoRA (and of PEFT/HF serving): one adapter at a time, merged into
/// the weights. Switching adapters restores the pristine base projections and merges the new
/// adapter, `W ← W₀ + s·B·A`, in place; requests of other adapters wait for the switch.
///
/// The targeted projections (say q/k/v/o) are held as f32 (dequantized once at construction) so a
/// merge is exact up to float rounding; the rest of the model stays as stored. ``model`` runs on
/// these weights: mutate them only between forward passes (the engine does so on its own thread).
public final class MergeSwapWeights: @unchecked Sendable {
    /// The model whose targeted projections hold the active adapter merged in.
    public let model: any LanguageModel
    /// The merged adapter, nil for the plain base model.
    public private(set) var active: LoRAAdapter?
    /// Adapter switches performed (each one restore plus merge of every targeted projection).
    public private(set) var swaps = 0
    /// Seconds spent switching.
    public private(set) var swapSeconds = 0.0

    private let file: GGUFFile
    /// Per targeted projection: the live f32 weights `[outputs, inputs]` inside `file` and a pristine copy.
    private let slots: [(layer: Int, target: LoRAAdapter.Target, live: UnsafeMutablePointer<Float>, base: [Float])]

    /// Dequantizes `targets` of every layer of `base` to f32 and loads the model over them.
    public init(base: GGUFFile, targets: Set<LoRAAdapter.Target>, threads: Int, maxBatchTokens: Int, maxContext: Int? = nil) throws {
        var w = GGUFWriter(alignment: base.alignment)
        for key in base.metadataKeys where key != "general.alignment" { w.set(key, base.metadata[key]!) }
        var wanted: [String: (Int, LoRAAdapter.Target)] = [:]
        for info in base.tensors {
            if let (layer, block) = GGUFTensorName.Block.parse(info.name), let target = LoRAAdapter.Target(block), targets.contains(target) {
                w.addTensor(name: info.name, shape: info.shape, floats: base.floats(for: info))
                wanted[info.name] = (layer, target)
            } else {
                w.addTensor(name: info.name, shape: info.shape, type: info.type, data: Array(base.data(for: info)))
            }
        }
        // The file owns its bytes (not a read-only mapping), so the f32 projections may be rewritten.
        let f = try GGUFFile(bytes: w.bytes())
        file = f
        model = try ArchitectureRegistry.loadModel(f, options: ModelLoadOptions(threads: threads, maxBatchTokens: maxBatchTokens, maxContext: maxContext))
        slots = f.tensors.compactMap { info in
            guard let hit = wanted[info.name] else { return nil }
            let live = UnsafeMutableRawPointer(mutating: f.data(for: info).baseAddress!).assumingMemoryBound(to: Float.self)
            return (hit.0, hit.1, live, f.floats(for: info))
        }
    }

    /// Makes `adapter` (nil: none) the merged one; a no-op when it already is.
    public func activate(_ adapter: LoRAAdapter?) {
        guard adapter !== active else { return }
        let clock = ContinuousClock.now
        for slot in slots {
            slot.base.withUnsafeBufferPointer { slot.live.update(from: $0.baseAddress!, count: $0.count) }
            guard let p = adapter?.pair(layer: slot.layer, slot.target) else { continue }
            // W[out, in] += s · Bᵀᵀ[out, r] · A[r, in]
            p.bT.withUnsafeBufferPointer { bT in
                p.a.withUnsafeBufferPointer { a in
                    StridedGEMM.sgemm(transposeA: true, transposeB: false, m: p.outputs, n: p.inputs, k: p.rank, alpha: p.scale,
                                      a: bT.baseAddress!, lda: p.outputs, b: a.baseAddress!, ldb: p.inputs,
                                      beta: 1, c: slot.live, ldc: p.inputs)
                }
            }
        }
        active = adapter
        swaps += 1
        let d = ContinuousClock.now - clock
        swapSeconds += Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
