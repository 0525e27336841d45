// SPDX-License-Identifier: Apache-2.0

import Foundation
public import Benchmarks
public import OpenAIAPI
import Support

/// `tern bench magic`: vanilla LLM vs PGM-aware LLM vs the random floor on identical settings,
/// scenarios and scripted defenders.
public struct MagicBenchmark: Sendable {
    public struct Settings: Sendable {
        public var model: String
        public var scenarios: [Scenario] = Scenario.allCases
        public var settingIndices: [Int] = Array(0..<20)
        public var player = ChatPlayerOptions()
        public var game = GameOptions()
        public var randomSeed: UInt64 = 7
        public init(model: String) { self.model = model }
    }

    /// One agent's records and metrics (released and corrected).
    public struct AgentResult: Sendable {
        public var agent: String
        public var records: [GameRecord]
        public var released: MetricScores
        public var corrected: MetricScores
        public var seconds: Double
        public var llmCalls: Int { records.map(\.llmCalls).reduce(0, +) }
        public var tokens: Int { records.map { $0.promptTokens + $0.completionTokens }.reduce(0, +) }
    }

    public let client: any ChatModelClient
    public let settings: Settings
    public let bundle: SettingsBundle

    public init(client: any ChatModelClient, bundle: SettingsBundle, settings: Settings) {
        self.client = client; self.bundle = bundle; self.settings = settings
    }

    /// The arena for an agent kind: "vanilla", "pgm" or "random".
    public func arena(_ agent: String) -> Arena {
        let base = ChatPlayer(client: client, model: settings.model, options: settings.player)
        let seed = settings.randomSeed
        var a = Arena(settings: bundle, model: agent == "random" ? "random" : settings.model, agent: agent) { scenario, setting, seat in
            switch agent {
            case "pgm": return PGMAgent(base: base)
            case "random": return RandomPlayer(seed: seed &+ UInt64(setting) &* 1000 &+ UInt64(seat) &* 17 &+ UInt64(Scenario.allCases.firstIndex(of: scenario)!) &* 7)
            default: return base
            }
        }
        a.options = settings.game
        return a
    }

    /// Runs the agents in order; `onGame(agent, done, total, record)` after each game.
    public func run(agents: [String] = ["random", "vanilla", "pgm"],
                    onGame: (String, Int, Int, GameRecord) throws -> Void = { _, _, _, _ in }) async throws -> [AgentResult] {
        var out: [AgentResult] = []
        for agent in agents {
            let start = ContinuousClock.now
            let records = try await arena(agent).run(settings.scenarios, settings: settings.settingIndices) { try onGame(agent, $0, $1, $2) }
            var r = Self.result(agent: agent, records: records, settings: settings)
            r.seconds = (ContinuousClock.now - start) / .seconds(1)
            out.append(r)
        }
        return out
    }

    /// An agent's metrics from its records (released: `num_of_game` 21 for 20 settings, else the count).
    public static func result(agent: String, records: [GameRecord], settings: Settings) -> AgentResult {
        let n = max(settings.settingIndices.count, 1)
        return AgentResult(agent: agent, records: records,
                           released: Metrics.compute(records, options: MetricOptions(released: true, numOfGame: n >= 20 ? 21 : n)),
                           corrected: Metrics.compute(records, options: MetricOptions(released: false)),
                           seconds: records.map(\.seconds).reduce(0, +))
    }

    /// Mean of the available scores (the eight headline numbers) of a metric set.
    public static func meanScore(_ m: MetricScores) -> Double? {
        let v = m.all.compactMap(\.1)
        return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
    }

    /// The agent's Chameleon/Undercover analyses (its hidden "pgm" notes) and how many of them say
    /// anything but "no change" (an all-"no change" analysis leaves the belief's ties, and the
    /// agent's Chameleon vote falls to tie-breaking).
    public static func deductionAnalyses(_ records: [GameRecord]) -> (total: Int, informative: Int) {
        let analyses = records.filter { $0.scenario.game == .chameleon || $0.scenario.game == .undercover }
            .flatMap { $0.messages.filter { $0.kind == "pgm" } }
        let informative = analyses.filter { m in
            GameParsers.pgmFactors(m.content, speaker: Players.index(of: m.agent) ?? 0).factor.joined().contains { $0 != 0 }
        }
        return (analyses.count, informative.count)
    }

    /// The shared reproduction report (as a JSON-ready dictionary).
    public static func report(_ results: [AgentResult], settings: Settings, quick: Bool) -> BenchReport {
        func find(_ a: String) -> AgentResult? { results.first { $0.agent == a } }
        func ratio(_ a: Double?, _ b: Double?) -> Double? { if let a, let b, b > 0 { return a / b }; return nil }
        var claims: [Claim] = []
        if let v = find("vanilla"), let p = find("pgm") {
            let a = deductionAnalyses(p.records)
            let perScenario = Dictionary(grouping: p.records, by: \.scenario).mapValues(\.count)
            let span = perScenario.isEmpty ? "no games" : "\(perScenario.count) scenarios x \(perScenario.values.min()!)"
                + (perScenario.values.min() == perScenario.values.max() ? "" : "-\(perScenario.values.max()!)") + " settings"
            let caveat = a.total == 0 ? "no deduction analyses"
                : "\(a.informative) of the PGM agent's \(a.total) deduction analyses are informative (not all 'no change')"
                    + (a.informative == 0 ? ", so its Chameleon votes are tie-breaks and this ratio is not evidence for the paper's claim" : "")
            let gain = ratio(meanScore(p.corrected), meanScore(v.corrected))
            claims.append(Claim(
                id: "pgm_gain_mean_score", description: "mean of the 8 scores (win rate + 7 metrics, corrected variants) PGM-aware / vanilla; paper: +37% (v3) to +50% (v1/v2) average gain",
                unit: "x", paper: .value(1.37), ours: gain, better: .higher,
                baseline: "vanilla \(settings.model), same settings and scripted defenders",
                reproduced: gain.map { $0 > 1 && a.informative > 0 },
                note: "rests on \(p.records.count) PGM and \(v.records.count) vanilla games (\(span)); \(caveat); compare with vanilla_vs_random_floor"))
            claims.append(Claim(id: "pgm_gain_win_rate", description: "win rate PGM-aware / vanilla (corrected divisors)", unit: "x",
                                paper: nil, ours: ratio(p.corrected.winRate, v.corrected.winRate), better: .higher,
                                baseline: "vanilla \(settings.model)"))
        }
        if let v = find("vanilla"), let r = find("random") {
            claims.append(Claim(id: "vanilla_vs_random_floor", description: "mean score vanilla / random floor: near 1 means the model plays at the floor and the PGM ratio is uninformative",
                                unit: "x", paper: nil, ours: ratio(meanScore(v.corrected), meanScore(r.corrected)), better: .higher,
                                baseline: "uniformly random legal moves"))
        }
        if let p = find("pgm"), let r = find("random") {
            claims.append(Claim(id: "pgm_vs_random_floor", description: "mean score PGM-aware / random floor", unit: "x", paper: nil,
                                ours: ratio(meanScore(p.corrected), meanScore(r.corrected)), better: .higher,
                                baseline: "uniformly random legal moves"))
        }
        var agents: [String: JSONValue] = [:]
        for r in results {
            func scores(_ m: MetricScores) -> JSONValue {
                var d: [String: JSONValue] = [:]
                for (k, v) in m.all { d[k] = JSONValue(v) }
                d["components"] = .object(m.components.mapValues { JSONValue($0) })
                return .object(d)
            }
            let analyses = deductionAnalyses(r.records)
            agents[r.agent] = [
                "released": scores(r.released), "corrected": scores(r.corrected), "games": JSONValue(r.records.count),
                "deduction_analyses": JSONValue(analyses.total), "deduction_analyses_informative": JSONValue(analyses.informative),
                "seconds": JSONValue(r.seconds), "llm_calls": JSONValue(r.llmCalls), "tokens": JSONValue(r.tokens),
                "mean_score_corrected": JSONValue(meanScore(r.corrected)),
            ]
        }
        let g = settings.game
        return BenchReport(
            system: "magic",
            settings: [
                "model": JSONValue(settings.model), "scenarios": .array(settings.scenarios.map { .string($0.rawValue) }),
                "settings_per_scenario": JSONValue(settings.settingIndices.count),
                "setting_indices": .array(settings.settingIndices.map { JSONValue($0) }), "defenders": "scripted (rule-based), fixed prefix",
                "constrained": .bool(settings.player.constrained), "clue_max_tokens": JSONValue(settings.player.clueTokens),
                "max_tokens": JSONValue(settings.player.maxTokens), "temperature": JSONValue(settings.player.temperature),
                "metric_probes": .bool(g.metricProbes), "quick": .bool(quick),
                "game_quirks": ["released_vote_parser": .bool(g.releasedVoteParser), "released_contribution": .bool(g.releasedContribution),
                                "released_decision_parser": .bool(g.releasedDecisionParser), "released_probe_template": .bool(g.releasedProbeTemplate)],
            ],
            claims: claims, results: ["agents": .object(agents)])
    }

    /// A leaderboard table: agents x metrics.
    public static func table(_ rows: [(name: String, scores: MetricScores)]) -> String {
        func pad(_ s: String, _ n: Int, left: Bool = true) -> String {
            s.count >= n ? s : (left ? s + String(repeating: " ", count: n - s.count) : String(repeating: " ", count: n - s.count) + s)
        }
        let width = max(5, rows.map(\.name.count).max() ?? 0)
        let heads = ["win", "judge", "reason", "decept", "self", "coop", "coord", "ration"]
        var s = pad("model", width) + heads.map { " " + pad($0, 7, left: false) }.joined() + "\n"
        for r in rows {
            s += pad(r.name, width) + r.scores.all.map { v in " " + pad(v.1.map { String(format: "%.3f", $0) } ?? "-", 7, left: false) }.joined() + "\n"
        }
        return s
    }

    /// The scenarios of `--quick`: one per game (the tested model as the chameleon / undercover).
    public static let quickScenarios: [Scenario] = [.chameleonAsChameleon, .undercoverAsUndercover, .costSharing, .prisoner, .publicGood]
}
