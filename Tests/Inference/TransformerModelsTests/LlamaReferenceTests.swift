// SPDX-License-Identifier: Apache-2.0

import Foundation
import GGUF
import TestSupport
import Testing
import Tokenization
import TransformerModels

struct ReferenceFile: Decodable {
    struct Prompt: Decodable {
        let name: String
        let kind: String
        let text: String
        let prompt_ids: [Int]
        let top5_ids: [Int]
        let top5_logits: [Float]
        let greedy_ids: [Int]
        let greedy_margins: [Float]
        let greedy_logits: [Float]
        let messages: [ChatMessage]?
    }
    let prompts: [Prompt]
}

/// The real model, loaded once for the suite.
let smol: (model: any LanguageModel, tokenizer: Tokenizer, template: ChatTemplate) = {
    let loaded = try! ArchitectureRegistry.load(path: Fixtures.requireDefaultModel(), options: ModelLoadOptions(threads: 2))
    return (loaded.model, loaded.tokenizer, loaded.chatTemplate)
}()

@Suite("SmolLM2-135M against llama.cpp (committed reference)", .serialized)
struct LlamaReferenceTests {
    static let reference: ReferenceFile = {
        Fixtures.decode(ReferenceFile.self, "llama/smollm2_reference.json")
    }()

    @Test("at least 8 prompts, chat and raw")
    func coverage() {
        #expect(Self.reference.prompts.count >= 8)
        #expect(Self.reference.prompts.contains { $0.kind == "chat" } && Self.reference.prompts.contains { $0.kind == "raw" })
    }

    @Test("prompt tokens, top-5 at the last prompt position, 64 greedy tokens",
          arguments: LlamaReferenceTests.reference.prompts.map(\.name))
    func agreement(_ name: String) throws {
        let p = try #require(Self.reference.prompts.first { $0.name == name })
        // Our tokenizer and chat template produce the same prompt ids.
        #expect(smol.tokenizer.encode(p.text, parseSpecial: true) == p.prompt_ids)
        if let messages = p.messages {
            #expect(smol.template.render(messages, addGenerationPrompt: true) == p.text)
        }
        let cache = smol.model.makeCache(capacity: 512)
        var logits = try smol.model.forward([SequenceChunk(cache: cache, tokens: p.prompt_ids)])[0]
        let top5 = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }.prefix(5)
        #expect(Array(top5) == p.top5_ids, "top-5 \(Array(top5)) vs llama.cpp \(p.top5_ids)")
        // Kernels reproduce ggml's arithmetic order, so logits agree to float precision, not just in rank.
        for (i, id) in p.top5_ids.enumerated() {
            #expect(abs(logits[id] - p.top5_logits[i]) <= 1e-4 * max(1, abs(p.top5_logits[i])),
                    "logit of \(id): \(logits[id]) vs \(p.top5_logits[i])")
        }
        var ours: [Int] = []
        for step in 0..<p.greedy_ids.count {
            let next = logits.withUnsafeBufferPointer { Sampler.argmax($0) }
            ours.append(next)
            #expect(abs(logits[next] - p.greedy_logits[step]) <= 1e-4 * max(1, abs(p.greedy_logits[step])),
                    "\(name) step \(step): logit \(logits[next]) vs \(p.greedy_logits[step])")
            if next != p.greedy_ids[step] {
                Issue.record("\(name): diverged at greedy step \(step): ours \(next), llama.cpp \(p.greedy_ids[step]) (llama.cpp top-2 margin \(p.greedy_margins[step]))")
                return
            }
            if step + 1 < p.greedy_ids.count {
                logits = try smol.model.forward([SequenceChunk(cache: cache, tokens: [next])])[0]
            }
        }
        #expect(ours == p.greedy_ids)
        // The smallest margin this prompt survived, for the record (some are below 0.001).
        print("\(name): 64/64 greedy tokens equal to llama.cpp; smallest llama.cpp top-2 margin on the path \(p.greedy_margins.min() ?? 0)")
    }
}
