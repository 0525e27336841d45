// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Benchmarks
import Foundation
import Support
import TransformerModels

/// The options every benchmark shares: `--quick`, `--json`, `--out DIR`.
struct BenchOutputOptions: ParsableArguments, ReportsJSON {
    @Flag(help: "A small version in about a minute (used by the tests).")
    var quick = false

    @OptionGroup var format: JSONOption

    @Option(help: "Also write the report to DIR/<system>/result.json (a full run: --out bench; with --quick, result-quick.json) and keep a full run's finished pieces in DIR/<system>/partial.")
    var out: String?

    /// Where a full run keeps its finished pieces: `DIR/<system>/partial` under `--out DIR`, so an
    /// interrupted run resumes with the same command; quick runs and runs without `--out` keep none.
    func checkpoint(system: String, settings: [String: JSONValue]) -> BenchCheckpoint {
        let directory = quick ? nil : out.map { ($0 as NSString).appendingPathComponent(system + "/partial") }
        let checkpoint = BenchCheckpoint(directory: directory, settings: settings)
        if checkpoint.resumedCount > 0, let directory {
            FileHandleStderr.write("tern: resuming \(system): \(checkpoint.resumedCount) finished piece(s) from \(directory)\n")
        }
        return checkpoint
    }

    /// Prints the report (table or JSON) and writes it under `--out`; `details` is printed above the
    /// claims table (system-specific rows), never in JSON mode.
    func emit(_ report: BenchReport, details: String = "") throws {
        if let out {
            // A quick run never overwrites a committed full run.
            let path = (out as NSString).appendingPathComponent(report.system + (quick ? "/result-quick.json" : "/result.json"))
            try report.write(to: path)
            FileHandleStderr.write("tern: wrote \(path)\n")
        }
        if json {
            Stdout.write(try report.jsonString())
        } else {
            Stdout.write((details.isEmpty ? "" : details + "\n") + ReportRenderer.table(report))
        }
    }
}

extension Tern.Bench {
    /// `tern bench <system>`: the one generic command over every ``SystemBenchmark``.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run one system's benchmark: tern bench <system> [--quick] [--json] [--out DIR] [--set key=value ...].",
            discussion: "Systems: \(BenchCatalog.benchmarks.map { $0.name }.joined(separator: ", ")). "
                + "`tern bench <system> --list-settings` shows every setting with its full and quick defaults.")

        @Argument(help: "The system to benchmark (omit it to list them).")
        var system: String?

        @OptionGroup var output: BenchOutputOptions

        @Option(name: .customLong("set"), help: ArgumentHelp("Override a setting (repeatable), e.g. --set epochs=3.", valueName: "key=value"))
        var overrides: [String] = []

        @Option(help: "Shorthand for --set threads=N (a list where the benchmark takes several, e.g. 1,2).")
        var threads: String?

        @Option(name: .shortAndLong, help: "Shorthand for --set model=NAME (a registered model name or a GGUF path).")
        var model: String?

        @Flag(name: .customLong("list-settings"), help: "Print the settings with their full-run and quick defaults, and exit.")
        var listSettings = false

        func run() async throws {
            guard let system else {
                var list = "tern bench <system> [--quick] [--json] [--out DIR] [--set key=value ...] [--list-settings]\n\n"
                for b in BenchCatalog.benchmarks { list += padded(b.name, -16) + b.abstract + "\n" }
                list += padded("all", -16) + "one combined report from bench/<system>/result.json (--quick: run every quick benchmark)\n"
                Stdout.write(list)
                return
            }
            guard let benchmark = BenchCatalog.benchmarks.first(where: { $0.name == system }) else {
                throw BenchError.unknownSystem(system, known: BenchCatalog.benchmarks.map { $0.name })
            }
            try await run(benchmark)
        }

        private func run<B: SystemBenchmark>(_ benchmark: B.Type) async throws {
            if listSettings {
                Stdout.write(try Self.settingsTable(B.self))
                return
            }
            var all = overrides
            if let threads { all.append("threads=\(threads)") }
            if let model { all.append("model=\(model)") }
            let settings = try BenchSettings.apply(all, to: B.settings(quick: output.quick))
            let encoded = try BenchSettings.encode(settings)
            let context = BenchContext(
                quick: output.quick, checkpoint: output.checkpoint(system: B.name, settings: encoded), showProgress: !output.json,
                artifacts: output.out.map { ($0 as NSString).appendingPathComponent(B.name) },
                resolveModel: { try ModelStore().resolve($0, progress: false) },
                openChatModel: { [json = output.json] spec in
                    // The key of an OpenAI-compatible server comes from the environment, never from settings (reports are committed).
                    try await openChatModel(spec, apiKey: ProcessInfo.processInfo.environment["OPENAI_API_KEY"], progress: !json)
                },
                executable: URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path)
            var outcome = try await B.run(settings, context: context)
            // The report carries every setting (the benchmark's derived ones kept where it adds them).
            outcome.report.settings.merge(encoded) { derived, _ in derived }
            outcome.report.settings["quick"] = .bool(output.quick)
            try output.emit(outcome.report, details: outcome.details)
            context.checkpoint.finish()
        }

        static func settingsTable<B: SystemBenchmark>(_ benchmark: B.Type) throws -> String {
            let full = try BenchSettings.encode(B.settings(quick: false)), quick = try BenchSettings.encode(B.settings(quick: true))
            func text(_ v: JSONValue?) -> String {
                switch v {
                case .string(let s)?: s.isEmpty ? "\"\"" : s
                case .number(let d)?: formatNumber(d)
                case .bool(let b)?: "\(b)"
                case .array(let a)?: a.map { text($0) }.joined(separator: ",")
                default: "-"
                }
            }
            var s = "\(B.title) (\(B.name)): \(B.abstract)\n\n"
            s += padded("setting", -22) + " " + padded("full", -14) + " " + padded("quick", -14) + " meaning\n"
            for key in full.keys.sorted() {
                s += padded(key, -22) + " " + padded(text(full[key]), -14) + " " + padded(text(quick[key]), -14) + " " + (B.settingsHelp[key] ?? "(undocumented)") + "\n"
            }
            return s
        }
    }
}

extension Tern.Bench {
    /// `tern bench rss-probe`: the child process of the speed benchmark's peak-RSS measurement.
    struct RSSProbe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rss-probe", abstract: "Print the peak RSS (MB) of a 512-token prefill and a 128-token decode.", shouldDisplay: false)
        @Option var model: String
        @Option var threads = 1

        func run() throws {
            Stdout.write(String(format: "%.1f\n", try SpeedBenchmark.probeRSS(path: try ModelStore().resolve(model, progress: false), threads: threads)))
        }
    }
}
