// SPDX-License-Identifier: Apache-2.0

import Support
import Autograd
import Datasets
import Foundation
import NeuralNetworks
import Tensors
import Testing

import SplitEnsemble

@Suite("Split-Ensemble: targets and loss")
struct TargetTests {
    let split = try! SubtaskSplit(groups: [[0, 2], [1, 3]])

    @Test("partition validation and class lookup")
    func partition() throws {
        #expect(split.subtask(of: 2) == 0 && split.localIndex(of: 2) == 1 && split.localIndex(of: 3) == 1)
        #expect(split.totalOutputs == 6)
        #expect(throws: SplitEnsembleError.self) { try SubtaskSplit(groups: [[0, 1], [1, 2]]) }
        #expect(throws: SplitEnsembleError.self) { try SubtaskSplit(groups: [[0, 2]]) }
    }

    @Test("OOD-aware soft targets: one-hot for own classes, 1/N on ID outputs and (N-K)/N on OOD otherwise")
    func targets() {
        let t = SubtaskTargets.targets(labels: [2, 1, 0], split: split, subtask: 0).scalars
        #expect(t == [0, 1, 0, 0.25, 0.25, 0.5, 1, 0, 0])
        let hard = SubtaskTargets.targets(labels: [2, 3], split: split, subtask: 0, oodAware: false).scalars
        #expect(hard == [0, 1, 0, 0, 0, 1])
        // Unequal sizes: N = 5, K = 1 → 1/5 on the ID output and 4/5 on OOD; every row sums to 1.
        let s2 = try! SubtaskSplit(groups: [[4], [0, 1, 2, 3]])
        let u = SubtaskTargets.targets(labels: [0], split: s2, subtask: 0).scalars
        #expect(abs(u[0] - 0.2) < 1e-7 && abs(u[1] - 0.8) < 1e-7)
    }

    @Test("class-balance weights are inverse frequencies normalized to mean 1")
    func weights() {
        let s = try! SubtaskSplit(groups: [[0], [1, 2, 3]])
        let w = SubtaskTargets.classBalanceWeights(classCounts: [10, 10, 10, 10], split: s, subtask: 0)
        // frequencies 1/4 and 3/4 → raw 4 and 4/3 → mean 8/3.
        #expect(abs(w[0] - 1.5) < 1e-6 && abs(w[1] - 0.5) < 1e-6)
        let w1 = SubtaskTargets.classBalanceWeights(classCounts: [30, 10, 20, 20], split: s, subtask: 1)
        // ID counts 10, 20, 20, OOD 30, total 80 → raw 8, 4, 4, 8/3.
        let raw = [8.0, 4.0, 4.0, 8.0 / 3.0], m = raw.reduce(0, +) / 4
        for (a, b) in zip(w1, raw) { #expect(abs(Double(a) - b / m) < 1e-6) }
    }

    @Test("weighted BCE and weighted soft CE losses match hand computations")
    func lossValues() {
        let z: [Float] = [2, -1, 0.5, 0.3, 0.1, -0.7]   // two samples of subtask 0 (K = 2)
        let labels: [Int32] = [0, 3]                     // own class 0, then an outlier
        let w: [Float] = [1.2, 0.8, 1.0]
        let logits = Variable(Tensor(shape: [2, 3], scalars: z))
        let t: [Double] = [1, 0, 0, 0.25, 0.25, 0.5]
        func sig(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
        var bce = 0.0
        for k in 0..<6 {
            let p = sig(Double(z[k]))
            bce += Double(w[k % 3]) * -(t[k] * Foundation.log(p) + (1 - t[k]) * Foundation.log(1 - p))
        }
        let got = SubtaskTargets.subtaskLoss(logits: logits, labels: labels, split: split, subtask: 0, weights: w).value.scalar
        #expect(abs(Double(got) - bce / 2) < 1e-5)
        var ce = 0.0
        for r in 0..<2 {
            let row = (0..<3).map { Double(z[r * 3 + $0]) }
            let lse = Foundation.log(row.map { Foundation.exp($0) }.reduce(0, +))
            for k in 0..<3 { ce -= Double(w[k]) * t[r * 3 + k] * (row[k] - lse) }
        }
        let gotCE = SubtaskTargets.subtaskLoss(logits: logits, labels: labels, split: split, subtask: 0, weights: w, kind: .weightedSoftmaxCE)
        #expect(abs(Double(gotCE.value.scalar) - ce / 2) < 1e-5)
        // The total is the sum over subtasks.
        let l1 = Variable(Tensor(shape: [2, 3], scalars: [0.4, -0.2, 0.9, 1, 0, -1]))
        let total = SubtaskTargets.loss(logits: [logits, l1], labels: labels, split: split, weights: [w, [1, 1, 1]]).value.scalar
        let second = SubtaskTargets.subtaskLoss(logits: l1, labels: labels, split: split, subtask: 1, weights: [1, 1, 1]).value.scalar
        #expect(abs(total - (got + second)) < 1e-5)
    }

    @Test("semantic grouping puts classes with near class means together; random grouping is a seeded partition")
    func grouping() {
        // Classes 0 and 3 near the origin, 1 and 2 far away.
        let means = Tensor(shape: [4, 2], scalars: [0, 0, 10, 0, 10, 1, 0, 1])
        #expect(SubtaskSplit.semantic(classMeans: means, subtasks: 2).groups == [[0, 3], [1, 2]])
        // The balanced k-means path (exhaustive search disabled) finds the same partition.
        #expect(Set(SubtaskSplit.semantic(classMeans: means, subtasks: 2, exhaustiveLimit: 0).groups) == [[0, 3], [1, 2]])
        let r = SubtaskSplit.random(classes: 8, subtasks: 3, seed: 5)
        #expect(r.groups.map(\.count).sorted() == [2, 3, 3] && r == SubtaskSplit.random(classes: 8, subtasks: 3, seed: 5))
    }
}

@Suite("Split-Ensemble: masks, IoU and splitting")
struct SplitTests {
    @Test("mask keeps the top fraction; IoU of hand-built masks")
    func masks() {
        #expect(Sensitivity.mask([0.1, 0.9, 0.5, 0.7], keepFraction: 0.5) == [1, 3])
        #expect(Sensitivity.iou([0, 1, 2], [1, 2, 3]) == 0.5)
        #expect(Sensitivity.iou([0, 1], [2, 3]) == 0)
    }

    @Test("the MCT rule splits at the shallowest layer whose IoU drops below the threshold")
    func decisions() {
        // A shared 3-layer backbone for subtasks 0, 1, 2.
        let nodes = (0..<3).map { BranchNode(layer: $0, parent: $0 == 0 ? nil : $0 - 1, subtasks: [0, 1, 2]) }
        let layer0: [Set<Int>] = [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 4]]   // IoU 1, 0.6, 0.6
        let layer1: [Set<Int>] = [[0, 1, 2, 3], [0, 1, 2, 4], [5, 6, 7, 3]]   // 0-1: 0.6, 0-2: 1/7, 1-2: 0
        let layer2: [Set<Int>] = [[0], [1], [2]]
        let masks: [[Set<Int>?]] = (0..<3).map { i in [layer0[i], layer1[i], layer2[i]] }
        let ious = SplitPlanner.pairwiseIoU(masks: masks, nodes: nodes)
        #expect(abs(ious[0][SubtaskPair(0, 2)]! - 0.6) < 1e-12 && abs(ious[1][SubtaskPair(2, 0)]! - 1.0 / 7) < 1e-12)
        #expect(SplitPlanner.decide(masks: masks, nodes: nodes, threshold: 0.4) == [SplitDecision(layer: 1, block: 1, groups: [[0, 1], [2]])])
        // A higher MCT cuts already at layer 0 (IoU 0.6 < 0.7), and everything apart.
        #expect(SplitPlanner.decide(masks: masks, nodes: nodes, threshold: 0.7) == [SplitDecision(layer: 0, block: 0, groups: [[0, 1], [2]])])
        // Nothing below 0: no split. Single linkage keeps chains together.
        #expect(SplitPlanner.decide(masks: masks, nodes: nodes, threshold: 0).isEmpty)
        #expect(SplitPlanner.components([0, 1, 2]) { a, b in (a, b) == (0, 1) || (a, b) == (1, 2) } == [[0, 1, 2]])
    }

    @Test("splitting copies the subtree per group without changing the function; shapes stay consistent")
    func splitting() {
        var g = SeededRandom(seed: 3)
        let split = try! SubtaskSplit(groups: [[0, 1], [2], [3]])
        let net = SplitNetwork(widths: [4, 6, 8], pools: [true, true, false], split: split, inputShape: [1, 12, 12], generator: &g)
        net.eval()
        let x = Variable(Tensor.normal([2, 1, 12, 12], generator: &g))
        let before = net.subtaskLogits(x).map(\.value)
        let a = net.splitting(block: 1, into: [[0, 2], [1]])
        #expect(a.nodes.count == 5 && a.blocks(atLayer: 1).count == 2 && a.blocks(atLayer: 2).count == 2)
        let b = a.splitting(block: a.block(layer: 2, subtask: 0), into: [[0], [2]])
        #expect(b.blocks(atLayer: 2).count == 3 && b.nodes[b.block(layer: 2, subtask: 2)].parent == b.block(layer: 1, subtask: 0))
        b.eval()
        let after = b.subtaskLogits(x).map(\.value)
        for (u, v) in zip(before, after) {
            #expect(u.shape == v.shape)
            for (p, q) in zip(u.scalars, v.scalars) { #expect(abs(p - q) < 1e-5) }
        }
        // Copies are independent: changing one branch's weights leaves the other's outputs alone.
        b.blocks[b.block(layer: 2, subtask: 1)].conv.weight.value = Tensor(shape: b.blocks[b.block(layer: 2, subtask: 1)].conv.weight.shape, repeating: 0)
        let changed = b.subtaskLogits(x).map(\.value)
        #expect(changed[0].scalars == after[0].scalars && changed[1].scalars != after[1].scalars)
    }
}

@Suite("Split-Ensemble: FLOPs, Hessian pruning, inference and metrics")
struct PruneAndMetricTests {
    @Test("FLOP counter matches hand-computed convolution and head costs")
    func flops() {
        var g = SeededRandom(seed: 1)
        let single = SingleModel(widths: [16, 32, 64], pools: [true, true, false], classes: 8, generator: &g)
        // 2·(16·1·9·28² + 32·16·9·14² + 64·32·9·7² + 64·8)
        #expect(single.flops == 225_792 + 1_806_336 + 1_806_336 + 1_024)
        let net = SplitNetwork(widths: [16, 32, 64], pools: [true, true, false], split: try! SubtaskSplit(groups: [[0, 1, 2, 3], [4, 5, 6, 7]]),
                               generator: &g)
        #expect(net.flops == 225_792 + 1_806_336 + 1_806_336 + 2 * 64 * 5 * 2)
        let s = net.splitting(block: 2, into: [[0], [1]])
        #expect(s.flops == 225_792 + 1_806_336 + 2 * 1_806_336 + 2 * 64 * 5 * 2)
    }

    @Test("Hessian-trace pruning of a split tree reaches the budget with consistent shapes")
    func pruning() {
        var g = SeededRandom(seed: 2)
        let split = try! SubtaskSplit(groups: [[0, 1], [2, 3]])
        let widths = [6, 8, 10]
        let unsplit = SplitNetwork(widths: widths, pools: [true, true, false], split: split, inputShape: [1, 12, 12], generator: &g)
        let budget = unsplit.flops
        let net = unsplit.splitting(block: 1, into: [[0], [1]])
        #expect(net.flops > budget)
        let x = Tensor.normal([16, 1, 12, 12], generator: &g)
        let y: [Int32] = (0..<16).map { Int32($0 % 4) }
        let weights = (0..<2).map { SubtaskTargets.classBalanceWeights(classCounts: [4, 4, 4, 4], split: split, subtask: $0) }
        let imp = HessianPruning.channelImportance(net, batches: [(x, y)], samples: 2, seed: 1) { m, xb, yb in
            SubtaskTargets.loss(logits: m.subtaskLogits(Variable(xb)), labels: yb, split: split, weights: weights)
        }
        #expect(imp.map(\.count) == net.blocks.map(\.outChannels))
        #expect(imp.allSatisfy { $0.allSatisfy(\.isFinite) } && imp.contains { $0.contains { $0 != 0 } })
        let kept = HessianPruning.plan(net, importance: imp, budget: budget)
        let pruned = net.pruned(keeping: kept)
        #expect(pruned.flops <= budget)
        // Tight: adding back a channel to the block pruned last would exceed the budget.
        let widthsNow = pruned.blocks.map(\.outChannels)
        let minStep = widthsNow.indices.filter { widthsNow[$0] < net.blocks[$0].outChannels }.map { b -> Int in
            var w = widthsNow; w[b] += 1
            return pruned.flops(widths: w)
        }.max()!
        #expect(minStep > budget)
        let out = pruned.subtaskLogits(Variable(x))
        #expect(out.map(\.shape) == [[16, 3], [16, 3]])
        // Lowest-importance channels went first: every kept channel of a pruned block scores at least
        // as high as the removed ones, unless the floor stopped it.
        for b in net.blocks.indices where kept[b].count < imp[b].count && kept[b].count > 2 {
            let keptMin = kept[b].map { imp[b][Int($0)] }.min()!
            let removedMax = (0..<imp[b].count).filter { !kept[b].contains(Int32($0)) }.map { imp[b][$0] }.max()!
            #expect(keptMin >= removedMax)
        }
        // Keeping every channel is the identity.
        net.eval(); pruned.eval()
        let same = net.pruned(keeping: net.blocks.map { b in (0..<b.outChannels).map { Int32($0) } })
        same.eval()
        #expect(same.subtaskLogits(Variable(x))[0].value.scalars == net.subtaskLogits(Variable(x))[0].value.scalars)
    }

    @Test("Hutchinson channel traces converge to the exact Hessian diagonal sums (double backward)")
    func hutchinson() {
        var g = SeededRandom(seed: 9)
        let split = try! SubtaskSplit(groups: [[0], [1, 2]])
        let net = SplitNetwork(widths: [2, 3], pools: [true, false], split: split, inputShape: [1, 6, 6], generator: &g)
        let x = Tensor.normal([6, 1, 6, 6], generator: &g)
        let y: [Int32] = [0, 1, 2, 0, 1, 2]
        let w = (0..<2).map { SubtaskTargets.classBalanceWeights(classCounts: [2, 2, 2], split: split, subtask: $0) }
        let loss = { (m: SplitNetwork, xb: Tensor, yb: [Int32]) in
            SubtaskTargets.loss(logits: m.subtaskLogits(Variable(xb)), labels: yb, split: split, weights: w)
        }
        let estimate = HessianPruning.channelImportance(net, batches: [(x, y)], samples: 300, seed: 3, loss: loss)
        // Exact: Σ_j e_jᵀ H e_j over each channel's filter, one Hessian-vector product per weight.
        let params = net.blocks.map(\.conv.weight)
        var exact: [[Double]] = []
        for (b, p) in params.enumerated() {
            let c = p.shape[0], inner = p.value.count / c
            var traces = [Double](repeating: 0, count: c)
            for j in 0..<p.value.count {
                var e = [Float](repeating: 0, count: p.value.count); e[j] = 1
                let v = params.indices.map { $0 == b ? Tensor(shape: p.shape, scalars: e) : Tensor(shape: params[$0].shape, repeating: 0) }
                let hv = hessianVectorProduct(of: { loss(net, x, y) }, parameters: params, vector: v)
                traces[j / inner] += Double(hv[b].scalars[j])
            }
            let ws = p.value.scalars
            exact.append((0..<c).map { ch in
                traces[ch] / Double(inner) * ws[(ch * inner)..<((ch + 1) * inner)].map { Double($0 * $0) }.reduce(0, +)
            })
        }
        let est = estimate.flatMap { $0.map(Double.init) }, ex = exact.flatMap { $0 }
        let err = zip(est, ex).map { abs($0 - $1) }.reduce(0, +), scale = ex.map(abs).reduce(0, +)
        #expect(scale > 0 && err / scale < 0.1, "estimate \(est) exact \(ex)")
    }

    @Test("combined N-way prediction and the paper's score reduction on hand logits")
    func inference() {
        let split = try! SubtaskSplit(groups: [[0, 2], [1]])
        // One sample. Subtask 0 logits (classes 0, 2, OOD); subtask 1 (class 1, OOD).
        let l0 = Tensor(shape: [1, 3], scalars: [1, 3, 0]), l1 = Tensor(shape: [1, 2], scalars: [2, 2])
        #expect(SplitInference.concatenatedIDLogits([l0, l1], split: split).scalars == [1, 2, 3])
        #expect(SplitInference.predictions([l0, l1], split: split) == [2])
        // Subtask 0: p(2|ID) = e³/(e + e³), 1 − p_OOD = (e + e³)/(1 + e + e³) → product e³/(1 + e + e³).
        // Subtask 1: 1 · 1/2.
        let e = Foundation.exp(1.0), expect = max(e * e * e / (1 + e + e * e * e), 0.5)
        #expect(abs(Double(SplitInference.confidence([l0, l1], split: split, score: .combined)[0]) - expect) < 1e-6)
        let lse = Foundation.log(e + e * e + e * e * e)
        #expect(abs(Double(SplitInference.confidence([l0, l1], split: split, score: .energy)[0]) - lse) < 1e-5)
    }

    @Test("AUROC, FPR@95 and AUPR against hand-computed values")
    func metrics() {
        #expect(abs(OODMetrics.auroc(id: [0.9, 0.8, 0.4], ood: [0.5, 0.3]) - 5.0 / 6) < 1e-12)
        #expect(OODMetrics.auroc(id: [0.5], ood: [0.5]) == 0.5)
        #expect(OODMetrics.auroc(id: [0.5, 0.7], ood: [0.5, 0.1]) == 0.875)   // (1.5 + 2) / 4
        let id = (1...20).map { Float($0) / 20 }
        // 95% of 20 = 19 ID scores ≥ τ = 0.1; OOD ≥ 0.1: two of four.
        #expect(OODMetrics.fprAt95TPR(id: id, ood: [0.05, 0.1, 0.5, 0.01]) == 0.5)
        // + − + −: AP = 0.5·1 + 0.5·2/3.
        #expect(abs(OODMetrics.aupr(id: [0.9, 0.4], ood: [0.8, 0.1]) - (0.5 + 1.0 / 3)) < 1e-12)
        #expect(OODMetrics.aupr(id: [0.9, 0.8], ood: [0.1]) == 1)
    }
}

@Suite("Split-Ensemble: OOD data construction")
struct OODDataTests {
    @Test("held-out classes leave the ID set, labels are remapped, OOD sets have the ID image shape")
    func data() {
        var g = SeededRandom(seed: 4)
        let labels = (0..<60).map { Int32($0 % 10) }
        let fashion = ImageDataset(images: Tensor.uniform([60, 1, 28, 28], generator: &g), labels: labels, classes: 10)
        let digits = ImageDataset(images: Tensor.uniform([5, 1, 8, 8], generator: &g), labels: [0, 1, 2, 3, 4], classes: 10)
        let d = OODBenchmarkData.make(fashionTrain: fashion, fashionTest: fashion, digits: digits, heldOut: [2, 9],
                                      trainCount: 0, testCount: 10, oodCount: 5, seed: 1)
        #expect(d.idClasses == [0, 1, 3, 4, 5, 6, 7, 8] && d.train.classes == 8)
        #expect(d.train.count == 48 && d.train.labels.allSatisfy { $0 >= 0 && $0 < 8 })
        #expect(d.train.labels.prefix(4) == [0, 1, 2, 3])   // original classes 0, 1, 3, 4
        #expect(d.ood.map(\.name) == ["digits", "gaussian", "uniform", "inverted", "rotated", "held-out"])
        for o in d.ood { #expect(o.images.shape == [5, 1, 28, 28]) }
        // The held-out set holds only classes 2 and 9; inverted is 1 − x of the spare ID test images.
        let held = d.ood[5].images.scalars, inv = d.ood[3].images.scalars
        let heldIdx = labels.indices.filter { [2, 9].contains(labels[$0]) }.prefix(5)
        #expect(held == heldIdx.flatMap { fashion.images.sliced(alongAxis: 0, $0..<($0 + 1)).scalars })
        let idIdx = labels.indices.filter { ![2, 9].contains(labels[$0]) }
        let spare = idIdx[10..<15].flatMap { fashion.images.sliced(alongAxis: 0, $0..<($0 + 1)).scalars }
        #expect(zip(inv, spare).allSatisfy { abs($0 + $1 - 1) < 1e-6 })
        // Digits sit in a 20 × 20 box: the 4-pixel border is zero.
        let dg = d.ood[0].images.scalars
        #expect((0..<28).allSatisfy { dg[$0] == 0 && dg[3 * 28 + $0] == 0 } && dg[14 * 28 + 14] != 0)
    }
}

@Suite("Split-Ensemble: the whole training loop splits")
struct EndToEndSplitTests {
    @Test("MCT = 1.0 (any mask IoU below 1 cuts): the trained tree branches, and pruning brings it back to the single model's FLOPs")
    func mctOneSplits() {
        // A tiny labelled set: 4 classes, each a brighter quadrant plus noise, 28 × 28.
        var g = SeededRandom(seed: 21)
        let n = 64
        var pixels = Tensor.uniform([n, 1, 28, 28], high: 0.3, generator: &g).scalars
        let labels = (0..<n).map { Int32($0 % 4) }
        for (i, l) in labels.enumerated() {
            let (r0, c0) = (Int(l) / 2 * 14, Int(l) % 2 * 14)
            for r in r0..<(r0 + 14) { for c in c0..<(c0 + 14) { pixels[i * 784 + r * 28 + c] += 0.7 } }
        }
        let data = ImageDataset(images: Tensor(shape: [n, 1, 28, 28], scalars: pixels), labels: labels, classes: 4)
        var c = SplitEnsembleConfiguration()
        c.widths = [8, 8, 8]; c.batchSize = 16; c.warmupEpochs = 1; c.finetuneEpochs = 1; c.rounds = 1
        c.sensitivityBatches = 1; c.mct = 1.0
        let split = try! SubtaskSplit(groups: [[0, 1], [2, 3]])
        var gs = SeededRandom(seed: 5)
        let budget = SingleModel(widths: c.widths, pools: c.pools, classes: 4, generator: &gs).flops
        let (net, log) = SplitEnsembleTraining.trainSplitEnsemble(data, split: split, configuration: c, budgetFLOPs: budget, seed: 3)
        // The masks did differ somewhere, so the rule cut there; and it cut at the shallowest such layer.
        let minIoU = log.minimumIoU[0]
        #expect(minIoU.contains { $0 < 1 }, "IoUs \(minIoU)")
        let decision = try! #require(log.rounds[0].splits.first)
        #expect(decision.groups.count == 2)
        #expect(minIoU[decision.block] < 1 && minIoU.prefix(decision.block).allSatisfy { $0 >= 1 })
        #expect((0..<net.depth).contains { net.blocks(atLayer: $0).count > 1 }, "tree \(net.treeDescription)")
        #expect(net.blocks(atLayer: net.depth - 1).count == 2)
        // Splitting cost more than the budget; pruning brought it to the budget, not far under.
        #expect(log.rounds[0].flopsBeforePruning > budget)
        #expect(net.flops <= budget && net.flops > budget * 8 / 10, "\(net.flops) vs budget \(budget)")
        // The trained tree answers: one head per subtask, K + 1 outputs each.
        net.eval()
        let out = net.subtaskLogits(Variable(data.images.sliced(alongAxis: 0, 0..<4)))
        #expect(out.map(\.shape) == [[4, 3], [4, 3]])
    }
}
