// SPDX-License-Identifier: Apache-2.0

import Support
public import Autograd
public import Tensors

/// Global structured channel pruning with Hessian-aware importance (HAP-style, Split-Ensemble
/// step 6): a channel's importance is `Tr(H_c)/|c| · ‖w_c‖²` over its convolution filter, with the
/// Hessian trace estimated by Hutchinson's method, `Tr(H_c) ≈ E_v[v_cᵀ (H v)_c]` for Rademacher
/// `v`. `H v` comes from ``Autograd/hessianVectorProduct(of:parameters:vector:)`` (exact double
/// backward, not finite differences).
public enum HessianPruning {
    /// Importance of every output channel of every block, `[block][channel]`.
    ///
    /// - Parameters:
    ///   - loss: the training loss of `net` on one batch (evaluated with the graph recorded).
    ///   - samples: Hutchinson probes per batch.
    public static func channelImportance(_ net: SplitNetwork, batches: [(images: Tensor, labels: [Int32])], samples: Int,
                                         seed: UInt64, loss: (SplitNetwork, Tensor, [Int32]) -> Variable) -> [[Float]] {
        let params = net.blocks.map(\.conv.weight)   // [out, in, 3, 3] each
        var trace = net.blocks.map { [Double](repeating: 0, count: $0.outChannels) }
        var g = SeededRandom(seed: seed)
        // Keep batch-norm running statistics untouched by the extra forward passes.
        let saved = net.blocks.map { ($0.norm.runningMean.value, $0.norm.runningVar.value) }
        for (images, labels) in batches {
            for _ in 0..<samples {
                let v = params.map { p -> Tensor in
                    Tensor(shape: p.shape, scalars: (0..<p.value.count).map { _ in (g.next() & 1) == 0 ? Float(-1) : Float(1) })
                }
                let hv = hessianVectorProduct(of: { loss(net, images, labels) }, parameters: params, vector: v)
                for b in params.indices {
                    let c = net.blocks[b].outChannels, vs = v[b].scalars, hs = hv[b].scalars, inner = vs.count / c
                    for ch in 0..<c {
                        var s = 0.0
                        for j in (ch * inner)..<((ch + 1) * inner) { s += Double(vs[j]) * Double(hs[j]) }
                        trace[b][ch] += s
                    }
                }
            }
        }
        for (b, s) in saved.enumerated() { net.blocks[b].norm.runningMean.value = s.0; net.blocks[b].norm.runningVar.value = s.1 }
        net.zeroGradients()
        let probes = Double(Swift.max(1, batches.count * samples))
        return params.indices.map { b in
            let w = params[b].value.scalars, c = net.blocks[b].outChannels, inner = w.count / c
            return (0..<c).map { ch in
                var norm2 = 0.0
                for j in (ch * inner)..<((ch + 1) * inner) { norm2 += Double(w[j]) * Double(w[j]) }
                return Float(trace[b][ch] / probes / Double(inner) * norm2)
            }
        }
    }

    /// The channels to keep so that `net.flops(widths:)` is at most `budget`: channels are removed in
    /// ascending importance across all blocks (global ranking), never leaving a block with fewer than
    /// `minimumChannels`. With `normalizePerBlock`, each block's scores are first divided by their
    /// mean ([REC] knob; off by default, as in HAP).
    ///
    /// Returns the kept channel indices per block (ascending). Throws nothing: when the budget cannot
    /// be met with the minimum widths the result stops at the minimum widths.
    public static func plan(_ net: SplitNetwork, importance: [[Float]], budget: Int, minimumChannels: Int = 2,
                            normalizePerBlock: Bool = false) -> [[Int32]] {
        var scores = importance
        if normalizePerBlock {
            scores = scores.map { s in
                let m = s.map { Swift.abs($0) }.reduce(0, +) / Float(Swift.max(s.count, 1))
                return m > 0 ? s.map { $0 / m } : s
            }
        }
        var kept = net.blocks.map { Set(0..<$0.outChannels) }
        var widths = net.blocks.map(\.outChannels)
        let order = scores.enumerated().flatMap { b, s in s.enumerated().map { (b, $0, $1) } }
            .sorted { ($0.2, $0.0, $0.1) < ($1.2, $1.0, $1.1) }
        var flops = net.flops(widths: widths)
        for (b, c, _) in order where flops > budget {
            guard widths[b] > minimumChannels else { continue }
            kept[b].remove(c)
            widths[b] -= 1
            flops = net.flops(widths: widths)
        }
        return kept.map { $0.sorted().map { Int32($0) } }
    }
}
