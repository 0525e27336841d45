// SPDX-License-Identifier: Apache-2.0

import Support
import ArgumentParser
import Benchmarks
import Autograd
import Datasets
import EpitomePIM
import Foundation
import NeuralNetworks
import PIMSimulator
import Tensors

extension Tern.Bench {
    /// `tern bench epim`: EPIM's claims. The crossbar-area reduction of 3-bit epitome ResNet-50 from
    /// the analytical cost model, and accuracy against crossbar count on Fashion-MNIST for plain,
    /// quantized, pruned and epitome variants of one small CNN, all trained with our autograd on the
    /// same data, epochs and schedule.
    struct EPIM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "epim",
            abstract: "EPIM: crossbar-area reduction (ResNet-50 cost model) and accuracy vs crossbars on Fashion-MNIST.")

        @Option(help: "Training epochs per variant.") var epochs = 2
        @Option(help: "Training images (0 = all 60000).") var trainLimit = 15000
        @Option(help: "Test images (0 = all 10000).") var testLimit = 0
        @Option(help: "Batch size.") var batchSize = 64
        @Option(help: "Peak learning rate (SGD, Nesterov momentum 0.9, cosine).") var lr: Float = 0.05
        @Option(help: "Weight bits of the quantized variants.") var bits = 3
        @Option(help: "Crossbar size for the small CNN (its layers are small; see docs/epim.md).") var crossbarSize = 128
        @Option(help: "Threads for kernels and OpenBLAS.") var threads = 2
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "Fashion-MNIST directory (default $TERN_HOME/data/fashion-mnist).") var data: String?
        @Option(help: "Write the accuracy-vs-crossbars Pareto plot here (SVG).") var svg: String?
        @Option(help: "Only redraw the SVG (--svg) from a saved `tern bench epim --json` report; no training.")
        var plotFrom: String?
        @OptionGroup var output: BenchOutputOptions
        private var quick: Bool { output.quick }
        private var json: Bool { output.json }

        func run() throws {
            if let plotFrom {
                guard let svg else { throw CLIError("--plot-from needs --svg PATH") }
                let report = try BenchReport.load(path: plotFrom)
                guard report.system == "epim", case .array(let points)? = report.results["small_cnn"] else {
                    throw CLIError("\(plotFrom) is not a `tern bench epim --json` report")
                }
                let plot = ParetoPlot.svg(
                    points: points.map { ($0["id"]?.stringValue ?? "?", $0["crossbars"]?.numberValue ?? 1, ($0["accuracy"]?.numberValue ?? 0) * 100) },
                    title: EPIMBenchmark.plotTitle(crossbarSize: Int(report.settings["crossbar_size_small_cnn"]?.numberValue ?? 0),
                                          bits: Int(report.settings["bits"]?.numberValue ?? 0)),
                    xLabel: "crossbars (log scale)", yLabel: "test accuracy (%)")
                try plot.write(toFile: svg, atomically: true, encoding: .utf8)
                return
            }
            Parallel.setThreads(threads)
            var settings = EPIMBenchmark.Settings()
            settings.epochs = epochs; settings.batchSize = batchSize; settings.lr = lr; settings.bits = bits
            settings.crossbarSize = crossbarSize; settings.seed = seed; settings.threads = threads; settings.quick = quick
            let bench = EPIMBenchmark(settings: settings)
            let dir = data ?? FashionMNIST.directory
            var train: ImageDataset, test: ImageDataset
            do {
                train = try FashionMNIST.load(train: true, directory: dir)
                test = try FashionMNIST.load(train: false, directory: dir)
            } catch {
                throw CLIError("cannot read Fashion-MNIST in \(dir) (\(error)); run scripts/fetch-data.sh")
            }
            let trainN = quick ? 1000 : trainLimit, testN = quick ? 500 : testLimit
            if trainN > 0 { train = train.prefix(trainN) }
            if testN > 0 { test = test.prefix(testN) }
            let run = bench.run(train: train, test: test, showProgress: !json)
            if let svg {
                let plot = ParetoPlot.svg(points: run.outcomes.map { ($0.id, Double($0.crossbars), Double($0.accuracy) * 100) },
                                          title: EPIMBenchmark.plotTitle(crossbarSize: crossbarSize, bits: bits),
                                          xLabel: "crossbars (log scale)", yLabel: "test accuracy (%)")
                try plot.write(toFile: svg, atomically: true, encoding: .utf8)
            }
            try output.emit(bench.report(run), details: bench.table(run))
        }
    }
}

/// A dependency-free SVG scatter plot with the Pareto frontier (fewer crossbars, higher accuracy).
enum ParetoPlot {
    static func svg(points: [(label: String, x: Double, y: Double)], title: String, xLabel: String, yLabel: String) -> String {
        let width = 720.0, height = 480.0, left = 70.0, right = 30.0, top = 50.0, bottom = 60.0
        let xs = points.map { log10(max($0.x, 1)) }, ys = points.map(\.y)
        let x0 = floor((xs.min() ?? 0) * 10) / 10 - 0.1, x1 = ceil((xs.max() ?? 1) * 10) / 10 + 0.1
        let y0 = floor((ys.min() ?? 0) - 1), y1 = ceil((ys.max() ?? 100) + 1)
        func px(_ v: Double) -> Double { left + (log10(max(v, 1)) - x0) / max(x1 - x0, 1e-9) * (width - left - right) }
        func py(_ v: Double) -> Double { height - bottom - (v - y0) / max(y1 - y0, 1e-9) * (height - top - bottom) }
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;") }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(width / 2)" y="24" text-anchor="middle" font-size="15">\(esc(title))</text>
            <line x1="\(left)" y1="\(height - bottom)" x2="\(width - right)" y2="\(height - bottom)" stroke="black"/>
            <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(height - bottom)" stroke="black"/>
            <text x="\((left + width - right) / 2)" y="\(height - 15)" text-anchor="middle">\(esc(xLabel))</text>
            <text x="18" y="\((top + height - bottom) / 2)" text-anchor="middle" transform="rotate(-90 18 \((top + height - bottom) / 2))">\(esc(yLabel))</text>

            """
        // Axis ticks: decades and 2x/5x on x, integers on y.
        var tick = pow(10, floor(x0))
        while log10(tick) <= x1 {
            for m in [1.0, 2.0, 5.0] where log10(tick * m) >= x0 && log10(tick * m) <= x1 {
                let x = px(tick * m)
                s += "<line x1=\"\(x)\" y1=\"\(height - bottom)\" x2=\"\(x)\" y2=\"\(height - bottom + 5)\" stroke=\"black\"/>"
                s += "<text x=\"\(x)\" y=\"\(height - bottom + 18)\" text-anchor=\"middle\">\(Int(tick * m))</text>\n"
            }
            tick *= 10
        }
        let yStep = max(1.0, ((y1 - y0) / 8).rounded(.up))
        var yv = y0
        while yv <= y1 {
            let y = py(yv)
            s += "<line x1=\"\(left - 5)\" y1=\"\(y)\" x2=\"\(width - right)\" y2=\"\(y)\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(left - 8)\" y=\"\(y + 4)\" text-anchor=\"end\">\(Int(yv))</text>\n"
            yv += yStep
        }
        // Pareto frontier: points no other point beats on both axes, joined in x order.
        let frontier = points.filter { p in !points.contains { q in q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y) } }
            .sorted { $0.x < $1.x }
        if frontier.count > 1 {
            let path = frontier.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"#2a7\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
        }
        // Labels of points at the same crossbar count are stacked at least 14 px apart.
        var labelY: [Int: Double] = [:]
        for p in points.sorted(by: { $0.y > $1.y }) {
            let color = p.label.hasPrefix("epitome") ? "#d33" : (p.label.hasPrefix("pruned") || p.label.hasPrefix("slim")) ? "#36c" : "#555"
            let key = Int(p.x)
            let y = max(py(p.y) - 6, (labelY[key] ?? -1e9) + 14)
            labelY[key] = y
            s += "<circle cx=\"\(px(p.x))\" cy=\"\(py(p.y))\" r=\"5\" fill=\"\(color)\"/>"
            let rightHalf = px(p.x) > (left + width - right) * 0.6
            s += "<text x=\"\(px(p.x) + (rightHalf ? -8 : 8))\" y=\"\(y)\" fill=\"\(color)\" text-anchor=\"\(rightHalf ? "end" : "start")\">\(esc(p.label)) (\(Int(p.x)), \(String(format: "%.1f", p.y))%)</text>\n"
        }
        s += "<text x=\"\(width - right)\" y=\"\(top - 8)\" text-anchor=\"end\" fill=\"#2a7\">dashed: Pareto frontier</text>\n</svg>\n"
        return s
    }
}

#if canImport(Glibc)
import Glibc
#endif
