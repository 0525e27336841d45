// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
import Support
import Autograd
import Datasets
import NeuralNetworks
public import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// AUROC, FPR@95 %TPR and AUPR-In of one OOD set.
public struct OODResult: Sendable, Codable {
    public var auroc: Double, fpr95: Double, aupr: Double
}

/// One method (model + OOD score) evaluated on the ID test set and every OOD set.
public struct MethodEvaluation: Sendable, Codable {
    public var method: String
    public var description: String
    public var accuracy: Double
    /// In the order of ``OODBenchmarkData/ood``.
    public var ood: [(set: String, result: OODResult)]
    /// Inference FLOPs per image and parameters.
    public var flops: Int, parameters: Int

    private enum CodingKeys: String, CodingKey { case method, description, accuracy, ood, flops, parameters }
    private struct SetResult: Codable { var set: String, result: OODResult }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.decode(String.self, forKey: .method)
        description = try c.decode(String.self, forKey: .description)
        accuracy = try c.decode(Double.self, forKey: .accuracy)
        ood = try c.decode([SetResult].self, forKey: .ood).map { ($0.set, $0.result) }
        flops = try c.decode(Int.self, forKey: .flops)
        parameters = try c.decode(Int.self, forKey: .parameters)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method)
        try c.encode(description, forKey: .description)
        try c.encode(accuracy, forKey: .accuracy)
        try c.encode(ood.map { SetResult(set: $0.set, result: $0.result) }, forKey: .ood)
        try c.encode(flops, forKey: .flops)
        try c.encode(parameters, forKey: .parameters)
    }

    init(method: String, description: String, accuracy: Double, ood: [(set: String, result: OODResult)], flops: Int, parameters: Int) {
        self.method = method; self.description = description; self.accuracy = accuracy; self.ood = ood
        self.flops = flops; self.parameters = parameters
    }

    public var meanAUROC: Double { ood.map(\.result.auroc).reduce(0, +) / Double(Swift.max(ood.count, 1)) }
    public var meanFPR95: Double { ood.map(\.result.fpr95).reduce(0, +) / Double(Swift.max(ood.count, 1)) }
    public var meanAUPR: Double { ood.map(\.result.aupr).reduce(0, +) / Double(Swift.max(ood.count, 1)) }
}

/// Evaluates predictors on ID and OOD data.
public enum Evaluation {
    /// Applies `forward` to `images` in batches of 500 and concatenates the per-sample outputs.
    static func batched(_ images: Tensor, _ forward: (Tensor) -> (predictions: [Int], scores: [String: [Float]]))
        -> (predictions: [Int], scores: [String: [Float]])
    {
        var preds: [Int] = [], scores: [String: [Float]] = [:]
        var start = 0
        while start < images.shape[0] {
            let end = Swift.min(start + 500, images.shape[0])
            let r = withoutGradient { forward(images.sliced(alongAxis: 0, start..<end)) }
            preds += r.predictions
            for (k, v) in r.scores { scores[k, default: []] += v }
            start = end
        }
        return (preds, scores)
    }

    /// One ``MethodEvaluation`` per score that `forward` returns, named `method` + `-` + score
    /// (the `scoreOrder` entries, in that order).
    public static func evaluate(method: String, description: String, data: OODBenchmarkData, flops: Int, parameters: Int,
                                scoreOrder: [String], forward: (Tensor) -> (predictions: [Int], scores: [String: [Float]]))
        -> [MethodEvaluation]
    {
        let id = batched(data.test.images, forward)
        let correct = zip(id.predictions, data.test.labels).filter { $0 == Int($1) }.count
        let accuracy = Double(correct) / Double(Swift.max(data.test.count, 1))
        let oodScores = data.ood.map { ($0.name, batched($0.images, forward).scores) }
        return scoreOrder.map { score in
            MethodEvaluation(
                method: "\(method)-\(score)", description: description, accuracy: accuracy,
                ood: oodScores.map { name, s in
                    let i = id.scores[score]!, o = s[score]!
                    return (set: name, result: OODResult(auroc: OODMetrics.auroc(id: i, ood: o), fpr95: OODMetrics.fprAt95TPR(id: i, ood: o),
                                            aupr: OODMetrics.aupr(id: i, ood: o)))
                },
                flops: flops, parameters: parameters)
        }
    }

    /// Single model: MSP and energy.
    public static func single(_ m: SingleModel, data: OODBenchmarkData, method: String = "single", description: String) -> [MethodEvaluation] {
        m.eval()
        return evaluate(method: method, description: description, data: data, flops: m.flops, parameters: m.parameterCount,
                        scoreOrder: ["msp", "energy"]) { x in
            let z = m(Variable(x)).value
            return (z.argmaxLastAxis(), ["msp": ConfidenceScore.msp(z), "energy": ConfidenceScore.energy(z)])
        }
    }

    /// Averaged softmax of several models (deep ensemble) or of `passes` stochastic passes of one
    /// model (MC dropout): argmax and maximum of the mean probability.
    public static func averaged(_ models: [SingleModel], passes: Int, data: OODBenchmarkData, method: String, description: String) -> [MethodEvaluation] {
        for m in models { if passes > 1 { m.enableMonteCarloDropout() } else { m.eval() } }
        defer { for m in models { m.eval() } }
        let flops = models.map(\.flops).reduce(0, +) * passes
        return evaluate(method: method, description: description, data: data, flops: flops,
                        parameters: models.map(\.parameterCount).reduce(0, +), scoreOrder: ["msp"]) { x in
            var mean: Tensor?
            for m in models { for _ in 0..<passes {
                let p = m(Variable(x)).value.softmaxLastAxis()
                mean = mean.map { $0 + p } ?? p
            } }
            let p = mean! / Float(models.count * passes)
            return (p.argmaxLastAxis(), ["msp": ConfidenceScore.maxPerRow(p)])
        }
    }

    /// Split-Ensemble with the given scores (default: the paper's combined reduction, MSP, energy).
    public static func splitEnsemble(_ net: SplitNetwork, data: OODBenchmarkData, method: String = "split-ensemble", description: String,
                                     scores: [SplitScore] = SplitScore.allCases) -> [MethodEvaluation] {
        net.eval()
        return evaluate(method: method, description: description, data: data, flops: net.flops, parameters: net.parameterCount,
                        scoreOrder: scores.map(\.rawValue)) { x in
            let logits = net.subtaskLogits(Variable(x)).map(\.value)
            var s: [String: [Float]] = [:]
            for score in scores { s[score.rawValue] = SplitInference.confidence(logits, split: net.split, score: score) }
            return (SplitInference.predictions(logits, split: net.split), s)
        }
    }
}

/// Ablations of the full benchmark (each a Split-Ensemble variant run on the first seed).
public enum SplitEnsembleAblation: String, Sendable, CaseIterable {
    case oneHotTargets = "one-hot-targets"
    case mct02 = "mct-0.2"
    case mct06 = "mct-0.6"
    case subtasks4 = "subtasks-4"
    case randomGrouping = "random-grouping"
    case softmaxLoss = "softmax-ce-loss"
    case oneRound = "one-round"
    case noClassBalance = "no-class-balance"

    /// The configuration this ablation changes.
    public func apply(_ c: SplitEnsembleConfiguration) -> SplitEnsembleConfiguration {
        var c = c
        switch self {
        case .oneHotTargets: c.oodAwareTargets = false
        case .mct02: c.mct = 0.2
        case .mct06: c.mct = 0.6
        case .subtasks4: c.subtasks = 4
        case .randomGrouping: c.grouping = .random
        case .softmaxLoss: c.loss = .weightedSoftmaxCE
        case .oneRound:
            // The same training epochs with a single split/prune round.
            c.warmupEpochs += (c.rounds - 1) * c.finetuneEpochs
            c.rounds = 1
        case .noClassBalance: c.classBalance = false
        }
        return c
    }
}

/// The whole comparison: for every seed, the single model (MSP, energy), a deep ensemble, MC
/// dropout and Split-Ensemble, trained on the same data for the same epochs; then ablations.
public struct SplitEnsembleExperiment {
    public var configuration: SplitEnsembleConfiguration
    public var seeds: [UInt64]
    public var ablations: [SplitEnsembleAblation]
    public var progress: ProgressHandler?

    public init(configuration: SplitEnsembleConfiguration, seeds: [UInt64], ablations: [SplitEnsembleAblation], progress: ProgressHandler? = nil) {
        self.configuration = configuration; self.seeds = seeds; self.ablations = ablations; self.progress = progress
    }

    /// What one ablation's Split-Ensemble did.
    public struct AblationLog: Sendable, Codable {
        public var ablation: String
        public var split: SubtaskSplit
        public var log: SplitEnsembleTraining.Log
    }

    /// One seed's evaluations plus what Split-Ensemble did.
    public struct SeedRun: Sendable, Codable {
        public var seed: UInt64
        public var evaluations: [MethodEvaluation]
        public var split: SubtaskSplit
        public var log: SplitEnsembleTraining.Log
        public var ablationLogs: [AblationLog]
        public var seconds: [String: Double]
    }

    /// Trains and evaluates every seed; each seed is one piece of `checkpoint`, so an interrupted
    /// run resumes at the first unfinished seed.
    public func run(data: OODBenchmarkData, checkpoint: BenchCheckpoint = BenchCheckpoint(directory: nil, settings: [:])) throws -> [SeedRun] {
        try seeds.enumerated().map { si, seed in
            try checkpoint.piece("seed \(seed)") { runSeed(seed, first: si == 0, data: data) }
        }
    }

    private func runSeed(_ seed: UInt64, first: Bool, data: OODBenchmarkData) -> SeedRun {
        let c = configuration
        var seconds: [String: Double] = [:]
        func timed<T>(_ key: String, _ body: () -> T) -> T {
            let t0 = now(); defer { seconds[key, default: 0] += now() - t0 }
            return body()
        }
        let base = seed &* 1000
        let single = timed("single") { SplitEnsembleTraining.trainSingle(data.train, configuration: c, seed: base, label: "single", progress: progress) }
        var evals = Evaluation.single(single, data: data, description: "one CNN, \(c.widths), cross-entropy")
        let members = [single] + (1..<c.ensembleSize).map { k in
            timed("deep-ensemble") {
                SplitEnsembleTraining.trainSingle(data.train, configuration: c, seed: base &+ UInt64(k), label: "ensemble member \(k + 1)", progress: progress)
            }
        }
        evals += Evaluation.averaged(members, passes: 1, data: data, method: "deep-ensemble-\(c.ensembleSize)",
                                     description: "\(c.ensembleSize) independently initialised single models, mean softmax")
        let dropoutModel = timed("mc-dropout") {
            SplitEnsembleTraining.trainSingle(data.train, configuration: c, seed: base &+ 100, dropout: c.dropout, label: "mc-dropout", progress: progress)
        }
        evals += Evaluation.averaged([dropoutModel], passes: c.monteCarloPasses, data: data, method: "mc-dropout",
                                     description: "dropout \(c.dropout), \(c.monteCarloPasses) test-time passes, mean softmax")
        let means = SplitEnsembleTraining.classMeans(single, data: data.train)
        let budget = single.flops
        func trainSE(_ cfg: SplitEnsembleConfiguration, method: String, key: String) -> ([MethodEvaluation], SubtaskSplit, SplitEnsembleTraining.Log) {
            let split = cfg.grouping == .semantic
                ? SubtaskSplit.semantic(classMeans: means, subtasks: cfg.subtasks, seed: base)
                : SubtaskSplit.random(classes: data.train.classes, subtasks: cfg.subtasks, seed: base)
            let (net, log) = timed(key) {
                SplitEnsembleTraining.trainSplitEnsemble(data.train, split: split, configuration: cfg, budgetFLOPs: budget,
                                                         seed: base &+ 200, label: method, progress: progress)
            }
            let desc = "n=\(cfg.subtasks) \(cfg.grouping.rawValue) subtasks \(split), MCT \(cfg.mct), \(cfg.oodAwareTargets ? "OOD-aware" : "one-hot") targets, tree \(net.treeDescription)"
            return (Evaluation.splitEnsemble(net, data: data, method: method, description: desc), split, log)
        }
        let (se, split, log) = trainSE(c, method: "split-ensemble", key: "split-ensemble")
        evals += se
        var ablationLogs: [AblationLog] = []
        if first {
            for a in ablations {
                let (e, s, l) = trainSE(a.apply(c), method: "ablation-\(a.rawValue)", key: "ablation-\(a.rawValue)")
                evals += e.filter { $0.method.hasSuffix("-" + c.score.rawValue) }
                ablationLogs.append(AblationLog(ablation: a.rawValue, split: s, log: l))
            }
        }
        return SeedRun(seed: seed, evaluations: evals, split: split, log: log, ablationLogs: ablationLogs, seconds: seconds)
    }

    func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Mean and sample standard deviation (0 for one value).
public func meanAndStd(_ xs: [Double]) -> (mean: Double, std: Double) {
    Statistics.meanAndSpread(xs).map { ($0.mean, $0.spread) } ?? (.nan, .nan)
}
