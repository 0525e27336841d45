// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Benchmarks
import AgentCompiler
import BestEffortTraining
import EpitomePIM
import Foundation
import MultiAgentGames
import MultiLoRA
import NeuralNetworks
import SplitEnsemble
import Support
import TransformerModels

extension Tern {
    /// `tern bench <system>`: reproduction benchmarks, each printing a table or the shared JSON report.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reproduction benchmarks: one report shape for every system (--quick, --json, --out DIR).",
            subcommands: [All.self, Run.self, RSSProbe.self],
            defaultSubcommand: Run.self)
    }
}

/// Every benchmark `tern bench all` knows: the ten systems (in ARCHITECTURE order) and the engine's
/// own speed benchmarks; a system without a ``SystemBenchmark`` is not built yet.
enum BenchCatalog {
    /// The benchmarks `tern bench <system>` runs.
    static let benchmarks: [any SystemBenchmark.Type] = [
        SLoRABenchmark.self, LearnedRoutingBenchmark.self, CompilerSystemBenchmark.self, MagicSystemBenchmark.self,
        SplitEnsembleBenchmark.self, EPIMBenchmark.self, SpeedBenchmark.self, TrainingSpeedBenchmark.self, ServeBenchmark.self,
    ]

    /// The report order: the ten systems, then the engine's benchmarks.
    static let order: [(system: String, title: String)] = [
        ("slora", "S-LoRA"), ("best-effort", "Learned best-effort serving"), ("compiler", "LLMCompiler"), ("magic", "MAgIC"),
        ("stream-diffusion", "StreamDiffusion"), ("vecaf", "VeCAF"), ("mofme", "MoFME"), ("split-ensemble", "Split-Ensemble"),
        ("epim", "EPIM"), ("reformulation", "Input reformulation for translation"),
        ("speed", "Engine decode and prefill speed vs llama.cpp"), ("train", "Training throughput vs PyTorch"),
        ("serve", "Serving vs llama.cpp's llama-server"),
    ]

    /// Whether `system` has a benchmark (is built).
    static func isBuilt(_ system: String) -> Bool { benchmarks.contains { $0.name == system } }
}

extension Tern.Bench {
    /// `tern bench all`: one combined report from the committed results, or every quick bench.
    struct All: AsyncParsableCommand, ReportsJSON {
        static let configuration = CommandConfiguration(
            commandName: "all",
            abstract: "Render one report (Markdown, JSON, SVG) from bench/<system>/result.json, or run every quick bench with --quick.")

        @Flag(help: "Run every built system's quick benchmark (each about a minute) instead of reading committed results; a system that fails is listed as missing.")
        var quick = false

        @OptionGroup var format: JSONOption

        @Option(help: "Folder holding <system>/result.json.")
        var results = "bench"

        @Option(help: "Write results.md, results.json and results.svg into this folder.")
        var out: String?

        @Option(help: "Comma list of systems (default: all).")
        var systems: String?

        func run() async throws {
            let wanted = systems.map { Set($0.split(separator: ",").map(String.init)) }
            if let wanted {
                let known = BenchCatalog.order.map(\.system)
                for name in wanted where !known.contains(name) { throw BenchError.unknownSystem(name, known: known) }
            }
            let entries = BenchCatalog.order.filter { wanted?.contains($0.system) ?? true }
            var reports: [BenchReport] = []
            var missing: [String] = []
            for entry in entries {
                if quick {
                    guard BenchCatalog.isBuilt(entry.system) else { missing.append(entry.system); continue }
                    FileHandleStderr.write("tern bench all: \(entry.system) (quick)\n")
                    do {
                        reports.append(try runQuick(entry.system))
                    } catch {
                        // One system's failure (a missing peer, say) does not lose the others' reports.
                        FileHandleStderr.write("tern bench all: \(entry.system) failed: \(error)\n")
                        missing.append(entry.system)
                    }
                } else {
                    let path = (results as NSString).appendingPathComponent(entry.system + "/result.json")
                    if FileManager.default.fileExists(atPath: path) {
                        reports.append(try BenchReport.load(path: path))
                    } else {
                        missing.append(entry.system)
                    }
                }
            }
            // The combined JSON keeps every claim and setting; raw measurements stay in each system's file.
            let combined = CombinedReport(reports: reports.map { r in
                var summary = r
                summary.results = .string((results as NSString).appendingPathComponent(r.system + "/result.json"))
                return summary
            }, missing: missing)
            let markdown = quick
                ? ReportRenderer.markdown(reports, missing: missing,
                                          source: "Rendered by `tern bench all --quick`: every built system's quick benchmark, run just now with small settings (not the committed full runs).")
                : ReportRenderer.markdown(reports, missing: missing)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let jsonData = try encoder.encode(combined)
            if let out {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                try markdown.write(toFile: out + "/results.md", atomically: true, encoding: .utf8)
                try jsonData.write(to: URL(fileURLWithPath: out + "/results.json"), options: .atomic)
                try ReportRenderer.svg(reports).write(toFile: out + "/results.svg", atomically: true, encoding: .utf8)
                FileHandleStderr.write("tern: wrote \(out)/results.md, results.json, results.svg\n")
            }
            Stdout.write(json ? String(decoding: jsonData, as: UTF8.self) + "\n" : markdown)
        }

        /// Runs `tern bench <command> --quick --json` as a child process (its own threads and memory).
        private func runQuick(_ command: String) throws -> BenchReport {
            let tern = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
            let r = try ChildProcess.run(tern, ["bench", command, "--quick", "--json"])
            guard r.status == 0 else {
                throw CLIError("tern bench \(command) --quick failed (exit \(r.status)): \(r.stderr.split(separator: "\n").suffix(5).joined(separator: "\n"))")
            }
            do {
                return try JSONDecoder().decode(BenchReport.self, from: Data(r.stdout.utf8))
            } catch {
                throw CLIError("tern bench \(command) --quick printed no reproduction report: \(error)")
            }
        }
    }
}
