// SPDX-License-Identifier: Apache-2.0

import Foundation
public import OpenAIAPI

/// Generation settings of an LLM player.
public struct ChatPlayerOptions: Sendable, Equatable {
    /// Constrain votes, decisions, probes, proposals and contributions (choice lists / regexes);
    /// clues stay free text. A reported deviation from the paper (free text + parsers).
    public var constrained = true
    /// Max tokens of free-text answers (clues, guesses without constraint). The paper used 256.
    public var clueTokens = 24
    /// Max tokens of constrained or other answers.
    public var maxTokens = 96
    public var temperature = 0.0
    public var seed = 0

    public init() {}
}

/// An LLM player behind any `ChatModelClient` (in-process engine, `tern serve`, any OpenAI server).
///
/// Prompt assembly follows the released chatarena backend: system = rules + "messages end with
/// <EOS>" + name; other agents' messages become user turns `[Name]: content<EOS>` (consecutive ones
/// merged); the player's own messages are assistant turns; the request text is the last user turn;
/// stop sequences `<EOS>` and `<|endoftext|>`.
public struct ChatPlayer: GamePlayer {
    public let client: any ChatModelClient
    public let model: String
    public let options: ChatPlayerOptions
    public var label: String { model }

    public init(client: any ChatModelClient, model: String, options: ChatPlayerOptions = ChatPlayerOptions()) {
        self.client = client
        self.model = model
        self.options = options
    }

    public func act(_ r: ActionRequest) async throws -> PlayerAction {
        try await complete(r, extra: [], text: r.text, constraint: options.constrained ? Self.constraint(for: r) : nil)
    }

    /// The chat messages for a request (plus extra notes appended to the player's view).
    public static func messages(_ r: ActionRequest, extra: [String] = [], text: String) -> [ChatCompletionMessage] {
        let me = Players.name(r.player)
        var out = [ChatCompletionMessage(role: "system", content: r.rules + "\nYour messages always end with <EOS>.\nYour name is \(me).")]
        var pendingUser: [String] = []
        func flush() {
            if !pendingUser.isEmpty { out.append(ChatCompletionMessage(role: "user", content: pendingUser.joined(separator: "\n"))) }
            pendingUser = []
        }
        for m in r.observation {
            if m.agent == me {
                flush()
                out.append(ChatCompletionMessage(role: "assistant", content: m.content + "<EOS>"))
            } else {
                let to = m.visibleTo.map { "->" + $0.joined(separator: ",") } ?? "->all"
                pendingUser.append("[\(m.agent)\(m.agent == Players.moderator ? to : "")]: \(m.content)<EOS>")
            }
        }
        for e in extra { pendingUser.append("[\(me) (private notes)]: \(e)") }
        pendingUser.append(text)
        flush()
        return out
    }

    /// Output constraints per request kind.
    public static func constraint(for r: ActionRequest) -> Constraint? {
        let others = (0..<Players.count).filter { $0 != r.player }
        switch r.kind {
        case .clue: return nil
        case .vote: return .choice(others.map { "I vote for \(Players.name($0))." })
        case .guess: return .regex("I guess the code is \"[A-Za-z][A-Za-z ]{0,23}\"")
        case .identityProbe:
            let roles = r.context.game == .chameleon ? ["chameleon", "non-chameleon"] : ["undercover", "non-undercover"]
            return .choice(Players.names.flatMap { n in roles.map { "I am \(n), my role is \($0)." } })
        case .pgmProbe:
            return .regex(ProbeTemplates.regex(speaker: r.player, chameleon: r.context.game == .chameleon && r.context.word == nil,
                                               releasedTemplate: r.context.releasedProbeTemplate))
        case .proposal:
            let pct = "(" + stride(from: 0, through: 100, by: 5).map(String.init).joined(separator: "|") + ")"
            return .regex("Airline A: \(pct)%\\nAirline B: \(pct)%\\nAirline C: \(pct)%")
        case .proposalVote: return .choice(Players.names.map { "I vote for \($0)'s proposal" })
        case .decision: return .choice(["Cooperate", "Defect"])
        case .contribution: return .regex("I contribute (0|[1-9][0-9]?|100)")
        }
    }

    /// Free text as the game reads it: trimmed, without speaker tags the model copies from the
    /// transcript format (`[Player 3]: `, `[Moderator->all]: `, or bare `Player 3: `,
    /// `Moderator->all: `), a clue cut at its first line.
    public static func clean(_ text: String, kind: ActionKind) -> String {
        var t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        while let m = t.prefixMatch(of: /\[[^\]\n]{1,40}\]:\s*|(?:Player \d+|Moderator)(?:\s*->\s*[^:\n]{1,30})?:\s*/) {
            t = String(t[m.range.upperBound...])
        }
        if kind == .clue, let nl = t.firstIndex(of: "\n") { t = String(t[..<nl]) }
        return t.trimmingCharacters(in: .whitespaces)
    }

    /// An output constraint sent as vLLM's `guided_choice` / `guided_regex`.
    public enum Constraint: Sendable, Equatable {
        case choice([String])
        case regex(String)
    }

    /// One chat completion for the request with the given last turn, notes and constraint.
    public func complete(_ r: ActionRequest, extra: [String], text: String, constraint: Constraint?) async throws -> PlayerAction {
        var req = ChatCompletionRequest(model: model, messages: Self.messages(r, extra: extra, text: text))
        req.temperature = options.temperature
        req.seed = options.seed
        req.stop = .many(["<EOS>", "<|endoftext|>"])
        switch constraint {
        case .choice(let c)?:
            req.guided_choice = c
            req.max_tokens = options.maxTokens
        case .regex(let re)?:
            req.guided_regex = re
            req.max_tokens = options.maxTokens
        case nil:
            req.max_tokens = r.kind == .clue || r.kind == .guess ? options.clueTokens : options.maxTokens
        }
        let c = try await client.complete(req)
        var t = c.choices.first?.message.content ?? ""
        if let e = t.range(of: "<EOS>") { t = String(t[..<e.lowerBound]) }
        t = Self.clean(t, kind: r.kind)
        return PlayerAction(text: t, llmCalls: 1, promptTokens: c.usage.prompt_tokens, completionTokens: c.usage.completion_tokens)
    }
}
