// SPDX-License-Identifier: Apache-2.0

import Support
import Foundation

/// Rule-based defenders (our stand-in for the paper's GPT-4 defenders): clues from the word-feature
/// table, votes for the player whose clues fit the word least, usage-proportional proposals and
/// votes for the fairest proposal, fixed Prisoner's Dilemma strategies and contribution schedules.
/// Deterministic: the same request gives the same answer.
public struct ScriptedDefender: GamePlayer {
    public var label: String { "scripted" }
    public init() {}

    public func act(_ r: ActionRequest) async throws -> PlayerAction {
        PlayerAction(text: Self.answer(r.kind, r.context))
    }

    /// The answer for a request kind in a context.
    public static func answer(_ kind: ActionKind, _ c: GameContext) -> String {
        switch kind {
        case .clue: return clue(c)
        case .vote: return "I vote for \(Players.name(suspect(c)))."
        case .guess: return "I guess the code is \"\(bestGuess(c) ?? c.topicWords.first ?? "")\""
        case .identityProbe:
            let role = c.knowsRole ? c.role : (c.game == .undercover ? "non-undercover" : c.role)
            return "I am \(Players.name(c.me)), my role is \(role)."
        case .pgmProbe: return pgm(c)
        case .proposal: return formatProposal(proposal(c))
        case .proposalVote: return "I vote for \(Players.name(fairestProposal(c)))'s proposal"
        case .decision: return cooperate(c) ? "Cooperate" : "Defect"
        case .contribution: return "I contribute \(contribution(c))"
        }
    }

    // MARK: Chameleon / Undercover

    /// The topic word that the other players' clues fit best (nil when none fits at all).
    static func bestGuess(_ c: GameContext) -> String? {
        let others = (0..<Players.count).filter { $0 != c.me }.flatMap { c.clues[$0] }
        var best: (word: String, score: Int)?
        for w in c.topicWords {
            let s = others.map { WordFeatures.overlap($0, w) }.reduce(0, +)
            if s > 0 && (best == nil || s > best!.score) { best = (w, s) }
        }
        return best?.word
    }

    static func clue(_ c: GameContext) -> String {
        let round = c.clues[c.me].count
        if let word = c.word ?? bestGuess(c), let f = WordFeatures.features[word], !f.isEmpty {
            // A feature nobody has said yet, starting from one that depends on the seat and round.
            let said = Set(c.clues.joined())
            let start = c.me + round
            return (0..<f.count).map { f[(start + $0) % f.count] }.first { !said.contains($0) } ?? f[start % f.count]
        }
        let generic = WordFeatures.topicClues[c.topic ?? ""] ?? ["It is quite common."]
        return generic[(c.me + round) % generic.count]
    }

    /// The player this one finds most suspicious: the other player whose clues fit its word least
    /// (the chameleon compares against its best guess). Ties go to the later speaker in the last round.
    static func suspect(_ c: GameContext) -> Int {
        let others = (0..<Players.count).filter { $0 != c.me }
        guard let word = c.word ?? bestGuess(c) else { return others.last! }
        let fit = others.map { p in c.clues[p].map { WordFeatures.overlap($0, word) }.reduce(0, +) }
        let lowest = fit.min()!
        return others[fit.lastIndex(of: lowest)!]
    }

    static func pgm(_ c: GameContext) -> String {
        let chameleon = c.game == .chameleon && c.word == nil
        let sections = ProbeTemplates.sections(speaker: c.me, chameleon: chameleon)
        let s = suspect(c)
        let ratings = sections.map { sec in
            sec.targets.map { t in sec.perspective == c.me ? (t == s ? 0 : 1) : 2 }
        }
        return ProbeTemplates.render(speaker: c.me, chameleon: chameleon, ratings: ratings, guess: chameleon ? (bestGuess(c) ?? "") : nil,
                                     releasedTemplate: c.releasedProbeTemplate)
    }

    /// The clues every player gives when all are scripted (the recorded fixed prefix of a setting).
    public static func recordChameleonClues(_ s: ChameleonSetting) -> [String] {
        var clues: [[String]] = [[], [], []]
        let words = WordFeatures.topics.first { $0.topic == s.topic }?.words ?? [s.code]
        for p in 0..<Players.count {
            var c = GameContext(game: .chameleon, me: p, role: p == s.chameleon ? "chameleon" : "non-chameleon")
            c.topic = s.topic
            c.word = p == s.chameleon ? nil : s.code
            c.topicWords = words
            c.clues = clues
            clues[p].append(clue(c))
        }
        return clues.map { $0[0] }
    }

    public static func recordUndercoverClues(_ s: UndercoverSetting) -> [[String]] {
        var clues: [[String]] = [[], [], []]
        for _ in 0..<2 {
            for p in 0..<Players.count {
                var c = GameContext(game: .undercover, me: p, role: p == s.undercover ? "undercover" : "non-undercover", knowsRole: false)
                c.word = p == s.undercover ? s.undercoverWord : s.otherWord
                c.clues = clues
                clues[p].append(clue(c))
            }
        }
        return clues
    }

    // MARK: Cost sharing

    /// Rounds shares to multiples of 5 that sum to 100 (largest remainders first).
    public static func roundToFive(_ shares: [Double]) -> [Int] {
        var q = shares.map { Int(($0 / 5).rounded(.down)) * 5 }
        var order = shares.indices.sorted { shares[$0] - Double(q[$0]) > shares[$1] - Double(q[$1]) }
        while q.reduce(0, +) < 100, !order.isEmpty { q[order.removeFirst()] += 5 }
        return q
    }

    /// Round 1: the setting's fixed opening; later rounds move a third of the way per round from
    /// the opening to the usage-proportional split.
    static func proposal(_ c: GameContext) -> [Int] {
        let usage = roundToFive(c.usageShares)
        guard let first = c.fixedFirstProposal else { return usage }
        let t = min(1, Double(c.round) / 3)
        return roundToFive(zip(first, usage).map { Double($0) + (Double($1) - Double($0)) * t })
    }

    public static func formatProposal(_ p: [Int]) -> String {
        "Airline A: \(p[0])%\nAirline B: \(p[1])%\nAirline C: \(p[2])%"
    }

    /// The proposal closest (L1) to the usage-proportional split; ties go to the lowest player.
    static func fairestProposal(_ c: GameContext) -> Int {
        let usage = c.usageShares
        var best = (player: c.me, distance: Double.infinity)
        for p in 0..<Players.count {
            guard let q = c.proposals[p] else { continue }
            let d = zip(q, usage).map { abs(Double($0) - $1) }.reduce(0, +)
            if d < best.distance - 1e-9 { best = (p, d) }
        }
        return best.player
    }

    // MARK: Prisoner's Dilemma and Public Good

    static func cooperate(_ c: GameContext) -> Bool {
        let others = c.pastDecisions.map { d in d.enumerated().filter { $0.offset != c.me }.map(\.element) }
        switch c.strategy {
        case "always-defect": return false
        case "always-cooperate": return true
        case "grim": return others.allSatisfy { $0.allSatisfy { $0 } }
        case "alternate": return c.round % 2 == 0
        default: return others.last.map { $0.allSatisfy { $0 } } ?? true  // tit-for-tat (3-player)
        }
    }

    static func contribution(_ c: GameContext) -> Int {
        let planned: Int
        if c.strategy == "match", let last = c.pastContributions.last {
            let others = last.enumerated().filter { $0.offset != c.me }.map(\.element)
            planned = others.reduce(0, +) / max(others.count, 1)
        } else {
            planned = c.schedule.isEmpty ? 20 : c.schedule[min(c.round, c.schedule.count - 1)]
        }
        return min(max(planned, 0), c.remainingPoints)
    }
}

/// The random-agent floor: a uniformly random legal move of the requested kind, seeded by the game,
/// the player and the move so runs are reproducible.
public struct RandomPlayer: GamePlayer {
    public let seed: UInt64
    public var label: String { "random" }
    public init(seed: UInt64) { self.seed = seed }

    public func act(_ r: ActionRequest) async throws -> PlayerAction {
        var rng = SeededRandom(seed: seed &+ UInt64(r.player) &* 7919 &+ UInt64(r.observation.count) &* 104_729 &+ UInt64(r.context.round) &* 31)
        let c = r.context
        let others = (0..<Players.count).filter { $0 != r.player }
        let text: String
        switch r.kind {
        case .clue:
            let all = WordFeatures.features.values.flatMap { $0 }.sorted()
            text = all[Int.random(in: 0..<all.count, using: &rng)]
        case .vote: text = "I vote for \(Players.name(others[Int.random(in: 0..<others.count, using: &rng)]))."
        case .guess:
            let w = c.topicWords.isEmpty ? ["nothing"] : c.topicWords
            text = "I guess the code is \"\(w[Int.random(in: 0..<w.count, using: &rng)])\""
        case .identityProbe:
            let roles = c.game == .chameleon ? ["chameleon", "non-chameleon"] : ["undercover", "non-undercover"]
            text = "I am \(Players.name(r.player)), my role is \(roles[Int.random(in: 0..<2, using: &rng)])."
        case .pgmProbe:
            let chameleon = c.game == .chameleon && c.word == nil
            let ratings = ProbeTemplates.sections(speaker: r.player, chameleon: chameleon).map { $0.targets.map { _ in Int.random(in: 0..<3, using: &rng) } }
            let w = c.topicWords.isEmpty ? [""] : c.topicWords
            text = ProbeTemplates.render(speaker: r.player, chameleon: chameleon, ratings: ratings, guess: w[Int.random(in: 0..<w.count, using: &rng)],
                                         releasedTemplate: c.releasedProbeTemplate)
        case .proposal:
            let a = 5 * Int.random(in: 0...20, using: &rng), b = 5 * Int.random(in: 0...(20 - a / 5), using: &rng)
            text = ScriptedDefender.formatProposal([a, b, 100 - a - b])
        case .proposalVote: text = "I vote for \(Players.name(Int.random(in: 0..<Players.count, using: &rng)))'s proposal"
        case .decision: text = Bool.random(using: &rng) ? "Cooperate" : "Defect"
        case .contribution: text = "I contribute \(Int.random(in: 0...max(c.remainingPoints, 0), using: &rng))"
        }
        return PlayerAction(text: text)
    }
}

/// Replays the setting's recorded clues for a defender until the tested player first acts, then
/// hands over to the live defender: every tested model sees the same game opening (the paper's
/// "-fix" defenders).
public struct FixedPrefixPlayer: GamePlayer {
    public let live: any GamePlayer
    /// Recorded clues per player and clue round.
    public let recorded: [[String]]
    public var label: String { "fixed-prefix:" + live.label }

    public init(live: any GamePlayer, recorded: [[String]]) {
        self.live = live
        self.recorded = recorded
    }

    public func act(_ r: ActionRequest) async throws -> PlayerAction {
        let round = r.context.clues[r.player].count
        if r.kind == .clue, !r.context.testStarted, r.player < recorded.count, round < recorded[r.player].count {
            return PlayerAction(text: recorded[r.player][round])
        }
        return try await live.act(r)
    }

    public func reset(player: Int, context: GameContext) async { await live.reset(player: player, context: context) }
}
