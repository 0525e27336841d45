// SPDX-License-Identifier: Apache-2.0

public import HTTPTypes
public import InferenceEngine

/// An error sent to one HTTP caller as an OpenAI-style body with the right status.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP status.
    public var status: HTTPResponse.Status
    /// Human-readable message.
    public var message: String
    /// `invalid_request_error`, `not_found_error`, `authentication_error`, `server_error`, …
    public var type: String
    /// The offending field, if any.
    public var param: String?
    /// A machine-readable code, if any.
    public var code: String?
    /// Seconds the client should wait before retrying (503/429).
    public var retryAfter: Int?

    public var description: String { "\(status.code) \(type): \(message)" }

    /// 400 naming a field.
    public static func badRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// Maps an engine error to its HTTP meaning.
    public init(_ e: EngineError) {
        switch e {
        case .overloaded:
            self = APIError(status: .serviceUnavailable, message: e.description, type: "server_error", code: "overloaded", retryAfter: 1)
        case .aborted:
            self = APIError(status: .serviceUnavailable, message: e.description, type: "server_error", code: "deadline_exceeded", retryAfter: 1)
        case .shuttingDown:
            self = APIError(status: .serviceUnavailable, message: e.description, type: "server_error", code: "shutting_down", retryAfter: 5)
        case .promptTooLong:
            self = .badRequest(e.description, param: "messages", code: "context_length_exceeded")
        case .exceedsMemory:
            self = .badRequest(e.description, code: "context_length_exceeded")
        case .unknownAdapter:
            self = APIError(status: .notFound, message: e.description, type: "not_found_error", param: "adapter", code: "adapter_not_found")
        case .internalError:
            self = APIError(status: .internalServerError, message: e.description, type: "server_error")
        case .emptyPrompt, .invalidToken, .invalidRequest:
            self = .badRequest(e.description)
        }
    }

    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfter = retryAfter
    }
}
