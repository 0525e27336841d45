// SPDX-License-Identifier: Apache-2.0

import Foundation
import GGUF
import TestSupport
import Testing
import Tokenization

struct CorpusFile: Decodable {
    struct Line: Decodable {
        let text: String
        let ids: [Int]
        let ids_plain: [Int]
    }
    let lines: [Line]
}

struct TemplateFile: Decodable {
    struct Case: Decodable {
        let messages: [ChatMessage]
        let add_generation_prompt: Bool
        let rendered: String
    }
    let template: String
    let cases: [Case]
}

/// The real SmolLM2 tokenizer, loaded once.
let smolTokenizer: Tokenizer = {
    let file = try! GGUFFile(path: Fixtures.requireDefaultModel())
    return try! Tokenizer(gguf: file)
}()

@Suite("SmolLM2 tokenizer against llama.cpp")
struct TokenizerAgreementTests {
    static let corpus: [CorpusFile.Line] = {
        Fixtures.decode(CorpusFile.self, "tokenizer/corpus.json").lines
    }()

    @Test("corpus has ≥ 1,000 varied lines")
    func corpusSize() {
        #expect(Self.corpus.count >= 1000)
        #expect(Self.corpus.contains { $0.text.unicodeScalars.contains { $0.value > 0xFFFF } })
        #expect(Self.corpus.contains { $0.text.contains("<|im_start|>") })
    }

    @Test("token ids identical to llama.cpp on every line (special tokens parsed, and as text)", arguments: [true, false])
    func agreement(parseSpecial: Bool) {
        var failures = 0
        for line in Self.corpus {
            let ids = smolTokenizer.encode(line.text, parseSpecial: parseSpecial), want = parseSpecial ? line.ids : line.ids_plain
            if ids != want {
                failures += 1
                if failures <= 10 { Issue.record("text \(line.text.debugDescription): got \(ids) want \(want)") }
            }
        }
        #expect(failures == 0, "\(failures) of \(Self.corpus.count) lines differ")
    }

    @Test("decode(encode(text)) == text for every line")
    func roundTrip() {
        for line in Self.corpus {
            #expect(smolTokenizer.decode(smolTokenizer.encode(line.text, parseSpecial: false)) == line.text)
            #expect(smolTokenizer.decode(line.ids, special: true) == line.text)
        }
    }

    @Test("streaming detokenizer never emits half a character and loses nothing")
    func streaming() {
        for line in Self.corpus {
            var detok = StreamingDetokenizer(tokenizer: smolTokenizer, special: true)
            var out = ""
            for id in line.ids {
                let piece = detok.append(id)
                // Each emitted piece is valid UTF-8 on its own (String(decoding:) would have repaired it otherwise).
                #expect(!piece.contains("\u{FFFD}") || line.text.contains("\u{FFFD}"))
                out += piece
            }
            out += detok.finish()
            #expect(out == line.text)
        }
    }

    @Test("special tokens and metadata")
    func specials() {
        #expect(smolTokenizer.vocabularySize == 49152)
        #expect(smolTokenizer.id(of: "<|im_end|>") == 2)
        #expect(smolTokenizer.endOfGenerationIDs == [0, 2])
        #expect(smolTokenizer.addsBOS == false)
        #expect(smolTokenizer.encode("<|im_start|>", parseSpecial: true) == [1])
        #expect(smolTokenizer.encode("<|im_start|>", parseSpecial: false).count > 1)
        #expect(smolTokenizer.decode([1, 2]) == "")
        #expect(smolTokenizer.decode([1, 2], special: true) == "<|im_start|><|im_end|>")
    }
}

@Suite("Pre-tokenizer and detokenizer units")
struct PreTokenizerTests {
    @Test("GPT-2 splitting rules", arguments: [
        ("Hello world", ["Hello", " world"]),
        ("it's  ok", ["it", "'s", " ", " ok"]),
        ("a\n\nb", ["a", "\n", "\n", "b"]),
        ("x   ", ["x", "   "]),
        ("(hi)!!", ["(", "hi", ")!!"]),
    ])
    func gpt2(_ input: String, _ expected: [String]) {
        #expect(PreTokenizer.gpt2.split(input) == expected)
    }

    @Test("SmolLM splits every digit")
    func digits() {
        #expect(PreTokenizer.smollm.split("abc123 4") == ["abc", "1", "2", "3", " ", "4"])
        #expect(PreTokenizer.smollm.split("").isEmpty)
    }

    @Test("tiny byte-level vocabulary: merges, specials, bytes")
    func tiny() throws {
        let file = try GGUFFile(bytes: TinyModels.llama())
        let t = try Tokenizer(gguf: file)
        let hello = t.encode("hello world")
        #expect(hello.count == 2)
        #expect(t.decode(hello) == "hello world")
        #expect(t.encode("<|im_end|>", parseSpecial: true) == [2])
        let emoji = t.encode("🙂")
        #expect(emoji.count == 4)  // four byte tokens
        var d = StreamingDetokenizer(tokenizer: t)
        #expect(d.append(emoji[0]) == "" && d.append(emoji[1]) == "" && d.append(emoji[2]) == "")
        #expect(d.append(emoji[3]) == "🙂")
        #expect(d.append(bytes: [0xFF]) == "\u{FFFD}")
        #expect(d.append(bytes: [0xE2, 0x82]) == "")
        #expect(d.finish() == "\u{FFFD}")
    }

    @Test("unsupported tokenizer metadata is a clear error")
    func errors() {
        #expect(throws: TokenizationError.unsupportedModel("llama")) {
            try Tokenizer(metadata: ["tokenizer.ggml.model": .string("llama")])
        }
        #expect(throws: TokenizationError.missingMetadata("tokenizer.ggml.tokens")) {
            try Tokenizer(metadata: ["tokenizer.ggml.model": .string("gpt2")])
        }
    }
}

@Suite("Chat templates")
struct ChatTemplateTests {
    static let file: TemplateFile = {
        Fixtures.decode(TemplateFile.self, "chat/smollm2_template.json")
    }()

    @Test("SmolLM2's template renders exactly as jinja2 renders the real template")
    func smollm2() {
        let template = ChatTemplate.detect(from: Self.file.template)
        #expect(template == .chatML(defaultSystem: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        for c in Self.file.cases {
            #expect(template.render(c.messages, addGenerationPrompt: c.add_generation_prompt) == c.rendered)
        }
    }

    @Test("other families are detected by their markers")
    func detection() {
        #expect(ChatTemplate.detect(from: "{{ '<|start_header_id|>' + role + '<|end_header_id|>' }}") == .llama3)
        #expect(ChatTemplate.detect(from: "{{ '[INST] ' + content + ' [/INST]' }}") == .llama2(systemTags: false))
        #expect(ChatTemplate.detect(from: "<<SYS>> [INST]") == .llama2(systemTags: true))
        #expect(ChatTemplate.detect(from: "<start_of_turn>user") == .gemma)
        #expect(ChatTemplate.detect(from: nil) == .chatML(defaultSystem: nil))
        let msgs = [ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "U")]
        #expect(ChatTemplate.llama3.render(msgs, addGenerationPrompt: true)
            == "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        #expect(ChatTemplate.gemma.render(msgs, addGenerationPrompt: true)
            == "<bos><start_of_turn>user\nS\n\nU<end_of_turn>\n<start_of_turn>model\n")
        #expect(ChatTemplate.llama2(systemTags: true).render(msgs, addGenerationPrompt: true)
            == "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nU [/INST]")
    }
}
