// SPDX-License-Identifier: Apache-2.0

import Autograd
public import Benchmarks
import Foundation
import Kernels
import Support
import Tensors

#if canImport(Glibc)
import Glibc
#endif

/// Training throughput of the reference architectures (MLP, small CNN, ResNet-8, transformer
/// block): warm-up steps, then timed windows of SGD steps on a fixed random batch; the median
/// window gives samples/s. `bench/train-speed` runs this and the same architectures in PyTorch side
/// by side and reports the ratios; this benchmark alone claims only flat memory over many steps.
public enum TrainingSpeedBenchmark: SystemBenchmark {
    /// Every knob of a run.
    public struct Settings: Codable, Sendable, Equatable {
        public var threads = 2
        /// Timed windows per workload (median reported).
        public var repetitions = 5
        /// Minimum SGD steps per timed window.
        public var steps = 20
        /// Warm-up of at least 5 steps and 0.5 s, windows of at least 0.25 s (false: one warm-up step, no minimum).
        public var minimumWindows = true
        public var workloads = ["mlp", "cnn", "resnet8", "transformer"]
        /// Steps of the MLP workload for the resident-memory check (0 = skip).
        public var memorySteps = 1000
        /// Creates the defaults of a full run.
        public init() {}
    }

    public static let name = "train"
    public static let title = "Training throughput vs PyTorch"
    public static let abstract = "training samples/s: MLP, small CNN, ResNet-8, transformer block (bench/train-speed adds PyTorch)"
    public static let settingsHelp = BenchSettings.help("""
        threads          threads for kernels and OpenBLAS
        repetitions      timed windows per workload (median reported)
        steps            minimum SGD steps per timed window
        minimum_windows  warm-up >= 5 steps and 0.5 s, windows >= 0.25 s
        workloads        mlp, cnn, resnet8, transformer
        memory_steps     steps of the MLP workload for the resident-memory check (0 = skip)
        """)

    public static func settings(quick: Bool) -> Settings {
        var s = Settings()
        if quick { s.repetitions = 1; s.steps = 2; s.minimumWindows = false; s.memorySteps = 50 }
        return s
    }

    public static func run(_ s: Settings, context: BenchContext) async throws -> BenchOutcome {
        // Timed on a thread of its own, never on the cooperative pool.
        try await onDedicatedThread { try ThreadPool(threads: s.threads).withCurrent { try measureAll(s, context: context) } }
    }

    static func measureAll(_ s: Settings, context: BenchContext) throws -> BenchOutcome {
        var results: [String: JSONValue] = [:]
        var rows: [(String, Double)] = []
        for w in all where s.workloads.contains(w.name) {
            let (median, windows, growth) = measure(w, settings: s)
            rows.append((w.name, median))
            results[w.name] = ["samples_per_second": JSONValue(median), "windows": JSONValue(windows), "batch": JSONValue(w.batch),
                               "description": JSONValue(w.description), "rss_growth_mib": JSONValue(growth)]
            if context.showProgress { ProgressReporter.writeStandardError(padded(w.name, -12) + String(format: " %10.1f samples/s   (", median) + w.description + ")\n") }
        }
        var claims: [Claim] = []
        if s.memorySteps > 0, let w = all.first(where: { $0.name == "mlp" }) {
            let m = memoryCheck(w, steps: s.memorySteps)
            results["memory"] = try JSONValue(encoding: m)
            if context.showProgress {
                ProgressReporter.writeStandardError(String(format: "memory: RSS %.1f MiB after 10%% of %d steps, %.1f MiB at the end\n",
                                                           m.rss_mib_early, m.steps, m.rss_mib_end))
            }
            // Ratios against PyTorch are claims of bench/train-speed, which runs both sides; this
            // run measures the one claim it can make alone: memory stays flat over many steps.
            claims.append(Claim(id: "train_rss_growth_mib", description: "resident-memory growth from 10% to 100% of \(m.steps) MLP training steps",
                                unit: "MiB", paper: nil, ours: m.rss_mib_end - m.rss_mib_early, better: .lower,
                                baseline: "the same process after 10% of the steps"))
        }
        let report = BenchReport(system: name, claims: claims, results: .object(results))
        return BenchOutcome(report: report, details: rows.map { padded($0.0, -12) + String(format: "%.1f", $0.1) }.joined(separator: "\n") + "\n")
    }

    /// One model trained on a fixed random batch.
    public struct Workload: Sendable {
        let name: String, description: String
        let batch: Int
        let input: [Int]
        let make: @Sendable (inout SeededRandom) -> Module
        let classification: Bool
    }

    /// The four reference architectures.
    public static var all: [Workload] { [
        Workload(name: "mlp", description: "MLP 784-512-256-10, batch 128", batch: 128, input: [1, 28, 28],
                 make: { ReferenceModels.mlp(generator: &$0) }, classification: true),
        Workload(name: "cnn", description: "small CNN (conv32-conv64-fc128), 28x28x1, batch 64", batch: 64, input: [1, 28, 28],
                 make: { ReferenceModels.smallCNN(generator: &$0) }, classification: true),
        Workload(name: "resnet8", description: "ResNet-8 (16-32-64, BN), 32x32x3, batch 64", batch: 64, input: [3, 32, 32],
                 make: { ReferenceModels.resnet8(generator: &$0) }, classification: true),
        Workload(name: "transformer", description: "pre-LN transformer block D128 H4 MLP512, seq 64, batch 16", batch: 16, input: [64, 128],
                 make: { ReferenceModels.transformerBlock(generator: &$0) }, classification: false),
    ] }

    static func measure(_ w: Workload, settings s: Settings) -> (median: Double, all: [Double], rssGrowthMiB: Double) {
        var gen = SeededRandom(seed: 1)
        let model = w.make(&gen)
        let x = Tensor.normal([w.batch] + w.input, generator: &gen)
        let labels = (0..<w.batch).map { Int32($0 % 10) }
        let target = Tensor.normal([w.batch] + w.input, generator: &gen)
        let opt = SGD(model.trainableParameters, learningRate: 0.01, momentum: 0.9)
        func step() {
            opt.zeroGradients()
            let y = model(Variable(x))
            let loss = w.classification ? Loss.crossEntropy(y, labels: labels) : Loss.meanSquaredError(y, Variable(target))
            loss.backward()
            opt.step()
        }
        // Warm-up: at least 5 steps and 0.5 s; each timed window at least `steps` steps and
        // 0.25 s (an MLP window of 20 steps lasts ~40 ms, short enough for CPU wake-up and
        // frequency changes to halve the rate). bench/train_speed_torch.py uses the same rule.
        let steps = s.steps
        let (warmUp, minimumWindow) = s.minimumWindows ? (0.5, 0.25) : (0.0, 0.0)
        func seconds(since t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        let w0 = DispatchTime.now().uptimeNanoseconds
        var warmed = 0
        while warmed < (s.minimumWindows ? 5 : 1) || seconds(since: w0) < warmUp { step(); warmed += 1 }
        let rss0 = residentMiB()
        var rates: [Double] = []
        for _ in 0..<max(1, s.repetitions) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            var done = 0
            while done < steps || seconds(since: t0) < minimumWindow { step(); done += 1 }
            rates.append(Double(done * w.batch) / seconds(since: t0))
        }
        return (rates.sorted()[rates.count / 2], rates, residentMiB() - rss0)
    }

    /// Resident memory after 10% of `steps` training steps and at the end: flat when nothing leaks.
    public struct MemoryCheck: Codable, Sendable {
        var workload: String
        var steps: Int
        var rss_mib_early: Double
        var rss_mib_end: Double
    }

    static func memoryCheck(_ w: Workload, steps: Int) -> MemoryCheck {
        var gen = SeededRandom(seed: 2)
        let model = w.make(&gen)
        let x = Tensor.normal([w.batch] + w.input, generator: &gen)
        let labels = (0..<w.batch).map { Int32($0 % 10) }
        let opt = SGD(model.trainableParameters, learningRate: 0.01, momentum: 0.9)
        var early = 0.0
        for s in 0..<steps {
            Training.classificationStep(model, opt, images: x, labels: labels)
            if s == steps / 10 { early = residentMiB() }
        }
        return MemoryCheck(workload: w.name, steps: steps, rss_mib_early: early, rss_mib_end: residentMiB())
    }

}

/// Resident set size of this process in MiB (from /proc/self/statm).
func residentMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = s.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}
