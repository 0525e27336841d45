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

extension Tern.Bench {
    /// `tern bench magic`: vanilla vs PGM-aware model vs the random floor on identical settings and
    /// scripted defenders, beside the paper's PGM gain.
    struct BenchMagic: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "magic",
            abstract: "MAgIC: vanilla vs PGM-aware SmolLM2 vs a random-agent floor on the five games (seven metrics + win rate).")

        @OptionGroup var modelOptions: AgentModelOptions
        @OptionGroup var settingsOptions: ArenaSettingsOptions
        @OptionGroup var quirkOptions: ArenaQuirkOptions
        @Option(help: "Settings per scenario.") var settings = 3
        @Option(help: "all, or a comma list of games or scenarios.") var games = "all"
        @Option(name: .customLong("clue-tokens"), help: "Max tokens of a free-text clue.") var clueTokens = 24
        @Option(name: .customLong("records-dir"), help: "Also write every game as JSONL here (<agent>.jsonl).") var recordsDir: String?
        @Flag(name: .customLong("no-probes"), help: "Skip the identity and PGM probes.") var noProbes = false
        @Flag(name: .customLong("no-constrained"), help: "Free decoding for votes, decisions and probes (no guided_choice / guided_regex fields, for strict OpenAI servers).")
        var noConstrained = false
        @Option(help: "Comma list of agents to run: random, vanilla, pgm.") var agents = "random,vanilla,pgm"
        @Option(name: .customLong("from-records"), help: "Build the report from <agent>.jsonl files written by --records-dir instead of playing.") var fromRecords: String?
        @OptionGroup var output: BenchOutputOptions
        private var quick: Bool { output.quick }
        private var json: Bool { output.json }

        func run() async throws {
            var bundle = try settingsOptions.bundle(count: settings)
            if quick {
                // Quick: two rounds of the repeated games instead of five (smoke runs only).
                for i in bundle.prisoner.indices { bundle.prisoner[i].rounds = 2 }
                for i in bundle.publicGood.indices { bundle.publicGood[i].rounds = 2 }
            }
            let agentList = agents.split(separator: ",").map(String.init)
            guard !agentList.isEmpty, agentList.allSatisfy({ ["random", "vanilla", "pgm"].contains($0) }) else { throw ValidationError("--agents: random, vanilla, pgm") }
            let noModel = fromRecords != nil || agentList == ["random"]
            let (client, model, shutdown) = noModel ? (UnusedChatClient() as any ChatModelClient, modelOptions.model, {}) : try await modelOptions.makeClient(progress: !json)
            defer { shutdown() }
            var s = MagicBenchmark.Settings(model: model)
            s.scenarios = quick ? MagicBenchmark.quickScenarios : try Scenario.parse(games)
            s.settingIndices = Array(0..<(quick ? 1 : min(settings, bundle.chameleon.count)))
            s.player.clueTokens = quick ? 12 : clueTokens
            s.game = quirkOptions.gameOptions(metricProbes: !(quick || noProbes))
            s.player.constrained = !noConstrained
            let bench = MagicBenchmark(client: client, bundle: bundle, settings: s)
            let progress = ProgressReporter(enabled: !json, logInterval: 0)
            var results: [MagicBenchmark.AgentResult] = []
            if let dir = fromRecords {
                for agent in agentList {
                    let records = try GameRecord.loadJSONL(path: dir + "/\(agent).jsonl")
                    if let m = records.first(where: { $0.agent != "random" })?.model { s.model = m }
                    s.settingIndices = Array(0..<(Dictionary(grouping: records, by: \.scenario).values.map(\.count).max() ?? 0))
                    s.scenarios = Scenario.allCases.filter { sc in records.contains { $0.scenario == sc } }
                    results.append(MagicBenchmark.result(agent: agent, records: records, settings: s))
                }
            } else {
                results = try await bench.run(agents: agentList) { agent, done, total, r in
                    progress.update("\(agent) [\(done)/\(total)] \(r.scenario.rawValue) #\(r.setting): \(arenaOutcome(r)), \(r.llmCalls) calls, \(String(format: "%.1f", r.seconds)) s")
                }
            }
            progress.finish()
            if let recordsDir {
                try FileManager.default.createDirectory(atPath: recordsDir, withIntermediateDirectories: true)
                for r in results {
                    let lines = try r.records.map { try $0.jsonLine() }.joined(separator: "\n") + "\n"
                    try lines.write(toFile: recordsDir + "/\(r.agent).jsonl", atomically: true, encoding: .utf8)
                }
            }
            let report = MagicBenchmark.report(results, settings: s, quick: quick)
            var details = "corrected metrics (released quirks in --json):\n"
            details += MagicBenchmark.table(results.map { ($0.agent == "random" ? "random floor" : "\($0.agent) \(s.model)", $0.corrected) })
            details += "\nreleased metrics:\n" + MagicBenchmark.table(results.map { ($0.agent == "random" ? "random floor" : "\($0.agent) \(s.model)", $0.released) })
            for r in results { details += String(format: "%@: %d games, %d LLM calls, %d tokens, %.1f s\n", r.agent, r.records.count, r.llmCalls, r.tokens, r.seconds) }
            try output.emit(report, details: details)
        }
    }
}
