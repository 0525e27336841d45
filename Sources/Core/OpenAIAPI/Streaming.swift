// SPDX-License-Identifier: Apache-2.0

/// A request that may ask for a streamed answer (`stream`, `stream_options.include_usage`).
public protocol StreamableRequest: Sendable, Decodable {
    var stream: Bool? { get }
    var stream_options: StreamOptions? { get }
}

extension ChatCompletionRequest: StreamableRequest {}
extension CompletionRequest: StreamableRequest {}

/// One server-sent chunk of a streamed answer: an id, a creation time, the model, the choices of
/// this chunk, usage on the last one, and the fingerprint of what served it.
public protocol StreamChunk: Sendable, Encodable {
    associatedtype Choice: Sendable
    init(id: String, created: Int, model: String, choices: [Choice], usage: Usage?)
    var system_fingerprint: String? { get set }
}

extension ChatCompletionChunk: StreamChunk {}
extension Completion: StreamChunk {}
