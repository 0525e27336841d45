// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
public import Datasets
import Foundation
import Kernels
import NeuralNetworks
public import PIMSimulator
import Support
import Tensors

/// EPIM's reproduction: the crossbar-area reduction of epitome ResNet-50 under the analytical cost
/// model, and accuracy against crossbar count on Fashion-MNIST for plain, quantized, pruned and
/// epitome variants of one small CNN, all trained with the same data, epochs and schedule.
public struct EPIMBenchmark: Sendable {
    /// Every knob of a run (encoded into the report's settings).
    public struct Settings: Codable, Sendable, Equatable {
        /// Training epochs per variant.
        public var epochs = 2
        /// Training images (0 = all 60,000).
        public var trainLimit = 15000
        /// Test images (0 = all 10,000).
        public var testLimit = 0
        public var batchSize = 64
        /// Peak learning rate (SGD, Nesterov momentum 0.9, warm-up + cosine).
        public var lr: Float = 0.05
        /// Weight bits of the quantized variants.
        public var bits = 3
        /// Crossbar size for the small CNN (its layers are small; see docs/epim.md).
        public var crossbarSize = 128
        public var seed: UInt64 = 1
        public var threads = 2
        /// All variants (the full run) or the six core ones (quick).
        public var allVariants = true
        /// The ResNet-50 epitome design-search budget (0 = the uniform Co/2, Ci/2 design only).
        public var searchBudget = 1.0
        /// Fashion-MNIST directory ("" = `$TERN_HOME/data/fashion-mnist`).
        public var data = ""
        /// Creates the defaults of a full run.
        public init() {}
    }

    /// The settings.
    public let settings: Settings
    /// The small CNN's channel widths.
    public static let widths = [32, 64, 128]

    /// Creates a benchmark.
    public init(settings: Settings) { self.settings = settings }

    /// One small-CNN design trained and costed.
    public struct Variant: Sendable {
        public let id: String, description: String
        public let bits: Int?
        public let epitomes: [EpitomeShape?]
        /// Prune the trained plain network to the crossbars of this variant (nil = not pruned).
        public let pruneToMatch: String?
        /// With `pruneToMatch`: train the pruned widths from scratch instead of fine-tuning.
        public var scratch = false
        /// Start from the trained plain network (least-squares epitomes), then fine-tune.
        public var fromPlain = false
        /// With `pruneToMatch`: match stored weights (at no more crossbars) instead of crossbars only.
        public var matchWeights = false
    }

    /// The designs: plain, quantized, epitome, pruned and slim baselines (more in full runs).
    public func variants(widths: [Int]) -> [Variant] {
        let bits = settings.bits
        func reduced(_ o: Int, _ i: Int, spatial: Int = 3) -> [EpitomeShape?] {
            let ins = [1, widths[0], widths[1]]
            return [nil] + (1...2).map { l -> EpitomeShape? in
                EpitomeShape(outChannels: widths[l] / o, inChannels: ins[l] / i, height: spatial, width: spatial)
            }
        }
        var v = [
            Variant(id: "plain-fp32", description: "plain convolution, full precision (mapped at 32 bits)", bits: nil,
                    epitomes: [nil, nil, nil], pruneToMatch: nil),
            Variant(id: "quantized", description: "quantization only, \(bits)-bit QAT", bits: bits, epitomes: [nil, nil, nil], pruneToMatch: nil),
            Variant(id: "epitome-2x2", description: "epitome Co/2 Ci/2 (conv2, conv3) + \(bits)-bit QAT", bits: bits,
                    epitomes: reduced(2, 2), pruneToMatch: nil),
            Variant(id: "pruned-match-2x2", description: "L1 filter pruning of plain-fp32 to epitome-2x2's crossbars, \(bits)-bit QAT fine-tune",
                    bits: bits, epitomes: [nil, nil, nil], pruneToMatch: "epitome-2x2"),
            Variant(id: "epitome-2x2-from-plain", description: "epitome Co/2 Ci/2 fitted to the trained plain-fp32 weights, \(bits)-bit QAT fine-tune",
                    bits: bits, epitomes: reduced(2, 2), pruneToMatch: nil, fromPlain: true),
            Variant(id: "slim-match-2x2", description: "the pruned widths trained from scratch with the same epochs, \(bits)-bit QAT",
                    bits: bits, epitomes: [nil, nil, nil], pruneToMatch: "epitome-2x2", scratch: true),
        ]
        if settings.allVariants {
            v += [
                Variant(id: "pruned-match-weights-2x2", description: "L1 filter pruning to no more weights (and crossbars) than epitome-2x2, \(bits)-bit QAT fine-tune",
                        bits: bits, epitomes: [nil, nil, nil], pruneToMatch: "epitome-2x2", matchWeights: true),
                Variant(id: "epitome-4x2", description: "epitome Co/4 Ci/2 + \(bits)-bit QAT", bits: bits, epitomes: reduced(4, 2), pruneToMatch: nil),
                Variant(id: "pruned-match-4x2", description: "L1 filter pruning to epitome-4x2's crossbars, \(bits)-bit QAT fine-tune",
                        bits: bits, epitomes: [nil, nil, nil], pruneToMatch: "epitome-4x2"),
                Variant(id: "epitome-2x2-offsets", description: "epitome Co/2 Ci/2 with a 4x4 spatial epitome (per-copy window offsets) + \(bits)-bit QAT",
                        bits: bits, epitomes: reduced(2, 2, spatial: 4), pruneToMatch: nil),
            ]
        }
        return v
    }

    /// What one design reached.
    public struct Outcome: Sendable, Codable {
        public let id: String, description: String
        public let accuracy: Float
        public let crossbars: Int, weights: Int
        public let cost: NetworkCost
        public let seconds: Double
        public let widths: [Int]
    }

    /// The Pareto plot's title.
    public static func plotTitle(crossbarSize: Int, bits: Int) -> String {
        "Fashion-MNIST: accuracy vs crossbars (\(crossbarSize)x\(crossbarSize), \(bits)-bit variants)"
    }

    /// A finished run: the ResNet-50 cost comparison and every small-CNN outcome.
    public struct Run: Sendable {
        public var resnet: PIMReport
        public var outcomes: [Outcome]
        public var trainImages: Int, testImages: Int
        public var seconds: Double
    }

    /// Costs ResNet-50 and trains every variant on `train` (normalised here), evaluating on `test`.
    /// Each variant is one piece of `checkpoint`; the trained plain CNN, which later variants start
    /// from, is kept beside the pieces so a resumed run does not train it again.
    public func run(train: ImageDataset, test: ImageDataset, checkpoint: BenchCheckpoint = BenchCheckpoint(directory: nil, settings: [:]),
                    showProgress: Bool) throws -> Run {
        let started = Date()
        let bits = settings.bits, seed = settings.seed
        // Claim 1: ResNet-50 crossbar area under the MNSIM-2.0 defaults (no training).
        let resnet = PIMReport.make(network: .resnet50(), hardware: .mnsim2, bits: bits, baselineBits: 32,
                                    outFactor: 2, inFactor: 2, searchBudget: settings.searchBudget, seed: seed)

        let train = train.normalized(mean: 0.2860, std: 0.3530)
        let test = test.normalized(mean: 0.2860, std: 0.3530)
        let epochs = settings.epochs
        var hw = PIMConfiguration.mnsim2
        hw.crossbarSize = settings.crossbarSize
        hw.dacsPerGroup = settings.crossbarSize / 2
        hw.adcsPerGroup = settings.crossbarSize / 2
        let model = CrossbarCostModel(hw)
        let widths = Self.widths

        func costOf(_ net: EpitomeCNN) -> NetworkCost {
            model.cost(net.design.workloads(weightBits: net.weightBits ?? 32))
        }
        func fit(_ net: EpitomeCNN, label: String) -> Float {
            let optimizer = SGD(net.trainableParameters, learningRate: settings.lr, momentum: 0.9, weightDecay: 5e-4, nesterov: true)
            var loader = DataLoader(train, batchSize: settings.batchSize, shuffle: true, seed: settings.seed &+ 1)
            let total = epochs * loader.batchCount
            let schedule = WarmupSchedule(warmupSteps: min(100, total / 10), then: CosineSchedule(base: settings.lr, totalSteps: total))
            let progress = ProgressReporter(label: label, enabled: showProgress)
            var step = 0
            for _ in 0..<epochs {
                for (images, labels) in loader.epoch() {
                    optimizer.learningRate = schedule.rate(at: step)
                    let (loss, _) = Training.classificationStep(net, optimizer, images: images, labels: labels)
                    step += 1
                    progress.update(String(format: "step %d/%d loss %.4f", step, total, loss))
                }
            }
            progress.clear()
            return Training.evaluate(net, images: test.images, labels: test.labels)
        }

        var outcomes: [Outcome] = []
        var trainedPlain: EpitomeCNN?
        let plainPath = checkpoint.directory.map { $0 + "/plain-fp32.safetensors" }
        /// The trained plain CNN: this run's, or the one a previous run of the same settings saved.
        func plain() throws -> EpitomeCNN? {
            if let trainedPlain { return trainedPlain }
            guard let plainPath, FileManager.default.fileExists(atPath: plainPath) else { return nil }
            var gen = SeededRandom(seed: settings.seed)
            let net = EpitomeCNN(widths: widths, epitomes: [nil, nil, nil], weightBits: nil, generator: &gen)
            try net.load(from: plainPath)
            trainedPlain = net
            return net
        }
        for v in variants(widths: widths) {
            let o: Outcome? = try checkpoint.piece(v.id) { () throws -> Outcome? in
                let t0 = Date()
                var gen = SeededRandom(seed: settings.seed)
                let net: EpitomeCNN
                if let target = v.pruneToMatch {
                    guard let base = try plain(), let goal = outcomes.first(where: { $0.id == target }) else { return nil }
                    // The largest keep ratio (in 1/64 steps) whose pruned network fits the epitome's crossbars.
                    var keep = 1.0
                    while keep > 1.0 / 64 {
                        var probeGen = SeededRandom(seed: 0)
                        let probe = EpitomeCNN(widths: widths.map { max(1, Int((Double($0) * keep).rounded(.up))) }, weightBits: v.bits,
                                               generator: &probeGen)
                        let c = costOf(probe)
                        if c.crossbars <= goal.crossbars && (!v.matchWeights || c.storedParameters <= goal.weights) { break }
                        keep -= 1.0 / 64
                    }
                    net = v.scratch
                        ? EpitomeCNN(widths: widths.map { max(1, Int((Double($0) * keep).rounded(.up))) }, weightBits: v.bits, generator: &gen)
                        : base.pruned(keep: keep, weightBits: v.bits, generator: &gen)
                } else if v.fromPlain {
                    guard let base = try plain() else { return nil }
                    net = base.projected(epitomes: v.epitomes, weightBits: v.bits, generator: &gen)
                } else {
                    net = EpitomeCNN(widths: widths, epitomes: v.epitomes, weightBits: v.bits, generator: &gen)
                }
                let acc = fit(net, label: v.id)
                if v.id == "plain-fp32" {
                    trainedPlain = net
                    if let plainPath {
                        try FileManager.default.createDirectory(atPath: (plainPath as NSString).deletingLastPathComponent,
                                                                withIntermediateDirectories: true)
                        try net.save(to: plainPath)
                    }
                }
                let cost = costOf(net)
                return Outcome(id: v.id, description: v.description, accuracy: acc, crossbars: cost.crossbars,
                               weights: cost.storedParameters, cost: cost, seconds: Date().timeIntervalSince(t0), widths: net.widths)
            }
            guard let o else { continue }
            outcomes.append(o)
            if showProgress {
                ProgressReporter.writeStandardError(String(format: "%@ acc %6.2f%%  crossbars %4d  weights %7d  (%.0f s)\n", padded(o.id, -20), o.accuracy * 100, o.crossbars, o.weights, o.seconds))
            }
        }

        return Run(resnet: resnet, outcomes: outcomes, trainImages: train.count, testImages: test.count,
                   seconds: Date().timeIntervalSince(started))
    }

    /// The reproduction report of a run.
    public func report(_ run: Run) -> BenchReport {
        let outcomes = run.outcomes, resnet = run.resnet
        func outcome(_ id: String) -> Outcome? { outcomes.first { $0.id == id } }
        var claims = [Claim(
            id: "crossbar_area_reduction_resnet50_3bit", setting: "ResNet-50, \(settings.bits)-bit",
            description: "crossbar-area reduction of \(settings.bits)-bit epitome ResNet-50 (uniform Co/2, Ci/2 epitomes) under the MNSIM-2.0 cost model",
            unit: "x", paper: .value(30.65), ours: resnet.areaReduction, better: .higher,
            baseline: "plain ResNet-50 with 32-bit weights on the same 256x256 crossbars (our reading: the abstract gives only the 30.65x)",
            note: "baseline precision and crossbar size are our reading; results.sensitivity has 8/16/32-bit baselines on 128/256/512 arrays (docs/epim.md)")]
        // The epitome CNN against L1 pruning of the same trained plain CNN (EPIM claims it surpasses pruning).
        func pruningGap(_ pruned: String, id: String, description: (_ e: Outcome, _ p: Outcome) -> String, baseline: String) {
            guard let e = outcome("epitome-2x2-from-plain"), let p = outcome(pruned) else { return }
            let d = Double(e.accuracy - p.accuracy) * 100
            let plain = outcome("plain-fp32")
            let note = d >= 0 ? "" : String(format: "not reproduced: the small CNN is over-wide for Fashion-MNIST, so L1 pruning to these crossbars loses little (pruned %.2f%%, unpruned %.2f%%) while fixed epitome indices lack the paper's learned offsets; docs/epim.md",
                                            Double(p.accuracy) * 100, Double(plain?.accuracy ?? .nan) * 100)
            claims.append(Claim(id: id, setting: "small CNN, Fashion-MNIST", description: description(e, p), unit: "pp", paper: nil, ours: d,
                                better: .higher, baseline: baseline, reproduced: Claim.judge(d, better: .higher, threshold: 0), note: note))
        }
        pruningGap("pruned-match-2x2", id: "epitome_minus_pruning_accuracy_equal_crossbars", description: { e, p in
            "test accuracy of the \(settings.bits)-bit epitome CNN minus the \(settings.bits)-bit L1-pruned CNN at no more crossbars (\(e.crossbars) vs \(p.crossbars)), both from the same trained plain CNN, fine-tuned with the same epochs; the paper claims EPIM surpasses pruning"
        }, baseline: "L1 filter pruning of the trained plain CNN, fine-tuned with the same epochs")
        pruningGap("pruned-match-weights-2x2", id: "epitome_minus_pruning_accuracy_equal_weights", description: { e, p in
            "as epitome_minus_pruning_accuracy_equal_crossbars, with the pruned CNN also storing no more weights (\(e.weights) vs \(p.weights); crossbars \(e.crossbars) vs \(p.crossbars))"
        }, baseline: "L1 filter pruning of the trained plain CNN to the epitome's weight count, fine-tuned with the same epochs")
        if let e = outcome("epitome-2x2"), let p = outcome("slim-match-2x2") {
            claims.append(Claim(
                id: "epitome_minus_slim_accuracy_equal_crossbars", setting: "small CNN, Fashion-MNIST",
                description: "accuracy of the \(settings.bits)-bit epitome CNN trained from scratch minus a \(settings.bits)-bit CNN with the pruned widths trained from scratch (equal epochs, no more crossbars: \(e.crossbars) vs \(p.crossbars))",
                unit: "pp", paper: nil, ours: Double(e.accuracy - p.accuracy) * 100, better: .higher,
                baseline: "narrow CNN at the pruned widths, same training budget as the epitome CNN"))
        }
        if let e = outcome("epitome-2x2"), let f = outcome("plain-fp32") {
            claims.append(Claim(
                id: "small_cnn_crossbar_reduction", setting: "small CNN, Fashion-MNIST",
                description: "crossbar reduction of the \(settings.bits)-bit epitome CNN against the full-precision plain CNN (\(settings.crossbarSize)x\(settings.crossbarSize) crossbars)",
                unit: "x", paper: nil, ours: Double(f.crossbars) / Double(e.crossbars), better: .higher, baseline: "plain CNN mapped at 32 bits"))
            claims.append(Claim(
                id: "small_cnn_accuracy_drop_pp", setting: "small CNN, Fashion-MNIST",
                description: "accuracy lost by the \(settings.bits)-bit epitome CNN against the full-precision plain CNN",
                unit: "pp", paper: nil, ours: Double(f.accuracy - e.accuracy) * 100, better: .lower,
                baseline: "plain CNN, full precision, same training"))
        }
        let points: [JSONValue] = outcomes.map { o in
            ["id": JSONValue(o.id), "description": JSONValue(o.description), "accuracy": JSONValue(Double(o.accuracy)),
             "crossbars": JSONValue(o.crossbars), "weights": JSONValue(o.weights), "widths": .array(o.widths.map { JSONValue($0) }),
             "area_mm2": JSONValue(o.cost.areaMM2), "latency_us": JSONValue(o.cost.latencyMicroseconds),
             "energy_uj": JSONValue(o.cost.energyMicrojoules), "train_seconds": JSONValue(o.seconds)]
        }
        return BenchReport(
            system: "epim",
            settings: ["train_images": JSONValue(run.trainImages), "test_images": JSONValue(run.testImages),
                       "widths": .array(Self.widths.map { JSONValue($0) })],
            claims: claims,
            results: ["small_cnn": .array(points), "resnet50": run.resnet.jsonObject(),
                      "sensitivity": PIMReport.sensitivityJSON(run.resnet.sensitivity), "seconds": JSONValue(run.seconds)])
    }

    /// The ResNet-50 line and the small-CNN table.
    public func table(_ run: Run) -> String {
        var s = String(format: "ResNet-50, MNSIM-2.0 defaults: %d-bit epitome vs 32-bit plain crossbars %.2fx (paper 30.65x)\n",
                             settings.bits, run.resnet.areaReduction)
        s += PIMReport.sensitivityTable(run.resnet.sensitivity, bits: settings.bits) + "\n"
        s += String(format: "%@ %@ %@ %@ %@\n", padded("variant", -20), padded("accuracy", 8), padded("crossbars", 9), padded("weights", 8), padded("energy uJ", 10))
        for o in run.outcomes {
            s += String(format: "%@ %7.2f%% %9d %8d %10.3f\n", padded(o.id, -20), o.accuracy * 100, o.crossbars, o.weights, o.cost.energyMicrojoules)
        }
        return s
    }
}

extension EPIMBenchmark: SystemBenchmark {
    public static let name = "epim"
    public static let title = "EPIM"
    public static let abstract = "crossbar-area reduction (ResNet-50 cost model) and accuracy vs crossbars on Fashion-MNIST"
    public static let settingsHelp = BenchSettings.help("""
        epochs         training epochs per variant
        train_limit    training images (0 = all 60,000)
        test_limit     test images (0 = all 10,000)
        batch_size     batch size
        lr             peak learning rate (SGD, Nesterov momentum 0.9, warm-up + cosine)
        bits           weight bits of the quantized variants
        crossbar_size  crossbar size for the small CNN (its layers are small; see docs/epim.md)
        seed           random seed
        threads        threads for kernels and OpenBLAS
        all_variants   every variant (full run) or the six core ones
        search_budget  ResNet-50 epitome design search: crossbar budget as a fraction of the uniform design's (0 = uniform design only)
        data           Fashion-MNIST directory (empty = $TERN_HOME/data/fashion-mnist)
        """)

    public static func settings(quick: Bool) -> Settings {
        var s = Settings()
        if quick {
            s.epochs = 1; s.trainLimit = 1000; s.testLimit = 500; s.allVariants = false; s.searchBudget = 0
        }
        return s
    }

    /// Loads Fashion-MNIST, runs every variant (resuming from `context.checkpoint`) and writes the
    /// accuracy-vs-crossbars plot to `<artifacts>/pareto.svg`.
    public static func run(_ settings: Settings, context: BenchContext) async throws -> BenchOutcome {
        let directory = settings.data.isEmpty ? FashionMNIST.directory : settings.data
        var train: ImageDataset, test: ImageDataset
        do {
            train = try FashionMNIST.load(train: true, directory: directory)
            test = try FashionMNIST.load(train: false, directory: directory)
        } catch {
            throw EPIMBenchmarkError.missingData(directory: directory, reason: "\(error)")
        }
        if settings.trainLimit > 0 { train = train.prefix(settings.trainLimit) }
        if settings.testLimit > 0 { test = test.prefix(settings.testLimit) }
        let bench = EPIMBenchmark(settings: settings)
        let (trainSet, testSet) = (train, test)
        let threads = settings.threads
        let run = try await onDedicatedThread {
            try ThreadPool(threads: threads).withCurrent {
                try bench.run(train: trainSet, test: testSet, checkpoint: context.checkpoint, showProgress: context.showProgress)
            }
        }
        if let artifacts = context.artifacts {
            let plot = ParetoPlot.svg(points: run.outcomes.map { ($0.id, Double($0.crossbars), Double($0.accuracy) * 100) },
                                      title: plotTitle(crossbarSize: settings.crossbarSize, bits: settings.bits),
                                      xLabel: "crossbars (log scale)", yLabel: "test accuracy (%)")
            try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
            try plot.write(toFile: artifacts + "/pareto.svg", atomically: true, encoding: .utf8)
        }
        return BenchOutcome(report: bench.report(run), details: bench.table(run))
    }
}

/// Why EPIM's benchmark could not run.
public enum EPIMBenchmarkError: Error, CustomStringConvertible {
    /// Fashion-MNIST is not where the settings say.
    case missingData(directory: String, reason: String)

    public var description: String {
        switch self {
        case .missingData(let d, let why): "cannot read Fashion-MNIST in \(d) (\(why)); run scripts/fetch-data.sh"
        }
    }
}
