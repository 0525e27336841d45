// SPDX-License-Identifier: Apache-2.0

/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// `system`, `user`, `assistant` or `tool`.
    public var role: String
    /// The message text.
    public var content: String

    /// Creates a message.
    public init(role: String, content: String) { self.role = role; self.content = content }
}

/// Conversation formats, detected from a model's `tokenizer.chat_template` by substring (as
/// llama.cpp does) and rendered by hand instead of by a Jinja engine.
///
/// ```swift
/// let template = ChatTemplate.detect(from: file.string("tokenizer.chat_template"))
/// let prompt = template.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true)
/// ```
public enum ChatTemplate: Sendable, Equatable {
    /// `<|im_start|>role\ncontent<|im_end|>\n`; `defaultSystem` is inserted when the conversation
    /// has no system message (SmolLM2's rule).
    case chatML(defaultSystem: String?)
    /// Llama 3: `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>`.
    case llama3
    /// Llama 2 / Mistral: `[INST] … [/INST]` with the system prompt folded into the first user turn.
    case llama2(systemTags: Bool)
    /// Gemma: `<start_of_turn>user\n…<end_of_turn>\n`, assistant role spelled `model`.
    case gemma

    /// Picks the format whose markers appear in `template`; ChatML when unknown or absent.
    public static func detect(from template: String?) -> ChatTemplate {
        guard let t = template else { return .chatML(defaultSystem: nil) }
        if t.contains("<|im_start|>") { return .chatML(defaultSystem: defaultSystemPrompt(in: t)) }
        if t.contains("<|start_header_id|>") && t.contains("<|end_header_id|>") { return .llama3 }
        if t.contains("<start_of_turn>") { return .gemma }
        if t.contains("[INST]") { return .llama2(systemTags: t.contains("<<SYS>>")) }
        return .chatML(defaultSystem: nil)
    }

    /// A literal default system prompt in a ChatML template
    /// (`'<|im_start|>system\n…<|im_end|>` written inside a string literal), if present.
    static func defaultSystemPrompt(in t: String) -> String? {
        let marker = "<|im_start|>system\n"
        var rest = Substring(t)
        while let r = rest.firstRange(of: marker) {
            let after = rest[r.upperBound...]
            if let end = after.firstRange(of: "<|im_end|>") {
                let text = after[..<end.lowerBound]
                if !text.isEmpty && !text.contains("{{") && !text.contains("{%") && !text.contains("'") && !text.contains("+") {
                    return String(text)
                }
            }
            rest = after
        }
        return nil
    }

    /// Renders `messages` as prompt text; `addGenerationPrompt` opens the assistant's turn.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var s = ""
        switch self {
        case .chatML(let defaultSystem):
            if let d = defaultSystem, messages.first?.role != "system" {
                s += "<|im_start|>system\n\(d)<|im_end|>\n"
            }
            for m in messages { s += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { s += "<|im_start|>assistant\n" }
        case .llama3:
            s += "<|begin_of_text|>"
            for m in messages { s += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n\(m.content)<|eot_id|>" }
            if addGenerationPrompt { s += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        case .llama2(let systemTags):
            var system: String?
            var first = true
            for m in messages {
                switch m.role {
                case "system": system = m.content
                case "user":
                    var content = m.content
                    if let sys = system, first {
                        content = systemTags ? "<<SYS>>\n\(sys)\n<</SYS>>\n\n\(content)" : "\(sys)\n\n\(content)"
                    }
                    s += "<s>[INST] \(content) [/INST]"
                    first = false
                default: s += " \(m.content)</s>"
                }
            }
        case .gemma:
            s += "<bos>"
            var system: String?
            for m in messages {
                if m.role == "system" { system = m.content; continue }
                let role = m.role == "assistant" ? "model" : m.role
                var content = m.content
                if let sys = system, role == "user" {
                    content = "\(sys)\n\n\(content)"
                    system = nil
                }
                s += "<start_of_turn>\(role)\n\(content)<end_of_turn>\n"
            }
            if addGenerationPrompt { s += "<start_of_turn>model\n" }
        }
        return s
    }
}
