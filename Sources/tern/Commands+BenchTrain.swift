// SPDX-License-Identifier: Apache-2.0

import Support
import ArgumentParser
import Benchmarks
import Autograd
import Foundation
import NeuralNetworks
import Tensors

extension Tern.Bench {
    /// `tern bench train`: training throughput of the reference architectures.
    ///
    /// Each workload runs warm-up steps, then `repetitions` timed windows of `steps` SGD steps on a
    /// fixed random batch; the median window gives samples/s. `bench/train-speed` runs this and the
    /// same architectures in PyTorch side by side and reports the ratio.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Training samples/s: MLP, small CNN, ResNet-8, transformer block.")

        @Option(help: "Threads for kernels and OpenBLAS.") var threads = 2
        @Option(help: "Timed windows per workload (median reported).") var repetitions = 5
        @Option(help: "Minimum SGD steps per timed window (windows also last at least 0.25 s).") var steps = 20
        @Option(help: "Comma-separated workloads: mlp,cnn,resnet8,transformer.") var workloads = "mlp,cnn,resnet8,transformer"
        @Option(help: "Steps of the MLP workload for the resident-memory check (0 = skip).") var memorySteps = 1000
        @OptionGroup var output: BenchOutputOptions
        private var quick: Bool { output.quick }
        private var json: Bool { output.json }

        struct Workload {
            let name: String, description: String
            let batch: Int
            let input: [Int]
            let make: (inout SeededRandom) -> Module
            let classification: Bool
        }

        static var all: [Workload] { [
            Workload(name: "mlp", description: "MLP 784-512-256-10, batch 128", batch: 128, input: [1, 28, 28],
                     make: { ReferenceModels.mlp(generator: &$0) }, classification: true),
            Workload(name: "cnn", description: "small CNN (conv32-conv64-fc128), 28x28x1, batch 64", batch: 64, input: [1, 28, 28],
                     make: { ReferenceModels.smallCNN(generator: &$0) }, classification: true),
            Workload(name: "resnet8", description: "ResNet-8 (16-32-64, BN), 32x32x3, batch 64", batch: 64, input: [3, 32, 32],
                     make: { ReferenceModels.resnet8(generator: &$0) }, classification: true),
            Workload(name: "transformer", description: "pre-LN transformer block D128 H4 MLP512, seq 64, batch 16", batch: 16, input: [64, 128],
                     make: { ReferenceModels.transformerBlock(generator: &$0) }, classification: false),
        ] }

        func measure(_ w: Workload) -> (median: Double, all: [Double], rssGrowthMiB: Double) {
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
            let steps = quick ? 2 : self.steps
            let (warmUp, minimumWindow) = quick ? (0.0, 0.0) : (0.5, 0.25)
            func seconds(since t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
            let w0 = DispatchTime.now().uptimeNanoseconds
            var warmed = 0
            while warmed < (quick ? 1 : 5) || seconds(since: w0) < warmUp { step(); warmed += 1 }
            let rss0 = trainResidentMiB()
            var rates: [Double] = []
            for _ in 0..<(quick ? 1 : repetitions) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                var done = 0
                while done < steps || seconds(since: t0) < minimumWindow { step(); done += 1 }
                rates.append(Double(done * w.batch) / seconds(since: t0))
            }
            return (rates.sorted()[rates.count / 2], rates, trainResidentMiB() - rss0)
        }

        /// Resident memory after 10% of `steps` training steps and at the end: flat when nothing leaks.
        struct MemoryCheck: Codable {
            var workload: String
            var steps: Int
            var rss_mib_early: Double
            var rss_mib_end: Double
        }

        func memoryCheck(_ w: Workload, steps: Int) -> MemoryCheck {
            var gen = SeededRandom(seed: 2)
            let model = w.make(&gen)
            let x = Tensor.normal([w.batch] + w.input, generator: &gen)
            let labels = (0..<w.batch).map { Int32($0 % 10) }
            let opt = SGD(model.trainableParameters, learningRate: 0.01, momentum: 0.9)
            var early = 0.0
            for s in 0..<steps {
                Training.classificationStep(model, opt, images: x, labels: labels)
                if s == steps / 10 { early = trainResidentMiB() }
            }
            return MemoryCheck(workload: w.name, steps: steps, rss_mib_early: early, rss_mib_end: trainResidentMiB())
        }

        func run() throws {
            Parallel.setThreads(threads)
            let names = workloads.split(separator: ",").map(String.init)
            var results: [String: JSONValue] = [:]
            var rows: [(String, Double)] = []
            for w in Self.all where names.contains(w.name) {
                let (median, all, growth) = measure(w)
                rows.append((w.name, median))
                results[w.name] = ["samples_per_second": JSONValue(median), "windows": JSONValue(all), "batch": JSONValue(w.batch),
                                   "description": JSONValue(w.description), "rss_growth_mib": JSONValue(growth)]
                if !json { FileHandleStderr.write(String(format: "%-12@ %10.1f samples/s   (%@)\n", w.name, median, w.description)) }
            }
            var claims: [Claim] = []
            if memorySteps > 0, let w = Self.all.first(where: { $0.name == "mlp" }) {
                let m = memoryCheck(w, steps: quick ? 50 : memorySteps)
                results["memory"] = try JSONValue(encoding: m)
                if !json {
                    FileHandleStderr.write(String(format: "memory: RSS %.1f MiB after 10%% of %d steps, %.1f MiB at the end\n",
                                                  m.rss_mib_early, m.steps, m.rss_mib_end))
                }
                // Ratios against PyTorch are claims of bench/train-speed, which runs both sides; this
                // run measures the one claim it can make alone: memory stays flat over many steps.
                claims.append(Claim(id: "train_rss_growth_mib", description: "resident-memory growth from 10% to 100% of \(m.steps) MLP training steps",
                                    unit: "MiB", paper: nil, ours: m.rss_mib_end - m.rss_mib_early, better: .lower,
                                    baseline: "the same process after 10% of the steps"))
            }
            let report = BenchReport(
                system: "train",
                settings: ["threads": JSONValue(threads), "repetitions": JSONValue(quick ? 1 : repetitions), "steps": JSONValue(quick ? 2 : steps),
                           "quick": JSONValue(quick)],
                claims: claims, results: .object(results))
            try output.emit(report, details: rows.map { String(format: "%@\t%.1f", $0.0, $0.1) }.joined(separator: "\n") + "\n")
        }
    }
}

/// Resident set size of this process in MiB (from /proc/self/statm).
func trainResidentMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = s.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

#if canImport(Glibc)
import Glibc
#endif
