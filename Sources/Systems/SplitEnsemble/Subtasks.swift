// SPDX-License-Identifier: Apache-2.0

import Support
public import Autograd
public import Tensors

/// A partition of the `N` in-distribution classes into `n` disjoint subtasks `C_1 … C_n`
/// (Split-Ensemble step 1). Submodel `i` classifies its `K_i = |C_i|` classes plus one "OOD" output.
///
/// ```swift
/// let split = try SubtaskSplit(groups: [[0, 2], [1, 3]])
/// split.subtask(of: 2)      // 0
/// split.localIndex(of: 3)   // 1 (position of class 3 inside subtask 1)
/// ```
public struct SubtaskSplit: Sendable, Equatable, CustomStringConvertible, Codable {
    private enum CodingKeys: String, CodingKey { case groups }

    /// Decodes `{"groups": [[...]]}`, validated like ``init(groups:)``.
    public init(from decoder: any Decoder) throws {
        try self.init(groups: try decoder.container(keyedBy: CodingKeys.self).decode([[Int]].self, forKey: .groups))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(groups, forKey: .groups)
    }

    /// Class ids of each subtask, each sorted ascending.
    public let groups: [[Int]]
    /// Number of in-distribution classes `N`.
    public let classCount: Int
    private let owner: [Int], local: [Int]

    /// Validates that `groups` partition `0..<N` (every class exactly once, no empty group).
    public init(groups: [[Int]]) throws {
        let all = groups.flatMap { $0 }
        let n = all.count
        guard !groups.isEmpty, groups.allSatisfy({ !$0.isEmpty }), Set(all) == Set(0..<n) else {
            throw SplitEnsembleError.invalidPartition(groups)
        }
        self.groups = groups.map { $0.sorted() }
        classCount = n
        var owner = [Int](repeating: 0, count: n), local = [Int](repeating: 0, count: n)
        for (i, g) in self.groups.enumerated() { for (j, c) in g.enumerated() { owner[c] = i; local[c] = j } }
        self.owner = owner
        self.local = local
    }

    /// Number of subtasks `n`.
    public var count: Int { groups.count }
    /// `K_i`.
    public func size(_ i: Int) -> Int { groups[i].count }
    /// The subtask that owns class `c`.
    public func subtask(of c: Int) -> Int { owner[c] }
    /// Position of class `c` among its subtask's classes (its output index in that submodel).
    public func localIndex(of c: Int) -> Int { local[c] }
    /// Total logits of all submodels, `Σ (K_i + 1) = N + n`.
    public var totalOutputs: Int { classCount + count }

    public var description: String { groups.map { "{" + $0.map(String.init).joined(separator: ",") + "}" }.joined(separator: " ") }

    /// Random grouping: a seeded shuffle of the classes cut into `n` groups of near-equal size.
    public static func random(classes: Int, subtasks n: Int, seed: UInt64) -> SubtaskSplit {
        var g = SeededRandom(seed: seed)
        var order = Array(0..<classes)
        order.shuffle(using: &g)
        let sizes = balancedSizes(classes, n)
        var groups: [[Int]] = [], at = 0
        for s in sizes { groups.append(Array(order[at..<(at + s)])); at += s }
        return try! SubtaskSplit(groups: groups)
    }

    /// Semantic grouping: the balanced partition of the classes into `n` groups (sizes differ by
    /// at most one) with the smallest within-group sum of squared distances of the class-mean
    /// features `classMeans [N, D]` to their group centroid.
    ///
    /// Exhaustive over all balanced partitions when there are at most `exhaustiveLimit` of them
    /// (N = 10 into 2 groups: 126), otherwise a balanced k-means with seeded restarts.
    public static func semantic(classMeans: Tensor, subtasks n: Int, seed: UInt64 = 0, exhaustiveLimit: Int = 200_000) -> SubtaskSplit {
        precondition(classMeans.rank == 2 && n >= 1 && n <= classMeans.shape[0], "semantic: means \(classMeans.shape), \(n) groups")
        let (classes, dims) = (classMeans.shape[0], classMeans.shape[1])
        let m = classMeans.scalars
        func cost(_ group: [Int]) -> Double {
            var c = [Double](repeating: 0, count: dims)
            for k in group { for d in 0..<dims { c[d] += Double(m[k * dims + d]) } }
            for d in 0..<dims { c[d] /= Double(group.count) }
            var s = 0.0
            for k in group { for d in 0..<dims { let e = Double(m[k * dims + d]) - c[d]; s += e * e } }
            return s
        }
        let sizes = balancedSizes(classes, n)
        if balancedPartitionCount(classes, sizes) <= Double(exhaustiveLimit) {
            var best: (Double, [[Int]]) = (.infinity, [])
            // Assign classes in order; a group's first member is the smallest unassigned class so
            // each unordered partition is visited once per size pattern.
            var groups: [[Int]] = Array(repeating: [], count: n)
            func visit(_ k: Int, _ partial: Double) {
                if partial >= best.0 { return }
                if k == classes {
                    let total = groups.map(cost).reduce(0, +)
                    if total < best.0 { best = (total, groups) }
                    return
                }
                var triedEmptyOfSize = Set<Int>()
                for gi in 0..<n where groups[gi].count < sizes[gi] {
                    if groups[gi].isEmpty {
                        if triedEmptyOfSize.contains(sizes[gi]) { continue }
                        triedEmptyOfSize.insert(sizes[gi])
                    }
                    groups[gi].append(k)
                    visit(k + 1, partial)
                    groups[gi].removeLast()
                }
            }
            visit(0, 0)
            return try! SubtaskSplit(groups: best.1)
        }
        // Balanced k-means: greedy capacity-constrained assignment by distance, then new centroids.
        var g = SeededRandom(seed: seed)
        var bestGroups: [[Int]] = [], bestCost = Double.infinity
        for _ in 0..<8 {
            var order = Array(0..<classes); order.shuffle(using: &g)
            var centroids = (0..<n).map { i in (0..<dims).map { Double(m[order[i] * dims + $0]) } }
            var groups: [[Int]] = []
            for _ in 0..<20 {
                var pairs: [(Double, Int, Int)] = []
                for k in 0..<classes {
                    for i in 0..<n {
                        var s = 0.0
                        for d in 0..<dims { let e = Double(m[k * dims + d]) - centroids[i][d]; s += e * e }
                        pairs.append((s, k, i))
                    }
                }
                pairs.sort { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
                groups = Array(repeating: [], count: n)
                var done = Set<Int>()
                for (_, k, i) in pairs where !done.contains(k) && groups[i].count < sizes[i] { groups[i].append(k); done.insert(k) }
                centroids = groups.map { grp in (0..<dims).map { d in grp.map { Double(m[$0 * dims + d]) }.reduce(0, +) / Double(grp.count) } }
            }
            let c = groups.map(cost).reduce(0, +)
            if c < bestCost { bestCost = c; bestGroups = groups }
        }
        return try! SubtaskSplit(groups: bestGroups)
    }

    static func balancedSizes(_ classes: Int, _ n: Int) -> [Int] {
        (0..<n).map { classes / n + ($0 < classes % n ? 1 : 0) }
    }

    static func balancedPartitionCount(_ classes: Int, _ sizes: [Int]) -> Double {
        var left = classes, count = 1.0
        for s in sizes { count *= binomial(left, s); left -= s }
        var multiplicity: [Int: Int] = [:]
        for s in sizes { multiplicity[s, default: 0] += 1 }
        for (_, k) in multiplicity { for j in 1...k { count /= Double(j) } }
        return count
    }

    static func binomial(_ n: Int, _ k: Int) -> Double {
        var r = 1.0
        for i in 0..<k { r = r * Double(n - i) / Double(i + 1) }
        return r
    }
}

/// Errors of the Split-Ensemble module; each case carries the offending value.
public enum SplitEnsembleError: Error, Equatable, CustomStringConvertible {
    case invalidPartition([[Int]])
    case labelOutOfRange(Int32, classes: Int)
    /// A benchmark setting out of range (the message names it).
    case invalidSetting(String)
    /// The datasets are not installed.
    case missingData(String)

    public var description: String {
        switch self {
        case .invalidPartition(let g): "subtask groups \(g) do not partition the classes"
        case .labelOutOfRange(let l, let n): "label \(l) outside 0..<\(n)"
        case .invalidSetting(let why): "split-ensemble setting \(why)"
        case .missingData(let why): why
        }
    }
}

/// How subtask losses are formed (a [REC] choice the paper's digest leaves open; see docs).
public enum SubtaskLossKind: String, Sendable, CaseIterable {
    /// Sigmoid binary cross-entropy per output against the soft targets, weighted per output
    /// by the class-balance weights (the paper's eq. 3–4 as summarized).
    case weightedBCE = "bce"
    /// Softmax cross-entropy against the soft targets, each target entry weighted by its class weight.
    case weightedSoftmaxCE = "ce"
}

/// Targets, class-balance weights and the loss of the `(K_i + 1)`-way submodels (steps 2–4).
public enum SubtaskTargets {
    /// Targets `[B, K_i + 1]` of subtask `i` for a batch of global labels (last column = OOD).
    ///
    /// - A sample of a class in `C_i`: one-hot on its local index.
    /// - Any other sample (outlier exposure from the other subtasks), OOD-aware: `1/N` on each of
    ///   the `K_i` ID outputs and `(N − K_i)/N` on the OOD output. With `oodAware == false`
    ///   (the ablation): one-hot on the OOD output.
    public static func targets(labels: [Int32], split: SubtaskSplit, subtask i: Int, oodAware: Bool = true) -> Tensor {
        let k = split.size(i), n = split.classCount, width = k + 1
        var t = [Float](repeating: 0, count: labels.count * width)
        for (r, label) in labels.enumerated() {
            let c = Int(label)
            if split.subtask(of: c) == i {
                t[r * width + split.localIndex(of: c)] = 1
            } else if oodAware {
                for j in 0..<k { t[r * width + j] = 1 / Float(n) }
                t[r * width + k] = Float(n - k) / Float(n)
            } else {
                t[r * width + k] = 1
            }
        }
        return Tensor(shape: [labels.count, width], scalars: t)
    }

    /// Class-balance weights `[K_i + 1]` of subtask `i` from the class counts of the training set
    /// (paper eq. 2, [REC] form): the OOD output's frequency is the share of samples from the other
    /// subtasks; weights are `1/frequency`, normalized to mean 1. Classes with no samples get weight 0
    /// before normalization.
    public static func classBalanceWeights(classCounts: [Int], split: SubtaskSplit, subtask i: Int) -> [Float] {
        precondition(classCounts.count == split.classCount, "classBalanceWeights: \(classCounts.count) counts for \(split.classCount) classes")
        let total = Double(classCounts.reduce(0, +))
        let idCounts = split.groups[i].map { Double(classCounts[$0]) }
        let ood = total - idCounts.reduce(0, +)
        let raw = (idCounts + [ood]).map { $0 > 0 ? total / $0 : 0 }
        let mean = raw.reduce(0, +) / Double(raw.count)
        return raw.map { Float($0 / mean) }
    }

    /// The Split-Ensemble training loss: the sum over subtasks of each submodel's loss against its
    /// targets, each averaged over the batch. For ``SubtaskLossKind/weightedBCE`` a sample's loss is
    /// `Σ_k w_k · BCE(z_k, t_k)` over its `K_i + 1` outputs; for ``SubtaskLossKind/weightedSoftmaxCE``
    /// it is `−Σ_k w_k t_k log softmax(z)_k`.
    ///
    /// - Parameters:
    ///   - logits: one `[B, K_i + 1]` per subtask.
    ///   - weights: one `[K_i + 1]` per subtask (all ones to switch reweighting off).
    public static func loss(logits: [Variable], labels: [Int32], split: SubtaskSplit, weights: [[Float]],
                            kind: SubtaskLossKind = .weightedBCE, oodAware: Bool = true) -> Variable {
        precondition(logits.count == split.count && weights.count == split.count, "loss: \(logits.count) heads for \(split.count) subtasks")
        var total: Variable?
        for i in 0..<split.count {
            let l = subtaskLoss(logits: logits[i], labels: labels, split: split, subtask: i, weights: weights[i], kind: kind, oodAware: oodAware)
            total = total.map { $0 + l } ?? l
        }
        return total!
    }

    /// One submodel's loss (see ``loss(logits:labels:split:weights:kind:oodAware:)``).
    public static func subtaskLoss(logits: Variable, labels: [Int32], split: SubtaskSplit, subtask i: Int, weights: [Float],
                                   kind: SubtaskLossKind = .weightedBCE, oodAware: Bool = true) -> Variable {
        let b = labels.count, width = split.size(i) + 1
        precondition(logits.shape == [b, width] && weights.count == width, "subtaskLoss: logits \(logits.shape), \(weights.count) weights")
        let t = targets(labels: labels, split: split, subtask: i, oodAware: oodAware)
        let w = Tensor(shape: [1, width], scalars: weights)
        switch kind {
        case .weightedBCE:
            // softplus(z) − t·z is BCE(σ(z), t) in a numerically stable form.
            let perOutput = logits.softplus() - logits.multiplied(byConstant: t)   // [B, K+1]
            return perOutput.multiplied(byConstant: w).sum() / Float(b)
        case .weightedSoftmaxCE:
            return -(logits.logSoftmax().multiplied(byConstant: t * w)).sum() / Float(b)
        }
    }
}
