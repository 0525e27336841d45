// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
import Foundation
public import Support

extension SplitEnsembleConfiguration {
    /// Every setting of a run, for a report's `settings` (one entry per field).
    public func reportSettings(data: OODBenchmarkData, heldOut: String, threads: Int) -> [String: JSONValue] {
        let c = self
        return [
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
}

/// Aggregation of seed runs into the shared report shape.
public struct SplitEnsembleReport {
    public let runs: [SplitEnsembleExperiment.SeedRun]
    public let data: OODBenchmarkData
    public let configuration: SplitEnsembleConfiguration

    /// Aggregates `runs` (one per seed) of `configuration` on `data`.
    public init(runs: [SplitEnsembleExperiment.SeedRun], data: OODBenchmarkData, configuration: SplitEnsembleConfiguration) {
        self.runs = runs
        self.data = data
        self.configuration = configuration
    }

    /// The reproduction report: the claims, every method's aggregate and every seed's run.
    public func benchReport(settings: [String: JSONValue], seconds: Double) -> BenchReport {
        BenchReport(system: "split-ensemble", settings: settings, claims: claims(),
                    results: ["methods": .array(rows().map(\.json)), "runs": .array(runJSON()), "seconds": JSONValue(seconds)])
    }

    struct PerSet {
        let set: String
        let auroc: (mean: Double, std: Double), fpr: (mean: Double, std: Double), aupr: (mean: Double, std: Double)
    }

    /// One method aggregated over seeds.
    public struct Row {
        let method: String, description: String
        let accuracy: (mean: Double, std: Double)
        let meanAUROC: (mean: Double, std: Double), meanFPR: (mean: Double, std: Double), meanAUPR: (mean: Double, std: Double)
        let perSet: [PerSet]
        let flops: Int, parameters: Int, seeds: Int

        public var json: JSONValue {
            func ms(_ x: (mean: Double, std: Double)) -> JSONValue { ["mean": JSONValue(x.mean), "std": JSONValue(x.std)] }
            return ["method": JSONValue(method), "description": JSONValue(description), "accuracy": ms(accuracy),
                    "mean_auroc": ms(meanAUROC), "mean_fpr95": ms(meanFPR), "mean_aupr": ms(meanAUPR), "flops": JSONValue(flops),
                    "parameters": JSONValue(parameters), "seeds": JSONValue(seeds),
                    "ood": .array(perSet.map { ["set": JSONValue($0.set), "auroc": ms($0.auroc), "fpr95": ms($0.fpr), "aupr": ms($0.aupr)] })]
        }
    }

    public func rows() -> [Row] {
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

    public func claims() -> [Claim] {
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

    public func runJSON() -> [JSONValue] {
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
                    "ablations": .array(r.ablationLogs.map { ["ablation": JSONValue($0.ablation), "subtasks": .array($0.split.groups.map { JSONValue($0) }),
                                                              "rounds": logJSON($0.log)] }),
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

    public func table() -> String {
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
