// SPDX-License-Identifier: Apache-2.0

import Foundation
import GGUF
import InferenceEngine
import MultiAgentGames
import OpenAIAPI
import OpenAIServer
import TestSupport
import Testing
import Tokenization
import TransformerModels

@Suite("MAgIC metric mode on SmolLM2-135M", .serialized)
struct RealModelGameTests {
    @Test("one Chameleon game (released setting 0, the model as the chameleon) with probes: every answer parses, metrics from the record")
    func chameleonMetricMode() async throws {
        let (service, engine) = try smolLM2Service()
        defer { engine.shutdown() }
        var options = ChatPlayerOptions()
        options.clueTokens = 12
        let player = ChatPlayer(client: service, model: "smollm2", options: options)
        var arena = Arena(settings: SettingsGenerator.generate(count: 20), model: "smollm2", agent: "vanilla") { _, _, _ in player }
        arena.options = GameOptions()  // metric probes on
        #expect(arena.options.metricProbes)
        let start = ContinuousClock.now
        let r = try await arena.play(.chameleonAsChameleon, setting: 0)
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        print("MAgIC real-model Chameleon game: \(String(format: "%.1f", seconds)) s, \(r.llmCalls) calls, \(r.promptTokens)+\(r.completionTokens) tokens")

        let x = 2  // the released setting's chameleon: Player 3, the tested seat
        #expect(r.testPlayers == [x] && r.outcome.xPlayer == x)
        let flag = try #require(r.outcome.winFlag)
        #expect((0...3).contains(flag))

        // Identity probes: 3 clue turns x 3 players, every answer in the template with a real name and role.
        let identities = r.messages.filter { $0.kind == "identity_probe" }
        #expect(identities.count == 9 && identities.allSatisfy(\.hidden))
        for m in identities {
            #expect(m.content.wholeMatch(of: /I am Player [1-3], my role is (non-)?chameleon\./) != nil, "\(m.agent): \(m.content)")
        }
        // PGM probes: every answer is a complete template (its full regex), the chameleon's with a word guess.
        let probes = r.messages.filter { $0.kind == "pgm_probe" }
        #expect(probes.count == 9)
        for m in probes {
            let p = try #require(Players.index(of: m.agent))
            let re = try RegexConstraint(ProbeTemplates.regex(speaker: p, chameleon: p == x))
            #expect(re.isComplete(Array(m.content.utf8)), "\(m.agent): \(m.content)")
            if p == x { #expect(GameParsers.pgmFactors(m.content, speaker: p).guess?.isEmpty == false, "\(m.content)") }
        }
        #expect(r.outcome.consistency.count == 3 && r.outcome.probeScores.count == 3)

        // The model's clue is one non-empty line; its vote parsed to another player.
        let clue = try #require(r.messages.first { $0.kind == "clue" && $0.agent == "Player 3" })
        #expect(!clue.content.isEmpty && !clue.content.contains("\n"))
        let votes = try #require(r.outcome.votes)
        let vote = try #require(votes[x], "unparsed vote: \(r.messages.filter { $0.kind == "vote" }.map(\.content))")
        #expect(vote != x)
        // Accused (flags 0/1): the model guessed in the template; otherwise no guess was asked.
        let guess = r.messages.first { $0.kind == "guess" }
        if flag <= 1 {
            #expect(guess?.content.wholeMatch(of: /I guess the code is "[A-Za-z][A-Za-z ]*"/) != nil, "\(guess?.content ?? "no guess")")
        } else {
            #expect(guess == nil)
        }
        // The tested seat's calls: 3 identity + 3 PGM probes, 1 clue, 1 vote (+ the guess when accused).
        #expect(r.llmCalls == 8 + (flag <= 1 ? 1 : 0))

        // Metrics from this one record: the chameleon-side scores exist, the others have no games.
        let m = Metrics.compute([r], options: MetricOptions(released: false))
        #expect(m.components.keys.sorted() == ["chameleon_as_chameleon"])
        #expect(m.winRate == Metrics.chameleonScore(asX: true, flags: [flag], n: 1))
        #expect(m.deception == (flag == 0 ? 0.0 : 1.0))
        let selfAware = try #require(m.selfAwareness)
        #expect(selfAware == Double(r.outcome.consistency.map { $0[x] }.reduce(0, +)) / 3)
        let reasoning = try #require(m.reasoning)
        #expect(reasoning >= 0 && reasoning <= 1)
        #expect(m.judgement == nil && m.cooperation == nil && m.coordination == nil && m.rationality == nil)
    }
}
