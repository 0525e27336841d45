// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The PGM agent's numeric belief (released `utils/pgm_calculator.py`).
///
/// `p[i][j]`: from player i's perspective (row `me` is the agent's own view, the others are its
/// estimates of the other players' views), how likely player j is the chameleon/undercover.
public struct BeliefPGM: Sendable, Equatable {
    public private(set) var p: [[Double]]
    public let me: Int
    /// Whether the agent knows it is the chameleon (Chameleon only).
    public let isX: Bool
    public let scale = 0.1

    /// Chameleon belief: own row one-hot on self (chameleon) or uniform over the others; other rows
    /// uniform over the players except the row's own index (chameleon) or uniform over all.
    public init(chameleonGameMe me: Int, isChameleon: Bool) {
        self.me = me
        isX = isChameleon
        let n = Players.count
        p = (0..<n).map { i in
            (0..<n).map { j in
                if i == me { return isChameleon ? (j == me ? 1 : 0) : (j == me ? 0 : 1 / Double(n - 1)) }
                return isChameleon ? (j == i ? 0 : 1 / Double(n - 1)) : 1 / Double(n)
            }
        }
    }

    /// Undercover belief: uniform everywhere (nobody knows their role).
    public init(undercoverGameMe me: Int) {
        self.me = me
        isX = false
        p = [[Double]](repeating: [Double](repeating: 1 / Double(Players.count), count: Players.count), count: Players.count)
    }

    /// `P <- row_softmax(P * (1 + 0.1 * factor))` (as released: the softmax runs on probabilities).
    public mutating func update(_ factor: [[Double]]) {
        for i in p.indices {
            let scaled = p[i].indices.map { p[i][$0] * (1 + scale * factor[i][$0]) }
            let m = scaled.max()!
            let e = scaled.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            p[i] = e.map { $0 / s }
        }
    }

    /// Ascending order, stable (numpy's argsort on three elements).
    static func argsort(_ v: [Double]) -> [Int] { v.indices.sorted { v[$0] < v[$1] || (v[$0] == v[$1] && $0 < $1) } }

    /// The vote: the highest entry of the own row (the chameleon skips itself).
    public var vote: Int {
        let pos = Self.argsort(p[me])
        if isX && pos.last == me { return pos[pos.count - 2] }
        return pos.last!
    }

    /// The clue target from the column "how suspicious each player finds me": a non-chameleon
    /// targets the player who suspects it most (to win their trust with a more specific clue); the
    /// chameleon targets the one who suspects it least (to mimic them).
    public var target: Int {
        let column = p.map { $0[me] }
        let pos = Self.argsort(column)
        if !isX {
            return pos.last == me ? pos[pos.count - 2] : pos.last!
        }
        return pos[0] == me ? pos[1] : pos[0]
    }
}

/// The PGM-aware agent: before acting it writes a structured analysis (its own and its estimate of
/// each other player's suspicions, or for the economic games its prediction of each other player's
/// next move), parses it into a factor table, updates its belief, and acts from it: Chameleon vote
/// = belief argmax, clue with a target instruction; Undercover and economic games act from the
/// analysis text. Only the latest analysis is added to what the agent sees.
public actor PGMAgent: GamePlayer {
    public let base: ChatPlayer
    public nonisolated var label: String { "pgm:" + base.label }
    var belief: BeliefPGM?
    var analysis: String?
    var analysedClues = 0
    /// Belief snapshots after each update (for tests and transcripts).
    public private(set) var history: [[[Double]]] = []

    public init(base: ChatPlayer) { self.base = base }

    public func reset(player: Int, context c: GameContext) async {
        analysis = nil
        analysedClues = 0
        history = []
        switch c.game {
        case .chameleon: belief = BeliefPGM(chameleonGameMe: player, isChameleon: c.word == nil)
        case .undercover: belief = BeliefPGM(undercoverGameMe: player)
        default: belief = nil
        }
    }

    public var currentBelief: BeliefPGM? { belief }

    public func act(_ r: ActionRequest) async throws -> PlayerAction {
        if belief == nil, r.context.game == .chameleon || r.context.game == .undercover { await reset(player: r.player, context: r.context) }
        var calls = 0, prompt = 0, completion = 0
        var notes: [String] = []
        func add(_ a: PlayerAction) { calls += a.llmCalls; prompt += a.promptTokens; completion += a.completionTokens }
        func done(_ a: PlayerAction) -> PlayerAction {
            add(a)
            return PlayerAction(text: a.text, notes: notes, llmCalls: calls, promptTokens: prompt, completionTokens: completion)
        }
        let c = r.context
        switch c.game {
        case .chameleon, .undercover:
            let total = c.clues.map(\.count).reduce(0, +)
            if (r.kind == .clue || r.kind == .vote), total > analysedClues {
                let chameleon = c.game == .chameleon && c.word == nil
                let a = try await base.complete(
                    Self.analysisRequest(r), extra: analysis.map { [$0] } ?? [],
                    text: "Privately analyse the clues before you act. " + ProbeTemplates.pgm(c.game, speaker: r.player, chameleon: chameleon)
                        .replacingOccurrences(of: "Analyse the clues so far. ", with: ""),
                    constraint: base.options.constrained ? .regex(ProbeTemplates.regex(speaker: r.player, chameleon: chameleon)) : nil)
                add(a)
                analysis = a.text
                notes.append(a.text)
                analysedClues = total
                belief!.update(GameParsers.pgmFactors(a.text, speaker: r.player).factor)
                history.append(belief!.p)
            }
            let extra = analysis.map { [$0] } ?? []
            switch r.kind {
            case .clue:
                let t = belief!.target
                let instruction = belief!.isX
                    ? " Blend in: give a clue close to what \(Players.name(t)) said, so that \(Players.name(t)) does not suspect you."
                    : " \(Players.name(t)) suspects you most: give a clue more specific than \(Players.name(t))'s, without saying the word."
                return done(try await base.complete(r, extra: extra, text: r.text + instruction, constraint: nil))
            case .vote where c.game == .chameleon:
                return done(PlayerAction(text: "I vote for \(Players.name(belief!.vote))."))
            default:
                return done(try await base.complete(r, extra: extra, text: r.text, constraint: base.options.constrained ? ChatPlayer.constraint(for: r) : nil))
            }
        case .prisoner, .publicGood, .costSharing:
            let a = try await base.complete(Self.analysisRequest(r), extra: [], text: Self.gameTheoryPrompt(r), constraint: base.options.constrained ? .regex(Self.gameTheoryRegex(r)) : nil)
            add(a)
            notes.append(a.text)
            return done(try await base.complete(r, extra: [a.text], text: r.text + " Base your answer on your analysis.",
                                                constraint: base.options.constrained ? ChatPlayer.constraint(for: r) : nil))
        }
    }

    /// The request an analysis is generated for: multi-line like a probe (a clue request would cut
    /// the answer at its first line).
    static func analysisRequest(_ r: ActionRequest) -> ActionRequest {
        var a = r
        a.kind = .pgmProbe
        return a
    }

    static func predictions(_ g: GameKind) -> (verb: String, options: [String]) {
        switch g {
        case .prisoner: ("will", ["cooperate", "defect"])
        case .publicGood: ("will", ["increase their contribution", "reduce their contribution", "keep their contribution"])
        default: ("will", ["keep their proposal", "adjust their proposal"])
        }
    }

    /// The game-theory analysis: the agent's prediction of each other player's next move.
    static func gameTheoryPrompt(_ r: ActionRequest) -> String {
        let (verb, opts) = predictions(r.context.game)
        var s = "Before deciding, privately predict what each other player will do next, using exactly this template:\nAs \(Players.name(r.player)), I think:"
        for p in 0..<Players.count where p != r.player { s += "\n\(Players.name(p)) \(verb) \(opts.joined(separator: " / "))" }
        return s
    }

    static func gameTheoryRegex(_ r: ActionRequest) -> String {
        let (verb, opts) = predictions(r.context.game)
        var s = "As \(Players.name(r.player)), I think:"
        for p in 0..<Players.count where p != r.player { s += "\\n\(Players.name(p)) \(verb) (\(opts.joined(separator: "|")))" }
        return s
    }
}
