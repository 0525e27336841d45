// SPDX-License-Identifier: Apache-2.0

import Kernels

/// How the per-token LoRA terms of a batch that mixes adapters are computed.
public enum LoRABatching: String, Sendable, CaseIterable {
    /// S-LoRA: the base projection once for the batch, then each run of tokens multiplies by its
    /// own adapter's rows, read in place from its pages (no copy, no padding; MBGMM/MBGMV).
    case gather
    /// The paper's ablation baseline: for every projection of every step, each run's `A` and `Bᵀ`
    /// are copied into one contiguous f32 batch tensor padded to the batch's largest rank, then
    /// multiplied as a batched matmul over the padded rank (the copy and the padding are the cost).
    case paddedBMM = "padded-bmm"
}

extension LlamaModel {
    /// The padded batched-matmul LoRA path: `y[t] += s·(x[t]·Aᵀ)·Bᵀ` for every adapted token,
    /// through copies padded to the batch's largest rank. Zero-padded rows add exact zeros, so
    /// results equal the gather path up to float rounding order.
    func paddedLoRA(_ li: Int, _ target: LoRAAdapter.Target, _ xIn: UnsafePointer<Float>, _ inputs: Int,
                    _ y: UnsafeMutablePointer<Float>, _ outputs: Int, rows: Int,
                    runs: [(start: Int, count: Int, adapter: LoRAAdapter, paged: PagedLoRA?)], u: UnsafeMutablePointer<Float>) {
        // The pairs of this projection, one per run of tokens still active at this layer.
        var rmax = 0, used = 0
        for run in runs where run.start < rows {
            let rank = run.paged?.pair(layer: li, target)?.rank ?? run.adapter.pair(layer: li, target)?.rank ?? 0
            rmax = Swift.max(rmax, rank)
            if rank > 0 { used += 1 }
        }
        guard rmax > 0 else { return }
        let width = Swift.max(inputs, outputs)
        let needed = used * 2 * rmax * width
        if needed > loraPaddedCapacity {
            // Grows to the largest batch seen; steady-state steps allocate nothing.
            loraPadded.deallocate()
            loraPadded = .allocate(capacity: needed)
            loraPaddedCapacity = needed
        }
        // Gather: padA [used, rmax, inputs], padB [used, rmax, outputs] (Bᵀ rows), zero-padded.
        let padA = loraPadded, padB = loraPadded + used * rmax * width
        var slot = 0
        var scales: [(start: Int, count: Int, scale: Float)] = []
        scales.reserveCapacity(used)
        for run in runs where run.start < rows {
            let count = Swift.min(run.count, rows - run.start)
            let a = padA + slot * rmax * inputs, b = padB + slot * rmax * outputs
            let rank: Int, scale: Float
            if let paged = run.paged {
                guard let p = paged.pair(layer: li, target) else { continue }
                rank = p.rank; scale = p.scale
                for r in 0..<rank {
                    let ar = p.aRows[r], br = p.bRows[r], ad = a + r * inputs, bd = b + r * outputs
                    for j in 0..<inputs { ad[j] = Float(ar[j]) }
                    for j in 0..<outputs { bd[j] = Float(br[j]) }
                }
            } else {
                guard let p = run.adapter.pair(layer: li, target) else { continue }
                rank = p.rank; scale = p.scale
                p.a.withUnsafeBufferPointer { a.update(from: $0.baseAddress!, count: rank * inputs) }
                p.bT.withUnsafeBufferPointer { b.update(from: $0.baseAddress!, count: rank * outputs) }
            }
            (a + rank * inputs).update(repeating: 0, count: (rmax - rank) * inputs)
            (b + rank * outputs).update(repeating: 0, count: (rmax - rank) * outputs)
            scales.append((run.start, count, scale))
            slot += 1
        }
        // Batched matmul over the padded rank.
        for (i, s) in scales.enumerated() {
            LoRAKernels.shrink(xIn + s.start * inputs, ldx: inputs, tokens: s.count, a: padA + i * rmax * inputs, rank: rmax,
                               cols: inputs, u: u)
            LoRAKernels.expand(u, tokens: s.count, bT: padB + i * rmax * outputs, rank: rmax, rows: outputs, scale: s.scale,
                               y: y + s.start * outputs, ldy: outputs)
        }
    }
}
