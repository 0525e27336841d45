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

/// Every setting of a run, for the report's `settings` (one entry per ``SplitEnsembleConfiguration`` field).
func splitEnsembleSettings(_ c: SplitEnsembleConfiguration, data: OODBenchmarkData, heldOut: String, threads: Int) -> [String: JSONValue] {
    [
        "train_images": JSONValue(data.train.count), "test_images": JSONValue(data.test.count),
        "ood_sets": .array(data.ood.map { ["name": JSONValue($0.name), "images": JSONValue($0.images.shape[0])] }),
        "id_classes": JSONValue(data.idClasses), "held_out_classes": JSONValue(heldOut),
        "widths": JSONValue(c.widths), "pools": JSONValue(c.pools), "subtasks": JSONValue(c.subtasks),
        "grouping": JSONValue(c.grouping.rawValue), "mct": JSONValue(c.mct), "mask_fraction": JSONValue(c.maskKeepFraction),
        "loss": JSONValue(c.loss.rawValue), "ood_aware_targets": JSONValue(c.oodAwareTargets), "class_balance": JSONValue(c.classBalance),
        "rounds": JSONValue(c.rounds), "warmup_epochs": JSONValue(c.warmupEpochs), "finetune_epochs": JSONValue(c.finetuneEpochs),
        "total_epochs": JSONValue(c.totalEpochs), "batch_size": JSONValue(c.batchSize), "lr": JSONValue(c.learningRate),
        "weight_decay": JSONValue(c.weightDecay), "hutchinson_samples": JSONValue(c.hutchinsonSamples),
        "hessian_batches": JSONValue(c.hessianBatches), "sensitivity_batches": JSONValue(c.sensitivityBatches),
        "probe_batch_size": JSONValue(max(c.batchSize, 128)), "minimum_channels": JSONValue(c.minimumChannels),
        "normalize_per_block": JSONValue(c.normalizePerBlock), "ensemble_size": JSONValue(c.ensembleSize),
        "mc_dropout": JSONValue(c.dropout), "mc_passes": JSONValue(c.monteCarloPasses), "score": JSONValue(c.score.rawValue),
        "threads": JSONValue(threads),
    ]
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
            var settings = splitEnsembleSettings(c, data: data, heldOut: options.method.heldOut, threads: options.threads)
            settings["quick"] = JSONValue(quick)
            settings["seeds"] = JSONValue(seedList.map { Int($0) })
            settings["ablations"] = JSONValue(abl.map(\.rawValue))
            let bench = BenchReport(system: "split-ensemble", settings: settings, claims: report.claims(),
                                    results: ["methods": .array(report.rows().map(\.json)), "runs": .array(report.runJSON()),
                                              "seconds": JSONValue(seconds)])
            try output.emit(bench, details: report.table() + String(format: "\n%.0f s\n", seconds))
        }
    }
}

/// Aggregation of seed runs into the shared report shape.
struct SplitEnsembleReport {
    let runs: [SplitEnsembleExperiment.SeedRun]
    let data: OODBenchmarkData
    let configuration: SplitEnsembleConfiguration

    struct PerSet {
        let set: String
        let auroc: (mean: Double, std: Double), fpr: (mean: Double, std: Double), aupr: (mean: Double, std: Double)
    }

    struct Row {
        let method: String, description: String
        let accuracy: (mean: Double, std: Double)
        let meanAUROC: (mean: Double, std: Double), meanFPR: (mean: Double, std: Double), meanAUPR: (mean: Double, std: Double)
        let perSet: [PerSet]
        let flops: Int, parameters: Int, seeds: Int

        var json: JSONValue {
            func ms(_ x: (mean: Double, std: Double)) -> JSONValue { ["mean": JSONValue(x.mean), "std": JSONValue(x.std)] }
            return ["method": JSONValue(method), "description": JSONValue(description), "accuracy": ms(accuracy),
                    "mean_auroc": ms(meanAUROC), "mean_fpr95": ms(meanFPR), "mean_aupr": ms(meanAUPR), "flops": JSONValue(flops),
                    "parameters": JSONValue(parameters), "seeds": JSONValue(seeds),
                    "ood": .array(perSet.map { ["set": JSONValue($0.set), "auroc": ms($0.auroc), "fpr95": ms($0.fpr), "aupr": ms($0.aupr)] })]
        }
    }

    func rows() -> [Row] {
        var order: [String] = []
        var byMethod: [String: [MethodEvaluation]] = [:]
        for r in runs { for e in r.evaluations {
            if byMethod[e.method] == nil { order.append(e.method) }
            byMethod[e.method, default: []].append(e)
        } }
        return order.map { m in
            let es = byMethod[m]!
            let sets = es[0].ood.map(\.set)
            return Row(method: m, description: es[0].description,
                       accuracy: meanAndStd(es.map(\.accuracy)), meanAUROC: meanAndStd(es.map(\.meanAUROC)),
                       meanFPR: meanAndStd(es.map(\.meanFPR95)), meanAUPR: meanAndStd(es.map(\.meanAUPR)),
                       perSet: sets.enumerated().map { k, s in
                           PerSet(set: s, auroc: meanAndStd(es.map { $0.ood[k].result.auroc }), fpr: meanAndStd(es.map { $0.ood[k].result.fpr95 }),
                                  aupr: meanAndStd(es.map { $0.ood[k].result.aupr }))
                       },
                       flops: es.map(\.flops).max()!, parameters: es.map(\.parameters).max()!, seeds: es.count)
        }
    }

    /// Paired per-seed differences of Split-Ensemble (headline score) against a baseline row.
    func delta(_ baseline: String, _ metric: (MethodEvaluation) -> Double) -> Double? {
        let se = "split-ensemble-\(configuration.score.rawValue)"
        let diffs = runs.compactMap { r -> Double? in
            guard let a = r.evaluations.first(where: { $0.method == se }), let b = r.evaluations.first(where: { $0.method == baseline }) else { return nil }
            return metric(a) - metric(b)
        }
        return diffs.isEmpty ? nil : meanAndStd(diffs).mean
    }

    func claims() -> [Claim] {
        let se = "split-ensemble-\(configuration.score.rawValue)"
        let all = rows()
        guard let s = all.first(where: { $0.method == se }), let single = all.first(where: { $0.method == "single-msp" }) else { return [] }
        let setting = "Fashion-MNIST, \(runs.count) seed(s)"
        func points(_ baseline: String, _ metric: (MethodEvaluation) -> Double) -> Double? { delta(baseline, metric).map { $0 * 100 } }
        var out = [
            Claim(id: "accuracy_gain_vs_single_pp", setting: setting,
                  description: "ID test accuracy of Split-Ensemble minus the single model at no more FLOPs (paper: +0.8 CIFAR-10, +1.8 CIFAR-100 with ResNet-18), mean over seeds",
                  unit: "pp", paper: .value(0.8), ours: points("single-msp") { $0.accuracy }, better: .higher,
                  baseline: "single CNN of the same widths, same data and epochs, same engine",
                  reproduced: Claim.judge(points("single-msp") { $0.accuracy }, better: .higher, threshold: 0)),
            Claim(id: "mean_auroc_gain_vs_single_msp_pp", setting: setting,
                  description: "mean OOD AUROC over \(data.ood.map(\.name).joined(separator: ", ")) of Split-Ensemble (\(configuration.score.rawValue) score) minus the single model with MSP (paper: +2.2 CIFAR-10, +8.1 CIFAR-100)",
                  unit: "pp", paper: .value(2.2), ours: points("single-msp") { $0.meanAUROC }, better: .higher,
                  baseline: "single CNN, maximum softmax probability",
                  reproduced: Claim.judge(points("single-msp") { $0.meanAUROC }, better: .higher, threshold: 0)),
            Claim(id: "mean_auroc_gain_vs_single_energy_pp", setting: setting,
                  description: "as mean_auroc_gain_vs_single_msp_pp against the single model's energy score",
                  unit: "pp", paper: nil, ours: points("single-energy") { $0.meanAUROC }, better: .higher, baseline: "single CNN, energy score"),
            Claim(id: "flops_ratio_vs_single", setting: setting,
                  description: "inference FLOPs of the pruned Split-Ensemble tree over the single model's (engine FLOP counter)",
                  unit: "x", paper: .value(1), ours: Double(s.flops) / Double(single.flops), better: .lower, baseline: "single CNN",
                  reproduced: Double(s.flops) <= Double(single.flops) * 1.0001),
        ]
        if let e = all.first(where: { $0.method.hasPrefix("deep-ensemble") }) {
            out.append(Claim(id: "mean_auroc_vs_deep_ensemble_pp", setting: setting,
                             description: "mean AUROC of Split-Ensemble minus the \(configuration.ensembleSize)x deep ensemble (which costs \(String(format: "%.1f", Double(e.flops) / Double(s.flops)))x the FLOPs); the paper says it is competitive at about 1/4 of the cost",
                             unit: "pp", paper: nil, ours: points(e.method) { $0.meanAUROC }, better: .higher,
                             baseline: "deep ensemble of independently initialised single models"))
        }
        return out
    }

    func runJSON() -> [JSONValue] {
        runs.map { r in
            func logJSON(_ l: SplitEnsembleTraining.Log) -> JSONValue {
                .array(l.rounds.enumerated().map { k, round in
                    ["splits": .array(round.splits.map { ["layer": JSONValue($0.layer), "groups": .array($0.groups.map { JSONValue($0) })] }),
                     "flops_before_pruning": JSONValue(round.flopsBeforePruning), "flops_after_pruning": JSONValue(round.flopsAfterPruning),
                     "tree": JSONValue(round.tree), "min_iou_per_block_before_split": JSONValue(l.minimumIoU[k])]
                })
            }
            return ["seed": JSONValue(Int(r.seed)), "subtasks": .array(r.split.groups.map { JSONValue($0) }), "rounds": logJSON(r.log),
                    "seconds": .object(r.seconds.mapValues { JSONValue($0) }),
                    "ablations": .array(r.ablationLogs.map { ["ablation": JSONValue($0.0), "subtasks": .array($0.1.groups.map { JSONValue($0) }),
                                                              "rounds": logJSON($0.2)] }),
                    "methods": .array(r.evaluations.map { e in
                        ["method": JSONValue(e.method), "accuracy": JSONValue(e.accuracy), "mean_auroc": JSONValue(e.meanAUROC),
                         "flops": JSONValue(e.flops),
                         "ood": .array(e.ood.map { ["set": JSONValue($0.set), "auroc": JSONValue($0.result.auroc),
                                                    "fpr95": JSONValue($0.result.fpr95), "aupr": JSONValue($0.result.aupr)] })]
                    })]
        }
    }

    /// The first seed's own numbers for the single model (MSP) and Split-Ensemble's headline score:
    /// the reference the single-seed ablation rows must be read against (not the mean over seeds).
    func firstSeedReference() -> [Row] {
        guard runs.count > 1, let first = runs.first, rows().contains(where: { $0.seeds == 1 }) else { return [] }
        let one = SplitEnsembleReport(runs: [first], data: data, configuration: configuration)
        let keep = ["single-msp", "split-ensemble-\(configuration.score.rawValue)"]
        return one.rows().filter { keep.contains($0.method) }.map { r in
            Row(method: "\(r.method) (seed \(first.seed))", description: r.description, accuracy: r.accuracy, meanAUROC: r.meanAUROC,
                meanFPR: r.meanFPR, meanAUPR: r.meanAUPR, perSet: r.perSet, flops: r.flops, parameters: r.parameters, seeds: 1)
        }
    }

    func table() -> String {
        let main = rows().filter { !$0.method.hasPrefix("ablation-") }
        let ablation = rows().filter { $0.method.hasPrefix("ablation-") }
        let reference = firstSeedReference()
        let all = main + reference + ablation
        // A single run has no spread: print the value alone rather than "± 0.0".
        func pm(_ x: (mean: Double, std: Double), _ seeds: Int) -> String {
            seeds > 1 ? String(format: "%5.1f±%-4.1f", x.mean * 100, x.std * 100) : String(format: "%5.1f     ", x.mean * 100)
        }
        var s = "Fashion-MNIST (\(data.idClasses.count) ID classes, \(data.train.count) train / \(data.test.count) test), \(runs.count) seed(s); percentages, mean±std over seeds"
        if !ablation.isEmpty { s += "; ablations on seed \(runs[0].seed) only: compare them with the seed-\(runs[0].seed) rows, not the means" }
        s += "\n\n"
        s += padded("method", -34) + " " + padded("acc", 10) + " " + padded("AUROC", 10) + " " + padded("FPR95", 10) + " "
            + padded("AUPR", 10) + " " + padded("MFLOPs", 7) + " " + padded("params", 7) + "\n"
        for r in all {
            s += padded(r.method, -34) + " " + pm(r.accuracy, r.seeds) + " " + pm(r.meanAUROC, r.seeds) + " " + pm(r.meanFPR, r.seeds)
                + " " + pm(r.meanAUPR, r.seeds) + " " + String(format: "%7.2f %7d", Double(r.flops) / 1e6, r.parameters) + "\n"
        }
        s += "\nAUROC per OOD set\n" + padded("method", -34)
        for o in data.ood { s += " " + padded(o.name, 10) }
        s += "\n"
        for r in all {
            s += padded(r.method, -34)
            for p in r.perSet { s += " " + pm(p.auroc, r.seeds) }
            s += "\n"
        }
        s += "\n"
        for r in runs { s += "seed \(r.seed): subtasks \(r.split), tree " + (r.log.rounds.last?.tree ?? "-") + "\n" }
        return s
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
            var settings = splitEnsembleSettings(c, data: d, heldOut: splitEnsemble.heldOut, threads: threads)
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
