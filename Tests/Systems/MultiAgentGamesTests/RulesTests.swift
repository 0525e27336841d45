// SPDX-License-Identifier: Apache-2.0

import Foundation
import MultiAgentGames
import Synchronization
import Testing
import TestSupport

/// A player answering from a closure (tests only).
struct ScriptPlayer: GamePlayer {
    let answer: @Sendable (ActionRequest) -> String
    var label: String { "script" }
    func act(_ r: ActionRequest) async throws -> PlayerAction { PlayerAction(text: answer(r)) }
}

/// Scripted defenders except for the given overrides per kind.
func players(_ override: @escaping @Sendable (ActionRequest) -> String?) -> [any GamePlayer] {
    (0..<3).map { _ in ScriptPlayer { r in override(r) ?? ScriptedDefender.answer(r.kind, r.context) } }
}

let released = SettingsGenerator.generate(count: 20)

@Suite("MAgIC game rules")
struct RulesTests {
    @Test("Chameleon metric-mode phases, visibility, and the released setting's flag-1 ending")
    func chameleonPhases() async throws {
        let s = released.chameleon[0]
        let game = DeductionGame(chameleon: s, testAsX: true)
        var kinds: [ActionKind] = []
        let all = players { _ in nil }
        while let t = game.nextTurn() {
            kinds.append(t.kind)
            var a: [Int: String] = [:]
            for p in t.players {
                var c = game.context(for: p)
                c.testStarted = true
                let r = ActionRequest(player: p, kind: t.kind, text: t.text[p]!, rules: game.rules, observation: [], context: c)
                a[p] = try await all[p].act(r).text
            }
            try game.submit(a)
        }
        let round: [ActionKind] = [.identityProbe, .clue, .pgmProbe]
        #expect(kinds == round + round + round + [.vote, .guess])
        let o = game.outcome()
        // Scripted non-chameleons spot "It's red in color." (no Grape feature); the chameleon (Player 3)
        // decodes "wine" + "small and round" as Grape: accused, guessed right -> flag 1.
        #expect(o.votes == [2, 2, 0])
        #expect(o.winFlag == 1)
        #expect(o.consistency.count == 3 && o.probeScores.count == 3)
        #expect(o.consistency.allSatisfy { $0 == [1, 1, 1] })
        // Visibility: the chameleon never sees the word; votes only by their authors; probes by nobody.
        let seenByX = game.pool.visible(to: "Player 3").map(\.content).joined(separator: "\n")
        #expect(!seenByX.contains("The word is: Grape"))
        #expect(game.pool.visible(to: "Player 1").filter { $0.kind == "vote" }.map(\.agent) == ["Player 1"])
        #expect(!game.pool.messages.filter { $0.kind.hasSuffix("probe") }.contains { $0.isVisible(to: $0.agent) })
        #expect(game.nextTurn() == nil)
    }

    @Test("Chameleon win flags: tie 3, wrong accusation 2, accused and wrong guess 0")
    func chameleonFlags() async throws {
        var options = GameOptions()
        options.metricProbes = false
        let s = released.chameleon[0]  // chameleon = Player 3
        func play(_ votes: [Int], guess: String = "I guess the code is \"Apple\"") async throws -> GameOutcome {
            let game = DeductionGame(chameleon: s, testAsX: false, options: options)
            let ps = players { r in r.kind == .vote ? "I vote for Player \(votes[r.player] + 1)." : r.kind == .guess ? guess : nil }
            return try await GameRunner.play(game, players: ps, scenario: .chameleonAsNonChameleon, setting: 0, model: "t", agent: "t").outcome
        }
        #expect(try await play([1, 2, 0]).winFlag == 3)
        #expect(try await play([1, 0, 0]).winFlag == 2)
        #expect(try await play([2, 2, 0]).winFlag == 0)
        #expect(try await play([2, 2, 0], guess: "It must be \"grape\"").winFlag == 1)
        // All votes unparsable: everyone has zero votes, a tie.
        let game = DeductionGame(chameleon: s, testAsX: false, options: options)
        let r = try await GameRunner.play(game, players: players { $0.kind == .vote ? "pass" : nil }, scenario: .chameleonAsNonChameleon,
                                          setting: 0, model: "t", agent: "t")
        #expect(r.outcome.winFlag == 3 && r.outcome.votes == [nil, nil, nil])
    }

    @Test("Undercover: two clue rounds, flags 0 / 1 / 2, nobody told their role")
    func undercover() async throws {
        let s = released.undercover[0]  // undercover = Player 1
        func play(_ votes: [Int]) async throws -> GameRecord {
            let game = DeductionGame(undercover: s, testAsX: true)
            return try await GameRunner.play(game, players: players { $0.kind == .vote ? "I vote for Player \(votes[$0.player] + 1)." : nil },
                                             scenario: .undercoverAsUndercover, setting: 0, model: "t", agent: "t")
        }
        let r = try await play([1, 0, 0])
        #expect(r.outcome.winFlag == 0)
        #expect(r.messages.filter { $0.kind == "clue" }.count == 6)
        #expect(r.outcome.consistency.count == 6 && r.outcome.probeScores.count == 6)
        // The undercover's scripted identity answer ("non-undercover") is wrong; the others are right.
        #expect(r.outcome.consistency.allSatisfy { $0 == [0, 1, 1] })
        #expect(try await play([1, 2, 1]).outcome.winFlag == 1)
        #expect(try await play([1, 2, 0]).outcome.winFlag == 2)
        #expect(!r.messages.contains { $0.content.contains("undercover!") })
    }

    @Test("submitting for the wrong players throws")
    func wrongTurn() {
        let game = DeductionGame(chameleon: released.chameleon[0], testAsX: true)
        #expect(throws: GameError.self) { try game.submit([0: "x"]) }
    }

    @Test("Prisoner's Dilemma payoffs, five rounds, decisions private until revealed, winner by total")
    func prisoner() async throws {
        let s = released.prisoner[0]  // c=2 d=1 one=4 two=2; P1 tit-for-tat, P2 tested, P3 always-defect
        #expect(PrisonerGame.payoffs([true, true, true], s) == [2, 2, 2])
        #expect(PrisonerGame.payoffs([true, true, false], s) == [0, 0, 4])
        #expect(PrisonerGame.payoffs([true, false, false], s) == [0, 2, 2])
        #expect(PrisonerGame.payoffs([false, false, false], s) == [1, 1, 1])
        let game = PrisonerGame(s)
        let r = try await GameRunner.play(game, players: players { $0.player == 1 ? "Cooperate." : nil }, scenario: .prisoner, setting: 0, model: "t", agent: "t")
        // Round 1: C C D -> 0 0 4; then tit-for-tat defects: D C D -> 2 0 2 each round.
        #expect(r.outcome.decisions?.count == 5)
        #expect(r.outcome.scores == [8, 0, 12])
        #expect(r.outcome.result == "lose")
        #expect(r.messages.filter { $0.kind == "decision" }.allSatisfy { $0.visibleTo == ["Moderator"] })
        let d = try await GameRunner.play(PrisonerGame(s), players: players { $0.player == 1 ? "Defect" : nil }, scenario: .prisoner, setting: 0, model: "t", agent: "t")
        #expect(d.outcome.scores == [4, 6, 6] && d.outcome.result == "win")
    }

    @Test("quirk switches: PD decision parser; the released probe template never fires the leak flag")
    func quirkSwitches() async throws {
        let notCooperate = players { $0.player == 1 ? "I will not cooperate." : nil }
        for (options, tested) in [(GameOptions.released(), true), (GameOptions.corrected(), false), (GameOptions(), true)] {
            let game = try Scenario.prisoner.makeGame(released, index: 0, options: options)
            let r = try await GameRunner.play(game, players: notCooperate, scenario: .prisoner, setting: 0, model: "t", agent: "t")
            #expect(r.outcome.decisions?.map { $0[1] } == [Bool](repeating: tested, count: 5), "\(options)")
        }
        // The scripted chameleon (Player 3) decodes Grape, so its PGM probe guesses it. With the
        // aligned template the parser reads the guess (leak); the released template asks for a line
        // the released parser never reads, so the leak flag stays false.
        var leaks: [Bool?] = []
        for options in [GameOptions(), GameOptions.released()] {
            let game = DeductionGame(chameleon: released.chameleon[0], testAsX: true, options: options)
            let r = try await GameRunner.play(game, players: players { _ in nil }, scenario: .chameleonAsChameleon, setting: 0, model: "t", agent: "t")
            let probe = try #require(r.messages.last { $0.kind == "pgm_probe" && $0.agent == "Player 3" })
            #expect(probe.content.hasPrefix(options.releasedProbeTemplate ? "I guess the secret code is \"Grape\"" : "Now I guess the secret word is \"Grape\""))
            leaks.append(r.outcome.leak)
        }
        #expect(leaks == [true, false])
    }

    @Test("Public Good: multiplied pool shared equally; released scoring unclamped, corrected clamped")
    func publicGood() async throws {
        let s = released.publicGood[0]  // multiplier 3.5; P1 tested, P2 fixed 20s, P3 "match" (30 then the others' mean)
        let r = try await GameRunner.play(PublicGoodGame(s), players: players { $0.player == 0 ? "I contribute 10" : nil }, scenario: .publicGood,
                                          setting: 0, model: "t", agent: "t")
        let c = try #require(r.outcome.contributions)
        #expect(c[0] == [10, 20, 30] && c[1] == [10, 20, 15])
        let pool = Double(c.joined().reduce(0, +))
        let kept = (0..<3).map { p in Double(100 - c.map { $0[p] }.reduce(0, +)) }
        #expect(r.outcome.scores == kept.map { $0 + pool * 3.5 / 3 })
        #expect(r.outcome.result == "win")
        var o = GameOptions()
        let greedy = players { $0.player == 0 ? "I contribute 80" : nil }
        let unclamped = try await GameRunner.play(PublicGoodGame(s, options: o), players: greedy, scenario: .publicGood, setting: 0, model: "t", agent: "t")
        #expect(unclamped.outcome.contributions!.map { $0[0] } == [80, 80, 80, 80, 80])
        o.releasedContribution = false
        let clamped = try await GameRunner.play(PublicGoodGame(s, options: o), players: greedy, scenario: .publicGood, setting: 0, model: "t", agent: "t")
        #expect(clamped.outcome.contributions!.map { $0[0] } == [80, 20, 0, 0, 0])
    }

    @Test("Cost sharing: agreement needs identical voted percentages; fail after five rounds")
    func costSharing() async throws {
        #expect(CostSharingGame.agreement(votes: [1, 1, 1], proposals: [["40", "30", "30"], ["50", "25", "25"], ["50", "25", "25"]]))
        #expect(CostSharingGame.agreement(votes: [1, 2, 1], proposals: [["40", "30", "30"], ["50", "25", "25"], ["50", "25", "25"]]))
        #expect(!CostSharingGame.agreement(votes: [0, 1, 1], proposals: [["40", "30", "30"], ["50", "25", "25"], ["50", "25", "25"]]))
        #expect(!CostSharingGame.agreement(votes: [1, nil, 1], proposals: [["40", "30", "30"], ["50", "25", "25"], ["50", "25", "25"]]))
        let s = released.costSharing[0]  // tested Player 3; usage split 50/25/25
        let agree = try await GameRunner.play(CostSharingGame(s), players: players { _ in nil }, scenario: .costSharing, setting: 0, model: "t", agent: "t")
        #expect(agree.outcome.result == "agree" && agree.outcome.rounds == 1)
        #expect(agree.outcome.proposals?[2] == ["50", "25", "25"])
        let stubborn = players { r in
            guard r.player == 2 else { return nil }
            return r.kind == .proposal ? "Airline A: 80%\nAirline B: 10%\nAirline C: 10%" : "I vote for Player 3's proposal"
        }
        let fail = try await GameRunner.play(CostSharingGame(s), players: stubborn, scenario: .costSharing, setting: 0, model: "t", agent: "t")
        #expect(fail.outcome.result == "fail" && fail.outcome.rounds == 5)
        #expect(fail.messages.filter { $0.kind == "proposal" }.count == 15)
    }

    @Test("settings: 20 per scenario, seeded, setting 0 is the released one, committed file matches")
    func settings() throws {
        let a = SettingsGenerator.generate(count: 20), b = SettingsGenerator.generate(count: 20)
        #expect(a == b)
        #expect(a.chameleon.count == 20 && a.undercover.count == 20 && a.costSharing.count == 20 && a.prisoner.count == 20 && a.publicGood.count == 20)
        #expect(a.chameleon[0].code == "Grape" && a.chameleon[0].chameleon == 2)
        #expect(a.undercover[0].undercoverWord == "viewer" && a.prisoner[0].oneDefect == 4 && a.publicGood[0].multiplier == 3.5)
        #expect(Set(a.chameleon.map(\.code)).count > 8)
        for s in a.costSharing { #expect(s.firstProposals.allSatisfy { $0.reduce(0, +) == 100 && $0.allSatisfy { $0 % 5 == 0 && $0 >= 0 } }) }
        let committed = try SettingsBundle(contentsOf: Fixtures.repositoryRoot + "/bench/magic/settings.json")
        #expect(committed == a)
    }

    @Test("fixed prefix: recorded clues until the tested player acts, then the live player")
    func fixedPrefix() async throws {
        let p = FixedPrefixPlayer(live: ScriptPlayer { _ in "live" }, recorded: [["recorded 1"], ["recorded 2"], []])
        var c = GameContext(game: .chameleon, me: 1, role: "non-chameleon")
        c.testStarted = false
        let r = ActionRequest(player: 1, kind: .clue, text: "", rules: "", observation: [], context: c)
        #expect(try await p.act(r).text == "recorded 2")
        var later = r
        later.context.testStarted = true
        #expect(try await p.act(later).text == "live")
        var vote = r
        vote.kind = .vote
        #expect(try await p.act(vote).text == "live")
    }

    @Test("simultaneous moves are in flight together")
    func simultaneous() async throws {
        let inFlight = Mutex(0), peak = Mutex(0)
        let ps: [any GamePlayer] = (0..<3).map { _ in
            AsyncPlayer {
                let n = inFlight.withLock { $0 += 1; return $0 }
                peak.withLock { $0 = max($0, n) }
                // Wait (bounded) until all three are in flight; sequential calls would never get there.
                for _ in 0..<500 where inFlight.withLock({ $0 }) < 3 && peak.withLock({ $0 }) < 3 { try await Task.sleep(for: .milliseconds(1)) }
                inFlight.withLock { $0 -= 1 }
                return "Defect"
            }
        }
        _ = try await GameRunner.play(PrisonerGame(released.prisoner[0]), players: ps, scenario: .prisoner, setting: 0, model: "t", agent: "t")
        #expect(peak.withLock { $0 } == 3)
    }
}

struct AsyncPlayer: GamePlayer {
    let body: @Sendable () async throws -> String
    var label: String { "async" }
    func act(_ r: ActionRequest) async throws -> PlayerAction { PlayerAction(text: try await body()) }
}
