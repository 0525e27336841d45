// SPDX-License-Identifier: Apache-2.0

public import Hummingbird
import OpenAIAPI

/// The generation endpoints, `POST /v1/chat/completions` and `POST /v1/completions`: one shape
/// for both.
func addGenerationRoutes(to router: Router<BasicRequestContext>, state: ServerState, maxBodyBytes: Int) {
    addGenerationRoute("/v1/chat/completions", ChatCompletionRequest.self, to: router, state: state, maxBodyBytes: maxBodyBytes,
                       prepare: { try $0.prepare($1) }, whole: { try await $0.completion($1) }, chunks: { try $0.chunks($1, includeUsage: $2) })
    addGenerationRoute("/v1/completions", CompletionRequest.self, to: router, state: state, maxBodyBytes: maxBodyBytes,
                       prepare: { try $0.prepare($1) }, whole: { try await $0.completion($1) }, chunks: { try $0.chunks($1, includeUsage: $2) })
}

/// One generation endpoint: the body decoded, validated once into a typed request (`prepare`),
/// then answered whole or as server-sent chunks.
func addGenerationRoute<Body: StreamableRequest, Prepared, Whole: Encodable, Chunk: StreamChunk>(
    _ path: RouterPath, _ body: Body.Type, to router: Router<BasicRequestContext>, state: ServerState, maxBodyBytes: Int,
    prepare: @escaping @Sendable (ChatService, Body) throws -> Prepared,
    whole: @escaping @Sendable (ChatService, Prepared) async throws -> Whole,
    chunks: @escaping @Sendable (ChatService, Prepared, Bool) throws -> AsyncThrowingStream<Chunk, any Error>
) {
    router.post(path) { request, _ -> Response in
        var request = request
        let body = try await request.decodeJSON(Body.self, maxBytes: maxBodyBytes)
        let service = try state.requireService()
        let prepared = try prepare(service, body)
        if body.stream == true { return sseResponse(try chunks(service, prepared, body.stream_options?.include_usage == true)) }
        return jsonResponse(try await whole(service, prepared))
    }
}
