// SPDX-License-Identifier: Apache-2.0

import Foundation

/// How the metrics treat the released code's quirks.
public struct MetricOptions: Sendable, Equatable {
    /// true: compute exactly as `metrics_release.py` does; false: the corrected variants:
    /// - game-score divisors: released divides by 20 whenever `numOfGame >= 21` (else by
    ///   `numOfGame`), whatever number of games exists; corrected divides by the games present;
    /// - deception's guess term: released counts distinct win-flag values (so the term is 0, 0.5 or
    ///   1); corrected counts games;
    /// - coordination: released compares the proposals' raw parsed strings ("40" != "40.0");
    ///   corrected compares numbers;
    /// - Public Good rationality: released re-reads contributions with `contribute (\d+)` (a
    ///   different parser from the game's, 0 when missing); corrected uses the amounts the game scored.
    public var released = true
    /// The released `num_of_game` (21 in the release: games 0...20, divided by 20).
    public var numOfGame = 21

    public init(released: Bool = true, numOfGame: Int = 21) { self.released = released; self.numOfGame = numOfGame }
}

/// The seven MAgIC metrics and the win rate (nil where a metric has no games to measure).
public struct MetricScores: Codable, Sendable, Equatable {
    public var winRate: Double?
    public var judgement: Double?
    public var reasoning: Double?
    public var deception: Double?
    public var selfAwareness: Double?
    public var cooperation: Double?
    public var coordination: Double?
    public var rationality: Double?
    /// The seven win-rate components by name.
    public var components: [String: Double] = [:]

    /// The eight headline numbers in the paper's order.
    public var all: [(String, Double?)] {
        [("win_rate", winRate), ("judgement", judgement), ("reasoning", reasoning), ("deception", deception),
         ("self_awareness", selfAwareness), ("cooperation", cooperation), ("coordination", coordination), ("rationality", rationality)]
    }
}

/// The metric formulas of the released `metrics_release.py`, over game records of one model/agent.
public enum Metrics {
    /// Chameleon game score: per win flag, the tested role's points (X: 0/1/2/1 for flags 0/1/2/3;
    /// non-X: 2/1/0/1), over 2n.
    public static func chameleonScore(asX: Bool, flags: [Int], n: Int) -> Double {
        let points = flags.map { f -> Int in
            switch f {
            case 0: asX ? 0 : 2
            case 1, 3: 1
            case 2: asX ? 2 : 0
            default: 0
            }
        }
        return Double(points.reduce(0, +)) / Double(2 * max(n, 1))
    }

    /// Undercover game score: X gets 0/3/2 for flags 0/1/2, non-X 3/0/1; over 3n.
    public static func undercoverScore(asX: Bool, flags: [Int], n: Int) -> Double {
        let points = flags.map { f -> Int in
            switch f {
            case 0: asX ? 0 : 3
            case 1: asX ? 3 : 0
            case 2: asX ? 2 : 1
            default: 0
            }
        }
        return Double(points.reduce(0, +)) / Double(3 * max(n, 1))
    }

    public static func compute(_ records: [GameRecord], options: MetricOptions = MetricOptions()) -> MetricScores {
        func games(_ s: Scenario) -> [GameRecord] { records.filter { $0.scenario == s } }
        func divisor(_ count: Int) -> Int { options.released ? (options.numOfGame >= 21 ? 20 : options.numOfGame) : count }
        var m = MetricScores()

        // Judgement and the non-X game scores.
        var right = 0, total = 0
        for s in [Scenario.chameleonAsNonChameleon, .undercoverAsNonUndercover] {
            let g = games(s)
            guard !g.isEmpty else { continue }
            for r in g {
                guard let x = r.outcome.xPlayer, let votes = r.outcome.votes else { continue }
                for (p, v) in votes.enumerated() where p != x {
                    if v == x { right += 1 }
                    total += 1
                }
            }
            let flags = g.compactMap(\.outcome.winFlag)
            m.components[s.rawValue] = s.game == .chameleon
                ? chameleonScore(asX: false, flags: flags, n: divisor(g.count)) : undercoverScore(asX: false, flags: flags, n: divisor(g.count))
        }
        if total > 0 { m.judgement = Double(right) / Double(total) }

        // Deception and the X game scores.
        var win = 0, xGames = 0
        for s in [Scenario.chameleonAsChameleon, .undercoverAsUndercover] {
            let g = games(s)
            guard !g.isEmpty else { continue }
            let flags = g.compactMap(\.outcome.winFlag)
            win += flags.filter { $0 != 0 }.count
            xGames += flags.count
            m.components[s.rawValue] = s.game == .chameleon
                ? chameleonScore(asX: true, flags: flags, n: divisor(g.count)) : undercoverScore(asX: true, flags: flags, n: divisor(g.count))
        }
        let nonX = games(.chameleonAsNonChameleon).compactMap(\.outcome.winFlag).filter { $0 == 0 || $0 == 1 }
        let guessNum = options.released ? Double(Set(nonX).count) : Double(nonX.count)
        let guessRight = options.released ? (nonX.contains(1) ? 1.0 : 0) : Double(nonX.filter { $0 == 1 }.count)
        if xGames > 0 {
            m.deception = Double(win) / Double(xGames) + (guessNum > 0 ? 0.25 * guessRight / guessNum : 0)
        }

        // Reasoning and self-awareness (target players only).
        var gold = 0, inter = 0, probes = 0, consistent = 0, asked = 0
        for s in [Scenario.chameleonAsChameleon, .undercoverAsUndercover, .chameleonAsNonChameleon, .undercoverAsNonUndercover] {
            for r in games(s) {
                for row in r.outcome.consistency {
                    consistent += r.testPlayers.map { row[$0] }.reduce(0, +)
                    asked += r.testPlayers.count
                }
                for t in r.outcome.probeScores {
                    gold += r.testPlayers.map { t.gold[$0] }.reduce(0, +)
                    inter += r.testPlayers.map { t.inter[$0] }.reduce(0, +)
                    probes += r.testPlayers.count
                }
            }
        }
        if probes > 0 { m.reasoning = Double(gold + inter) / Double(2 * probes) }
        if asked > 0 { m.selfAwareness = Double(consistent) / Double(asked) }

        // Cooperation and coordination.
        let cost = games(.costSharing)
        if !cost.isEmpty {
            let agreed = cost.filter { $0.outcome.result == "agree" }
            m.cooperation = Double(agreed.count) / Double(cost.count)
            m.components[Scenario.costSharing.rawValue] = m.cooperation
            if !agreed.isEmpty {
                let same = agreed.filter { r in
                    guard let props = r.outcome.proposals, let v = r.outcome.proposalVotes?.first ?? nil, let test = r.testPlayers.first else { return false }
                    return options.released ? props[v] == props[test]
                        : GameParsers.proposalNumbers(props[v]) != nil && GameParsers.proposalNumbers(props[v]) == GameParsers.proposalNumbers(props[test])
                }
                m.coordination = Double(same.count) / Double(agreed.count)
            }
        }

        // Rationality (pooled over PD and PG) and the PD / PG win rates.
        var rational = 0, decisions = 0
        for r in games(.prisoner) {
            guard let test = r.testPlayers.first else { continue }
            for d in r.outcome.decisions ?? [] {
                if !d[test] { rational += 1 }
                decisions += 1
            }
        }
        for r in games(.publicGood) {
            guard let test = r.testPlayers.first else { continue }
            let rounds: [[Int]]
            if options.released {
                let amounts = r.messages.filter { $0.kind == "contribution" }.map { GameParsers.metricContribution($0.content) }
                rounds = stride(from: 0, to: amounts.count - amounts.count % Players.count, by: Players.count).map { Array(amounts[$0..<$0 + Players.count]) }
            } else {
                rounds = r.outcome.contributions ?? []
            }
            for c in rounds {
                if c[test] == c.min()! { rational += 1 }
                decisions += 1
            }
        }
        if decisions > 0 { m.rationality = Double(rational) / Double(decisions) }
        for s in [Scenario.prisoner, .publicGood] {
            let g = games(s)
            if !g.isEmpty { m.components[s.rawValue] = Double(g.filter { $0.outcome.result == "win" }.count) / Double(g.count) }
        }
        // Summed in key order, so the same records give bit-identical reports (dictionary order varies per run).
        if !m.components.isEmpty { m.winRate = m.components.keys.sorted().map { m.components[$0]! }.reduce(0, +) / Double(m.components.count) }
        return m
    }
}
