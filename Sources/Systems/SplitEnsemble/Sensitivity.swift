// SPDX-License-Identifier: Apache-2.0

import Autograd
public import Tensors

/// Channel-level sensitivity masks and the split decision (Split-Ensemble step 6).
///
/// For subtask `i` and every block on its path, a channel's sensitivity is the first-order Taylor
/// estimate of the subtask loss change when the channel is removed, `|Σ_{w ∈ c} w · ∂L_i/∂w|` over
/// the channel's convolution filter and batch-norm scale and shift, summed over batches ([REC]:
/// the criterion and the channel granularity are our choices; the paper names weight sensitivity
/// or Hessian-based scores). The mask keeps the top `keepFraction` of channels.
public enum Sensitivity {
    /// Per subtask, per block on its path: the channel scores `[outChannels]`.
    /// `scores[i][b]` is empty when subtask `i` does not run through block `b`.
    public static func channelScores(_ net: SplitNetwork, batches: [(images: Tensor, labels: [Int32])],
                                     weights: [[Float]], kind: SubtaskLossKind, oodAware: Bool) -> [[[Float]]] {
        var scores = [[[Float]]](repeating: [[Float]](repeating: [], count: net.blocks.count), count: net.split.count)
        for (images, labels) in batches {
            for i in 0..<net.split.count {
                net.zeroGradients()
                let logits = net.subtaskLogits(Variable(images))
                SubtaskTargets.subtaskLoss(logits: logits[i], labels: labels, split: net.split, subtask: i,
                                           weights: weights[i], kind: kind, oodAware: oodAware).backward()
                for b in net.blocks.indices where net.nodes[b].subtasks.contains(i) {
                    let blk = net.blocks[b]
                    let s = taylor(blk.conv.weight, perChannel: blk.outChannels)
                    let g = taylor(blk.norm.weight, perChannel: blk.outChannels)
                    let be = taylor(blk.norm.bias, perChannel: blk.outChannels)
                    let v = (0..<blk.outChannels).map { Swift.abs(s[$0] + g[$0] + be[$0]) }
                    scores[i][b] = scores[i][b].isEmpty ? v : zip(scores[i][b], v).map(+)
                }
            }
        }
        net.zeroGradients()
        return scores
    }

    /// `Σ w·g` per output channel of a parameter whose first dimension is the channel.
    static func taylor(_ p: Variable, perChannel c: Int) -> [Float] {
        guard let g = p.gradient else { return [Float](repeating: 0, count: c) }
        let w = p.value.scalars, gs = g.scalars, inner = w.count / c
        return (0..<c).map { ch in
            var s: Float = 0
            for j in (ch * inner)..<((ch + 1) * inner) { s += w[j] * gs[j] }
            return s
        }
    }

    /// The mask of the top `⌈keepFraction · count⌉` scores (ties to the lower index).
    public static func mask(_ scores: [Float], keepFraction: Double) -> Set<Int> {
        let k = Swift.max(1, Int((Double(scores.count) * keepFraction).rounded(.up)))
        return Set(scores.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) }.prefix(k))
    }

    /// Intersection over union `|A ∩ B| / |A ∪ B|` (1 for two empty masks).
    public static func iou(_ a: Set<Int>, _ b: Set<Int>) -> Double {
        let u = a.union(b).count
        return u == 0 ? 1 : Double(a.intersection(b).count) / Double(u)
    }
}

/// One split: block `block` at depth `layer` is replaced by one copy per group.
public struct SplitDecision: Sendable, Equatable, Codable {
    public var layer: Int
    public var block: Int
    public var groups: [[Int]]

    public init(layer: Int, block: Int, groups: [[Int]]) {
        self.layer = layer; self.block = block; self.groups = groups
    }
}

/// The Minimal-Cutting-Threshold rule.
public enum SplitPlanner {
    /// Pairwise IoU per block: `iou[b][(i, j)]` for subtasks `i < j` that share block `b`.
    public static func pairwiseIoU(masks: [[Set<Int>?]], nodes: [BranchNode]) -> [[SubtaskPair: Double]] {
        nodes.indices.map { b in
            var out: [SubtaskPair: Double] = [:]
            let s = nodes[b].subtasks
            for x in 0..<s.count { for y in (x + 1)..<s.count {
                out[SubtaskPair(s[x], s[y])] = Sensitivity.iou(masks[s[x]][b] ?? [], masks[s[y]][b] ?? [])
            } }
            return out
        }
    }

    /// The splits of this round: the shallowest layer at which some block's subtasks do not all
    /// stay connected by IoU ≥ `threshold` (the MCT). Every such block at that layer is split into
    /// the connected components of the graph whose edges are pairs with IoU ≥ MCT ([REC]: single
    /// linkage). Empty when no block needs splitting.
    ///
    /// - Parameter masks: `masks[i][b]`, subtask `i`'s mask in block `b` (`nil` off its path).
    public static func decide(masks: [[Set<Int>?]], nodes: [BranchNode], threshold: Double) -> [SplitDecision] {
        let ious = pairwiseIoU(masks: masks, nodes: nodes)
        let depth = (nodes.map(\.layer).max() ?? -1) + 1
        for l in 0..<depth {
            var out: [SplitDecision] = []
            for b in nodes.indices where nodes[b].layer == l && nodes[b].subtasks.count > 1 {
                let groups = components(nodes[b].subtasks) { ious[b][SubtaskPair($0, $1)] ?? 0 >= threshold }
                if groups.count > 1 { out.append(SplitDecision(layer: l, block: b, groups: groups)) }
            }
            if !out.isEmpty { return out }
        }
        return []
    }

    /// Connected components of `items` under `linked` (each component ascending, ordered by first item).
    public static func components(_ items: [Int], linked: (Int, Int) -> Bool) -> [[Int]] {
        var parent = Dictionary(uniqueKeysWithValues: items.map { ($0, $0) })
        func find(_ x: Int) -> Int { var x = x; while parent[x]! != x { x = parent[x]! }; return x }
        for a in items.indices { for b in (a + 1)..<items.count where linked(items[a], items[b]) {
            let (ra, rb) = (find(items[a]), find(items[b]))
            parent[rb] = ra
        } }
        var groups: [Int: [Int]] = [:]
        for x in items { groups[find(x), default: []].append(x) }
        return groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }
}

/// An unordered pair of subtasks stored as `(low, high)`.
public struct SubtaskPair: Hashable, Sendable {
    public let low: Int, high: Int
    public init(_ a: Int, _ b: Int) { low = Swift.min(a, b); high = Swift.max(a, b) }
}
