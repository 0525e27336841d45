// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Cost Sharing (airport fee): up to five rounds; each round every airline proposes its split in
/// turn (public), then everyone votes in turn (public) for one proposal. The negotiation succeeds
/// ("agree") when every voted proposal has identical percentages; "fail" after five rounds.
public final class CostSharingGame: GameEnvironment {
    public let kind = GameKind.costSharing
    public let setting: CostSharingSetting
    public let testPlayers: [Int]
    public private(set) var pool = MessagePool()
    public let maxRounds = 5
    var round = 0
    var voting = false
    var next = 0
    var proposals: [[String?]] = [[nil, nil, nil], [nil, nil, nil], [nil, nil, nil]]
    var votes: [Int?] = [nil, nil, nil]
    var result: String?
    public private(set) var testStarted = false

    public init(_ s: CostSharingSetting) {
        setting = s
        testPlayers = [s.testPlayer]
        pool.moderator("Now the game starts! The background is: \(s.table)")
        pool.turn += 1
        pool.moderator(Self.proposeRequest)
        pool.turn += 1
        testStarted = s.testPlayer == 0
    }

    static let proposeRequest = "Each airline, propose how to split the fee in percent (multiples of 5), one line per airline: \"Airline A: xx%\", \"Airline B: xx%\", \"Airline C: xx%\"."

    public var rules: String {
        """
        You are an airline negotiating with two other airlines how to share a fixed airport fee. Player 1 is Airline A, \
        Player 2 is Airline B and Player 3 is Airline C. Each round every airline proposes a split of the fee in percent, \
        then everyone votes for one proposal (their own included). If all votes go to the same split, the negotiation \
        succeeds; otherwise a new round starts, for at most 5 rounds. A fair split follows how much each airline uses \
        the airport; you want to pay little but you must reach an agreement.
        """
    }

    public func nextTurn() -> Turn? {
        guard result == nil else { return nil }
        if voting {
            return Turn(players: [next], kind: .proposalVote,
                        text: [next: "Now vote which proposal (including your own) you agree with. You must use the template \"I vote for Player xx's proposal\"."],
                        simultaneous: false)
        }
        return Turn(players: [next], kind: .proposal, text: [next: "Now you speak, \(Players.name(next)). " + Self.proposeRequest], simultaneous: false)
    }

    public func submit(_ actions: [Int: String]) throws {
        guard nextTurn() != nil, actions.count == 1, let a = actions[next] else { throw GameError.wrongTurn(expected: [next], got: Array(actions.keys)) }
        if next == setting.testPlayer { testStarted = true }
        pool.append(GameMessage(agent: Players.name(next), content: a, turn: pool.turn, kind: voting ? "proposal_vote" : "proposal"))
        pool.turn += 1
        if !voting {
            proposals[next] = GameParsers.proposal(a)
        } else {
            votes[next] = GameParsers.proposalVote(a)
        }
        next += 1
        if next < Players.count {
            if next == setting.testPlayer { testStarted = true }
            return
        }
        next = 0
        if setting.testPlayer == 0 { testStarted = true }
        if !voting {
            voting = true
            pool.moderator("Now vote which proposal (including your own) you agree with. You must use the template \"I vote for Player xx's proposal\".")
            pool.turn += 1
            return
        }
        voting = false
        round += 1
        if Self.agreement(votes: votes, proposals: proposals) {
            result = "agree"
            pool.moderator("You all agree on the same proposal.")
        } else if round >= maxRounds {
            result = "fail"
            pool.moderator("You have negotiated for \(maxRounds) rounds without agreement; the negotiation failed.")
        } else {
            pool.moderator("Round \(round) ended without agreement. Please continue with a new round of proposals.")
            pool.turn += 1
            pool.moderator(Self.proposeRequest)
            votes = [nil, nil, nil]
        }
        pool.turn += 1
    }

    /// Released `check_agreement`: every vote must name a proposal with exactly the same parsed
    /// percentage strings as the first player's voted proposal (an unparsable vote fails).
    public static func agreement(votes: [Int?], proposals: [[String?]]) -> Bool {
        guard let first = votes[0] else { return false }
        for v in votes.dropFirst() {
            guard let v else { return false }
            if v != first && proposals[v] != proposals[first] { return false }
        }
        return true
    }

    public func context(for p: Int) -> GameContext {
        var c = GameContext(game: kind, me: p, role: "airline")
        c.usageShares = setting.usageShares
        c.proposals = proposals.map(GameParsers.proposalNumbers)
        c.fixedFirstProposal = round == 0 ? setting.firstProposals[p] : nil
        c.round = round
        c.totalRounds = maxRounds
        return c
    }

    public func outcome() -> GameOutcome {
        GameOutcome(result: result, proposals: proposals, proposalVotes: votes, rounds: round)
    }
}

/// The iterated three-player Prisoner's Dilemma: five rounds of simultaneous private decisions,
/// revealed with the payoffs after each round. The tested player wins if its total is the maximum.
public final class PrisonerGame: GameEnvironment {
    public let kind = GameKind.prisoner
    public let setting: PrisonerSetting
    public let testPlayers: [Int]
    public let options: GameOptions
    public private(set) var pool = MessagePool()
    var decisions: [[Bool]] = []
    var totals = [Double](repeating: 0, count: Players.count)
    public var testStarted: Bool { true }

    public init(_ s: PrisonerSetting, options: GameOptions = GameOptions()) {
        setting = s
        self.options = options
        testPlayers = [s.testPlayer]
        pool.moderator("Now the game starts! There are \(s.rounds) rounds. Round 1: make your decision.")
        pool.turn += 1
    }

    public var rules: String {
        let s = setting
        return """
            You are playing an iterated Prisoner's Dilemma with two other players for \(s.rounds) rounds. Each round every \
            player secretly chooses to Cooperate or Defect; the choices are revealed after the round. If all cooperate, \
            each gets \(fmt(s.cooperate)) points. If all defect, each gets \(fmt(s.defect)) points. If one defects and two \
            cooperate, the defector gets \(fmt(s.oneDefect)) points and the others 0. If two defect and one cooperates, the \
            defectors each get \(fmt(s.twoDefect)) points and the cooperator 0. The player with the highest total wins.
            """
    }

    /// Per-round payoffs from decisions (true = cooperate).
    public static func payoffs(_ d: [Bool], _ s: PrisonerSetting) -> [Double] {
        switch d.filter({ !$0 }).count {
        case 0: return d.map { _ in s.cooperate }
        case 1: return d.map { $0 ? 0 : s.oneDefect }
        case 2: return d.map { $0 ? 0 : s.twoDefect }
        default: return d.map { _ in s.defect }
        }
    }

    public func nextTurn() -> Turn? {
        guard decisions.count < setting.rounds else { return nil }
        let t = "Round \(decisions.count + 1) of \(setting.rounds): make your decision. Answer \"Cooperate\" or \"Defect\"."
        return Turn(players: [0, 1, 2], kind: .decision, text: [0: t, 1: t, 2: t], simultaneous: true)
    }

    public func submit(_ actions: [Int: String]) throws {
        guard nextTurn() != nil, Set(actions.keys) == [0, 1, 2] else { throw GameError.wrongTurn(expected: [0, 1, 2], got: Array(actions.keys)) }
        var d: [Bool] = []
        for p in 0..<Players.count {
            pool.append(GameMessage(agent: Players.name(p), content: actions[p]!, turn: pool.turn, visibleTo: [Players.moderator], kind: "decision"))
            d.append(GameParsers.cooperates(actions[p]!, released: options.releasedDecisionParser))
        }
        pool.turn += 1
        let pay = Self.payoffs(d, setting)
        for p in 0..<Players.count { totals[p] += pay[p] }
        decisions.append(d)
        let summary = (0..<Players.count).map { "\(Players.name($0)) chose \(d[$0] ? "Cooperate" : "Defect") and got \(fmt(pay[$0])) (total \(fmt(totals[$0])))" }
        pool.moderator("Round \(decisions.count) results: " + summary.joined(separator: "; ") + ".")
        pool.turn += 1
    }

    public func context(for p: Int) -> GameContext {
        var c = GameContext(game: kind, me: p, role: "prisoner")
        c.pastDecisions = decisions
        c.round = decisions.count
        c.totalRounds = setting.rounds
        c.strategy = setting.strategies[p]
        return c
    }

    public func outcome() -> GameOutcome {
        let result = decisions.count == setting.rounds ? (totals[setting.testPlayer] >= totals.max()! ? "win" : "lose") : nil
        return GameOutcome(result: result, decisions: decisions, scores: totals)
    }
}

/// Public Good: everyone starts with 100 points; five rounds of simultaneous private contributions,
/// revealed after each round; at the end the pool times the multiplier is split equally and the
/// tested player wins if its final points (what it kept plus its share) are the maximum.
public final class PublicGoodGame: GameEnvironment {
    public let kind = GameKind.publicGood
    public let setting: PublicGoodSetting
    public let testPlayers: [Int]
    public let options: GameOptions
    public private(set) var pool = MessagePool()
    var contributions: [[Int]] = []
    var remaining: [Int]
    public var testStarted: Bool { true }

    public init(_ s: PublicGoodSetting, options: GameOptions = GameOptions()) {
        setting = s
        self.options = options
        testPlayers = [s.testPlayer]
        remaining = [Int](repeating: s.startPoints, count: Players.count)
        pool.moderator("Now the game starts! There are \(s.rounds) rounds. Round 1: decide your contribution.")
        pool.turn += 1
    }

    public var rules: String {
        """
        You are playing a Public Good game with two other players. Everyone starts with \(setting.startPoints) points. In \
        each of \(setting.rounds) rounds every player secretly contributes some of their remaining points to a common \
        pool; contributions are revealed after the round. At the end the pool is multiplied by \(fmt(setting.multiplier)) \
        and shared equally among the three players. Your final score is the points you kept plus your share. Never \
        contribute more than you have left. The player with the highest final score wins.
        """
    }

    public func nextTurn() -> Turn? {
        guard contributions.count < setting.rounds else { return nil }
        let t = "Round \(contributions.count + 1) of \(setting.rounds): how many points do you contribute? Answer \"I contribute xx\"."
        return Turn(players: [0, 1, 2], kind: .contribution, text: [0: t, 1: t, 2: t], simultaneous: true)
    }

    public func submit(_ actions: [Int: String]) throws {
        guard nextTurn() != nil, Set(actions.keys) == [0, 1, 2] else { throw GameError.wrongTurn(expected: [0, 1, 2], got: Array(actions.keys)) }
        var c: [Int] = []
        for p in 0..<Players.count {
            pool.append(GameMessage(agent: Players.name(p), content: actions[p]!, turn: pool.turn, visibleTo: [Players.moderator], kind: "contribution"))
            let v = GameParsers.contribution(actions[p]!, remaining: remaining[p], released: options.releasedContribution)
            c.append(v)
            remaining[p] -= v
        }
        pool.turn += 1
        contributions.append(c)
        let summary = (0..<Players.count).map { "\(Players.name($0)) contributed \(c[$0]) (\(remaining[$0]) left)" }
        pool.moderator("Round \(contributions.count) contributions: " + summary.joined(separator: "; ") + ". Pool so far: \(contributions.joined().reduce(0, +)).")
        pool.turn += 1
        if contributions.count == setting.rounds {
            let f = finalScores()
            pool.moderator("The game is over. Final scores: " + (0..<Players.count).map { "\(Players.name($0)): \(fmt(f[$0]))" }.joined(separator: ", ") + ".")
        }
    }

    /// Kept points plus the equal share of the multiplied pool.
    public func finalScores() -> [Double] {
        let share = Double(contributions.joined().reduce(0, +)) * setting.multiplier / Double(Players.count)
        return remaining.map { Double($0) + share }
    }

    public func context(for p: Int) -> GameContext {
        var c = GameContext(game: kind, me: p, role: "citizen")
        c.pastContributions = contributions
        c.remainingPoints = remaining[p]
        c.round = contributions.count
        c.totalRounds = setting.rounds
        c.strategy = setting.strategies[p]
        c.schedule = setting.schedules[p]
        return c
    }

    public func outcome() -> GameOutcome {
        var o = GameOutcome()
        o.contributions = contributions
        if contributions.count == setting.rounds {
            let f = finalScores()
            o.scores = f
            o.result = f[setting.testPlayer] >= f.max()! ? "win" : "lose"
        }
        return o
    }
}

func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.2f", v) }
