// SPDX-License-Identifier: Apache-2.0

import MultiAgentGames
import Testing

/// A hand-built record.
func record(_ s: Scenario, test: [Int], _ build: (inout GameOutcome) -> Void, messages: [GameMessage] = []) -> GameRecord {
    var o = GameOutcome()
    build(&o)
    return GameRecord(scenario: s, setting: 0, model: "m", agent: "a", testPlayers: test, outcome: o, messages: messages)
}

func deductionRecords() -> [GameRecord] {
    let nonX = Scenario.chameleonAsNonChameleon
    return [
        record(nonX, test: [0, 1]) {
            $0.xPlayer = 2; $0.votes = [2, 2, 0]; $0.winFlag = 0
            $0.probeScores = [ProbeScores(gold: [1, 0, 1], inter: [1, 1, 0])]
            $0.consistency = [[1, 0, 1], [1, 1, 0]]
        },
        record(nonX, test: [0, 1]) { $0.xPlayer = 2; $0.votes = [1, 2, 0]; $0.winFlag = 3 },
        record(nonX, test: [0, 1]) { $0.xPlayer = 2; $0.votes = [2, 2, 1]; $0.winFlag = 1 },
        record(nonX, test: [0, 1]) { $0.xPlayer = 2; $0.votes = [2, 2, 0]; $0.winFlag = 1 },
        record(.undercoverAsNonUndercover, test: [1, 2]) { $0.xPlayer = 0; $0.votes = [1, 0, nil]; $0.winFlag = 2 },
        record(.chameleonAsChameleon, test: [2]) {
            $0.xPlayer = 2; $0.winFlag = 1
            $0.probeScores = [ProbeScores(gold: [0, 0, 1], inter: [0, 0, 0])]
            $0.consistency = [[0, 0, 1]]
        },
        record(.chameleonAsChameleon, test: [2]) { $0.xPlayer = 2; $0.winFlag = 2 },
        record(.undercoverAsUndercover, test: [0]) { $0.xPlayer = 0; $0.winFlag = 0 },
    ]
}

func economicRecords() -> [GameRecord] {
    let c = [[10, 20, 30], [0, 5, 5], [10, 10, 10], [50, 0, 0], [5, 5, 5]]
    var messages: [GameMessage] = []
    for (r, round) in c.enumerated() {
        for p in 0..<3 {
            // Round 4: the tested player writes "I give 50": the game scored 50, the metric's regex reads 0.
            let text = (r == 3 && p == 0) ? "I give 50" : "I contribute \(round[p])"
            messages.append(GameMessage(agent: Players.name(p), content: text, turn: r, visibleTo: ["Moderator"], kind: "contribution"))
        }
    }
    return [
        record(.costSharing, test: [2]) {
            $0.result = "agree"; $0.proposalVotes = [1, 1, 2]
            $0.proposals = [["40", "30", "30"], ["50", "25", "25"], ["50.0", "25", "25"]]
        },
        record(.costSharing, test: [2]) { $0.result = "fail" },
        record(.prisoner, test: [1]) {
            $0.result = "win"
            $0.decisions = [[true, false, false], [false, false, false], [false, true, false], [true, true, true], [false, false, false]]
        },
        record(.publicGood, test: [0], { $0.result = "lose"; $0.contributions = c }, messages: messages),
    ]
}

@Suite("MAgIC metrics on hand-built transcripts")
struct MetricsTests {
    @Test("released formulas, quirks included")
    func releasedFormulas() throws {
        let m = Metrics.compute(deductionRecords() + economicRecords(), options: MetricOptions(released: true, numOfGame: 21))
        // Judgement: chameleon non-X voters 7/8 right, undercover 1/2 (an unparsed vote counts as wrong).
        #expect(abs(m.judgement! - 0.8) < 1e-12)
        // Deception: X games won 2/3, plus 0.25 x (distinct flag values {0,1}: 1 of 2 is "guessed").
        let deception = 2.0 / 3 + 0.125
        #expect(abs(m.deception! - deception) < 1e-12)
        // Reasoning: (gold 1+1, inter 2+0) over 2 x 3 target answers; self-awareness 4/5.
        #expect(abs(m.reasoning! - 4.0 / 6) < 1e-12)
        #expect(abs(m.selfAwareness! - 0.8) < 1e-12)
        #expect(m.cooperation == 0.5)
        // "50" vs "50.0": the released string comparison says not coordinated.
        #expect(m.coordination == 0)
        // PD defects 3/5; PG at the minimum 5/5 as the metric re-reads "I give 50" as 0.
        #expect(abs(m.rationality! - 0.8) < 1e-12)
        // Game scores divided by n = 20 although fewer games exist.
        #expect(abs(m.components["chameleon_as_non_chameleon"]! - 5.0 / 40) < 1e-12)
        #expect(abs(m.components["undercover_as_non_undercover"]! - 1.0 / 60) < 1e-12)
        #expect(abs(m.components["chameleon_as_chameleon"]! - 3.0 / 40) < 1e-12)
        #expect(m.components["undercover_as_undercover"] == 0)
        #expect(m.components["prisoner"] == 1 && m.components["public_good"] == 0)
        let components: [Double] = [0.125, 1.0 / 60, 0.075, 0, 0.5, 1, 0]
        let expected = components.reduce(0, +) / 7
        #expect(abs(m.winRate! - expected) < 1e-12)
    }

    @Test("corrected variants")
    func correctedFormulas() throws {
        let m = Metrics.compute(deductionRecords() + economicRecords(), options: MetricOptions(released: false))
        #expect(abs(m.judgement! - 0.8) < 1e-12)
        // Guess term over games: 2 of the 3 games with flag 0 or 1.
        let deception = 2.0 / 3 + 0.25 * 2 / 3
        #expect(abs(m.deception! - deception) < 1e-12)
        #expect(m.coordination == 1)
        #expect(abs(m.rationality! - 0.7) < 1e-12)
        #expect(abs(m.components["chameleon_as_non_chameleon"]! - 5.0 / 8) < 1e-12)
        #expect(abs(m.components["undercover_as_non_undercover"]! - 1.0 / 3) < 1e-12)
        #expect(abs(m.components["chameleon_as_chameleon"]! - 3.0 / 4) < 1e-12)
        let components: [Double] = [0.625, 1.0 / 3, 0.75, 0, 0.5, 1, 0]
        let expected = components.reduce(0, +) / 7
        #expect(abs(m.winRate! - expected) < 1e-12)
    }

    @Test("game score tables: chameleon X 0/1/2/1, non-X 2/1/0/1; undercover X 0/3/2, non-X 3/0/1")
    func scoreTables() {
        #expect(Metrics.chameleonScore(asX: true, flags: [0, 1, 2, 3], n: 4) == 4.0 / 8)
        #expect(Metrics.chameleonScore(asX: false, flags: [0, 1, 2, 3], n: 4) == 4.0 / 8)
        #expect(Metrics.chameleonScore(asX: false, flags: [0, 0], n: 2) == 1)
        #expect(Metrics.undercoverScore(asX: true, flags: [0, 1, 2], n: 3) == 5.0 / 9)
        #expect(Metrics.undercoverScore(asX: false, flags: [0, 1, 2], n: 3) == 4.0 / 9)
    }

    @Test("released probe scores: argmax ties pick Player 1, so a zero own row (the chameleon's) says Player 1")
    func probeScoring() {
        let zero: [[Double]] = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
        var f = [zero, zero, zero]
        f[0][0] = [0, 0, 1]   // Player 1 suspects Player 3 (right)
        f[1][1] = [1, 0, 0]   // Player 2 suspects Player 1 (wrong)
        f[0][1] = [1, 0, 0]   // Player 1 predicts Player 2's view right
        f[0][2] = [1, 0, 0]   // ... and Player 3's zero row (argmax 0) right
        let s = probeScores(factors: f, x: 2)
        #expect(s.gold == [1, 0, 0])
        #expect(s.inter == [1, 0, 0])
    }
}
