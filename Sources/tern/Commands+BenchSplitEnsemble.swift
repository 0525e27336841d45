// SPDX-License-Identifier: Apache-2.0

import Support
import ArgumentParser
import Benchmarks
import Datasets
import Foundation
import NeuralNetworks
import SplitEnsemble
import Tensors

/// The Split-Ensemble method and data settings, shared by `tern bench split-ensemble` and
/// `tern train split-ensemble` (one option group, so both commands take the same knobs).
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

    /// Writes these settings into `c`; `warmupEpochs` falls back to `defaultWarmup`.
    func apply(to c: inout SplitEnsembleConfiguration, defaultWarmup: Int) throws {
        c.warmupEpochs = warmupEpochs ?? defaultWarmup; c.finetuneEpochs = finetuneEpochs; c.rounds = rounds
        c.subtasks = subtasks; c.mct = mct; c.maskKeepFraction = maskFraction
        guard let g = SplitEnsembleConfiguration.Grouping(rawValue: grouping) else { throw CLIError("--grouping: semantic or random") }
        guard let l = SubtaskLossKind(rawValue: loss) else { throw CLIError("--loss: bce or ce") }
        c.grouping = g; c.loss = l
        c.widths = widths.split(separator: ",").compactMap { Int($0) }
        guard c.widths.count == 3 else { throw CLIError("--widths: three comma-separated integers") }
        guard subtasks >= 2 && c.warmupEpochs >= 0 && finetuneEpochs >= 0 && rounds >= 0 && minimumChannels >= 1
                && hutchinsonSamples >= 1 && hessianBatches >= 1 && sensitivityBatches >= 1 && maskFraction > 0 && maskFraction <= 1
        else { throw CLIError("split-ensemble settings out of range (subtasks >= 2, counts >= 1, 0 < mask fraction <= 1)") }
        c.oodAwareTargets = !oneHotTargets; c.classBalance = !noClassBalance
        c.minimumChannels = minimumChannels; c.normalizePerBlock = normalizePerBlock
        c.hutchinsonSamples = hutchinsonSamples; c.hessianBatches = hessianBatches; c.sensitivityBatches = sensitivityBatches
    }

    /// Fashion-MNIST (ID minus the held-out classes) and the offline OOD sets, normalized.
    func loadData(directory: String?, trainCount: Int, quick: Bool, seed: UInt64) throws -> OODBenchmarkData {
        let dir = directory ?? FashionMNIST.directory
        let train: ImageDataset, test: ImageDataset
        do {
            train = try FashionMNIST.load(train: true, directory: dir)
            test = try FashionMNIST.load(train: false, directory: dir)
        } catch {
            throw CLIError("cannot read Fashion-MNIST in \(dir) (\(error)); run scripts/fetch-data.sh")
        }
        let digits = try? Digits.load()
        if digits == nil { FileHandleStderr.write("warning: sklearn digits not found in \(Digits.path); the digits OOD set is skipped\n") }
        let held = heldOut.split(separator: ",").compactMap { Int($0) }
        return OODBenchmarkData.make(fashionTrain: train, fashionTest: test, digits: digits, heldOut: held,
                                     trainCount: quick ? 1200 : trainCount, testCount: quick ? 300 : testLimit,
                                     oodCount: quick ? 200 : oodLimit, seed: seed).normalized()
    }
}

/// `tern bench split-ensemble`'s options: the method group plus the training-data size and optimizer.
struct SplitEnsembleOptions: ParsableArguments {
    @OptionGroup(title: "Split-Ensemble") var method: SplitEnsembleMethodOptions
    @Option(help: "Training images of the 8 ID classes (0 = all 48000).") var trainLimit = 8000
    @Option(help: "Batch size.") var batchSize = 64
    @Option(help: "Peak learning rate (SGD, Nesterov momentum 0.9, warm-up + cosine).") var lr: Float = 0.05
    @Option(help: "Threads for kernels and OpenBLAS.") var threads = 2
    @Option(help: "Fashion-MNIST directory (default $TERN_HOME/data/fashion-mnist).") var data: String?

    func configuration() throws -> SplitEnsembleConfiguration {
        var c = SplitEnsembleConfiguration()
        try method.apply(to: &c, defaultWarmup: c.warmupEpochs)
        c.batchSize = batchSize; c.learningRate = lr
        return c
    }

    func loadData(quick: Bool, seed: UInt64) throws -> OODBenchmarkData {
        try method.loadData(directory: data, trainCount: trainLimit, quick: quick, seed: seed)
    }
}

/// Split-Ensemble's progress callback drawing on a ``ProgressReporter``.
func splitEnsembleProgress(_ reporter: ProgressReporter) -> ProgressHandler {
    { reporter.update($0) }
}

extension Tern.Bench {
    /// `tern bench split-ensemble`: Split-Ensemble against a single model (MSP, energy), a deep
    /// ensemble and MC dropout on Fashion-MNIST with offline OOD sets, at the single model's FLOPs.
    struct SplitEnsembleBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "split-ensemble",
            abstract: "Split-Ensemble: accuracy and OOD detection vs single model, deep ensemble and MC dropout at equal FLOPs.")

        @OptionGroup var options: SplitEnsembleOptions
        @Option(help: "Seeds (each trains every method).") var seeds = 3
        @Option(help: "First seed (seeds run first-seed, first-seed+1, ...).") var firstSeed = 1
        @Option(help: "Ablations on the first seed: comma-separated of \(SplitEnsembleAblation.allCases.map(\.rawValue).joined(separator: ", ")), 'all' or 'none'.")
        var ablations = "all"
        @OptionGroup var output: BenchOutputOptions
        private var quick: Bool { output.quick }
        private var json: Bool { output.json }

        func run() throws {
            Parallel.setThreads(options.threads)
            let started = Date()
            var c = try options.configuration()
            if quick { c.warmupEpochs = 3; c.finetuneEpochs = 1; c.rounds = 1; c.ensembleSize = 2; c.monteCarloPasses = 2; c.sensitivityBatches = 1 }
            let data = try options.loadData(quick: quick, seed: 1)
            let abl: [SplitEnsembleAblation] = quick || ablations == "none" ? [] : ablations == "all" ? SplitEnsembleAblation.allCases
                : try ablations.split(separator: ",").map { s in
                    guard let a = SplitEnsembleAblation(rawValue: String(s)) else { throw CLIError("unknown ablation \(s)") }
                    return a
                }
            let seedList = (0..<(quick ? 1 : max(1, seeds))).map { UInt64($0 + firstSeed) }
            let reporter = ProgressReporter(enabled: !json)
            let experiment = SplitEnsembleExperiment(configuration: c, seeds: seedList, ablations: abl, progress: splitEnsembleProgress(reporter))
            let runs = experiment.run(data: data)
            reporter.clear()
            let report = SplitEnsembleReport(runs: runs, data: data, configuration: c)
            let seconds = Date().timeIntervalSince(started)
            var settings = c.reportSettings(data: data, heldOut: options.method.heldOut, threads: options.threads)
            settings["quick"] = JSONValue(quick)
            settings["seeds"] = JSONValue(seedList.map { Int($0) })
            settings["ablations"] = JSONValue(abl.map(\.rawValue))
            try output.emit(report.benchReport(settings: settings, seconds: seconds), details: report.table() + String(format: "\n%.0f s\n", seconds))
        }
    }
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
        Parallel.setThreads(threads)
        var c = SplitEnsembleConfiguration()
        try splitEnsemble.apply(to: &c, defaultWarmup: epochs)
        c.batchSize = batchSize; c.learningRate = lr
        let d = try splitEnsemble.loadData(directory: data, trainCount: limit > 0 ? limit : 8000, quick: false, seed: seed)
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
