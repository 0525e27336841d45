// SPDX-License-Identifier: Apache-2.0

public import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// How Split-Ensemble reduces its submodels' outputs to one OOD confidence (higher = ID).
public enum SplitScore: String, Sendable, CaseIterable {
    /// The paper's reduction ([REC] on the exact form): `p(y|x) = p(y|x, f_i) · (1 − p_OOD^{(i)}(x))`
    /// with `p(y|x, f_i)` the softmax over submodel `i`'s ID logits and `p_OOD^{(i)}` its softmax
    /// probability of the OOD output; the confidence is `max_y p(y|x)`.
    case combined
    /// Maximum softmax probability of the concatenated `N` ID logits.
    case msp
    /// Negative energy (logsumexp) of the concatenated `N` ID logits.
    case energy
}

/// Split-Ensemble inference from per-subtask logits.
public enum SplitInference {
    /// The `N` ID logits of every sample in global class order: `[B, N]` (OOD outputs dropped).
    public static func concatenatedIDLogits(_ logits: [Tensor], split: SubtaskSplit) -> Tensor {
        let b = logits[0].shape[0], n = split.classCount
        var out = [Float](repeating: 0, count: b * n)
        for (i, l) in logits.enumerated() {
            let s = l.scalars, w = split.size(i) + 1
            for r in 0..<b { for (j, c) in split.groups[i].enumerated() { out[r * n + c] = s[r * w + j] } }
        }
        return Tensor(shape: [b, n], scalars: out)
    }

    /// Predicted global classes: argmax of the concatenated ID logits (the paper's N-way classification).
    public static func predictions(_ logits: [Tensor], split: SubtaskSplit) -> [Int] {
        concatenatedIDLogits(logits, split: split).argmaxLastAxis()
    }

    /// Confidence of each sample under `score`.
    public static func confidence(_ logits: [Tensor], split: SubtaskSplit, score: SplitScore) -> [Float] {
        switch score {
        case .msp: return ConfidenceScore.msp(concatenatedIDLogits(logits, split: split))
        case .energy: return ConfidenceScore.energy(concatenatedIDLogits(logits, split: split))
        case .combined:
            let b = logits[0].shape[0]
            var best = [Float](repeating: 0, count: b)
            for (i, l) in logits.enumerated() {
                let w = split.size(i) + 1, s = l.scalars
                for r in 0..<b {
                    let row = Array(s[(r * w)..<((r + 1) * w)])
                    let m = row.max()!
                    let e = row.map { expf($0 - m) }
                    let all = e.reduce(0, +), id = all - e[w - 1]
                    let pID = id / all                       // 1 − p_OOD
                    let maxCond = e[0..<(w - 1)].max()! / id  // max_y p(y | x, f_i)
                    best[r] = Swift.max(best[r], maxCond * pID)
                }
            }
            return best
        }
    }
}
