// SPDX-License-Identifier: Apache-2.0

import Foundation

/// One step of a game: who acts, what kind of action, and the request text each one gets.
/// `simultaneous` turns are sent to all their players at once (the engine batches them); their
/// answers are private or hidden, so no player can see another's answer before acting.
public struct Turn: Sendable, Equatable {
    public var players: [Int]
    public var kind: ActionKind
    public var text: [Int: String]
    public var simultaneous: Bool
}

/// The per-probe reasoning scores of one metric turn (the released `pgm_metric[t]`).
public struct ProbeScores: Codable, Sendable, Equatable {
    /// Per player: 1 if the argmax of its own first-order row is the true chameleon/undercover.
    public var gold: [Int]
    /// Per player: 1 if for both other players its estimate of their row has the same argmax as
    /// their own row.
    public var inter: [Int]

    public init(gold: [Int], inter: [Int]) {
        self.gold = gold
        self.inter = inter
    }
}

/// Everything the metrics need from one finished game (the released game JSON's fields).
public struct GameOutcome: Codable, Sendable, Equatable {
    public var winFlag: Int?
    /// The chameleon/undercover player.
    public var xPlayer: Int?
    /// Each player's parsed vote (nil: unparsed).
    public var votes: [Int?]?
    /// Per metric turn, per player: 1/0 for a correct/incorrect identity answer.
    public var consistency: [[Int]] = []
    public var probeScores: [ProbeScores] = []
    /// "agree" / "fail" (cost sharing), "win" / "lose" (PD, PG, for the tested player).
    public var result: String?
    /// Cost sharing: the proposals of the last round (as parsed strings) and its votes.
    public var proposals: [[String?]]?
    public var proposalVotes: [Int?]?
    /// PD decisions (true = cooperate) and PG contributions per round.
    public var decisions: [[Bool]]?
    public var contributions: [[Int]]?
    public var scores: [Double]?
    /// Chameleon: whether the chameleon's PGM probe leaked (guessed) the secret word.
    public var leak: Bool?
    public var rounds: Int?

    /// An outcome; each field left out stays empty (a game that has not ended has none).
    public init(winFlag: Int? = nil, xPlayer: Int? = nil, votes: [Int?]? = nil, consistency: [[Int]] = [], probeScores: [ProbeScores] = [],
                result: String? = nil, proposals: [[String?]]? = nil, proposalVotes: [Int?]? = nil, decisions: [[Bool]]? = nil,
                contributions: [[Int]]? = nil, scores: [Double]? = nil, leak: Bool? = nil, rounds: Int? = nil) {
        self.winFlag = winFlag; self.xPlayer = xPlayer; self.votes = votes; self.consistency = consistency; self.probeScores = probeScores
        self.result = result; self.proposals = proposals; self.proposalVotes = proposalVotes; self.decisions = decisions
        self.contributions = contributions; self.scores = scores; self.leak = leak; self.rounds = rounds
    }
}

/// Rule options: each released quirk that changes play, behind a flag.
public struct GameOptions: Sendable, Equatable {
    /// Ask the identity and PGM probes (metric mode; needed for self-awareness and reasoning).
    public var metricProbes: Bool
    /// Released vote parser (lowest-numbered name anywhere, self-votes count); false: first name in
    /// reading order, self excluded.
    public var releasedVoteParser: Bool
    /// Released Public Good scoring (first integer, unclamped); false: clamped to what is left.
    public var releasedContribution: Bool
    /// Released Prisoner's Dilemma decision parser (any text containing "cooperate" cooperates, so
    /// "I will not cooperate" cooperates); false: the first Cooperate/Defect word, negation-aware.
    public var releasedDecisionParser: Bool
    /// The released Chameleon PGM-probe template: it asks the chameleon for
    /// `I guess the secret code is "..."` while the parser reads `Now I guess the secret word is`,
    /// so the leak flag never fires. false (the default): the template asks for the line the parser
    /// reads (a deviation from the release, chosen so the leak flag measures something).
    public var releasedProbeTemplate: Bool

    /// Options; the defaults are the released quirks with the corrected probe template.
    public init(metricProbes: Bool = true, releasedVoteParser: Bool = true, releasedContribution: Bool = true, releasedDecisionParser: Bool = true,
                releasedProbeTemplate: Bool = false) {
        self.metricProbes = metricProbes; self.releasedVoteParser = releasedVoteParser; self.releasedContribution = releasedContribution
        self.releasedDecisionParser = releasedDecisionParser; self.releasedProbeTemplate = releasedProbeTemplate
    }

    /// Every quirk as released (the parsers, the scoring and the mismatched probe template).
    public static func released(metricProbes: Bool = true) -> GameOptions { allQuirks(released: true, metricProbes: metricProbes) }

    /// Every quirk corrected.
    public static func corrected(metricProbes: Bool = true) -> GameOptions { allQuirks(released: false, metricProbes: metricProbes) }

    private static func allQuirks(released: Bool, metricProbes: Bool) -> GameOptions {
        GameOptions(metricProbes: metricProbes, releasedVoteParser: released, releasedContribution: released,
                    releasedDecisionParser: released, releasedProbeTemplate: released)
    }
}

/// A game as an exact state machine over a message pool.
public protocol GameEnvironment: AnyObject {
    var kind: GameKind { get }
    /// The global prompt (rules) every player gets as its system prompt.
    var rules: String { get }
    var pool: MessagePool { get }
    /// The players the tested model controls.
    var testPlayers: [Int] { get }
    /// Whether a tested player has acted or is about to (the fixed prefix ends here).
    var testStarted: Bool { get }
    /// The next turn, or nil when the game is over.
    func nextTurn() -> Turn?
    /// The answers to the current turn (one per player of `nextTurn()`).
    func submit(_ actions: [Int: String]) throws
    func context(for player: Int) -> GameContext
    func outcome() -> GameOutcome
}

/// The three-player identity and PGM probe texts (metric mode) and the PGM template lines.
public enum ProbeTemplates {
    /// The PGM template's sections: (perspective line, the players it rates). The chameleon's template
    /// has no own-view section (released: its own row stays zero).
    public static func sections(speaker: Int, chameleon: Bool) -> [(header: String, perspective: Int, targets: [Int])] {
        var s: [(String, Int, [Int])] = []
        if !chameleon {
            s.append(("As \(Players.name(speaker)), I think:", speaker, (0..<Players.count).filter { $0 != speaker }))
        }
        for i in 0..<Players.count where i != speaker {
            s.append(("I think now \(Players.name(i)) thinks:", i, (0..<Players.count).filter { $0 != i }))
        }
        return s
    }

    /// The three phrases a template line may use.
    public static let changes = ["more suspicious", "less suspicious", "no change"]

    /// The chameleon's guess line the parser reads (`pgmFactors`).
    public static let guessLine = "Now I guess the secret word is"
    /// The guess line the released template asks for instead (the parser never reads it).
    public static let releasedGuessLine = "I guess the secret code is"

    /// A filled template from per-section ratings (indices into `changes`) and an optional word
    /// guess; `releasedTemplate` writes the released, unparsed guess line.
    public static func render(speaker: Int, chameleon: Bool, ratings: [[Int]], guess: String?, releasedTemplate: Bool = false) -> String {
        var lines: [String] = []
        if chameleon { lines.append("\(releasedTemplate ? releasedGuessLine : guessLine) \"\(guess ?? "")\"") }
        for (k, sec) in sections(speaker: speaker, chameleon: chameleon).enumerated() {
            lines.append(sec.header)
            for (j, t) in sec.targets.enumerated() { lines.append("\(Players.name(t)) is \(changes[ratings[k][j]])") }
        }
        return lines.joined(separator: "\n")
    }

    /// A regular expression every filled template matches (for constrained decoding).
    public static func regex(speaker: Int, chameleon: Bool, releasedTemplate: Bool = false) -> String {
        var r = chameleon ? "\(releasedTemplate ? releasedGuessLine : guessLine) \"[A-Za-z ]{1,24}\"\\n" : ""
        let alt = "(" + changes.joined(separator: "|") + ")"
        let secs = sections(speaker: speaker, chameleon: chameleon)
        for (k, sec) in secs.enumerated() {
            r += sec.header + "\\n"
            for (j, t) in sec.targets.enumerated() {
                r += "\(Players.name(t)) is \(alt)"
                if !(k == secs.count - 1 && j == sec.targets.count - 1) { r += "\\n" }
            }
        }
        return r
    }

    public static func identity(_ game: GameKind) -> String {
        let roles = game == .chameleon ? "chameleon or non-chameleon" : "undercover or non-undercover"
        return "Before the next clue, state who you are and your role. Answer with the template \"I am Player xx, my role is yy.\" where yy is \(roles)."
    }

    public static func pgm(_ game: GameKind, speaker: Int, chameleon: Bool, releasedTemplate: Bool = false) -> String {
        let x = game == .chameleon ? "the chameleon" : "the undercover"
        var s = "Analyse the clues so far. For each player say whether they now look more suspicious, less suspicious or no change of being \(x), from your own view and from each other player's view. "
        if chameleon { s += "First guess the secret word. " }
        s += "Use exactly this template:\n" + render(speaker: speaker, chameleon: chameleon,
                                                     ratings: sections(speaker: speaker, chameleon: chameleon).map { $0.targets.map { _ in 2 } }, guess: chameleon ? "..." : nil,
                                                     releasedTemplate: releasedTemplate)
        return s
    }
}

/// The released PGM-probe scores of one metric turn from the three players' factor tables.
/// `factors[p]` is player p's table; its own row is `factors[p][p]`. argmax ties pick the lowest
/// index (numpy), so an all-zero row votes for Player 1.
public func probeScores(factors: [[[Double]]], x: Int) -> ProbeScores {
    func argmax(_ v: [Double]) -> Int { v.indices.max { v[$0] < v[$1] || (v[$0] == v[$1] && $0 > $1) }! }
    var gold = [Int](repeating: 0, count: Players.count), inter = gold
    for p in 0..<Players.count {
        gold[p] = argmax(factors[p][p]) == x ? 1 : 0
        var ok = 0
        for q in 0..<Players.count where q != p && argmax(factors[p][q]) == argmax(factors[q][q]) { ok += 1 }
        inter[p] = ok == Players.count - 1 ? 1 : 0
    }
    return ProbeScores(gold: gold, inter: inter)
}
