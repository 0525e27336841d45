// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
public import OpenAIAPI

/// A ``ChatModelClient`` over HTTP: `POST {baseURL}/chat/completions` on any OpenAI-compatible
/// server (`tern serve`, vLLM, llama.cpp's server), with server-sent events for streaming.
///
/// ```swift
/// let client = OpenAIHTTPClient(baseURL: "http://127.0.0.1:8080/v1")
/// let reply = try await client.complete(ChatCompletionRequest(model: "smollm2-135m", messages: [...]))
/// ```
public struct OpenAIHTTPClient: ChatModelClient {
    /// The API root, e.g. `http://127.0.0.1:8080/v1` (a trailing `/` is ignored).
    public let baseURL: String
    /// Sent as `Authorization: Bearer <key>` when set.
    public let apiKey: String?
    /// Longest a request may take, in seconds.
    public let timeout: Double

    /// Creates a client using AsyncHTTPClient's shared connection pool.
    public init(baseURL: String, apiKey: String? = nil, timeout: Double = 600) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.timeout = timeout
    }

    /// An HTTP error status with the server's error message.
    public struct HTTPError: Error, CustomStringConvertible {
        /// The status code.
        public let status: Int
        /// The server's `error.message`, or the body.
        public let message: String
        public var description: String { "HTTP \(status): \(message)" }
    }

    func request(_ r: some Encodable, path: String = "/chat/completions") throws -> HTTPClientRequest {
        var req = HTTPClientRequest(url: baseURL + path)
        req.method = .POST
        req.headers.add(name: "Content-Type", value: "application/json")
        if let apiKey { req.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        req.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(r)))
        return req
    }

    func failure(_ response: HTTPClientResponse) async -> HTTPError {
        let body = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
        struct Envelope: Decodable {
            struct Inner: Decodable { var message: String }
            var error: Inner
        }
        let message = (try? JSONDecoder().decode(Envelope.self, from: Data(body.utf8)))?.error.message ?? body
        return HTTPError(status: Int(response.status.code), message: message)
    }

    public func complete(_ request: ChatCompletionRequest) async throws -> ChatCompletion {
        var r = request
        r.stream = nil
        r.stream_options = nil
        let response = try await HTTPClient.shared.execute(try self.request(r), timeout: .milliseconds(Int64(timeout * 1000)))
        guard response.status == .ok else { throw await failure(response) }
        let body = try await response.body.collect(upTo: 64 << 20)
        return try JSONDecoder().decode(ChatCompletion.self, from: Data(body.readableBytesView))
    }

    /// A non-streaming text completion: `POST {baseURL}/completions`.
    public func complete(_ request: CompletionRequest) async throws -> Completion {
        var r = request
        r.stream = nil
        r.stream_options = nil
        let response = try await HTTPClient.shared.execute(try self.request(r, path: "/completions"), timeout: .milliseconds(Int64(timeout * 1000)))
        guard response.status == .ok else { throw await failure(response) }
        let body = try await response.body.collect(upTo: 64 << 20)
        return try JSONDecoder().decode(Completion.self, from: Data(body.readableBytesView))
    }

    public func stream(_ request: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatCompletionChunk, any Error> {
        var r = request
        r.stream = true
        let response = try await HTTPClient.shared.execute(try self.request(r), timeout: .milliseconds(Int64(timeout * 1000)))
        guard response.status == .ok else { throw await failure(response) }
        let (out, continuation) = AsyncThrowingStream<ChatCompletionChunk, any Error>.makeStream()
        let task = Task {
            do {
                var parser = ServerSentEvents()
                for try await buffer in response.body {
                    for data in parser.feed(Array(buffer.readableBytesView)) {
                        if data == "[DONE]" {
                            continuation.finish()
                            return
                        }
                        continuation.yield(try JSONDecoder().decode(ChatCompletionChunk.self, from: Data(data.utf8)))
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return out
    }
}

/// Splits a server-sent-events byte stream into the `data` of each event (lines `data: ...`,
/// events separated by a blank line; `\r\n` accepted; comments and other fields ignored).
public struct ServerSentEvents: Sendable {
    var pending: [UInt8] = []
    var data: [String] = []

    /// Creates an empty parser.
    public init() {}

    /// Adds bytes; returns the data of every event they completed.
    public mutating func feed(_ bytes: [UInt8]) -> [String] {
        pending += bytes
        var out: [String] = []
        while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(pending[..<nl])
            pending.removeSubrange(...nl)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.isEmpty {
                if !data.isEmpty { out.append(data.joined(separator: "\n")) }
                data = []
                continue
            }
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("data:") {
                var v = text.dropFirst(5)
                if v.first == " " { v = v.dropFirst() }
                data.append(String(v))
            }
        }
        return out
    }
}
