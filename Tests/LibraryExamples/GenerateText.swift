// SPDX-License-Identifier: Apache-2.0

import Tokenization
import TransformerModels

/// Loads a GGUF model and answers one chat turn, greedily.
func generateText(modelPath: String, question: String) throws -> String {
    let loaded = try ArchitectureRegistry.load(path: modelPath, options: ModelLoadOptions(threads: 2))
    let prompt = loaded.chatTemplate.render([ChatMessage(role: "user", content: question)], addGenerationPrompt: true)
    let generator = TextGenerator(model: loaded.model, tokenizer: loaded.tokenizer)
    let result = try generator.generate(prompt: loaded.tokenizer.encode(prompt, parseSpecial: true),
                                        options: GenerationOptions(maxTokens: 24, sampling: .greedy))
    return result.text
}
