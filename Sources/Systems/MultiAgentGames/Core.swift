// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The five MAgIC games.
public enum GameKind: String, Codable, Sendable, CaseIterable {
    case chameleon, undercover, costSharing = "cost_sharing", prisoner, publicGood = "public_good"
}

/// Player names as the paper writes them ("Player 1" ... "Player 3"); index 0 is "Player 1".
public enum Players {
    /// Every game has three players.
    public static let count = 3
    /// The moderator's name in the message pool.
    public static let moderator = "Moderator"
    /// `"Player \(index + 1)"`.
    public static func name(_ index: Int) -> String { "Player \(index + 1)" }
    /// All player names in order.
    public static let names = (0..<count).map(name)
    /// The index of a player name, or nil.
    public static func index(of name: String) -> Int? { names.firstIndex(of: name) }
}

/// One message in the pool (chatarena's `Message`).
///
/// Visibility: `visibleTo == nil` means everyone; otherwise only the listed names (the author of a
/// private vote, "Moderator" for a secret decision). `hidden` messages (probe answers) are stored for
/// the metrics but shown to nobody, the author included.
public struct GameMessage: Codable, Sendable, Equatable {
    public var agent: String
    public var content: String
    public var turn: Int
    public var visibleTo: [String]?
    public var kind: String
    public var hidden: Bool

    public init(agent: String, content: String, turn: Int, visibleTo: [String]? = nil, kind: String, hidden: Bool = false) {
        self.agent = agent; self.content = content; self.turn = turn; self.visibleTo = visibleTo; self.kind = kind
        self.hidden = hidden
    }

    /// Whether `player` sees this message.
    public func isVisible(to player: String) -> Bool {
        if hidden { return false }
        guard let visibleTo else { return true }
        return visibleTo.contains(player)
    }
}

/// The ordered message pool with per-message visibility and turn numbers.
public struct MessagePool: Sendable {
    public private(set) var messages: [GameMessage] = []
    /// The turn counter; the game advances it after each step as chatarena does.
    public var turn = 0

    public init() {}

    public mutating func append(_ m: GameMessage) { messages.append(m) }

    /// A moderator announcement at the current turn.
    public mutating func moderator(_ text: String, to: [String]? = nil) {
        messages.append(GameMessage(agent: Players.moderator, content: text, turn: turn, visibleTo: to, kind: "moderator"))
    }

    /// What `player` sees, in order.
    public func visible(to player: String) -> [GameMessage] { messages.filter { $0.isVisible(to: player) } }
}

/// What a player is asked to do.
public enum ActionKind: String, Codable, Sendable {
    case clue, vote, guess
    case identityProbe = "identity_probe", pgmProbe = "pgm_probe"
    case proposal, proposalVote = "proposal_vote", decision, contribution
}

/// A game's private, structured view for one player: what a scripted defender or the PGM agent needs
/// beyond the text (the LLM player reads only the messages).
public struct GameContext: Sendable {
    public var game: GameKind
    public var me: Int
    /// "chameleon", "non-chameleon", "undercover", "non-undercover" (true role, used by scripted
    /// defenders only where the rules let the player know it), "airline", "prisoner", "citizen".
    public var role: String
    /// Whether the player knows its role (false in Undercover).
    public var knowsRole: Bool
    public var topic: String?
    /// The word this player was told (nil for the chameleon).
    public var word: String?
    /// Candidate words of the topic (Chameleon) known to everyone from the topic list.
    public var topicWords: [String] = []
    /// Public clues so far, per player.
    public var clues: [[String]] = [[], [], []]
    /// Cost sharing: usage-proportional shares in percent; this round's parsed proposals; the round.
    public var usageShares: [Double] = []
    public var proposals: [[Int]?] = [nil, nil, nil]
    public var fixedFirstProposal: [Int]?
    /// PD: past decisions per round (true = cooperate). PG: past contributions per round.
    public var pastDecisions: [[Bool]] = []
    public var pastContributions: [[Int]] = []
    public var remainingPoints: Int = 0
    public var round = 0
    public var totalRounds = 0
    /// Defender strategy name from the setting (PD/PG), and the PG schedule.
    public var strategy: String = ""
    public var schedule: [Int] = []
    /// Whether the tested player has started acting (set by the runner; ends the fixed prefix).
    public var testStarted = false
    /// Whether the Chameleon PGM probe uses the released template's guess line
    /// (`GameOptions.releasedProbeTemplate`), so answers follow the template the player was shown.
    public var releasedProbeTemplate = false

    public init(game: GameKind, me: Int, role: String, knowsRole: Bool = true) {
        self.game = game; self.me = me; self.role = role; self.knowsRole = knowsRole
    }
}

/// One request to a player: the moderator's request text, what the player sees, and its context.
public struct ActionRequest: Sendable {
    public var player: Int
    public var kind: ActionKind
    /// The last turn of the prompt (the environment's request, or "Now you speak, Player k.").
    public var text: String
    /// The global game prompt (rules).
    public var rules: String
    /// The messages visible to the player.
    public var observation: [GameMessage]
    public var context: GameContext

    public init(player: Int, kind: ActionKind, text: String, rules: String, observation: [GameMessage], context: GameContext) {
        self.player = player; self.kind = kind; self.text = text; self.rules = rules; self.observation = observation
        self.context = context
    }
}

/// A player's answer plus what it cost.
public struct PlayerAction: Sendable {
    public var text: String
    /// Extra hidden messages the player wrote (the PGM agent's analysis), stored in the transcript.
    public var notes: [String] = []
    public var llmCalls = 0
    public var promptTokens = 0
    public var completionTokens = 0

    public init(text: String, notes: [String] = [], llmCalls: Int = 0, promptTokens: Int = 0, completionTokens: Int = 0) {
        self.text = text; self.notes = notes; self.llmCalls = llmCalls; self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// Anything that plays: an LLM behind `ChatModelClient`, the PGM-aware agent, a scripted defender,
/// the random floor, or a replay of recorded moves.
public protocol GamePlayer: Sendable {
    /// A short label for transcripts ("smollm2", "pgm:smollm2", "scripted", "random").
    var label: String { get }
    func act(_ request: ActionRequest) async throws -> PlayerAction
    /// Called once before a game starts (agents with per-game memory reset it).
    func reset(player: Int, context: GameContext) async
}

extension GamePlayer {
    public func reset(player: Int, context: GameContext) async {}
}

/// Errors of this module.
public enum GameError: Error, CustomStringConvertible {
    case wrongTurn(expected: [Int], got: [Int])
    case badSetting(String)
    case unknownScenario(String)

    public var description: String {
        switch self {
        case .wrongTurn(let e, let g): "actions for players \(g) but the game waits for \(e)"
        case .badSetting(let s): "bad setting: \(s)"
        case .unknownScenario(let s): "unknown scenario \(s)"
        }
    }
}

