// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import InferenceEngine
import OpenAIServer
import TransformerModels

/// An OpenAI-compatible HTTP server (`/v1/chat/completions`, `/v1/completions`, `/metrics`, the
/// web page) over a model; call `try await app.runService()` to serve.
func makeServer(modelPath: String, port: Int) throws -> (some ApplicationProtocol, EngineClient) {
    let loaded = try ArchitectureRegistry.load(path: modelPath, options: ModelLoadOptions(threads: 2))
    let engine = EngineClient(model: loaded.model, tokenizer: loaded.tokenizer, configuration: EngineConfiguration())
    engine.start()
    let state = ServerState()
    state.service = ChatService(engine: engine, modelName: "my-model", template: loaded.chatTemplate)
    state.ready.store(true, ordering: .relaxed)
    var configuration = ServerConfiguration()
    configuration.port = port
    let app = Application(router: buildRouter(state: state, configuration: configuration),
                          configuration: .init(address: .hostname("127.0.0.1", port: port)))
    return (app, engine)
}
