// SPDX-License-Identifier: Apache-2.0

public import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// OOD-detection metrics over confidence scores where **higher means more in-distribution**; the
/// in-distribution samples are the positive class (the convention of Hendrycks & Gimpel and the
/// Split-Ensemble tables).
public enum OODMetrics {
    /// Area under the ROC curve: the probability that a random ID sample scores above a random OOD
    /// sample, ties counting one half (Mann–Whitney U with average ranks).
    public static func auroc(id: [Float], ood: [Float]) -> Double {
        guard !id.isEmpty, !ood.isEmpty else { return .nan }
        let all = (id.map { ($0, true) } + ood.map { ($0, false) }).sorted { $0.0 < $1.0 }
        var rankSumID = 0.0, i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count && all[j + 1].0 == all[i].0 { j += 1 }
            let avgRank = Double(i + j) / 2 + 1
            for k in i...j where all[k].1 { rankSumID += avgRank }
            i = j + 1
        }
        let n1 = Double(id.count), n0 = Double(ood.count)
        return (rankSumID - n1 * (n1 + 1) / 2) / (n1 * n0)
    }

    /// False-positive rate at 95 % true-positive rate: with the threshold `τ` the largest score such
    /// that at least 95 % of ID scores are `≥ τ`, the fraction of OOD scores `≥ τ`.
    public static func fprAt95TPR(id: [Float], ood: [Float], tpr: Double = 0.95) -> Double {
        guard !id.isEmpty, !ood.isEmpty else { return .nan }
        let sorted = id.sorted(by: >)
        let k = Swift.max(1, Int((tpr * Double(id.count)).rounded(.up)))
        let tau = sorted[k - 1]
        return Double(ood.filter { $0 >= tau }.count) / Double(ood.count)
    }

    /// Area under the precision–recall curve with ID as positive ("AUPR-In"), as average precision
    /// `Σ (R_k − R_{k−1}) P_k` over the distinct thresholds (scikit-learn's `average_precision_score`).
    public static func aupr(id: [Float], ood: [Float]) -> Double {
        guard !id.isEmpty else { return .nan }
        let all = (id.map { ($0, true) } + ood.map { ($0, false) }).sorted { $0.0 > $1.0 }
        var tp = 0.0, fp = 0.0, lastRecall = 0.0, ap = 0.0, i = 0
        let positives = Double(id.count)
        while i < all.count {
            var j = i
            while j < all.count && all[j].0 == all[i].0 {
                if all[j].1 { tp += 1 } else { fp += 1 }
                j += 1
            }
            let recall = tp / positives, precision = tp / (tp + fp)
            ap += (recall - lastRecall) * precision
            lastRecall = recall
            i = j
        }
        return ap
    }
}

/// Confidence scores (higher = more in-distribution) computed from logits.
public enum ConfidenceScore {
    /// Maximum softmax probability of each row of `logits [B, C]`.
    public static func msp(_ logits: Tensor) -> [Float] { maxPerRow(logits.softmaxLastAxis()) }

    /// Negative energy `T · logsumexp(z / T)` of each row (Liu et al. 2020; higher = ID).
    public static func energy(_ logits: Tensor, temperature: Float = 1) -> [Float] {
        let c = logits.shape[1], z = logits.scalars
        return (0..<logits.shape[0]).map { r in
            let row = z[(r * c)..<((r + 1) * c)].map { $0 / temperature }
            let m = row.max()!
            return temperature * (m + logf(row.map { expf($0 - m) }.reduce(0, +)))
        }
    }

    /// Row maxima of `p [B, C]`.
    public static func maxPerRow(_ p: Tensor) -> [Float] {
        let c = p.shape[1], s = p.scalars
        return (0..<p.shape[0]).map { r in s[(r * c)..<((r + 1) * c)].max()! }
    }
}

