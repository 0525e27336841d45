// SPDX-License-Identifier: Apache-2.0

/// `POST /v1/completions` request body.
public struct CompletionRequest: Sendable, Codable, Equatable {
    public var model: String
    public var prompt: PromptInput
    public var max_tokens: Int?
    public var temperature: Double?
    public var top_p: Double?
    public var top_k: Int?
    public var min_p: Double?
    public var n: Int?
    public var stop: StringOrArray?
    public var seed: Int?
    public var stream: Bool?
    public var stream_options: StreamOptions?
    public var echo: Bool?
    public var logprobs: Int?
    public var suffix: String?
    public var presence_penalty: Double?
    public var frequency_penalty: Double?
    public var user: String?
    /// vLLM-style constrained decoding: the output must match this regular expression.
    public var guided_regex: String?
    /// vLLM-style constrained decoding: the output must be one of these strings.
    public var guided_choice: [String]?
    /// Key-value labels (OpenAI's `metadata`). Tern reads `task` when it routes requests to quality
    /// tiers (`tern serve --router`).
    public var metadata: [String: String]?

    public init(model: String, prompt: PromptInput) { self.model = model; self.prompt = prompt }
}

/// A completion prompt: text, texts, token ids, or lists of token ids.
public enum PromptInput: Sendable, Equatable, Codable {
    case text(String)
    case texts([String])
    case tokens([Int])
    case tokenLists([[Int]])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .text(s)
        } else if let a = try? c.decode([String].self) {
            self = .texts(a)
        } else if let t = try? c.decode([Int].self) {
            self = .tokens(t)
        } else {
            self = .tokenLists(try c.decode([[Int]].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .text(let s): try c.encode(s)
        case .texts(let a): try c.encode(a)
        case .tokens(let t): try c.encode(t)
        case .tokenLists(let l): try c.encode(l)
        }
    }
}

/// Legacy completion log-probabilities.
public struct CompletionLogprobs: Sendable, Codable, Equatable {
    public var tokens: [String]
    public var token_logprobs: [Double?]
    public var top_logprobs: [[String: Double]?]
    public var text_offset: [Int]
    public init(tokens: [String], token_logprobs: [Double?], top_logprobs: [[String: Double]?], text_offset: [Int]) {
        self.tokens = tokens; self.token_logprobs = token_logprobs; self.top_logprobs = top_logprobs
        self.text_offset = text_offset
    }
}

/// `text_completion` response (and stream chunk).
public struct Completion: Sendable, Codable, Equatable {
    public struct Choice: Sendable, Codable, Equatable {
        public var index: Int
        public var text: String
        public var logprobs: CompletionLogprobs?
        public var finish_reason: String?
        public init(index: Int, text: String, logprobs: CompletionLogprobs?, finish_reason: String?) {
            self.index = index; self.text = text; self.logprobs = logprobs; self.finish_reason = finish_reason
        }
    }
    public var id: String
    public var object = "text_completion"
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?
    /// The backend configuration that served the request (Tern: the quality tier under `--router`).
    public var system_fingerprint: String?
    public init(id: String, created: Int, model: String, choices: [Choice], usage: Usage?) {
        self.id = id; self.created = created; self.model = model; self.choices = choices; self.usage = usage
    }
}

/// `GET /v1/models`.
public struct ModelList: Sendable, Codable, Equatable {
    public struct Model: Sendable, Codable, Equatable {
        public var id: String
        public var object = "model"
        public var created: Int
        public var owned_by: String
        /// vLLM's fields: for a LoRA adapter, `parent` is the base model's id and `root` the adapter's source.
        public var root: String?
        public var parent: String?
        public init(id: String, created: Int, owned_by: String, root: String? = nil, parent: String? = nil) {
            self.id = id; self.created = created; self.owned_by = owned_by; self.root = root; self.parent = parent
        }
    }
    public var object = "list"
    public var data: [Model]
    public init(data: [Model]) { self.data = data }
}

/// OpenAI-style error body.
public struct ErrorResponse: Sendable, Codable, Equatable {
    public struct Body: Sendable, Codable, Equatable {
        public var message: String
        public var type: String
        public var param: String?
        public var code: String?
    }
    public var error: Body
    public init(message: String, type: String, param: String? = nil, code: String? = nil) {
        error = Body(message: message, type: type, param: param, code: code)
    }
}

/// Something that answers chat requests: the in-process engine, a `tern serve` instance over
/// HTTP, or any OpenAI-compatible server. Every Tern system that talks to an LLM goes through it.
public protocol ChatModelClient: Sendable {
    /// One complete response.
    func complete(_ request: ChatCompletionRequest) async throws -> ChatCompletion
    /// A stream of chunks.
    func stream(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatCompletionChunk, any Error>
}

/// `POST /v1/load_lora_adapter` (vLLM's name and fields).
public struct LoadLoRAAdapterRequest: Sendable, Codable, Equatable {
    /// The model id the adapter will be served as.
    public var lora_name: String
    /// Path of the adapter file on the server (inside an `--adapter-dir`).
    public var lora_path: String
    public init(lora_name: String, lora_path: String) { self.lora_name = lora_name; self.lora_path = lora_path }
}

/// `POST /v1/unload_lora_adapter`.
public struct UnloadLoRAAdapterRequest: Sendable, Codable, Equatable {
    /// The adapter's model id.
    public var lora_name: String
    public init(lora_name: String) { self.lora_name = lora_name }
}
