// SPDX-License-Identifier: Apache-2.0

import Support
import ArgumentParser
import Benchmarks
import Datasets
import Foundation
import NeuralNetworks
import SplitEnsemble
import Tensors

/// The Split-Ensemble method and data settings of `tern train split-ensemble` (the same knobs as
/// `tern bench split-ensemble`'s settings, which validate them).
struct SplitEnsembleMethodOptions: ParsableArguments {
    @Option(help: "ID test images (0 = half of the ID test set).") var testLimit = 2000
    @Option(help: "Images per OOD set (0 = as many as ID test images).") var oodLimit = 1000
    @Option(help: "Fashion-MNIST classes held out as the near-OOD set (comma-separated).") var heldOut = "8,9"
    @Option(help: "Shared-backbone epochs before the first split (default 2; `tern train` defaults to its --epochs).") var warmupEpochs: Int?
    @Option(help: "Finetune epochs after each split/prune round.") var finetuneEpochs = 1
    @Option(help: "Split -> prune -> finetune rounds.") var rounds = 2
    @Option(help: "Number of subtasks n.") var subtasks = 2
    @Option(help: "Minimal Cutting Threshold.") var mct = 0.4
    @Option(help: "Sensitivity-mask fraction p of channels.") var maskFraction = 0.5
    @Option(help: "Grouping: semantic or random.") var grouping = "semantic"
    @Option(help: "Subtask loss: bce (weighted sigmoid BCE) or ce (weighted soft-target softmax CE).") var loss = "bce"
    @Option(help: "Convolution widths (comma-separated).") var widths = "16,32,64"
    @Flag(help: "Switch the OOD-aware soft targets off (one-hot on the OOD output).") var oneHotTargets = false
    @Flag(help: "Switch the class-balance reweighting (paper eq. 2) off.") var noClassBalance = false
    @Option(help: "Pruning floor: channels every block keeps.") var minimumChannels = 2
    @Flag(help: "Divide each block's Hessian importances by their mean before the global ranking (default: HAP's raw global ranking).")
    var normalizePerBlock = false
    @Option(help: "Hutchinson (Rademacher) probes per batch for the Hessian traces.") var hutchinsonSamples = 2
    @Option(help: "Training batches (of max(batch size, 128)) for the Hessian traces.") var hessianBatches = 1
    @Option(help: "Training batches (of max(batch size, 128)) for the sensitivity masks.") var sensitivityBatches = 4

    /// The training configuration (validated by the module); `warmupEpochs` falls back to
    /// `defaultWarmup`, batch size and learning rate come from the command.
    func configuration(defaultWarmup: Int, batchSize: Int, lr: Float) throws -> SplitEnsembleConfiguration {
        var s = SplitEnsembleBenchmark.Settings()
        s.warmupEpochs = warmupEpochs ?? defaultWarmup; s.finetuneEpochs = finetuneEpochs; s.rounds = rounds
        s.subtasks = subtasks; s.mct = mct; s.maskFraction = maskFraction; s.grouping = grouping; s.loss = loss
        s.widths = widths.split(separator: ",").compactMap { Int($0) }
        s.oodAwareTargets = !oneHotTargets; s.classBalance = !noClassBalance
        s.minimumChannels = minimumChannels; s.normalizePerBlock = normalizePerBlock
        s.hutchinsonSamples = hutchinsonSamples; s.hessianBatches = hessianBatches; s.sensitivityBatches = sensitivityBatches
        s.batchSize = batchSize; s.lr = lr
        return try s.configuration()
    }

    /// Fashion-MNIST (ID minus the held-out classes) and the offline OOD sets, normalized.
    func loadData(directory: String?, trainCount: Int, seed: UInt64) throws -> OODBenchmarkData {
        try OODBenchmarkData.load(directory: directory ?? FashionMNIST.directory, heldOut: heldOut.split(separator: ",").compactMap { Int($0) },
                                  trainCount: trainCount, testCount: testLimit, oodCount: oodLimit, seed: seed,
                                  warn: { FileHandleStderr.write("warning: \($0)\n") })
    }
}

/// Split-Ensemble's progress callback drawing on a ``ProgressReporter``.
func splitEnsembleProgress(_ reporter: ProgressReporter) -> ProgressHandler {
    { reporter.update($0) }
}

#if canImport(Glibc)
import Glibc
#endif

extension Tern.Train {
    /// `tern train split-ensemble`: trains the single model (for the class-mean grouping and the FLOP
    /// budget) and Split-Ensemble with the Split-Ensemble options (the bench's option group), then
    /// evaluates both on the OOD sets. `--epochs` is the shared-backbone epochs unless
    /// `--warmup-epochs` is given.
    func trainSplitEnsemble() throws {
        let c = try splitEnsemble.configuration(defaultWarmup: epochs, batchSize: batchSize, lr: lr)
        let d = try splitEnsemble.loadData(directory: data, trainCount: limit > 0 ? limit : 8000, seed: seed)
        let reporter = ProgressReporter(enabled: !json)
        let progress = splitEnsembleProgress(reporter)
        let single = SplitEnsembleTraining.trainSingle(d.train, configuration: c, seed: seed, progress: progress)
        let split = c.grouping == .semantic
            ? SubtaskSplit.semantic(classMeans: SplitEnsembleTraining.classMeans(single, data: d.train), subtasks: c.subtasks, seed: seed)
            : SubtaskSplit.random(classes: d.train.classes, subtasks: c.subtasks, seed: seed)
        let (net, log) = SplitEnsembleTraining.trainSplitEnsemble(d.train, split: split, configuration: c, budgetFLOPs: single.flops,
                                                                  seed: seed &+ 200, progress: progress)
        reporter.clear()
        let evals = Evaluation.single(single, data: d, description: "single") + Evaluation.splitEnsemble(net, data: d, description: "split-ensemble")
        if let save {
            try net.save(to: save, metadata: ["model": "split-ensemble", "subtasks": split.description, "tree": net.treeDescription])
        }
        if json {
            var settings = c.reportSettings(data: d, heldOut: splitEnsemble.heldOut, threads: threads)
            settings["seed"] = JSONValue(Int(seed))
            let obj: JSONValue = [
                "model": "split-ensemble", "subtasks": .array(split.groups.map { JSONValue($0) }), "tree": JSONValue(net.treeDescription),
                "flops": JSONValue(net.flops), "budget_flops": JSONValue(single.flops), "settings": .object(settings),
                "rounds": .array(log.rounds.map { ["splits": .array($0.splits.map { .array($0.groups.map { JSONValue($0) }) }),
                                                   "flops_after_pruning": JSONValue($0.flopsAfterPruning), "tree": JSONValue($0.tree)] }),
                "methods": .array(evals.map { ["method": JSONValue($0.method), "accuracy": JSONValue($0.accuracy),
                                               "mean_auroc": JSONValue($0.meanAUROC), "flops": JSONValue($0.flops)] }),
            ]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            Stdout.write(String(decoding: try encoder.encode(obj), as: UTF8.self) + "\n")
        } else {
            var s = "subtasks \(split), tree \(net.treeDescription), \(net.flops) FLOPs (budget \(single.flops))\n"
            for e in evals { s += String(format: "%@ acc %.2f%%  mean AUROC %.2f%%\n", padded(e.method, -24), e.accuracy * 100, e.meanAUROC * 100) }
            Stdout.write(s)
        }
    }
}
