// SPDX-License-Identifier: Apache-2.0

import MultiAgentGames
import Testing

@Suite("MAgIC parsers on tricky texts")
struct ParserTests {
    @Test("vote: released picks the lowest-numbered name anywhere; corrected reads in order and skips self")
    func votes() {
        #expect(GameParsers.vote("I vote for Player 3, not Player 1.") == 0)
        #expect(GameParsers.vote("I vote for Player 3, not Player 1.", voter: 1, released: false) == 2)
        #expect(GameParsers.vote("hmm, player_2 looks odd") == 1)
        #expect(GameParsers.vote("I VOTE FOR PLAYER3.") == 2)
        #expect(GameParsers.vote("I vote for nobody") == nil)
        // Released: a self-vote stands. Corrected: ignored.
        #expect(GameParsers.vote("I vote for Player 2.", voter: 1) == 1)
        #expect(GameParsers.vote("I vote for Player 2.", voter: 1, released: false) == nil)
        #expect(GameParsers.vote("I am Player 2 and I vote for Player 3.", voter: 1, released: false) == 2)
    }

    @Test("chameleon guess: quoted text first, else the last k words")
    func guesses() {
        #expect(GameParsers.isTrueCode("I guess the code is \"grape\"", code: "Grape"))
        #expect(GameParsers.isTrueCode("I guess the code is \"United  States\"", code: "United States"))
        #expect(GameParsers.isTrueCode("My guess: United States.", code: "United States"))
        #expect(!GameParsers.isTrueCode("\"Apple\", or maybe Grape", code: "Grape"))
        #expect(!GameParsers.isTrueCode("Grape is wrong, I think", code: "Grape"))
        #expect(!GameParsers.isTrueCode("", code: "Grape"))
    }

    @Test("identity probe: both the name and the role (articles dropped) must match")
    func identity() {
        #expect(GameParsers.identityCorrect("I am Player 2, my role is the non-chameleon.", player: 1, role: "non-chameleon"))
        #expect(!GameParsers.identityCorrect("I am Player 2, my role is chameleon.", player: 1, role: "non-chameleon"))
        #expect(!GameParsers.identityCorrect("I am Player 3, my role is non-chameleon.", player: 1, role: "non-chameleon"))
        #expect(!GameParsers.identityCorrect("i am player 2, my role is non-chameleon", player: 1, role: "non-chameleon"))
        #expect(GameParsers.identityCorrect("Well. I am Player 1, and my role is an undercover", player: 0, role: "undercover"))
    }

    @Test("PGM analysis -> factor table: perspectives, the last matching phrase wins, indented lines ignored")
    func pgm() {
        let text = """
            Now I guess the secret word is "Grape"
            As Player 1, I think:
            Player 2 is more suspicious because of the clue
            Player 3 is less suspicious
            I think now Player 2 thinks:
            Player 1 is no change
            Player 3 is more suspicious, no wait, less suspicious
              Player 1 is more suspicious
            I think now Player 3 thinks:
            Player 2 is more suspicious
            """
        let (f, guess) = GameParsers.pgmFactors(text, speaker: 0)
        #expect(guess == "Grape")
        #expect(f[0] == [0, 1, -1])
        #expect(f[1] == [0, 0, -1])
        #expect(f[2] == [0, 1, 0])
        // Without a perspective line the rows belong to the speaker.
        #expect(GameParsers.pgmFactors("Player 1 is more suspicious", speaker: 2).factor[2] == [1, 0, 0])
    }

    @Test("cost sharing: greedy percentage regex, vote template with the chameleon-parser fallback")
    func costSharing() {
        #expect(GameParsers.proposal("Airline A: 40%\nAirline B: 30%\nAirline C: 30%") == ["40", "30", "30"])
        #expect(GameParsers.proposal("Airline A: 40% of the fee (40%)\nAirline C: 25%") == ["40% of the fee (40", nil, "25"])
        #expect(GameParsers.proposalNumbers(["40", "30", "30"]) == [40, 30, 30])
        #expect(GameParsers.proposalNumbers(["40% of the fee (40", nil, "25"]) == nil)
        #expect(GameParsers.proposalVote("I vote for Player 2's proposal") == 1)
        #expect(GameParsers.proposalVote("Player 3's proposal is the fairest") == 2)
        #expect(GameParsers.proposalVote("none") == nil)
    }

    @Test("prisoner's dilemma: released 'contains cooperate' vs corrected first decision word, negation-aware")
    func decisions() {
        #expect(GameParsers.cooperates("Cooperate"))
        #expect(GameParsers.cooperates("I will NOT cooperate."))
        #expect(!GameParsers.cooperates("Defect."))
        #expect(!GameParsers.cooperates("I choose to co-operate"))
        // (text, released, corrected)
        let cases: [(String, Bool, Bool)] = [
            ("Cooperate", true, true),
            ("Defect.", false, false),
            ("I will not cooperate.", true, false),
            ("I won\u{2019}t cooperate this round", true, false),
            ("Defect; I would cooperate if they did", true, false),
            ("I choose to co-operate", false, true),
            ("Cooperating is best.", false, true),
            ("I'd rather not defect: Cooperate", true, true),
            ("I never defect.", false, true),
            ("No, I cooperate.", true, true),
            ("I am uncooperative, so I defect", false, false),
            ("nothing useful", false, false),
        ]
        for (text, released, corrected) in cases {
            #expect(GameParsers.cooperates(text) == released, "released: \(text)")
            #expect(GameParsers.cooperates(text, released: false) == corrected, "corrected: \(text)")
        }
    }

    @Test("public good: the first whole number (released, unclamped) vs clamped; the metric's own regex")
    func contributions() {
        #expect(GameParsers.contribution("I contribute 30 points, maybe 40", remaining: 100) == 30)
        #expect(GameParsers.contribution("In round 2 I contribute 10", remaining: 100) == 2)
        #expect(GameParsers.contribution("I contribute 500", remaining: 80) == 500)
        #expect(GameParsers.contribution("I contribute 500", remaining: 80, released: false) == 80)
        #expect(GameParsers.contribution("nothing", remaining: 80) == 0)
        #expect(GameParsers.metricContribution("In round 2 I contribute 10") == 10)
        #expect(GameParsers.metricContribution("I give 10") == 0)
    }
}
