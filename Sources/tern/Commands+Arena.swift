// SPDX-License-Identifier: Apache-2.0

import Support
import ArgumentParser
import Benchmarks
import Foundation
import MultiAgentGames
import OpenAIAPI

#if canImport(Glibc)
import Glibc
#endif

/// Where the game settings come from: a file, or the seeded generator (identical to the committed
/// `bench/magic/settings.json`).
struct ArenaSettingsOptions: ParsableArguments {
    @Option(name: .customLong("settings-file"), help: "Settings JSON (default: generated with --seed; the same as bench/magic/settings.json).")
    var settingsFile: String?
    @Option(help: "Seed of the generated settings.") var seed: UInt64 = SettingsGenerator.defaultSeed

    func bundle(count: Int) throws -> SettingsBundle {
        if let settingsFile { return try SettingsBundle(contentsOf: settingsFile) }
        return SettingsGenerator.generate(count: max(count, 20), seed: seed)
    }
}

/// Which of the released code's play-changing quirks the games use (`GameOptions`).
enum ArenaQuirkMode: String, EnumerableFlag {
    case releasedQuirks, correctedQuirks

    static func help(for value: ArenaQuirkMode) -> ArgumentHelp? {
        switch value {
        case .releasedQuirks:
            return "Every game quirk as released: vote, PD-decision and contribution parsers, and the Chameleon probe template whose guess line the parser never reads (no leak flag)."
        case .correctedQuirks:
            return "Every game quirk corrected (vote in reading order without self-votes, negation-aware PD decisions, clamped contributions). Default without either flag: released parsers, probe template aligned with its parser."
        }
    }
}

/// `--released-quirks` / `--corrected-quirks` (neither: the port's defaults).
struct ArenaQuirkOptions: ParsableArguments {
    @Flag(exclusivity: .exclusive) var quirks: ArenaQuirkMode?

    /// The game options for these flags, keeping `metricProbes`.
    func gameOptions(metricProbes: Bool) -> GameOptions {
        switch quirks {
        case .releasedQuirks?: return .released(metricProbes: metricProbes)
        case .correctedQuirks?: return .corrected(metricProbes: metricProbes)
        case nil:
            var o = GameOptions()
            o.metricProbes = metricProbes
            return o
        }
    }
}

extension Tern {
    /// `tern arena`: the MAgIC multi-agent benchmark.
    struct ArenaCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "arena",
            abstract: "MAgIC: Chameleon, Undercover, Cost Sharing, Prisoner's Dilemma and Public Good against scripted defenders.",
            subcommands: [Run.self, Report.self, WriteSettings.self])

        struct Run: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Play the scenarios and write one JSONL record per game to <out>/<model>-<agent>.jsonl (an existing file is overwritten).")
            @OptionGroup var modelOptions: AgentModelOptions
            @OptionGroup var settingsOptions: ArenaSettingsOptions
            @OptionGroup var quirkOptions: ArenaQuirkOptions
            @Option(help: "vanilla, pgm or random.") var agent = "vanilla"
            @Option(help: "all, or a comma list of games (chameleon, undercover, cost_sharing, prisoner, public_good) or scenarios.") var games = "all"
            @Option(help: "Settings per scenario (0..<n).") var settings = 20
            @Option(help: "Output directory for <model>-<agent>.jsonl.") var out = "arena-results"
            @Flag(name: .customLong("no-probes"), help: "Skip the identity and PGM probes (no self-awareness / reasoning).") var noProbes = false
            @Flag(name: .customLong("no-constrained"), help: "Free decoding for votes, decisions and probes.") var noConstrained = false
            @Option(name: .customLong("clue-tokens"), help: "Max tokens of a free-text clue.") var clueTokens = 24

            func validate() throws {
                guard ["vanilla", "pgm", "random"].contains(agent) else { throw ValidationError("--agent must be vanilla, pgm or random") }
                guard settings >= 1 else { throw ValidationError("--settings must be at least 1") }
            }

            func run() async throws {
                let scenarios = try Scenario.parse(games)
                let bundle = try settingsOptions.bundle(count: settings)
                guard settings <= bundle.chameleon.count else { throw CLIError("the settings file has only \(bundle.chameleon.count) settings per scenario") }
                var s = MagicBenchmark.Settings(model: modelOptions.model)
                s.scenarios = scenarios
                s.settingIndices = Array(0..<settings)
                s.player.constrained = !noConstrained
                s.player.clueTokens = clueTokens
                s.game = quirkOptions.gameOptions(metricProbes: !noProbes)
                let chat = agent == "random" ? BenchChatModel(client: NoModelClient(), model: "random") : try await modelOptions.open(progress: true)
                defer { chat.shutdown() }
                let model = chat.model
                s.model = model
                let bench = MagicBenchmark(client: chat.client, bundle: bundle, settings: s)
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let path = out + "/" + model.replacingOccurrences(of: "/", with: "_") + "-" + agent + ".jsonl"
                _ = FileManager.default.createFile(atPath: path, contents: nil)
                guard let sink = FileHandle(forWritingAtPath: path) else { throw CLIError("cannot write \(path)") }
                let progress = ProgressReporter(logInterval: 0)
                let records = try await bench.arena(agent).run(scenarios, settings: s.settingIndices) { done, total, r in
                    sink.write(Data((try r.jsonLine() + "\n").utf8))
                    progress.update(done: done, total: total, "\(r.scenario.rawValue) #\(r.setting): \(gameOutcomeSummary(r)), \(r.llmCalls) calls, \(String(format: "%.1f", r.seconds)) s")
                }
                progress.finish()
                try sink.close()
                let m = Metrics.compute(records, options: MetricOptions(released: false))
                Stdout.write(MagicBenchmark.table([("\(model) (\(agent))", m)]))
                FileHandleStderr.write("wrote \(records.count) games to \(path)\n")
            }
        }

        struct Report: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Leaderboard (models x metrics) from the JSONL records of `tern arena run`.")
            @Option(help: "Directory of *.jsonl records.") var dir = "arena-results"
            @Option(help: "Where to write the leaderboard JSON (default <dir>/leaderboard.json).") var json: String?
            @Flag(help: "Use the metrics exactly as released (quirks) instead of the corrected variants.") var released = false

            func run() throws {
                let board: Leaderboard
                do { board = Leaderboard(records: try Leaderboard.records(inDirectory: dir), released: released) } catch let e as LeaderboardError { throw CLIError(e.description) }
                Stdout.write(board.table)
                let path = json ?? dir + "/leaderboard.json"
                try board.json().write(to: URL(fileURLWithPath: path))
                FileHandleStderr.write("wrote \(path)\n")
            }
        }

        struct WriteSettings: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "settings", abstract: "Generate the seeded settings offline and write them as JSON.")
            @Option(help: "Settings per scenario.") var count = 20
            @Option(help: "Seed.") var seed: UInt64 = SettingsGenerator.defaultSeed
            @Option(help: "Output file.") var out = "bench/magic/settings.json"

            func run() throws {
                let data = try SettingsGenerator.generate(count: count, seed: seed).jsonData()
                try data.write(to: URL(fileURLWithPath: out))
                FileHandleStderr.write("wrote \(count) settings per scenario to \(out)\n")
            }
        }
    }
}

/// A short outcome string for progress lines.

