// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import GGUF
import Support
import Kernels
import Tokenization
import TransformerModels

/// Sampling and length options, shared by `generate` and `chat`.
struct SamplingOptions: ParsableArguments {
    @Option(name: .customLong("max-tokens"), help: "Maximum tokens to generate.")
    var maxTokens: Int = 256

    @Option(help: "Temperature; 0 means greedy.")
    var temperature: Float = 0.8

    @Option(name: .customLong("top-k"), help: "Top-k (0 = off).")
    var topK: Int = 40

    @Option(name: .customLong("top-p"), help: "Top-p / nucleus (1 = off).")
    var topP: Float = 0.95

    @Option(name: .customLong("min-p"), help: "Min-p (0 = off).")
    var minP: Float = 0.05

    @Option(name: .customLong("repeat-penalty"), help: "Repetition penalty (1 = off).")
    var repeatPenalty: Float = 1

    @Option(name: .customLong("frequency-penalty"), help: "Frequency penalty (0 = off).")
    var frequencyPenalty: Float = 0

    @Option(name: .customLong("presence-penalty"), help: "Presence penalty (0 = off).")
    var presencePenalty: Float = 0

    @Option(help: "Random seed.")
    var seed: UInt64?

    @Option(help: "Stop when this string appears (repeatable).")
    var stop: [String] = []

    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past end-of-generation tokens.")
    var ignoreEOS = false

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be >= 0") }
        guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard minP >= 0 && minP < 1 else { throw ValidationError("--min-p must be in [0, 1)") }
    }

    var generationOptions: GenerationOptions {
        let s = SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP, repetitionPenalty: repeatPenalty,
                                   frequencyPenalty: frequencyPenalty, presencePenalty: presencePenalty, seed: seed)
        return GenerationOptions(maxTokens: maxTokens, sampling: s, stop: stop, ignoreEndOfGeneration: ignoreEOS)
    }
}

/// llama.cpp-style timing lines on stderr.
func printTimings(load: Double, _ t: GenerationTimings) {
    func line(_ label: String, _ ms: Double, _ n: Int, _ tps: Double) -> String {
        String(format: "tern: %@ %10.2f ms / %5d tokens (%8.2f ms per token, %8.2f tokens per second)\n",
               label, ms, n, n > 0 ? ms / Double(n) : 0, tps)
    }
    FileHandleStderr.write(String(format: "tern: load time   %10.2f ms\n", load))
    FileHandleStderr.write(line("prompt eval time", t.promptMilliseconds, t.promptTokens, t.promptTokensPerSecond))
    FileHandleStderr.write(line("eval time       ", t.generationMilliseconds, max(t.generatedTokens - 1, 0), t.generationTokensPerSecond))
}

extension Tern {
    /// `tern generate --prompt "..."`: one completion.
    struct Generate: ParsableCommand, ReportsJSON {
        static let configuration = CommandConfiguration(
            abstract: "Generate a continuation of a prompt (raw text, or a chat turn with --chat).")

        @OptionGroup var modelOptions: ModelOptions<StandardModelDefaults>
        @OptionGroup var sampling: SamplingOptions

        @Option(name: .shortAndLong, help: "The prompt.")
        var prompt: String

        @Flag(help: "Treat the prompt as a user message and apply the model's chat template.")
        var chat = false

        @Option(help: "System message (with --chat).")
        var system: String?

        @OptionGroup var format: JSONOption

        func run() throws {
            let loaded = try modelOptions.load(progress: !json)
            var text = prompt
            if chat {
                var messages: [ChatMessage] = []
                if let system { messages.append(ChatMessage(role: "system", content: system)) }
                messages.append(ChatMessage(role: "user", content: prompt))
                text = loaded.chatTemplate.render(messages, addGenerationPrompt: true)
            }
            // Raw prompts are plain text; chat prompts contain the template's control tokens.
            let ids = loaded.tokenizer.encode(text, parseSpecial: chat)
            guard !ids.isEmpty else { throw CLIError("the prompt is empty") }
            guard ids.count < modelOptions.contextSize else {
                throw CLIError("the prompt has \(ids.count) tokens but the context holds \(modelOptions.contextSize) (raise --ctx-size)")
            }
            let generator = TextGenerator(model: loaded.model, tokenizer: loaded.tokenizer, contextSize: modelOptions.contextSize)
            let result = try generator.generate(prompt: ids, options: sampling.generationOptions) { piece in
                if !json { Stdout.write(piece) }
                return true
            }
            if json {
                let t = result.timings
                let obj: JSONValue = [
                    "model": .string(loaded.path ?? ""),
                    "prompt_tokens": JSONValue(result.promptTokens),
                    "tokens": .array(result.tokens.map { JSONValue($0) }),
                    "text": .string(result.text),
                    "finish_reason": .string(result.finishReason.rawValue),
                    "timings": [
                        "load_ms": JSONValue(loaded.loadSeconds * 1000),
                        "prompt_ms": JSONValue(t.promptMilliseconds),
                        "prompt_tokens_per_second": JSONValue(t.promptTokensPerSecond),
                        "generation_ms": JSONValue(t.generationMilliseconds),
                        "generation_tokens_per_second": JSONValue(t.generationTokensPerSecond),
                    ],
                ]
                Stdout.write(obj.jsonText() + "\n")
            } else {
                Stdout.write("\n")
            }
            printTimings(load: loaded.loadSeconds * 1000, result.timings)
        }
    }

    /// `tern chat`: interactive, streaming, multi-turn.
    struct Chat: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Chat with a model in the terminal (streaming, multi-turn). Commands: /reset, /exit.")

        @OptionGroup var modelOptions: ModelOptions<StandardModelDefaults>
        @OptionGroup var sampling: SamplingOptions

        @Option(help: "System message.")
        var system: String?

        func run() throws {
            let loaded = try modelOptions.load(progress: true)
            let generator = TextGenerator(model: loaded.model, tokenizer: loaded.tokenizer, contextSize: modelOptions.contextSize)
            var messages: [ChatMessage] = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
            let interactive = isatty(STDIN_FILENO) != 0
            FileHandleStderr.write("tern: chatting with \(loaded.path ?? "") (/reset clears the conversation, /exit quits)\n")
            while true {
                if interactive { Stdout.write("> ") }
                guard let line = readLine() else { break }
                let input = line.trimmingCharacters(in: .whitespaces)
                if input.isEmpty { continue }
                if input == "/exit" || input == "/quit" { break }
                if input == "/reset" {
                    messages = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
                    generator.reset()
                    FileHandleStderr.write("tern: conversation cleared\n")
                    continue
                }
                messages.append(ChatMessage(role: "user", content: input))
                let ids = loaded.tokenizer.encode(loaded.chatTemplate.render(messages, addGenerationPrompt: true), parseSpecial: true)
                if ids.count + 1 >= modelOptions.contextSize {
                    FileHandleStderr.write("tern: the conversation no longer fits the context (\(ids.count) tokens); use /reset\n")
                    messages.removeLast()
                    continue
                }
                let result = try generator.generate(prompt: ids, options: sampling.generationOptions, reuseCache: true) { piece in
                    Stdout.write(piece)
                    return true
                }
                Stdout.write("\n")
                messages.append(ChatMessage(role: "assistant", content: result.text))
                printTimings(load: 0, result.timings)
            }
        }
    }
}
