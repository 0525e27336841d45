// SPDX-License-Identifier: Apache-2.0

public import GGUF
import Kernels

/// The merge-swap baseline of S-LoRA (and of PEFT/HF serving): one adapter at a time, merged into
/// the weights. Switching adapters restores the pristine base projections and merges the new
/// adapter, `W ← W₀ + s·B·A`, in place; requests of other adapters wait for the switch.
///
/// By default the targeted projections (say q/k/v/o) are held as f32 (dequantized once at
/// construction), so a merge is exact up to float rounding. With `keepStoredTypes` they stay in
/// the file's own format (say Q4_1) and every merge re-quantizes `W₀ + s·B·A`, as a server that
/// merges adapters into a quantized model must: the forward pass then runs the same kernels as the
/// unmerged base. The rest of the model stays as stored. ``model`` runs on these weights: mutate
/// them only between forward passes (the engine does so on its own thread).
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
    /// One targeted projection: its live weights `[outputs, inputs]` inside `file` (stored as
    /// `type`), the pristine values as f32 and, for a quantized type, the pristine bytes.
    private struct Slot {
        let layer: Int, target: LoRAAdapter.Target, type: GGMLType
        let live: UnsafeMutableRawBufferPointer
        let base: [Float]
        let pristine: [UInt8]?
    }
    private let slots: [Slot]
    /// The merged f32 weights of one quantized projection before they are re-quantized (sized for the largest).
    private var scratch: [Float]

    /// Holds `targets` of every layer of `base` as f32 (or, with `keepStoredTypes`, in their stored
    /// type) and loads the model over them. Throws when a stored type cannot be re-quantized.
    public init(base: GGUFFile, targets: Set<LoRAAdapter.Target>, keepStoredTypes: Bool = false, threads: Int, maxBatchTokens: Int,
                maxContext: Int? = nil) throws {
        var w = GGUFWriter(alignment: base.alignment)
        for key in base.metadataKeys where key != "general.alignment" { w.set(key, base.metadata[key]!) }
        var wanted: [String: (Int, LoRAAdapter.Target)] = [:]
        for info in base.tensors {
            if let (layer, block) = GGUFTensorName.Block.parse(info.name), let target = LoRAAdapter.Target(block), targets.contains(target) {
                wanted[info.name] = (layer, target)
                if !keepStoredTypes {
                    w.addTensor(name: info.name, shape: info.shape, floats: base.floats(for: info))
                    continue
                }
                guard GGMLQuantizer.canEncode(info.type) else {
                    throw GGUFError.cannotEncode(tensor: info.name, type: "\(info.type)")
                }
            }
            w.addTensor(name: info.name, shape: info.shape, type: info.type, data: Array(base.data(for: info)))
        }
        // The file owns its bytes (not a read-only mapping), so the targeted projections may be rewritten.
        let f = try GGUFFile(bytes: w.bytes())
        file = f
        model = try ArchitectureRegistry.loadModel(f, options: ModelLoadOptions(threads: threads, maxBatchTokens: maxBatchTokens, maxContext: maxContext))
        slots = f.tensors.compactMap { info in
            guard let hit = wanted[info.name] else { return nil }
            let bytes = f.data(for: info)
            let live = UnsafeMutableRawBufferPointer(mutating: bytes)
            return Slot(layer: hit.0, target: hit.1, type: info.type, live: live, base: f.floats(for: info),
                        pristine: info.type == .f32 ? nil : Array(bytes))
        }
        scratch = [Float](repeating: 0, count: slots.filter { $0.type != .f32 }.map(\.base.count).max() ?? 0)
    }

    /// Makes `adapter` (nil: none) the merged one; a no-op when it already is.
    public func activate(_ adapter: LoRAAdapter?) {
        guard adapter !== active else { return }
        let clock = ContinuousClock.now
        for slot in slots {
            guard let p = adapter?.pair(layer: slot.layer, slot.target) else {
                // The base itself: its stored bytes, exactly.
                if let pristine = slot.pristine {
                    pristine.withUnsafeBytes { slot.live.copyMemory(from: $0) }
                } else {
                    slot.base.withUnsafeBytes { slot.live.copyMemory(from: $0) }
                }
                continue
            }
            // W[out, in] = W₀ + s · Bᵀᵀ[out, r] · A[r, in], in f32: the live tensor itself, or scratch to re-quantize.
            func merge(into w: UnsafeMutablePointer<Float>) {
                slot.base.withUnsafeBufferPointer { w.update(from: $0.baseAddress!, count: $0.count) }
                p.bT.withUnsafeBufferPointer { bT in
                    p.a.withUnsafeBufferPointer { a in
                        StridedGEMM.sgemm(transposeA: true, transposeB: false, m: p.outputs, n: p.inputs, k: p.rank, alpha: p.scale,
                                          a: bT.baseAddress!, lda: p.outputs, b: a.baseAddress!, ldb: p.inputs,
                                          beta: 1, c: w, ldc: p.inputs)
                    }
                }
            }
            if slot.type == .f32 {
                merge(into: slot.live.baseAddress!.assumingMemoryBound(to: Float.self))
            } else {
                scratch.withUnsafeMutableBufferPointer { buf in
                    merge(into: buf.baseAddress!)
                    GGMLQuantizer.quantize(UnsafeBufferPointer(rebasing: buf[0..<slot.base.count]), as: slot.type, into: slot.live)
                }
            }
        }
        active = adapter
        swaps += 1
        let d = ContinuousClock.now - clock
        swapSeconds += Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
