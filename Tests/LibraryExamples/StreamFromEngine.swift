// SPDX-License-Identifier: Apache-2.0

import InferenceEngine
import TransformerModels

/// Serves several prompts at once through the continuous-batching engine and collects each text.
func completeConcurrently(modelPath: String, prompts: [String]) async throws -> [String] {
    let loaded = try ArchitectureRegistry.load(path: modelPath, options: ModelLoadOptions(threads: 2))
    let engine = EngineClient(model: loaded.model, tokenizer: loaded.tokenizer, configuration: EngineConfiguration())
    engine.start()
    defer { engine.shutdown() }
    return try await withThrowingTaskGroup(of: (Int, String).self) { group in
        for (i, prompt) in prompts.enumerated() {
            let stream = try engine.submit(GenerationRequest(prompt: loaded.tokenizer.encode(prompt), maxTokens: 16))
            group.addTask {
                var text = ""
                for try await event in stream {
                    if case .token(_, let piece, _) = event { text += piece }
                }
                return (i, text)
            }
        }
        var texts = [String](repeating: "", count: prompts.count)
        for try await (i, text) in group { texts[i] = text }
        return texts
    }
}
