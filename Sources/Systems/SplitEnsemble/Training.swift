// SPDX-License-Identifier: Apache-2.0

import Support
import Autograd
public import Datasets
import NeuralNetworks
public import Tensors

/// Every setting of a Split-Ensemble run. Items the paper leaves open are marked [REC] and
/// documented in docs/split-ensemble.md.
public struct SplitEnsembleConfiguration: Sendable {
    /// Output channels of the convolution stack (the single model's widths and the FLOP budget).
    public var widths = [16, 32, 64]
    /// Max-pool after each layer.
    public var pools = [true, true, false]
    /// Number of subtasks `n`.
    public var subtasks = 2
    /// Semantic (cluster class-mean features of the trained single model) or random grouping.
    public var grouping = Grouping.semantic
    /// OOD-aware soft targets (`false`: one-hot on the OOD output; the ablation).
    public var oodAwareTargets = true
    /// Class-balance reweighting (paper eq. 2).
    public var classBalance = true
    /// [REC] weighted sigmoid-BCE (default) or weighted soft-target softmax CE.
    public var loss = SubtaskLossKind.weightedBCE
    /// Minimal Cutting Threshold on per-layer mask IoU (paper: ≈ 0.4 best).
    public var mct = 0.4
    /// [REC] fraction of channels in each sensitivity mask (`p`).
    public var maskKeepFraction = 0.5
    /// Training batches used to build the sensitivity masks.
    public var sensitivityBatches = 4
    /// Training batches and Hutchinson probes per batch for the Hessian-trace importance.
    public var hessianBatches = 1
    public var hutchinsonSamples = 2
    /// [REC] pruning floor per block, and per-block score normalization (off = HAP's global ranking).
    public var minimumChannels = 2
    public var normalizePerBlock = false
    /// Split → prune → finetune rounds after the shared-backbone warm-up.
    public var rounds = 2
    /// Epochs of shared-backbone training before the first split, and finetune epochs per round.
    /// Baselines train for `warmupEpochs + rounds · finetuneEpochs` epochs (equal training epochs).
    public var warmupEpochs = 2
    public var finetuneEpochs = 1
    public var batchSize = 64
    /// Peak learning rate of SGD (Nesterov momentum 0.9, weight decay 5e-4), warm-up then cosine.
    public var learningRate: Float = 0.05
    public var weightDecay: Float = 5e-4
    /// The OOD confidence used for the Split-Ensemble headline row.
    public var score = SplitScore.combined
    /// MC dropout: drop probability and test-time passes.
    public var dropout: Float = 0.1
    public var monteCarloPasses = 8
    /// Deep-ensemble size.
    public var ensembleSize = 4

    public enum Grouping: String, Sendable, CaseIterable { case semantic, random }

    public init() {}

    /// Training epochs of every method.
    public var totalEpochs: Int { warmupEpochs + rounds * finetuneEpochs }
}

/// Progress reports of long training runs (the CLI draws them on a TTY).
public typealias ProgressHandler = (String) -> Void

/// Trains the baselines and Split-Ensemble on the same data with the same epochs and schedule.
public enum SplitEnsembleTraining {
    /// Class counts of a labelled set.
    public static func classCounts(_ labels: [Int32], classes: Int) -> [Int] {
        var c = [Int](repeating: 0, count: classes)
        for l in labels { c[Int(l)] += 1 }
        return c
    }

    /// Runs SGD over `epochs` epochs of `loader`, steps `[firstStep, firstStep + epochs·batches)` of a
    /// warm-up + cosine schedule of `totalSteps`. `step` returns the batch loss.
    static func run(parameters: [Variable], loader: inout DataLoader, epochs: Int, firstStep: Int, totalSteps: Int,
                    configuration c: SplitEnsembleConfiguration, label: String, progress: ProgressHandler?,
                    step: (Tensor, [Int32]) -> Variable) -> Int {
        let optimizer = SGD(parameters, learningRate: c.learningRate, momentum: 0.9, weightDecay: c.weightDecay, nesterov: true)
        let schedule = WarmupSchedule(warmupSteps: Swift.min(100, totalSteps / 10), then: CosineSchedule(base: c.learningRate, totalSteps: totalSteps))
        var s = firstStep
        for _ in 0..<epochs {
            for (images, labels) in loader.epoch() {
                optimizer.learningRate = schedule.rate(at: s)
                optimizer.zeroGradients()
                let loss = step(images, labels)
                loss.backward()
                optimizer.step()
                s += 1
                progress?("\(label): step \(s)/\(totalSteps) loss \(String(format: "%.4f", loss.value.scalar))")
            }
        }
        return s
    }

    /// Trains a ``SingleModel`` with cross-entropy for `totalEpochs` (the baseline and ensemble member).
    public static func trainSingle(_ data: ImageDataset, configuration c: SplitEnsembleConfiguration, seed: UInt64, dropout: Float = 0,
                                   label: String = "single", progress: ProgressHandler? = nil) -> SingleModel {
        var g = SeededRandom(seed: seed)
        let net = SingleModel(widths: c.widths, pools: c.pools, classes: data.classes, dropout: dropout, generator: &g)
        var loader = DataLoader(data, batchSize: c.batchSize, shuffle: true, seed: seed &+ 1)
        let total = c.totalEpochs * loader.batchCount
        _ = run(parameters: net.trainableParameters, loader: &loader, epochs: c.totalEpochs, firstStep: 0, totalSteps: total,
                configuration: c, label: label, progress: progress) { x, y in
            Loss.crossEntropy(net(Variable(x)), labels: y)
        }
        net.eval()
        return net
    }

    /// Class-mean penultimate features `[N, width]` of a trained single model (for semantic grouping).
    public static func classMeans(_ model: SingleModel, data: ImageDataset, limit: Int = 2000) -> Tensor {
        model.eval()
        let n = Swift.min(limit, data.count)
        var sums = [[Float]](repeating: [], count: data.classes), counts = [Int](repeating: 0, count: data.classes)
        var start = 0
        while start < n {
            let end = Swift.min(start + 500, n)
            let f = model.features(data.images.sliced(alongAxis: 0, start..<end))
            let d = f.shape[1], s = f.scalars
            for r in 0..<(end - start) {
                let c = Int(data.labels[start + r])
                if sums[c].isEmpty { sums[c] = [Float](repeating: 0, count: d) }
                for j in 0..<d { sums[c][j] += s[r * d + j] }
                counts[c] += 1
            }
            start = end
        }
        let d = sums.first { !$0.isEmpty }!.count
        return Tensor(shape: [data.classes, d], scalars: (0..<data.classes).flatMap { c in
            sums[c].isEmpty ? [Float](repeating: 0, count: d) : sums[c].map { $0 / Float(counts[c]) }
        })
    }

    /// What happened in one Split-Ensemble run.
    public struct Log: Sendable, Codable {
        public struct Round: Sendable, Codable {
            public var splits: [SplitDecision]
            public var flopsBeforePruning: Int, flopsAfterPruning: Int
            public var tree: String
        }
        /// Per round: the splits made, FLOPs before and after pruning, and the tree after pruning.
        public var rounds: [Round] = []
        /// Per round, per block: the smallest mask IoU among subtasks sharing it (1 if only one).
        public var minimumIoU: [[Double]] = []
    }

    /// Trains Split-Ensemble: shared backbone with `n` heads for `warmupEpochs`, then `rounds` of
    /// sensitivity masks → MCT split → Hessian-trace global pruning to `budgetFLOPs` → finetune.
    public static func trainSplitEnsemble(_ data: ImageDataset, split: SubtaskSplit, configuration c: SplitEnsembleConfiguration,
                                          budgetFLOPs: Int, seed: UInt64, label: String = "split-ensemble",
                                          progress: ProgressHandler? = nil) -> (SplitNetwork, Log) {
        var g = SeededRandom(seed: seed)
        var net = SplitNetwork(widths: c.widths, pools: c.pools, split: split, generator: &g)
        let counts = classCounts(data.labels, classes: data.classes)
        let weights = (0..<split.count).map { i in
            c.classBalance ? SubtaskTargets.classBalanceWeights(classCounts: counts, split: split, subtask: i)
                           : [Float](repeating: 1, count: split.size(i) + 1)
        }
        func loss(_ m: SplitNetwork, _ x: Tensor, _ y: [Int32]) -> Variable {
            SubtaskTargets.loss(logits: m.subtaskLogits(Variable(x)), labels: y, split: split, weights: weights, kind: c.loss,
                                oodAware: c.oodAwareTargets)
        }
        var loader = DataLoader(data, batchSize: c.batchSize, shuffle: true, seed: seed &+ 1)
        let total = c.totalEpochs * loader.batchCount
        var step = run(parameters: net.trainableParameters, loader: &loader, epochs: c.warmupEpochs, firstStep: 0, totalSteps: total,
                       configuration: c, label: label, progress: progress) { loss(net, $0, $1) }
        // Fixed probe batches for masks and Hessian traces (not shuffled, so runs repeat).
        var probe = DataLoader(data, batchSize: Swift.max(c.batchSize, 128), shuffle: false)
        let probeBatches = Array(probe.epoch().prefix(Swift.max(c.sensitivityBatches, c.hessianBatches)))
        var log = Log()
        for r in 0..<c.rounds {
            progress?("\(label): round \(r + 1): sensitivity masks")
            let scores = Sensitivity.channelScores(net, batches: Array(probeBatches.prefix(c.sensitivityBatches)), weights: weights,
                                                   kind: c.loss, oodAware: c.oodAwareTargets)
            let masks: [[Set<Int>?]] = scores.map { perBlock in
                perBlock.map { $0.isEmpty ? nil : Sensitivity.mask($0, keepFraction: c.maskKeepFraction) }
            }
            let ious = SplitPlanner.pairwiseIoU(masks: masks, nodes: net.nodes)
            log.minimumIoU.append(ious.map { $0.values.min() ?? 1 })
            let decisions = SplitPlanner.decide(masks: masks, nodes: net.nodes, threshold: c.mct)
            // All decisions are at one layer; apply them in descending block order so the indices of
            // the blocks not yet split stay valid.
            for d in decisions.sorted(by: { $0.block > $1.block }) { net = net.splitting(block: d.block, into: d.groups) }
            let before = net.flops
            if before > budgetFLOPs {
                progress?("\(label): round \(r + 1): Hessian-trace importance")
                net.train()
                let importance = HessianPruning.channelImportance(net, batches: Array(probeBatches.prefix(c.hessianBatches)),
                                                                   samples: c.hutchinsonSamples, seed: seed &+ UInt64(r) &+ 7, loss: loss)
                let kept = HessianPruning.plan(net, importance: importance, budget: budgetFLOPs, minimumChannels: c.minimumChannels,
                                               normalizePerBlock: c.normalizePerBlock)
                net = net.pruned(keeping: kept)
            }
            log.rounds.append(.init(splits: decisions, flopsBeforePruning: before, flopsAfterPruning: net.flops, tree: net.treeDescription))
            net.train()
            step = run(parameters: net.trainableParameters, loader: &loader, epochs: c.finetuneEpochs, firstStep: step, totalSteps: total,
                       configuration: c, label: label, progress: progress) { loss(net, $0, $1) }
        }
        net.eval()
        return (net, log)
    }
}
