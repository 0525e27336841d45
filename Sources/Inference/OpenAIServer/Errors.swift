// SPDX-License-Identifier: Apache-2.0

public import HTTPTypes
public import Hummingbird
public import InferenceEngine

/// An error a route may throw that has an HTTP meaning: ``ErrorMiddleware`` turns it into an
/// OpenAI-style error body with the right status. Modules above the server (a system's own routes)
/// conform their error types to it.
public protocol APIErrorConvertible: Error {
    /// The status, message, type, parameter and code the caller gets.
    var apiError: APIError { get }
}

/// An error sent to one HTTP caller as an OpenAI-style body with the right status.
public struct APIError: APIErrorConvertible, Sendable, Equatable, CustomStringConvertible {
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
    public var apiError: APIError { self }

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

extension EngineError: APIErrorConvertible {
    public var apiError: APIError { APIError(self) }
}

extension RoutingError: APIErrorConvertible {
    /// A label the router cannot use is a 400 naming the field, a request shed under load a 503.
    public var apiError: APIError {
        switch self {
        case .invalidLabel(let message, let parameter): .badRequest(message, param: parameter)
        case .shed(let message):
            APIError(status: .serviceUnavailable, message: message, type: "server_error", code: "dropped_by_router", retryAfter: 1)
        }
    }
}

/// The one place typed errors become HTTP responses: every route below it just throws. An
/// ``APIErrorConvertible`` error gets its OpenAI-style body; anything else is a 500 that names it.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any APIErrorConvertible {
            return errorResponse(error.apiError)
        } catch let error as any HTTPResponseError {
            // Hummingbird's own errors (an unknown route, a body it could not read) keep their
            // status and get the same OpenAI body as everything else.
            let notFound = error.status == .notFound
            return errorResponse(APIError(status: error.status,
                                          message: notFound ? "no route for \(request.method) \(request.uri.path)" : "\(error)",
                                          type: notFound ? "not_found_error" : "invalid_request_error", code: notFound ? "unknown_route" : nil))
        } catch {
            return errorResponse(APIError(status: .internalServerError, message: "\(error)", type: "server_error"))
        }
    }
}
