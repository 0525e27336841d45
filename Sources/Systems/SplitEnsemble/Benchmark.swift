// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
public import Datasets
import Foundation
import Kernels
import Support
import Tensors

extension OODBenchmarkData {
    /// Fashion-MNIST without the held-out classes (ID) and the offline OOD sets, normalized. The
    /// sklearn digits set is skipped, with a warning through `warn`, when it is not installed.
    public static func load(directory: String = FashionMNIST.directory, heldOut: [Int], trainCount: Int, testCount: Int, oodCount: Int,
                            seed: UInt64, warn: (String) -> Void = { _ in }) throws -> OODBenchmarkData {
        let train: ImageDataset, test: ImageDataset
        do {
            train = try FashionMNIST.load(train: true, directory: directory)
            test = try FashionMNIST.load(train: false, directory: directory)
        } catch {
            throw SplitEnsembleError.missingData("cannot read Fashion-MNIST in \(directory) (\(error)); run scripts/fetch-data.sh")
        }
        let digits = try? Digits.load()
        if digits == nil { warn("sklearn digits not found in \(Digits.path); the digits OOD set is skipped") }
        return make(fashionTrain: train, fashionTest: test, digits: digits, heldOut: heldOut, trainCount: trainCount, testCount: testCount,
                    oodCount: oodCount, seed: seed).normalized()
    }
}

/// Split-Ensemble's reproduction: accuracy and OOD detection against a single model (MSP,
/// energy), a deep ensemble and MC dropout on Fashion-MNIST with offline OOD sets, every method
/// trained on the same data for the same epochs; Split-Ensemble pruned to the single model's FLOPs.
public enum SplitEnsembleBenchmark: SystemBenchmark {
    /// Every knob of a run.
    public struct Settings: Codable, Sendable, Equatable {
        public var trainLimit = 8000
        public var testLimit = 2000
        public var oodLimit = 1000
        public var heldOut = [8, 9]
        public var warmupEpochs = 2
        public var finetuneEpochs = 1
        public var rounds = 2
        public var subtasks = 2
        public var mct = 0.4
        public var maskFraction = 0.5
        public var grouping = "semantic"
        public var loss = "bce"
        public var widths = [16, 32, 64]
        public var oodAwareTargets = true
        public var classBalance = true
        public var minimumChannels = 2
        public var normalizePerBlock = false
        public var hutchinsonSamples = 2
        public var hessianBatches = 1
        public var sensitivityBatches = 4
        public var ensembleSize = 4
        public var mcPasses = 8
        public var batchSize = 64
        public var lr: Float = 0.05
        public var threads = 2
        public var seeds = 3
        public var firstSeed = 1
        public var ablations = "all"
        public var data = ""
        /// Creates the defaults of a full run.
        public init() {}

        /// The training configuration these settings describe, validated.
        public func configuration() throws -> SplitEnsembleConfiguration {
            var c = SplitEnsembleConfiguration()
            c.warmupEpochs = warmupEpochs; c.finetuneEpochs = finetuneEpochs; c.rounds = rounds
            c.subtasks = subtasks; c.mct = mct; c.maskKeepFraction = maskFraction
            guard let g = SplitEnsembleConfiguration.Grouping(rawValue: grouping) else { throw SplitEnsembleError.invalidSetting("grouping: semantic or random") }
            guard let l = SubtaskLossKind(rawValue: loss) else { throw SplitEnsembleError.invalidSetting("loss: bce or ce") }
            c.grouping = g; c.loss = l
            guard widths.count == 3, widths.allSatisfy({ $0 >= 1 }) else { throw SplitEnsembleError.invalidSetting("widths: three positive integers") }
            c.widths = widths
            guard subtasks >= 2, warmupEpochs >= 0, finetuneEpochs >= 0, rounds >= 0, minimumChannels >= 1, hutchinsonSamples >= 1,
                  hessianBatches >= 1, sensitivityBatches >= 1, maskFraction > 0, maskFraction <= 1, ensembleSize >= 1, mcPasses >= 1
            else { throw SplitEnsembleError.invalidSetting("out of range (subtasks >= 2, counts >= 1, 0 < mask fraction <= 1)") }
            c.oodAwareTargets = oodAwareTargets; c.classBalance = classBalance
            c.minimumChannels = minimumChannels; c.normalizePerBlock = normalizePerBlock
            c.hutchinsonSamples = hutchinsonSamples; c.hessianBatches = hessianBatches; c.sensitivityBatches = sensitivityBatches
            c.ensembleSize = ensembleSize; c.monteCarloPasses = mcPasses
            c.batchSize = batchSize; c.learningRate = lr
            return c
        }

        /// The ablations run on the first seed.
        public func ablationList() throws -> [SplitEnsembleAblation] {
            switch ablations {
            case "none", "": return []
            case "all": return SplitEnsembleAblation.allCases
            default:
                return try ablations.split(separator: ",").map { s in
                    guard let a = SplitEnsembleAblation(rawValue: String(s)) else {
                        throw SplitEnsembleError.invalidSetting("ablations: unknown '\(s)' (\(SplitEnsembleAblation.allCases.map(\.rawValue).joined(separator: ", ")), all, none)")
                    }
                    return a
                }
            }
        }
    }

    public static let name = "split-ensemble"
    public static let title = "Split-Ensemble"
    public static let abstract = "accuracy and OOD detection vs single model, deep ensemble and MC dropout at equal FLOPs"
    public static let settingsHelp = BenchSettings.help("""
        train_limit          training images of the 8 ID classes (0 = all 48,000)
        test_limit           ID test images (0 = half of the ID test set)
        ood_limit            images per OOD set (0 = as many as ID test images)
        held_out             Fashion-MNIST classes held out as the near-OOD set
        warmup_epochs        shared-backbone epochs before the first split
        finetune_epochs      finetune epochs after each split/prune round
        rounds               split -> prune -> finetune rounds
        subtasks             number of subtasks n
        mct                  Minimal Cutting Threshold
        mask_fraction        sensitivity-mask fraction p of channels
        grouping             semantic or random
        loss                 bce (weighted sigmoid BCE) or ce (weighted soft-target softmax CE)
        widths               convolution widths
        ood_aware_targets    OOD-aware soft targets (false: one-hot on the OOD output)
        class_balance        class-balance reweighting (paper eq. 2)
        minimum_channels     pruning floor: channels every block keeps
        normalize_per_block  divide each block's Hessian importances by their mean before the global ranking
        hutchinson_samples   Hutchinson (Rademacher) probes per batch for the Hessian traces
        hessian_batches      training batches (of max(batch size, 128)) for the Hessian traces
        sensitivity_batches  training batches (of max(batch size, 128)) for the sensitivity masks
        ensemble_size        deep-ensemble members
        mc_passes            MC-dropout test-time passes
        batch_size           batch size
        lr                   peak learning rate (SGD, Nesterov momentum 0.9, warm-up + cosine)
        threads              threads for kernels and OpenBLAS
        seeds                seeds (each trains every method)
        first_seed           first seed (seeds run first-seed, first-seed+1, ...)
        ablations            ablations on the first seed: a comma list, all or none
        data                 Fashion-MNIST directory (empty = $TERN_HOME/data/fashion-mnist)
        """)

    public static func settings(quick: Bool) -> Settings {
        var s = Settings()
        if quick {
            s.trainLimit = 1200; s.testLimit = 300; s.oodLimit = 200; s.warmupEpochs = 3; s.finetuneEpochs = 1; s.rounds = 1
            s.ensembleSize = 2; s.mcPasses = 2; s.sensitivityBatches = 1; s.seeds = 1; s.ablations = "none"
        }
        return s
    }

    /// Loads the data, trains every method for every seed (each seed a resumable piece) and
    /// aggregates them into the report.
    public static func run(_ settings: Settings, context: BenchContext) async throws -> BenchOutcome {
        let started = Date()
        let c = try settings.configuration()
        let ablations = try settings.ablationList()
        let data = try OODBenchmarkData.load(
            directory: settings.data.isEmpty ? FashionMNIST.directory : settings.data, heldOut: settings.heldOut,
            trainCount: settings.trainLimit, testCount: settings.testLimit, oodCount: settings.oodLimit, seed: 1,
            warn: { ProgressReporter.writeStandardError("warning: \($0)\n") })
        let seeds = (0..<max(1, settings.seeds)).map { UInt64($0 + settings.firstSeed) }
        let reporter = ProgressReporter(enabled: context.showProgress)
        let experiment = SplitEnsembleExperiment(configuration: c, seeds: seeds, ablations: ablations, progress: { reporter.update($0) })
        // The experiment (and its progress closure) is used by the training thread alone until it returns.
        nonisolated(unsafe) let owned = experiment
        let threads = settings.threads
        let runs = try await onDedicatedThread {
            try ThreadPool(threads: threads).withCurrent { try owned.run(data: data, checkpoint: context.checkpoint) }
        }
        reporter.clear()
        let report = SplitEnsembleReport(runs: runs, data: data, configuration: c)
        let seconds = Date().timeIntervalSince(started)
        let derived = c.reportSettings(data: data, heldOut: settings.heldOut.map(String.init).joined(separator: ","), threads: settings.threads)
        return BenchOutcome(report: report.benchReport(settings: derived, seconds: seconds),
                            details: report.table() + String(format: "\n%.0f s\n", seconds))
    }
}
