// SPDX-License-Identifier: Apache-2.0

import Foundation
public import GGUF
public import InferenceEngine
import Synchronization
public import Tokenization
public import TransformerModels

/// An engine over a tiny random-weight Llama (TinyModels.llama), started unless `start` is false.
public func tinyEngine(kvMemory: Int = 8 << 20, pageSize: Int = 4, maxBatch: Int = 32, maxRunning: Int = 16, maxWaiting: Int = 64,
                prefix: Bool = true, start: Bool = true, adapters: ((any LanguageModel) throws -> any AdapterSource)? = nil,
                policy: any SchedulingPolicy = FCFSScheduler(),
                configure: (inout EngineConfiguration) -> Void = { _ in }) throws -> (EngineClient, any LanguageModel, Tokenizer) {
    let loaded = try ArchitectureRegistry.load(file: GGUFFile(bytes: TinyModels.llama()),
                                               options: ModelLoadOptions(threads: 1, maxBatchTokens: maxBatch, maxContext: 256))
    let model = loaded.model, tokenizer = loaded.tokenizer
    var c = EngineConfiguration()
    c.kvMemoryBytes = kvMemory; c.pageSize = pageSize; c.contextSize = 256; c.prefixCaching = prefix
    c.maxBatchTokens = maxBatch; c.maxRunningSequences = maxRunning; c.maxWaitingRequests = maxWaiting
    configure(&c)
    let engine = EngineClient(model: model, tokenizer: tokenizer, configuration: c, policy: policy, adapters: try adapters?(model))
    if start { engine.start() }
    return (engine, model, tokenizer)
}

/// What one engine request produced.
public struct RequestOutcome: Sendable {
    public var tokens: [Int] = []
    public var text = ""
    public var finish: FinishReason?
    public var cached = 0
    public init() {}
}

/// Runs `r` to the end and collects what it produced.
public func run(_ engine: EngineClient, _ r: GenerationRequest) async throws -> RequestOutcome {
    var o = RequestOutcome()
    for try await e in try engine.submit(r) {
        switch e {
        case .started(_, let cached): o.cached = cached
        case .token(let id, let text, _):
            if id >= 0 { o.tokens.append(id) }
            o.text += text
        case .finished(let reason, _, _): o.finish = reason
        }
    }
    return o
}


/// A fixed set of in-memory adapters: the engine's adapter hook without S-LoRA's store (a fake
/// for engine tests; `MultiLoRA.AdapterStore` is the real one and is tested beside it).
public final class FixedAdapters: AdapterSource {
    private let adapters: Mutex<[String: LoRAAdapter]>

    public init(_ adapters: [LoRAAdapter]) {
        self.adapters = Mutex(Dictionary(uniqueKeysWithValues: adapters.map { ($0.name, $0) }))
    }

    public func adapter(named name: String) -> LoRAAdapter? { adapters.withLock { $0[name] } }
    public func contains(_ name: String) -> Bool { adapters.withLock { $0[name] != nil } }
    public var names: [String] { adapters.withLock { $0.keys.sorted() } }
}

/// `n` distinct prompts of tokens in 3..<253, lengths `length` to `length + 4`.
public func prompts(_ n: Int, length: Int = 9) -> [[Int]] {
    (0..<n).map { i in (0..<(length + i % 5)).map { (7 * $0 + 13 * i) % 250 + 3 } }
}

/// Reference: one sequence at a time through the plain generator.
public func reference(_ model: any LanguageModel, _ tokenizer: Tokenizer, prompt: [Int], maxTokens: Int) throws -> [Int] {
    let g = TextGenerator(model: model, tokenizer: tokenizer, contextSize: 256)
    return try g.generate(prompt: prompt, options: GenerationOptions(maxTokens: maxTokens, sampling: .greedy, ignoreEndOfGeneration: true)).tokens
}
