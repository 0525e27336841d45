// SPDX-License-Identifier: Apache-2.0

public import Hummingbird
import OpenAIAPI

/// `POST /v1/chat/completions`: decoded and validated once into a ``ChatService/PreparedChat``,
/// then answered whole or as server-sent chunks.
func addChatRoutes(to router: Router<BasicRequestContext>, state: ServerState, maxBodyBytes: Int) {
    router.post("/v1/chat/completions") { request, _ -> Response in
        var request = request
        let body = try await request.decodeJSON(ChatCompletionRequest.self, maxBytes: maxBodyBytes)
        let service = try state.requireService()
        let prepared = try service.prepare(body)
        if body.stream == true {
            return sseResponse(try service.chunks(prepared, includeUsage: body.stream_options?.include_usage == true))
        }
        return jsonResponse(try await service.completion(prepared))
    }
}
