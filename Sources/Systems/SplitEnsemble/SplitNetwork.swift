// SPDX-License-Identifier: Apache-2.0

public import Support
public import Autograd
public import NeuralNetworks
public import Tensors

/// One 3 × 3 convolution (padding 1, no bias) + batch norm + ReLU, optionally followed by a 2 × 2
/// max-pool: `[N, in, H, W]` → `[N, out, H, W]` (or `[N, out, H/2, W/2]` when pooling).
/// The unit that the tree branches and that structured pruning narrows.
public final class ConvBlock: Module {
    public let conv: Conv2d
    public let norm: BatchNorm
    public let pool: Bool

    public init(_ inChannels: Int, _ outChannels: Int, pool: Bool, generator: inout SeededRandom) {
        conv = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, bias: false, generator: &generator)
        norm = BatchNorm(outChannels)
        self.pool = pool
    }

    public var inChannels: Int { conv.weight.shape[1] }
    public var outChannels: Int { conv.weight.shape[0] }

    public override func callAsFunction(_ x: Variable) -> Variable {
        let h = norm(conv(x)).relu()
        return pool ? h.maxPooled2d(kernel: 2) : h
    }

    /// FLOPs (2 × multiply-accumulates) of the convolution on an `h × w` input; BN, ReLU and pooling
    /// are not counted (the usual convention).
    public func flops(height h: Int, width w: Int) -> Int { 2 * outChannels * inChannels * 9 * h * w }

    /// A copy with the output channels `outputs` and input channels `inputs` (sorted indices; `nil`
    /// keeps all), batch-norm parameters and statistics following their channels.
    public func selecting(outputs: [Int32]?, inputs: [Int32]?) -> ConvBlock {
        var g = SeededRandom(seed: 0)
        let o = outputs ?? (0..<outChannels).map { Int32($0) }
        let i = inputs ?? (0..<inChannels).map { Int32($0) }
        let out = ConvBlock(i.count, o.count, pool: pool, generator: &g)
        out.conv.weight.value = conv.weight.value.indexSelected(alongAxis: 0, o).indexSelected(alongAxis: 1, i)
        out.norm.weight.value = norm.weight.value.indexSelected(alongAxis: 0, o)
        out.norm.bias.value = norm.bias.value.indexSelected(alongAxis: 0, o)
        out.norm.runningMean.value = norm.runningMean.value.indexSelected(alongAxis: 0, o)
        out.norm.runningVar.value = norm.runningVar.value.indexSelected(alongAxis: 0, o)
        return out
    }

    /// A deep copy (same weights and statistics).
    public func copy() -> ConvBlock { selecting(outputs: nil, inputs: nil) }
}

/// Where a block sits in the tree.
public struct BranchNode: Sendable, Equatable {
    /// Depth (0 = first convolution).
    public var layer: Int
    /// Index (into ``SplitNetwork/blocks``) of the block this one reads from; `nil` at layer 0.
    public var parent: Int?
    /// Subtasks whose path runs through this block, ascending.
    public var subtasks: [Int]

    public init(layer: Int, parent: Int?, subtasks: [Int]) {
        self.layer = layer; self.parent = parent; self.subtasks = subtasks
    }
}

/// The Split-Ensemble model: a tree of ``ConvBlock``s that starts as one shared backbone and
/// branches per group of subtasks, with one `(K_i + 1)`-way linear head per subtask on the globally
/// average-pooled features of the subtask's last block.
///
/// The same class with a single "subtask" holding all `N` classes and no OOD output is the plain
/// single model (see ``SingleModel``); the tree always has one block per (layer, group).
///
/// ```swift
/// var g = SeededRandom(seed: 1)
/// let net = SplitNetwork(widths: [16, 32, 64], pools: [true, true, false], split: split, generator: &g)
/// let heads = net.subtaskLogits(Variable(images))    // [[N, K_i + 1]] per subtask
/// ```
public final class SplitNetwork: Module {
    /// All blocks in layer order (layer 0 first); ``nodes`` says where each sits.
    public private(set) var blocks: [ConvBlock]
    public private(set) var nodes: [BranchNode]
    /// One head per subtask: `[K_i + 1, width of its last block]`.
    public private(set) var heads: [Linear]
    public let split: SubtaskSplit
    /// Whether each layer max-pools its output.
    public let pools: [Bool]
    /// Input `[C, H, W]`.
    public let inputShape: [Int]

    /// A shared backbone (one block per layer) with one head per subtask.
    public init(widths: [Int], pools: [Bool], split: SubtaskSplit, inputShape: [Int] = [1, 28, 28], generator: inout SeededRandom) {
        precondition(widths.count == pools.count && !widths.isEmpty, "SplitNetwork: \(widths.count) widths, \(pools.count) pool flags")
        var blocks: [ConvBlock] = [], nodes: [BranchNode] = []
        var inC = inputShape[0]
        for (l, w) in widths.enumerated() {
            blocks.append(ConvBlock(inC, w, pool: pools[l], generator: &generator))
            nodes.append(BranchNode(layer: l, parent: l == 0 ? nil : l - 1, subtasks: Array(0..<split.count)))
            inC = w
        }
        self.blocks = blocks
        self.nodes = nodes
        heads = (0..<split.count).map { Linear(widths.last!, split.size($0) + 1, generator: &generator) }
        self.split = split
        self.pools = pools
        self.inputShape = inputShape
    }

    init(blocks: [ConvBlock], nodes: [BranchNode], heads: [Linear], split: SubtaskSplit, pools: [Bool], inputShape: [Int]) {
        self.blocks = blocks; self.nodes = nodes; self.heads = heads
        self.split = split; self.pools = pools; self.inputShape = inputShape
    }

    /// Number of layers (tree depth).
    public var depth: Int { pools.count }

    /// Index of the block at `layer` that subtask `i` runs through.
    public func block(layer: Int, subtask i: Int) -> Int {
        nodes.firstIndex { $0.layer == layer && $0.subtasks.contains(i) }!
    }

    /// Block indices at `layer`.
    public func blocks(atLayer layer: Int) -> [Int] { nodes.indices.filter { nodes[$0].layer == layer } }

    /// Blocks that read from block `b`.
    public func children(of b: Int) -> [Int] { nodes.indices.filter { nodes[$0].parent == b } }

    /// Per-subtask logits `[N, K_i + 1]` for `x [N, C, H, W]`.
    public func subtaskLogits(_ x: Variable) -> [Variable] {
        var outputs = [Variable?](repeating: nil, count: blocks.count)
        for b in blocks.indices {   // blocks are stored in layer order, so parents come first
            outputs[b] = blocks[b](nodes[b].parent.map { outputs[$0]! } ?? x)
        }
        var pooled: [Int: Variable] = [:]
        return (0..<split.count).map { i in
            let last = block(layer: depth - 1, subtask: i)
            if pooled[last] == nil { pooled[last] = outputs[last]!.globalAvgPooled() }   // [N, width]
            return heads[i](pooled[last]!)
        }
    }

    /// All heads' logits concatenated: `[N, Σ (K_i + 1)]`.
    public override func callAsFunction(_ x: Variable) -> Variable {
        Variable.concatenated(subtaskLogits(x), alongAxis: 1)
    }

    /// Inference FLOPs of one image: every block's convolution at its input resolution plus the heads
    /// (2 × multiply-accumulates).
    public var flops: Int { flops(widths: blocks.map(\.outChannels)) }

    /// FLOPs if block `b` had `widths[b]` output channels (used by the pruner).
    public func flops(widths: [Int]) -> Int {
        var h = inputShape[1], w = inputShape[2]
        var total = 0
        for l in 0..<depth {
            for b in blocks(atLayer: l) {
                let inC = nodes[b].parent.map { widths[$0] } ?? inputShape[0]
                total += 2 * widths[b] * inC * 9 * h * w
            }
            if pools[l] { h /= 2; w /= 2 }
        }
        for i in 0..<split.count { total += 2 * widths[block(layer: depth - 1, subtask: i)] * heads[i].weight.shape[0] }
        return total
    }

    /// Number of parameters (weights, BN affine, heads).
    public var parameters: Int { parameterCount }

    /// A copy in which block `b` (and everything below it) is replaced by one copy per group of its
    /// subtasks: each group gets its own copy of block `b` and of all later blocks on its paths
    /// (the paper's split at a layer). Heads move with their subtasks unchanged.
    public func splitting(block b: Int, into groups: [[Int]]) -> SplitNetwork {
        precondition(Set(groups.flatMap { $0 }) == Set(nodes[b].subtasks) && groups.flatMap { $0 }.count == nodes[b].subtasks.count,
                     "splitting: groups \(groups) do not partition \(nodes[b].subtasks)")
        let layer = nodes[b].layer
        var newBlocks: [ConvBlock] = [], newNodes: [BranchNode] = []
        var remap: [Int: Int] = [:]   // old index → new index for blocks kept as they are
        for l in 0..<depth {
            for old in blocks(atLayer: l) {
                let inSubtree = nodes[old].subtasks.allSatisfy { nodes[b].subtasks.contains($0) } && l >= layer
                if !inSubtree {
                    remap[old] = newBlocks.count
                    newNodes.append(BranchNode(layer: l, parent: nodes[old].parent.map { remap[$0]! }, subtasks: nodes[old].subtasks))
                    newBlocks.append(blocks[old])
                    continue
                }
                for g in groups {
                    let mine = nodes[old].subtasks.filter { g.contains($0) }
                    if mine.isEmpty { continue }
                    let parent: Int? = l == 0 ? nil
                        : (l == layer ? remap[nodes[old].parent!]!
                           : newNodes.indices.first { newNodes[$0].layer == l - 1 && newNodes[$0].subtasks.contains(mine[0]) }!)
                    newNodes.append(BranchNode(layer: l, parent: parent, subtasks: mine))
                    newBlocks.append(blocks[old].copy())
                }
            }
        }
        return SplitNetwork(blocks: newBlocks, nodes: newNodes, heads: heads, split: split, pools: pools, inputShape: inputShape)
    }

    /// A copy keeping, for each block, the output channels `kept[b]` (sorted); the children's input
    /// channels and the heads' input features follow.
    public func pruned(keeping kept: [[Int32]]) -> SplitNetwork {
        precondition(kept.count == blocks.count, "pruned: \(kept.count) channel lists for \(blocks.count) blocks")
        let newBlocks = blocks.indices.map { b in
            blocks[b].selecting(outputs: kept[b], inputs: nodes[b].parent.map { kept[$0] })
        }
        var g = SeededRandom(seed: 0)
        let newHeads = (0..<split.count).map { i -> Linear in
            let last = block(layer: depth - 1, subtask: i)
            let old = heads[i]
            let h = Linear(kept[last].count, old.weight.shape[0], generator: &g)
            h.weight.value = old.weight.value.indexSelected(alongAxis: 1, kept[last])
            h.bias!.value = old.bias!.value
            return h
        }
        return SplitNetwork(blocks: newBlocks, nodes: nodes, heads: newHeads, split: split, pools: pools, inputShape: inputShape)
    }

    /// The tree as text, e.g. `L0[0,1,2,3] → L1[0,1,2,3] → L2[0,1]+L2[2,3]` with widths.
    public var treeDescription: String {
        (0..<depth).map { l in
            blocks(atLayer: l).map { "{\(nodes[$0].subtasks.map(String.init).joined(separator: ","))}:\(blocks[$0].outChannels)" }
                .joined(separator: " ")
        }.joined(separator: " | ")
    }
}

/// The single-model baseline (and MC-dropout / deep-ensemble member): the same convolution stack as
/// an unsplit ``SplitNetwork`` with one `N`-way head, and optional dropout on the pooled features
/// and after every block but the first.
public final class SingleModel: Module {
    public let blocks: [ConvBlock]
    public let head: Linear
    public let dropout: Dropout?
    public let blockDropout: [Dropout]
    public let inputShape: [Int]

    public init(widths: [Int], pools: [Bool], classes: Int, dropout p: Float = 0, inputShape: [Int] = [1, 28, 28],
                generator: inout SeededRandom) {
        var inC = inputShape[0]
        var blocks: [ConvBlock] = []
        for (l, w) in widths.enumerated() {
            blocks.append(ConvBlock(inC, w, pool: pools[l], generator: &generator))
            inC = w
        }
        self.blocks = blocks
        head = Linear(widths.last!, classes, generator: &generator)
        let seed = generator.next()
        dropout = p > 0 ? Dropout(p, seed: seed) : nil
        blockDropout = p > 0 ? (1..<widths.count).map { Dropout(p, seed: seed &+ UInt64($0)) } : []
        self.inputShape = inputShape
    }

    /// Logits `[N, classes]`.
    public override func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for (l, b) in blocks.enumerated() {
            h = b(h)
            if l > 0 && !blockDropout.isEmpty && l < blocks.count - 1 { h = blockDropout[l - 1](h) }
        }
        var f = h.globalAvgPooled()   // [N, width]
        if let dropout { f = dropout(f) }
        return head(f)
    }

    /// Penultimate features `[N, width]` (eval mode, no graph) for class-mean clustering.
    public func features(_ x: Tensor) -> Tensor {
        withoutGradient { blocks.reduce(Variable(x)) { $1($0) }.globalAvgPooled().value }
    }

    /// Inference FLOPs of one image (convolutions and the head; see ``ConvBlock/flops(height:width:)``).
    public var flops: Int {
        var h = inputShape[1], w = inputShape[2], total = 0
        for b in blocks {
            total += b.flops(height: h, width: w)
            if b.pool { h /= 2; w /= 2 }
        }
        return total + 2 * head.weight.shape[0] * head.weight.shape[1]
    }

    /// Switches only the dropout layers to training mode (MC dropout at test time), the rest to eval.
    public func enableMonteCarloDropout() {
        eval()
        dropout?.train(true)
        for d in blockDropout { d.train(true) }
    }
}
