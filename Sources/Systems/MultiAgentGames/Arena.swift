// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The seven evaluation configurations (the paper's result folders).
public enum Scenario: String, Codable, Sendable, CaseIterable {
    case chameleonAsChameleon = "chameleon_as_chameleon"
    case chameleonAsNonChameleon = "chameleon_as_non_chameleon"
    case undercoverAsUndercover = "undercover_as_undercover"
    case undercoverAsNonUndercover = "undercover_as_non_undercover"
    case costSharing = "cost_sharing"
    case prisoner
    case publicGood = "public_good"

    public var game: GameKind {
        switch self {
        case .chameleonAsChameleon, .chameleonAsNonChameleon: .chameleon
        case .undercoverAsUndercover, .undercoverAsNonUndercover: .undercover
        case .costSharing: .costSharing
        case .prisoner: .prisoner
        case .publicGood: .publicGood
        }
    }

    /// Whether the tested model plays the chameleon / undercover.
    public var testAsX: Bool { self == .chameleonAsChameleon || self == .undercoverAsUndercover }

    /// Scenarios of the named games ("all" or a comma list of game names or scenario names).
    public static func parse(_ s: String) throws -> [Scenario] {
        if s == "all" { return allCases }
        var out: [Scenario] = []
        for part in s.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if let sc = Scenario(rawValue: part) { out.append(sc); continue }
            let g = GameKind(rawValue: part) ?? (part == "cost" || part == "airportfee" ? .costSharing : part == "pd" ? .prisoner : nil)
            guard let g else { throw GameError.unknownScenario(part) }
            out += allCases.filter { $0.game == g }
        }
        return out
    }

    /// The game for setting `index`.
    public func makeGame(_ b: SettingsBundle, index: Int, options: GameOptions = GameOptions()) throws -> any GameEnvironment {
        func pick<T>(_ a: [T]) throws -> T {
            guard index >= 0 && index < a.count else { throw GameError.badSetting("\(rawValue) has \(a.count) settings, asked for \(index)") }
            return a[index]
        }
        switch self {
        case .chameleonAsChameleon, .chameleonAsNonChameleon: return DeductionGame(chameleon: try pick(b.chameleon), testAsX: testAsX, options: options)
        case .undercoverAsUndercover, .undercoverAsNonUndercover: return DeductionGame(undercover: try pick(b.undercover), testAsX: testAsX, options: options)
        case .costSharing: return CostSharingGame(try pick(b.costSharing))
        case .prisoner: return PrisonerGame(try pick(b.prisoner), options: options)
        case .publicGood: return PublicGoodGame(try pick(b.publicGood), options: options)
        }
    }

    /// Recorded clues of the setting (the fixed prefix), per player and round.
    public func recordedClues(_ b: SettingsBundle, index: Int) -> [[String]] {
        switch game {
        case .chameleon: b.chameleon[index].clues.map { [$0] }
        case .undercover: b.undercover[index].clues
        default: []
        }
    }
}

/// One finished game as a JSONL line.
public struct GameRecord: Codable, Sendable, Equatable {
    public var scenario: Scenario
    public var setting: Int
    public var model: String
    public var agent: String
    public var testPlayers: [Int]
    public var outcome: GameOutcome
    public var messages: [GameMessage]
    public var llmCalls = 0
    public var promptTokens = 0
    public var completionTokens = 0
    public var seconds = 0.0

    public init(scenario: Scenario, setting: Int, model: String, agent: String, testPlayers: [Int], outcome: GameOutcome,
                messages: [GameMessage], llmCalls: Int = 0, promptTokens: Int = 0, completionTokens: Int = 0, seconds: Double = 0) {
        self.scenario = scenario
        self.setting = setting
        self.model = model
        self.agent = agent
        self.testPlayers = testPlayers
        self.outcome = outcome
        self.messages = messages
        self.llmCalls = llmCalls
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.seconds = seconds
    }

    public func jsonLine() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    public static func loadJSONL(path: String) throws -> [GameRecord] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.isEmpty }.map { try JSONDecoder().decode(GameRecord.self, from: Data($0.utf8)) }
    }
}

/// Drives a game: asks the players of each turn (simultaneous turns concurrently), stores their
/// hidden notes, and returns the record.
public enum GameRunner {
    public static func play(_ game: any GameEnvironment, players: [any GamePlayer], scenario: Scenario, setting: Int,
                            model: String, agent: String) async throws -> GameRecord {
        precondition(players.count == Players.count)
        let start = ContinuousClock.now
        for p in 0..<Players.count { await players[p].reset(player: p, context: game.context(for: p)) }
        var calls = 0, prompt = 0, completion = 0
        var notes: [GameMessage] = []
        while let turn = game.nextTurn() {
            let requests: [ActionRequest] = turn.players.map { p in
                var c = game.context(for: p)
                c.testStarted = game.testStarted || game.testPlayers.contains(p)
                return ActionRequest(player: p, kind: turn.kind, text: turn.text[p] ?? "Now you speak, \(Players.name(p)).", rules: game.rules,
                                     observation: game.pool.visible(to: Players.name(p)), context: c)
            }
            var answers: [Int: PlayerAction] = [:]
            if turn.simultaneous && requests.count > 1 {
                try await withThrowingTaskGroup(of: (Int, PlayerAction).self) { group in
                    for r in requests {
                        let player = players[r.player]
                        group.addTask { (r.player, try await player.act(r)) }
                    }
                    for try await (p, a) in group { answers[p] = a }
                }
            } else {
                for r in requests { answers[r.player] = try await players[r.player].act(r) }
            }
            for p in turn.players.sorted() {
                let a = answers[p]!
                calls += a.llmCalls
                prompt += a.promptTokens
                completion += a.completionTokens
                for n in a.notes {
                    notes.append(GameMessage(agent: Players.name(p), content: n, turn: game.pool.turn, visibleTo: [Players.name(p)], kind: "pgm", hidden: true))
                }
            }
            try game.submit(answers.mapValues(\.text))
        }
        var messages = game.pool.messages
        // Notes go after the pool messages of their turn (stable by turn).
        messages = (messages + notes).enumerated().sorted { ($0.element.turn, $0.offset) < ($1.element.turn, $1.offset) }.map(\.element)
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        return GameRecord(scenario: scenario, setting: setting, model: model, agent: agent, testPlayers: game.testPlayers, outcome: game.outcome(),
                          messages: messages, llmCalls: calls, promptTokens: prompt, completionTokens: completion, seconds: seconds)
    }
}

/// Runs a tested agent over scenarios and settings against the scripted defenders (with the fixed
/// prefix), writing one record per game.
public struct Arena: Sendable {
    public var settings: SettingsBundle
    public var options = GameOptions()
    /// Makes a fresh tested player for one seat of one game (agents with memory need their own).
    public var makeTested: @Sendable (_ scenario: Scenario, _ setting: Int, _ seat: Int) -> any GamePlayer
    public var model: String
    public var agent: String

    public init(settings: SettingsBundle, model: String, agent: String,
                makeTested: @escaping @Sendable (_ scenario: Scenario, _ setting: Int, _ seat: Int) -> any GamePlayer) {
        self.settings = settings
        self.model = model
        self.agent = agent
        self.makeTested = makeTested
    }

    public func play(_ scenario: Scenario, setting: Int) async throws -> GameRecord {
        let game = try scenario.makeGame(settings, index: setting, options: options)
        let recorded = scenario.recordedClues(settings, index: setting)
        let players: [any GamePlayer] = (0..<Players.count).map { p in
            game.testPlayers.contains(p) ? makeTested(scenario, setting, p) : FixedPrefixPlayer(live: ScriptedDefender(), recorded: recorded)
        }
        return try await GameRunner.play(game, players: players, scenario: scenario, setting: setting, model: model, agent: agent)
    }

    /// Every (scenario, setting) pair in order; `onGame(done, total, record)` after each game.
    public func run(_ scenarios: [Scenario], settings indices: [Int],
                    onGame: (Int, Int, GameRecord) throws -> Void = { _, _, _ in }) async throws -> [GameRecord] {
        var out: [GameRecord] = []
        let total = scenarios.count * indices.count
        for s in scenarios {
            for i in indices {
                let r = try await play(s, setting: i)
                out.append(r)
                try onGame(out.count, total, r)
            }
        }
        return out
    }
}
