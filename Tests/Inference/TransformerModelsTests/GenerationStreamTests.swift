// SPDX-License-Identifier: Apache-2.0

import TestSupport
import Testing
import Tokenization
import TransformerModels

@Suite("GenerationStream: the one output loop of generate, chat and the engine")
struct GenerationStreamTests {
    let tokenizer = try! tinyModel().1

    func feed(_ text: String, stop: [String] = [], maxTokens: Int = 100) -> (text: String, finish: FinishReason?, accepted: Int) {
        var stream = GenerationStream(prompt: [5], options: GenerationOptions(maxTokens: maxTokens, stop: stop), tokenizer: tokenizer)
        var out = ""
        for id in tokenizer.encode(text) {
            let step = stream.accept(id)
            out += step.text
            if let f = step.finish { return (out, f, stream.generated) }
        }
        return (out + stream.flush(), nil, stream.generated)
    }

    @Test("a stop string split across tokens ends the text before it and drops what follows")
    func stopString() {
        let r = feed("hello world, the end", stop: ["world"])
        #expect(r.text == "hello " && r.finish == .stop)
        // A partial match that never completes is released at the end.
        let partial = feed("hello wor", stop: ["world"])
        #expect(partial.text == "hello wor" && partial.finish == nil)
    }

    @Test("the token limit ends with .length; text held for a possible stop string comes out of flush")
    func limit() {
        var stream = GenerationStream(prompt: [5, 6], options: GenerationOptions(maxTokens: 2, stop: ["xyz"]), tokenizer: tokenizer)
        let ids = tokenizer.encode("ax")
        #expect(ids.count == 2)
        #expect(stream.accept(ids[0]) == GenerationStream.Step(text: "a", finish: nil))
        #expect(stream.accept(ids[1]) == GenerationStream.Step(text: "", finish: .length))
        #expect(stream.generated == 2 && stream.tokens.count == 4)
        #expect(stream.flush() == "x")
        #expect(stream.flush() == "")
    }

    @Test("an end-of-generation token stops and releases the held text; ignoreEndOfGeneration goes on")
    func endOfGeneration() {
        let eog = tokenizer.endOfGenerationIDs.first!
        var stream = GenerationStream(prompt: [5], options: GenerationOptions(stop: ["world"]), tokenizer: tokenizer)
        for id in tokenizer.encode("say wor") { _ = stream.accept(id) }
        let end = stream.accept(eog)
        #expect(end == GenerationStream.Step(text: "wor", finish: .stop))
        var going = GenerationStream(prompt: [5], options: GenerationOptions(ignoreEndOfGeneration: true), tokenizer: tokenizer)
        #expect(going.accept(eog).finish == nil)
    }

    @Test("TextGenerator and the stream agree: greedy text on the tiny model, stop string included")
    func generatorUsesStream() throws {
        let (model, tok) = try tinyModel()
        let generator = TextGenerator(model: model, tokenizer: tok, contextSize: 128)
        let options = GenerationOptions(maxTokens: 12, sampling: .greedy, ignoreEndOfGeneration: true)
        let full = try generator.generate(prompt: [5, 70, 200], options: options)
        // Stopping at a piece of the greedy text gives exactly the text before it.
        try #require(full.text.count >= 4, "the tiny model produces text to cut")
        let cut = String(full.text.dropFirst(2).prefix(2))
        var stopping = options
        stopping.stop = [cut]
        let stopped = try generator.generate(prompt: [5, 70, 200], options: stopping)
        let expected = String(full.text[..<full.text.range(of: cut)!.lowerBound])
        #expect(stopped.text == expected && stopped.finishReason == .stop)
    }
}
