// SPDX-License-Identifier: Apache-2.0

import Foundation
import InferenceEngine
import MultiAgentGames
import OpenAIAPI
import Synchronization
import Testing

/// A chat client answering from a closure and recording every request.
final class FakeChatClient: ChatModelClient {
    let requests = Mutex<[ChatCompletionRequest]>([])
    let answer: @Sendable (ChatCompletionRequest) -> String
    init(_ answer: @escaping @Sendable (ChatCompletionRequest) -> String) { self.answer = answer }

    func complete(_ request: ChatCompletionRequest) async throws -> ChatCompletion {
        requests.withLock { $0.append(request) }
        let text = answer(request)
        return ChatCompletion(id: "x", created: 0, model: request.model,
                              choices: [.init(index: 0, message: ChatCompletionMessage(role: "assistant", content: text), finish_reason: "stop")],
                              usage: Usage(prompt: 100, completion: 10))
    }

    func stream(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatCompletionChunk, any Error> {
        AsyncThrowingStream { $0.finish() }
    }
}

@Suite("PGM-aware agent")
struct PGMTests {
    @Test("belief initialisation as released")
    func initialRows() {
        let x = BeliefPGM(chameleonGameMe: 2, isChameleon: true)
        #expect(x.p == [[0, 0.5, 0.5], [0.5, 0, 0.5], [0, 0, 1]])
        let n = BeliefPGM(chameleonGameMe: 0, isChameleon: false)
        #expect(n.p[0] == [0, 0.5, 0.5])
        let third: [Double] = [1.0 / 3, 1.0 / 3, 1.0 / 3]
        #expect(n.p[1] == third)
        #expect(BeliefPGM(undercoverGameMe: 1).p.allSatisfy { $0 == third })
    }

    @Test("update: row softmax of P * (1 + 0.1 factor); vote and clue target")
    func update() {
        var b = BeliefPGM(chameleonGameMe: 0, isChameleon: false)
        b.update([[0, 1, -1], [0, 0, 0], [0, 0, 0]])
        let z = 1 + exp(0.55) + exp(0.45)
        #expect(abs(b.p[0][0] - 1 / z) < 1e-12)
        #expect(abs(b.p[0][1] - exp(0.55) / z) < 1e-12)
        #expect(abs(b.p[0][2] - exp(0.45) / z) < 1e-12)
        #expect(b.p[1].allSatisfy { abs($0 - 1.0 / 3) < 1e-12 })
        #expect(b.vote == 1)
        // Column "how suspicious each finds me": [1/z, 1/3, 1/3] -> the most suspecting other, ties to the later.
        #expect(b.target == 2)
        var x = BeliefPGM(chameleonGameMe: 2, isChameleon: true)
        #expect(x.vote == 1)   // its own row is one-hot on itself: it skips itself
        #expect(x.target == 0) // the least suspecting player
        x.update([[0, 0, 1], [0, 0, -1], [0, 0, 0]])
        #expect(x.target == 1)
    }

    @Test("templates: the rendered analysis matches the constraint regex and parses back")
    func templates() throws {
        for chameleon in [false, true] {
            let ratings = ProbeTemplates.sections(speaker: 1, chameleon: chameleon).map { $0.targets.enumerated().map { $0.offset % 3 } }
            let text = ProbeTemplates.render(speaker: 1, chameleon: chameleon, ratings: ratings, guess: "Grape")
            let re = try RegexConstraint(ProbeTemplates.regex(speaker: 1, chameleon: chameleon))
            #expect(re.isComplete(Array(text.utf8)), "\(text)")
            let f = GameParsers.pgmFactors(text, speaker: 1)
            if chameleon { #expect(f.guess == "Grape" && f.factor[1] == [0, 0, 0]) } else { #expect(f.factor[1] == [1, 0, -1]) }
        }
        // The released chameleon template: its guess line matches its own regex but the parser skips it.
        let rel = ProbeTemplates.render(speaker: 1, chameleon: true, ratings: [[0, 1], [2, 0]], guess: "Grape", releasedTemplate: true)
        #expect(try RegexConstraint(ProbeTemplates.regex(speaker: 1, chameleon: true, releasedTemplate: true)).isComplete(Array(rel.utf8)))
        #expect(GameParsers.pgmFactors(rel, speaker: 1).guess == nil)
        // Every constraint the LLM player sends compiles.
        for kind in [ActionKind.vote, .guess, .identityProbe, .pgmProbe, .proposal, .proposalVote, .decision, .contribution] {
            for game in GameKind.allCases {
                let r = ActionRequest(player: 0, kind: kind, text: "", rules: "", observation: [], context: GameContext(game: game, me: 0, role: "x"))
                if case .regex(let p)? = ChatPlayer.constraint(for: r) { _ = try RegexConstraint(p) }
            }
        }
        let proposal = ActionRequest(player: 0, kind: .proposal, text: "", rules: "", observation: [], context: GameContext(game: .costSharing, me: 0, role: "airline"))
        guard case .regex(let p)? = ChatPlayer.constraint(for: proposal) else { Issue.record("no proposal regex"); return }
        #expect(try RegexConstraint(p).isComplete(Array(ScriptedDefender.formatProposal([50, 25, 25]).utf8)))
    }

    @Test("the agent analyses new clues once, votes from its belief, and gives its clue a target")
    func agent() async throws {
        let client = FakeChatClient { r in
            if r.guided_regex?.hasPrefix("As Player 1") == true {
                return "As Player 1, I think:\nPlayer 2 is less suspicious\nPlayer 3 is more suspicious\nI think now Player 2 thinks:\nPlayer 1 is more suspicious\nPlayer 3 is no change\nI think now Player 3 thinks:\nPlayer 1 is no change\nPlayer 2 is no change"
            }
            return "It grows on vines."
        }
        let agent = PGMAgent(base: ChatPlayer(client: client, model: "fake"))
        var c = GameContext(game: .chameleon, me: 0, role: "non-chameleon")
        c.word = "Grape"
        c.topic = "Fruits"
        await agent.reset(player: 0, context: c)
        // Before its first clue, with two clues on the table: the whole multi-line analysis is kept.
        c.clues = [[], ["It makes wine."], ["It is red."]]
        let first = try await agent.act(ActionRequest(player: 0, kind: .clue, text: "Now you speak.", rules: "rules", observation: [], context: c))
        #expect(first.notes.first?.split(separator: "\n").count == 9, "\(first.notes)")
        #expect(first.llmCalls == 2)
        await agent.reset(player: 0, context: c)
        client.requests.withLock { $0.removeAll() }
        c.clues = [["It is purple."], ["It makes wine."], ["It is red."]]
        let vote = try await agent.act(ActionRequest(player: 0, kind: .vote, text: "Vote now.", rules: "rules", observation: [], context: c))
        #expect(vote.text == "I vote for Player 3.")
        #expect(vote.llmCalls == 1 && vote.notes.count == 1)
        let b = try #require(await agent.currentBelief)
        #expect(b.p[0][2] > b.p[0][1])
        // No new clue: no new analysis; the clue request names the player who suspects us most (Player 2).
        let clue = try await agent.act(ActionRequest(player: 0, kind: .clue, text: "Now you speak.", rules: "rules", observation: [], context: c))
        #expect(clue.llmCalls == 1 && clue.text == "It grows on vines.")
        let last = try #require(client.requests.withLock { $0.last })
        #expect(last.guided_regex == nil)
        #expect(last.messages.last?.content?.contains("Player 2 suspects you most") == true)
        #expect(last.messages.last?.content?.contains("Player 3 is more suspicious") == true)  // its latest analysis is in view
        #expect(client.requests.withLock { $0.count } == 2)
    }

    @Test("economic games: a prediction analysis, then the decision under its constraint")
    func gameTheory() async throws {
        let client = FakeChatClient { r in r.guided_choice != nil ? "Defect" : "As Player 2, I think:\nPlayer 1 will defect\nPlayer 3 will cooperate" }
        let agent = PGMAgent(base: ChatPlayer(client: client, model: "fake"))
        let r = ActionRequest(player: 1, kind: .decision, text: "Decide.", rules: "rules", observation: [], context: GameContext(game: .prisoner, me: 1, role: "prisoner"))
        let a = try await agent.act(r)
        #expect(a.text == "Defect" && a.llmCalls == 2)
        let reqs = client.requests.withLock { $0 }
        #expect(reqs[0].guided_regex == "As Player 2, I think:\\nPlayer 1 will (cooperate|defect)\\nPlayer 3 will (cooperate|defect)")
        #expect(reqs[1].guided_choice == ["Cooperate", "Defect"])
    }

    @Test("free text: speaker tags the model copies from the transcript are dropped, clues keep one line")
    func cleaning() {
        #expect(ChatPlayer.clean(" [Player 3]: It's red.\nMore text", kind: .clue) == "It's red.")
        #expect(ChatPlayer.clean("[Moderator->all]: [Player 1]: Wine", kind: .clue) == "Wine")
        #expect(ChatPlayer.clean("Airline A: 50%\nAirline B: 25%", kind: .proposal) == "Airline A: 50%\nAirline B: 25%")
        #expect(ChatPlayer.clean("[x] not a tag", kind: .clue) == "[x] not a tag")
        // Bare "Player k: " / "Moderator->all: " prefixes go too; a name inside the text stays.
        #expect(ChatPlayer.clean("Player 1: It makes wine.", kind: .clue) == "It makes wine.")
        #expect(ChatPlayer.clean("Moderator->all: Player 3: I vote for Player 2.", kind: .vote) == "I vote for Player 2.")
        #expect(ChatPlayer.clean("Player 2's clue was vague", kind: .clue) == "Player 2's clue was vague")
        #expect(ChatPlayer.clean("As Player 1, I think:\nPlayer 2 is no change", kind: .pgmProbe) == "As Player 1, I think:\nPlayer 2 is no change")
    }

    @Test("LLM prompt assembly: rules + name as system, others as user turns with <EOS>, own as assistant")
    func prompt() {
        let obs = [
            GameMessage(agent: "Moderator", content: "The topic is: Fruits", turn: 0, kind: "moderator"),
            GameMessage(agent: "Player 1", content: "It is red.", turn: 1, kind: "clue"),
            GameMessage(agent: "Player 2", content: "It is round.", turn: 2, kind: "clue"),
            GameMessage(agent: "Player 3", content: "It is sweet.", turn: 3, kind: "clue"),
        ]
        let r = ActionRequest(player: 1, kind: .vote, text: "Vote now.", rules: "RULES", observation: obs, context: GameContext(game: .chameleon, me: 1, role: "x"))
        let m = ChatPlayer.messages(r, text: r.text)
        #expect(m.map(\.role) == ["system", "user", "assistant", "user"])
        #expect(m[0].content == "RULES\nYour messages always end with <EOS>.\nYour name is Player 2.")
        #expect(m[1].content == "[Moderator->all]: The topic is: Fruits<EOS>\n[Player 1]: It is red.<EOS>")
        #expect(m[2].content == "It is round.<EOS>")
        #expect(m[3].content == "[Player 3]: It is sweet.<EOS>\nVote now.")
    }
}
