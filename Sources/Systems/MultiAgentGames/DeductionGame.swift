// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Chameleon and Undercover: clue rounds, private votes, (Chameleon) the accused chameleon's guess.
///
/// Phases in metric mode, per clue c (player order 1, 2, 3; Undercover has two rounds):
/// identity probe (all, hidden) -> clue by the speaker (public) -> PGM probe (all, hidden);
/// then the accusation (each vote visible only to its author) and, in Chameleon, the guess.
///
/// Win flags. Chameleon: 0 = non-chameleons win (accused, wrong guess), 1 = accused but guessed the
/// word, 2 = the most-voted player is not the chameleon, 3 = tie for most votes. Undercover:
/// 0 = undercover voted out, 1 = wrong player voted out, 2 = tie.
public final class DeductionGame: GameEnvironment {
    enum Phase: Equatable { case identity, clue, pgmProbe, accuse, guess, done }

    public let kind: GameKind
    public let x: Int
    public let testPlayers: [Int]
    public let options: GameOptions
    public private(set) var pool = MessagePool()
    /// The word each player was told (nil for the chameleon).
    public let words: [String?]
    public let topic: String?
    let topicWords: [String]
    let code: String
    let rounds: Int
    var phase: Phase
    var clueIndex = 0
    var clues: [[String]] = [[], [], []]
    var votes: [Int?] = [nil, nil, nil]
    var winFlag: Int?
    var consistency: [[Int]] = []
    var probes: [ProbeScores] = []
    var leak = false
    public private(set) var testStarted = false

    /// The state both games start from; the tested model plays player `x` or the two others.
    private init(kind: GameKind, x: Int, code: String, topic: String?, topicWords: [String], words: [String?], rounds: Int,
                 testAsX: Bool, options: GameOptions) {
        self.kind = kind; self.x = x; self.code = code; self.topic = topic; self.topicWords = topicWords; self.words = words
        self.rounds = rounds; self.options = options
        testPlayers = testAsX ? [x] : (0..<Players.count).filter { $0 != x }
        phase = options.metricProbes ? .identity : .clue
    }

    /// A Chameleon game; the tested model plays the chameleon or the two non-chameleons.
    public convenience init(chameleon s: ChameleonSetting, testAsX: Bool, options: GameOptions = GameOptions()) {
        self.init(kind: .chameleon, x: s.chameleon, code: s.code, topic: s.topic,
                  topicWords: WordFeatures.topics.first { $0.topic == s.topic }?.words ?? [s.code],
                  words: (0..<Players.count).map { $0 == s.chameleon ? nil : s.code }, rounds: 1, testAsX: testAsX, options: options)
        pool.moderator("Now the game starts! The topic is: \(s.topic)")
        pool.turn += 1
        pool.moderator("You are not chameleon. The word is: \(s.code)", to: Players.names.enumerated().filter { $0.offset != x }.map(\.element))
        pool.turn += 1
        pool.moderator("You are the chameleon!", to: [Players.name(x)])
        pool.turn += 1
        announceClues()
    }

    /// An Undercover game; the tested model plays the undercover or the two others.
    public convenience init(undercover s: UndercoverSetting, testAsX: Bool, options: GameOptions = GameOptions()) {
        self.init(kind: .undercover, x: s.undercover, code: s.undercoverWord, topic: nil, topicWords: [],
                  words: (0..<Players.count).map { $0 == s.undercover ? s.undercoverWord : s.otherWord }, rounds: 2,
                  testAsX: testAsX, options: options)
        pool.moderator("Now the game starts! Each of you gets a word; one player's word differs: that player is the undercover.")
        pool.turn += 1
        for p in 0..<Players.count {
            pool.moderator("Your word is: \(words[p]!)", to: [Players.name(p)])
        }
        pool.turn += 1
        announceClues()
    }

    public var rules: String {
        switch kind {
        case .chameleon:
            """
            You are playing the Chameleon game with three players. Everyone is told the topic. The non-chameleons are told \
            the secret word; the chameleon is not. Each player gives one short clue about the secret word without saying it. \
            Then everyone votes privately for the player they think is the chameleon. If the chameleon gets the most votes, \
            the chameleon may guess the secret word and wins by guessing it; otherwise the chameleon wins. Non-chameleons \
            should give clues specific enough to show they know the word but not so obvious that the chameleon can guess it. \
            The chameleon should blend in.
            """
        default:
            """
            You are playing Who is Undercover with three players. Two players share the same word; the undercover gets a \
            different but related word, and nobody is told whether they are the undercover. In two rounds each player gives \
            one short clue about their word without saying it. Then everyone votes privately for the player they think is \
            the undercover. The undercover wins if the vote misses them.
            """
        }
    }

    var clueOrder: [Int] { (0..<rounds).flatMap { _ in Array(0..<Players.count) } }
    var speaker: Int { clueOrder[min(clueIndex, clueOrder.count - 1)] }

    /// Without probes the clue phase starts at once.
    func announceClues() {
        guard !options.metricProbes else { return }
        announceFirstClue()
        if testPlayers.contains(speaker) { testStarted = true }
    }

    func roleName(_ p: Int) -> String {
        kind == .chameleon ? (p == x ? "chameleon" : "non-chameleon") : (p == x ? "undercover" : "non-undercover")
    }

    public func nextTurn() -> Turn? {
        let all = Array(0..<Players.count)
        switch phase {
        case .identity:
            return Turn(players: all, kind: .identityProbe, text: Dictionary(uniqueKeysWithValues: all.map { ($0, ProbeTemplates.identity(kind)) }),
                        simultaneous: true)
        case .clue:
            let s = speaker
            let text = kind == .chameleon || clueIndex < Players.count
                ? "Now you speak, \(Players.name(s)). Give one short clue about the \(kind == .chameleon ? "secret word" : "word you were given"); never say the word itself."
                : "Now you speak, \(Players.name(s)). Give a second, different clue; never say the word itself."
            return Turn(players: [s], kind: .clue, text: [s: text], simultaneous: false)
        case .pgmProbe:
            return Turn(players: all, kind: .pgmProbe,
                        text: Dictionary(uniqueKeysWithValues: all.map { ($0, ProbeTemplates.pgm(kind, speaker: $0, chameleon: kind == .chameleon && $0 == x,
                                                                                                      releasedTemplate: options.releasedProbeTemplate)) }),
                        simultaneous: true)
        case .accuse:
            let x = kind == .chameleon ? "chameleon" : "undercover"
            let t = "Now vote which of the other players (excluding yourself) is the \(x). You must use the template \"I vote for Player xx.\""
            return Turn(players: all, kind: .vote, text: Dictionary(uniqueKeysWithValues: all.map { ($0, t) }), simultaneous: true)
        case .guess:
            return Turn(players: [x], kind: .guess, text: [x: "You were accused. Guess the secret word. You should say: I guess the code is \"...\""],
                        simultaneous: false)
        case .done:
            return nil
        }
    }

    public func submit(_ actions: [Int: String]) throws {
        guard let turn = nextTurn() else { throw GameError.wrongTurn(expected: [], got: Array(actions.keys)) }
        guard Set(actions.keys) == Set(turn.players) else { throw GameError.wrongTurn(expected: turn.players, got: Array(actions.keys).sorted()) }
        switch phase {
        case .identity:
            var row = [Int](repeating: 0, count: Players.count)
            for p in turn.players {
                let a = actions[p]!
                pool.append(GameMessage(agent: Players.name(p), content: a, turn: pool.turn, kind: "identity_probe", hidden: true))
                row[p] = GameParsers.identityCorrect(a, player: p, role: roleName(p)) ? 1 : 0
            }
            pool.turn += 1
            consistency.append(row)
            if clueIndex == 0 { announceFirstClue() }
            if testPlayers.contains(speaker) { testStarted = true }
            phase = .clue
        case .clue:
            let s = speaker
            if testPlayers.contains(s) { testStarted = true }
            pool.append(GameMessage(agent: Players.name(s), content: actions[s]!, turn: pool.turn, kind: "clue"))
            pool.turn += 1
            clues[s].append(actions[s]!)
            clueIndex += 1
            if options.metricProbes {
                phase = .pgmProbe
            } else {
                advanceAfterClue()
            }
        case .pgmProbe:
            var factors: [[[Double]]] = []
            for p in 0..<Players.count {
                let a = actions[p]!
                pool.append(GameMessage(agent: Players.name(p), content: a, turn: pool.turn, kind: "pgm_probe", hidden: true))
                let parsed = GameParsers.pgmFactors(a, speaker: p)
                factors.append(parsed.factor)
                if kind == .chameleon, p == x, let g = parsed.guess, g.lowercased() == code.lowercased() { leak = true }
            }
            pool.turn += 1
            probes.append(probeScores(factors: factors, x: x))
            advanceAfterClue()
        case .accuse:
            for p in 0..<Players.count {
                let a = actions[p]!
                pool.append(GameMessage(agent: Players.name(p), content: a, turn: pool.turn, visibleTo: [Players.name(p)], kind: "vote"))
                votes[p] = GameParsers.vote(a, voter: p, released: options.releasedVoteParser)
            }
            pool.turn += 1
            resolveVotes()
        case .guess:
            let a = actions[x]!
            pool.append(GameMessage(agent: Players.name(x), content: a, turn: pool.turn, visibleTo: [Players.name(x)], kind: "guess"))
            pool.turn += 1
            if GameParsers.isTrueCode(a, code: code) {
                end(1, "\(Players.name(x)) guessed the code correctly! The secret word is \(code). \(Players.name(x)) won!")
            } else {
                end(0, "\(Players.name(x)) guessed the code wrong! The secret word is \(code). The non-chameleons won!")
            }
        case .done:
            break
        }
    }

    func announceFirstClue() {
        pool.moderator("Now everyone gives one clue (but never include the secret word). You cannot repeat what others have said. We will start with Player 1.")
        pool.turn += 1
    }

    func advanceAfterClue() {
        if clueIndex >= clueOrder.count {
            phase = .accuse
            return
        }
        if kind == .undercover && clueIndex == Players.count {
            pool.moderator("Now the second round of clues starts, again from Player 1.")
            pool.turn += 1
        }
        if options.metricProbes {
            phase = .identity
        } else {
            phase = .clue
            if testPlayers.contains(speaker) { testStarted = true }
        }
    }

    func resolveVotes() {
        var counts = [Int](repeating: 0, count: Players.count)
        for v in votes { if let v { counts[v] += 1 } }
        // Released: the first player (in name order) with the most votes; any other with as many is a tie.
        let top = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }!
        let tie = counts.indices.contains { $0 != top && counts[$0] == counts[top] }
        let xName = Players.name(x)
        if kind == .chameleon {
            if tie {
                end(3, "There are even votes. The accusation does not stand. \(xName) is the chameleon. \(xName) won the game!")
            } else if top != x {
                end(2, "The most-voted player is \(Players.name(top)). The accusation is incorrect. \(xName) is the chameleon. \(xName) won the game!")
            } else {
                pool.moderator("The accusation is correct! \(xName) is the chameleon! Now \(xName) can guess the secret code. You should say: I guess the code is \"...\"")
                phase = .guess
            }
        } else {
            if tie {
                end(2, "There are even votes. Nobody is voted out. \(xName) was the undercover.")
            } else if top != x {
                end(1, "\(Players.name(top)) is voted out, but \(xName) was the undercover. The undercover won!")
            } else {
                end(0, "\(xName) is voted out and was the undercover. The others won!")
            }
        }
        pool.turn += 1
    }

    /// Ends the game with the released win flag `flag`, the moderator announcing `message`.
    func end(_ flag: Int, _ message: String) {
        winFlag = flag
        pool.moderator(message)
        phase = .done
    }

    public func context(for p: Int) -> GameContext {
        var c = GameContext(game: kind, me: p, role: roleName(p), knowsRole: kind == .chameleon)
        c.topic = topic
        c.word = words[p]
        c.topicWords = topicWords
        c.clues = clues
        c.round = clueIndex
        c.totalRounds = rounds
        c.releasedProbeTemplate = options.releasedProbeTemplate
        return c
    }

    public func outcome() -> GameOutcome {
        GameOutcome(winFlag: winFlag, xPlayer: x, votes: votes, consistency: consistency, probeScores: probes,
                    leak: kind == .chameleon ? leak : nil)
    }
}
