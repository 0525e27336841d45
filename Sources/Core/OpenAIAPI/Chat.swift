// SPDX-License-Identifier: Apache-2.0

public import Support

/// `POST /v1/chat/completions` request body (the subset Tern implements, plus `top_k`/`min_p`).
public struct ChatCompletionRequest: Sendable, Codable, Equatable {
    public var model: String
    public var messages: [ChatCompletionMessage]
    public var temperature: Double?
    public var top_p: Double?
    public var top_k: Int?
    public var min_p: Double?
    public var max_tokens: Int?
    public var max_completion_tokens: Int?
    public var n: Int?
    public var stop: StringOrArray?
    public var seed: Int?
    public var stream: Bool?
    public var stream_options: StreamOptions?
    public var tools: [Tool]?
    public var tool_choice: ToolChoice?
    public var response_format: ResponseFormat?
    public var presence_penalty: Double?
    public var frequency_penalty: Double?
    public var logprobs: Bool?
    public var top_logprobs: Int?
    public var user: String?
    /// vLLM-style constrained decoding: the output must match this regular expression.
    public var guided_regex: String?
    /// vLLM-style constrained decoding: the output must be one of these strings.
    public var guided_choice: [String]?
    /// Key-value labels (OpenAI's `metadata`). Tern reads `task` when it routes requests to quality
    /// tiers (`tern serve --router`).
    public var metadata: [String: String]?

    public init(model: String, messages: [ChatCompletionMessage]) { self.model = model; self.messages = messages }
}

/// One chat message. `content` may be a string or a list of text parts on input.
public struct ChatCompletionMessage: Sendable, Codable, Equatable {
    public var role: String
    public var content: String?
    public var name: String?
    public var tool_calls: [ToolCall]?
    public var tool_call_id: String?

    public init(role: String, content: String?, name: String? = nil, tool_calls: [ToolCall]? = nil, tool_call_id: String? = nil) {
        self.role = role; self.content = content; self.name = name; self.tool_calls = tool_calls; self.tool_call_id = tool_call_id
    }

    enum CodingKeys: String, CodingKey { case role, content, name, tool_calls, tool_call_id }

    struct TextPart: Codable {
        var type: String
        var text: String?
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decode(String.self, forKey: .role)
        if let s = try? c.decodeIfPresent(String.self, forKey: .content) {
            content = s
        } else if let parts = try? c.decodeIfPresent([TextPart].self, forKey: .content) {
            content = parts.compactMap { $0.type == "text" ? $0.text : nil }.joined()
        } else if try c.decodeNil(forKey: .content) || !c.contains(.content) {
            content = nil
        } else {
            throw DecodingError.dataCorruptedError(forKey: .content, in: c, debugDescription: "content must be a string or a list of text parts")
        }
        name = try c.decodeIfPresent(String.self, forKey: .name)
        tool_calls = try c.decodeIfPresent([ToolCall].self, forKey: .tool_calls)
        tool_call_id = try c.decodeIfPresent(String.self, forKey: .tool_call_id)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encode(content, forKey: .content)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(tool_calls, forKey: .tool_calls)
        try c.encodeIfPresent(tool_call_id, forKey: .tool_call_id)
    }
}

/// `stream_options`.
public struct StreamOptions: Sendable, Codable, Equatable {
    public var include_usage: Bool?
    public init(include_usage: Bool?) { self.include_usage = include_usage }
}

/// A function the model may call.
public struct Tool: Sendable, Codable, Equatable {
    public var type: String
    public var function: FunctionDefinition
    public init(function: FunctionDefinition) {
        type = "function"
        self.function = function
    }
}

/// A function's name, description and JSON-schema parameters.
public struct FunctionDefinition: Sendable, Codable, Equatable {
    public var name: String
    public var description: String?
    public var parameters: JSONValue?
    public init(name: String, description: String? = nil, parameters: JSONValue? = nil) {
        self.name = name; self.description = description; self.parameters = parameters
    }
}

/// `tool_choice`: `"none"`, `"auto"`, `"required"` or a named function.
public enum ToolChoice: Sendable, Equatable, Codable {
    case none, auto, required
    case function(String)

    struct Named: Codable {
        struct Function: Codable { var name: String }
        var type: String
        var function: Function
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            switch s {
            case "none": self = .none
            case "auto": self = .auto
            case "required": self = .required
            default: throw DecodingError.dataCorruptedError(in: c, debugDescription: "tool_choice must be none, auto, required or a function")
            }
        } else {
            self = .function(try c.decode(Named.self).function.name)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .none: try c.encode("none")
        case .auto: try c.encode("auto")
        case .required: try c.encode("required")
        case .function(let n): try c.encode(Named(type: "function", function: .init(name: n)))
        }
    }
}

/// `response_format`: `{"type": "text" | "json_object" | "json_schema", "json_schema": {...}}`.
public struct ResponseFormat: Sendable, Codable, Equatable {
    public var type: String
    public var json_schema: JSONSchemaFormat?
    public init(type: String, json_schema: JSONSchemaFormat? = nil) { self.type = type; self.json_schema = json_schema }
}

/// The named schema of a `json_schema` response format.
public struct JSONSchemaFormat: Sendable, Codable, Equatable {
    public var name: String?
    public var schema: JSONValue?
    public var strict: Bool?
}

/// A tool call made by the model.
public struct ToolCall: Sendable, Codable, Equatable {
    public var id: String
    public var type: String
    public var function: FunctionCall
    public init(id: String, function: FunctionCall) {
        self.id = id
        type = "function"
        self.function = function
    }
}

/// A function name and its JSON-encoded arguments.
public struct FunctionCall: Sendable, Codable, Equatable {
    public var name: String
    public var arguments: String
    public init(name: String, arguments: String) { self.name = name; self.arguments = arguments }
}

/// Token counts of a request.
public struct Usage: Sendable, Codable, Equatable {
    public var prompt_tokens: Int
    public var completion_tokens: Int
    public var total_tokens: Int
    public init(prompt: Int, completion: Int) {
        prompt_tokens = prompt
        completion_tokens = completion
        total_tokens = prompt + completion
    }
}

/// Log-probabilities of a chat completion.
public struct ChatLogprobs: Sendable, Codable, Equatable {
    public struct Entry: Sendable, Codable, Equatable {
        public var token: String
        public var logprob: Double
        public var bytes: [UInt8]?
        public var top_logprobs: [Top]
        public init(token: String, logprob: Double, bytes: [UInt8]?, top_logprobs: [Top]) {
            self.token = token; self.logprob = logprob; self.bytes = bytes; self.top_logprobs = top_logprobs
        }
    }
    public struct Top: Sendable, Codable, Equatable {
        public var token: String
        public var logprob: Double
        public var bytes: [UInt8]?
        public init(token: String, logprob: Double, bytes: [UInt8]?) { self.token = token; self.logprob = logprob; self.bytes = bytes }
    }
    public var content: [Entry]
    public init(content: [Entry]) { self.content = content }
}

/// `chat.completion` response.
public struct ChatCompletion: Sendable, Codable, Equatable {
    public struct Choice: Sendable, Codable, Equatable {
        public var index: Int
        public var message: ChatCompletionMessage
        public var finish_reason: String
        public var logprobs: ChatLogprobs?
        public init(index: Int, message: ChatCompletionMessage, finish_reason: String, logprobs: ChatLogprobs? = nil) {
            self.index = index; self.message = message; self.finish_reason = finish_reason; self.logprobs = logprobs
        }
    }
    public var id: String
    public var object = "chat.completion"
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage
    /// The backend configuration that served the request (Tern: the quality tier under `--router`).
    public var system_fingerprint: String?
    public init(id: String, created: Int, model: String, choices: [Choice], usage: Usage) {
        self.id = id; self.created = created; self.model = model; self.choices = choices; self.usage = usage
    }
}

/// `chat.completion.chunk` (one SSE event).
public struct ChatCompletionChunk: Sendable, Codable, Equatable {
    public struct Delta: Sendable, Codable, Equatable {
        public var role: String?
        public var content: String?
        public var tool_calls: [ToolCallDelta]?
        public init(role: String? = nil, content: String? = nil, tool_calls: [ToolCallDelta]? = nil) {
            self.role = role; self.content = content; self.tool_calls = tool_calls
        }
    }
    public struct ToolCallDelta: Sendable, Codable, Equatable {
        public var index: Int
        public var id: String?
        public var type: String?
        public var function: FunctionDelta
        public init(index: Int, id: String?, type: String?, function: FunctionDelta) {
            self.index = index; self.id = id; self.type = type; self.function = function
        }
    }
    public struct FunctionDelta: Sendable, Codable, Equatable {
        public var name: String?
        public var arguments: String?
        public init(name: String?, arguments: String?) { self.name = name; self.arguments = arguments }
    }
    public struct Choice: Sendable, Codable, Equatable {
        public var index: Int
        public var delta: Delta
        public var finish_reason: String?
        public var logprobs: ChatLogprobs?
        public init(index: Int, delta: Delta, finish_reason: String?, logprobs: ChatLogprobs? = nil) {
            self.index = index; self.delta = delta; self.finish_reason = finish_reason; self.logprobs = logprobs
        }
    }
    public var id: String
    public var object = "chat.completion.chunk"
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?
    /// The backend configuration that served the request (Tern: the quality tier under `--router`).
    public var system_fingerprint: String?
    public init(id: String, created: Int, model: String, choices: [Choice], usage: Usage? = nil) {
        self.id = id; self.created = created; self.model = model; self.choices = choices; self.usage = usage
    }
}
