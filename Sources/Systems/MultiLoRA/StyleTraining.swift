// SPDX-License-Identifier: Apache-2.0

public import InferenceEngine
import Support
import Autograd
public import Foundation
import NeuralNetworks
public import Tensors
public import Tokenization
public import TransformerModels

/// A fixed answer style to teach an adapter: every reply opens with a catch phrase and gives a
/// short answer. Questions are generated from templates over built-in facts (deterministic per
/// seed); the evaluation set uses facts the training set never shows.
public struct AnswerStyleTask: Sendable {
    /// What every reply starts with.
    public var opening: String
    public init(opening: String = "Ahoy, matey!") { self.opening = opening }

    /// One (question, reply) pair.
    public struct Example: Sendable, Equatable {
        public var question: String
        public var reply: String
    }

    static let facts = Gazetteer.capitals
    static let colors: [(String, String)] = [
        ("the sky on a clear day", "blue"), ("fresh grass", "green"), ("snow", "white"), ("coal", "black"),
        ("a ripe banana", "yellow"), ("a ripe tomato", "red"), ("an orange", "orange"), ("a lemon", "yellow"),
    ]

    /// Examples from the first or second part of every fact list (`heldOut` = the evaluation part).
    public func examples(count: Int, heldOut: Bool, seed: UInt64) -> [Example] {
        var g = SeededRandom(seed: seed)
        func split<T>(_ a: [T]) -> [T] { let cut = a.count * 3 / 4; return heldOut ? Array(a[cut...]) : Array(a[..<cut]) }
        let capitals = split(Self.facts), colors = split(Self.colors)
        return (0..<count).map { _ in
            switch Int.random(in: 0..<3, using: &g) {
            case 0:
                let (c, k) = capitals.randomElement(using: &g)!
                return Example(question: "What is the capital of \(c)?", reply: "\(opening) The capital of \(c) is \(k).")
            case 1:
                let a = Int.random(in: 2...20, using: &g), b = Int.random(in: 2...20, using: &g)
                return Example(question: "What is \(a) plus \(b)?", reply: "\(opening) \(a) plus \(b) is \(a + b).")
            default:
                let (thing, color) = colors.randomElement(using: &g)!
                return Example(question: "What color is \(thing)?", reply: "\(opening) It is \(color).")
            }
        }
    }
}

/// Trains a LoRA adapter on the frozen (dequantized) base with our autograd: next-token cross
/// entropy on the reply tokens only (the prompt is context), Adam, linear warm-up.
public final class LoRAStyleTrainer {
    public struct Settings: Sendable {
        public var rank = 8
        public var alpha: Float = 16
        public var targets: [LoRAAdapter.Target] = [.q, .v]
        public var steps = 60
        public var batchSize = 4
        public var learningRate: Float = 2e-3
        public var warmupSteps = 5
        public var seed: UInt64 = 1
        public init() {}
    }

    public let model: TrainableLlama
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    public let settings: Settings
    public let lora: TrainableLoRA
    let optimizer: Adam

    public init(model: TrainableLlama, tokenizer: Tokenizer, template: ChatTemplate, settings: Settings) {
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.settings = settings
        var g = SeededRandom(seed: settings.seed)
        lora = TrainableLoRA(hyperparameters: model.hyperparameters, rank: settings.rank, alpha: settings.alpha,
                             targets: settings.targets, generator: &g)
        optimizer = Adam(lora.parameters, learningRate: settings.learningRate)
    }

    /// The prompt as the server renders it, and the reply tokens the model must produce (ending
    /// with the template's end-of-turn text so the adapter also learns to stop).
    public func encode(_ e: AnswerStyleTask.Example) -> (prompt: [Int], reply: [Int]) {
        let prompt = tokenizer.encode(template.render([ChatMessage(role: "user", content: e.question)], addGenerationPrompt: true), parseSpecial: true)
        let full = tokenizer.encode(template.render([ChatMessage(role: "user", content: e.question),
                                                      ChatMessage(role: "assistant", content: e.reply)], addGenerationPrompt: false),
                                    parseSpecial: true)
        // The reply is what follows the prompt in the full rendering (through the end-of-turn marker).
        let reply = full.count > prompt.count && Array(full[..<prompt.count]) == prompt
            ? Array(full[prompt.count...]) : tokenizer.encode(e.reply, addBOS: false)
        return (prompt, reply)
    }

    /// Mean cross entropy (nats per reply token) of a batch; with `train`, one optimizer step.
    @discardableResult
    public func step(_ batch: [AnswerStyleTask.Example], train: Bool) -> Float {
        let encoded = batch.map(encode)
        let length = encoded.map { $0.prompt.count + $0.reply.count }.max()!
        var tokens: [[Int]] = [], rows: [Int] = [], labels: [Int32] = []
        for (b, e) in encoded.enumerated() {
            let seq = e.prompt + e.reply
            tokens.append(seq + [Int](repeating: seq.last!, count: length - seq.count))
            // Position t predicts token t+1: every reply token is a label.
            for t in (e.prompt.count - 1)..<(seq.count - 1) {
                rows.append(b * length + t)
                labels.append(Int32(seq[t + 1]))
            }
        }
        if !train {
            return withoutGradient { Loss.crossEntropy(model.logits(tokens, rows: rows, lora: lora), labels: labels).value.scalars[0] }
        }
        optimizer.zeroGradients()
        let loss = Loss.crossEntropy(model.logits(tokens, rows: rows, lora: lora), labels: labels)
        loss.backward()
        optimizer.step()
        return loss.value.scalars[0]
    }

    /// Runs the schedule over `examples` (cycled in order), reporting `(step, loss, seconds)`.
    public func train(_ examples: [AnswerStyleTask.Example], progress: (Int, Float, Double) -> Void) {
        let start = Date()
        for s in 0..<settings.steps {
            optimizer.learningRate = settings.learningRate * min(1, Float(s + 1) / Float(max(settings.warmupSteps, 1)))
            let batch = (0..<settings.batchSize).map { examples[(s * settings.batchSize + $0) % examples.count] }
            let loss = step(batch, train: true)
            progress(s + 1, loss, Date().timeIntervalSince(start))
        }
    }
}

extension EngineClient {
    /// The replies to `questions`, each one user turn rendered with `template`, under `adapter`
    /// (nil: the base model): all submitted at once, so they share the engine's batches. How a
    /// trained style adapter is checked where it is served.
    public func replies(to questions: [String], template: ChatTemplate, adapter: String?, maxTokens: Int) async throws -> [String] {
        let streams = try questions.map { q in
            let prompt = tokenizer.encode(template.render([ChatMessage(role: "user", content: q)], addGenerationPrompt: true), parseSpecial: true)
            return try submit(GenerationRequest(prompt: prompt, maxTokens: maxTokens, adapter: adapter))
        }
        var out: [String] = []
        for s in streams {
            var text = ""
            for try await event in s { if case .token(_, let piece, _) = event { text += piece } }
            out.append(text)
        }
        return out
    }
}
