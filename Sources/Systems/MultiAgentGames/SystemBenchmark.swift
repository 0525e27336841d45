// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
import Foundation
public import OpenAIAPI
import Support

/// The client of the random agent, which never asks a model: any call is an error.
public struct NoModelClient: ChatModelClient {
    /// Creates one.
    public init() {}
    public func complete(_ request: ChatCompletionRequest) async throws -> ChatCompletion { throw MagicBenchmarkError.noModel }
    public func stream(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatCompletionChunk, any Error> {
        throw MagicBenchmarkError.noModel
    }
}

/// Why MAgIC's benchmark could not run.
public enum MagicBenchmarkError: Error, CustomStringConvertible {
    case noModel
    case invalidSetting(String)

    public var description: String {
        switch self {
        case .noModel: "the random agent has no model"
        case .invalidSetting(let why): "magic setting \(why)"
        }
    }
}

/// A one-line summary of how a game ended.
public func gameOutcomeSummary(_ r: GameRecord) -> String {
    if let f = r.outcome.winFlag { return "win flag \(f)" }
    return r.outcome.result ?? "unfinished"
}

/// MAgIC's reproduction: vanilla vs PGM-aware model vs the random floor on identical settings,
/// scenarios and scripted defenders, beside the paper's PGM gain. Each agent is one resumable
/// piece (its game records).
public enum MagicSystemBenchmark: SystemBenchmark {
    /// Every knob of a run.
    public struct Settings: Codable, Sendable, Equatable, ChatModelSettings {
        /// The chat model (``ChatModelSettings``).
        public var model = "smollm2-135m", baseURL = "", threads = 2, ctxSize = 4096, prefixCache = true
        /// Settings per scenario.
        public var settings = 3
        /// `all`, or a comma list of games or scenarios (`quick` = one scenario per game).
        public var games = "all"
        public var agents = "random,vanilla,pgm"
        public var clueTokens = 24
        public var probes = true
        public var constrained = true
        /// `default` (released parsers, probe template aligned with its parser), `released` or `corrected`.
        public var quirks = "default"
        /// Rounds of the repeated games (0 = as generated, five).
        public var repeatedRounds = 0
        /// Settings JSON ("" = generated from `settings_seed`).
        public var settingsFile = ""
        public var settingsSeed: UInt64 = SettingsGenerator.defaultSeed
        /// Build the report from `<agent>.jsonl` records in this folder instead of playing.
        public var fromRecords = ""
        /// Creates the defaults of a full run.
        public init() {}
    }

    public static let name = "magic"
    public static let title = "MAgIC"
    public static let abstract = "vanilla vs PGM-aware SmolLM2 vs a random-agent floor on the five games (seven metrics + win rate)"
    public static let settingsHelp = ChatModelSpec.settingsHelp.merging(BenchSettings.help("""
        settings         settings per scenario
        games            all, quick (one scenario per game), or a comma list of games or scenarios
        agents           comma list of random, vanilla, pgm
        clue_tokens      max tokens of a free-text clue
        probes           the identity and PGM probes
        constrained      guided choices/regexes for votes, decisions and probes (false for strict OpenAI servers)
        quirks           default, released or corrected game quirks (docs/magic.md)
        repeated_rounds  rounds of Prisoner's Dilemma and Public Good (0 = as generated)
        settings_file    settings JSON (empty = generated from settings_seed; bench/magic/settings.json is the same)
        settings_seed    seed of the generated settings
        from_records     build the report from <agent>.jsonl files in this folder instead of playing
        """)) { _, own in own }

    public static func settings(quick: Bool) -> Settings {
        var s = Settings()
        if quick { s.settings = 1; s.games = "quick"; s.clueTokens = 12; s.probes = false; s.repeatedRounds = 2 }
        return s
    }

    public static func run(_ s: Settings, context: BenchContext) async throws -> BenchOutcome {
        var bundle = s.settingsFile.isEmpty ? SettingsGenerator.generate(count: max(s.settings, 20), seed: s.settingsSeed)
            : try SettingsBundle(contentsOf: s.settingsFile)
        if s.repeatedRounds > 0 {
            for i in bundle.prisoner.indices { bundle.prisoner[i].rounds = s.repeatedRounds }
            for i in bundle.publicGood.indices { bundle.publicGood[i].rounds = s.repeatedRounds }
        }
        let agents = s.agents.split(separator: ",").map(String.init)
        guard !agents.isEmpty, agents.allSatisfy({ ["random", "vanilla", "pgm"].contains($0) }) else {
            throw MagicBenchmarkError.invalidSetting("agents: a comma list of random, vanilla, pgm")
        }
        var settings = MagicBenchmark.Settings(model: s.model)
        settings.scenarios = s.games == "quick" ? MagicBenchmark.quickScenarios : try Scenario.parse(s.games)
        settings.settingIndices = Array(0..<min(s.settings, bundle.chameleon.count))
        settings.player.clueTokens = s.clueTokens
        settings.player.constrained = s.constrained
        switch s.quirks {
        case "released": settings.game = .released(metricProbes: s.probes)
        case "corrected": settings.game = .corrected(metricProbes: s.probes)
        case "default": settings.game.metricProbes = s.probes
        default: throw MagicBenchmarkError.invalidSetting("quirks: default, released or corrected")
        }

        var results: [MagicBenchmark.AgentResult] = []
        if !s.fromRecords.isEmpty {
            for agent in agents {
                let records = try GameRecord.loadJSONL(path: s.fromRecords + "/\(agent).jsonl")
                if let m = records.first(where: { $0.agent != "random" })?.model { settings.model = m }
                settings.settingIndices = Array(0..<(Dictionary(grouping: records, by: \.scenario).values.map(\.count).max() ?? 0))
                settings.scenarios = Scenario.allCases.filter { sc in records.contains { $0.scenario == sc } }
                results.append(MagicBenchmark.result(agent: agent, records: records, settings: settings))
            }
        } else {
            let needsModel = agents != ["random"]
            let chat = needsModel
                ? try await context.openChatModel(s.chatModelSpec)
                : BenchChatModel(client: NoModelClient(), model: s.model)
            defer { chat.shutdown() }
            settings.model = chat.model
            let progress = ProgressReporter(enabled: context.showProgress, logInterval: 0)
            struct Played: Codable { var records: [GameRecord]; var seconds: Double }
            // One resumable piece per agent and scenario (a full run plays for hours).
            for agent in agents {
                var records: [GameRecord] = [], seconds = 0.0
                for scenario in settings.scenarios {
                    var one = settings
                    one.scenarios = [scenario]
                    let bench = MagicBenchmark(client: chat.client, bundle: bundle, settings: one)
                    let played = try await context.checkpoint.piece("\(agent)/\(scenario.rawValue)") { () async throws -> Played in
                        let r = try await bench.run(agents: [agent]) { agent, done, total, r in
                            progress.update("\(agent) \(r.scenario.rawValue) [\(done)/\(total)] #\(r.setting): \(gameOutcomeSummary(r)), \(r.llmCalls) calls, \(String(format: "%.1f", r.seconds)) s")
                        }[0]
                        return Played(records: r.records, seconds: r.seconds)
                    }
                    records += played.records
                    seconds += played.seconds
                }
                var r = MagicBenchmark.result(agent: agent, records: records, settings: settings)
                r.seconds = seconds
                results.append(r)
            }
            progress.finish()
        }
        if let artifacts = context.artifacts, s.fromRecords.isEmpty {
            let dir = artifacts + "/records"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for r in results {
                let lines = try r.records.map { try $0.jsonLine() }.joined(separator: "\n") + "\n"
                try lines.write(toFile: dir + "/\(r.agent).jsonl", atomically: true, encoding: .utf8)
            }
        }
        let report = MagicBenchmark.report(results, settings: settings, quick: context.quick)
        func label(_ r: MagicBenchmark.AgentResult) -> String { r.agent == "random" ? "random floor" : "\(r.agent) \(settings.model)" }
        var details = "corrected metrics (released quirks in --json):\n"
        details += MagicBenchmark.table(results.map { (label($0), $0.corrected) })
        details += "\nreleased metrics:\n" + MagicBenchmark.table(results.map { (label($0), $0.released) })
        for r in results { details += String(format: "%@: %d games, %d LLM calls, %d tokens, %.1f s\n", r.agent, r.records.count, r.llmCalls, r.tokens, r.seconds) }
        return BenchOutcome(report: report, details: details)
    }
}
