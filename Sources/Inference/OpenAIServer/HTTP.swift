// SPDX-License-Identifier: Apache-2.0

import Foundation
public import Hummingbird
import NIOCore
import OpenAIAPI

let jsonEncoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.withoutEscapingSlashes]
    return e
}()

/// A JSON response (`application/json`) with `status`.
public func jsonResponse<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? jsonEncoder.encode(value)) ?? Data("{}".utf8)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// The OpenAI error body for `e`, with its status and `Retry-After` when it has one.
func errorResponse(_ e: APIError) -> Response {
    var r = jsonResponse(ErrorResponse(message: e.message, type: e.type, param: e.param, code: e.code), status: e.status)
    if let s = e.retryAfter { r.headers[.retryAfter] = String(s) }
    return r
}

extension Request {
    /// Decodes a JSON body of at most `maxBytes`, turning every decoding problem into a 400 that
    /// names the field (413 for an oversized body). The one decoding step of every route.
    public mutating func decodeJSON<T: Decodable>(_ type: T.Type, maxBytes: Int) async throws(APIError) -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: maxBytes)
        } catch {
            throw APIError(status: .contentTooLarge, message: "request body exceeds \(maxBytes) bytes", type: "invalid_request_error", code: "body_too_large")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let DecodingError.keyNotFound(key, ctx) {
            let path = (ctx.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw .badRequest("missing required field '\(path)'", param: path)
        } catch let DecodingError.typeMismatch(_, ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw .badRequest("field '\(path)' has the wrong type: \(ctx.debugDescription)", param: path)
        } catch let DecodingError.valueNotFound(_, ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw .badRequest("field '\(path)' must not be null", param: path)
        } catch let DecodingError.dataCorrupted(ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw .badRequest(path.isEmpty ? "the body is not valid JSON" : "field '\(path)' is invalid: \(ctx.debugDescription)", param: path.isEmpty ? nil : path)
        } catch {
            throw .badRequest("the body is not valid JSON")
        }
    }
}

/// Server-sent events: `data: <json>\n\n` per item, then `data: [DONE]\n\n`. An error thrown by
/// the stream after the headers went out is sent as one last `data:` error body. A failed write
/// means the client left: the stream is dropped, which cancels the request in the engine.
func sseResponse<S: AsyncSequence & Sendable>(_ stream: S) -> Response where S.Element: Encodable {
    Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
             body: ResponseBody { writer in
                 func send(_ data: Data) async throws {
                     var buf = ByteBuffer(string: "data: ")
                     buf.writeBytes(data)
                     buf.writeString("\n\n")
                     try await writer.write(buf)
                 }
                 do {
                     for try await item in stream { try await send(try jsonEncoder.encode(item)) }
                 } catch let error as any APIErrorConvertible {
                     let e = error.apiError
                     try await send(try jsonEncoder.encode(ErrorResponse(message: e.message, type: e.type, param: e.param, code: e.code)))
                 }
                 try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                 try await writer.finish(nil)
             })
}
