// SPDX-License-Identifier: Apache-2.0

import Foundation
import GGUF
public import Hummingbird
public import InferenceEngine
public import OpenAIServer
import Tokenization
public import TransformerModels

/// A server over a tiny random-weight model.
/// `routes` adds a system's routes after the server's own (as `tern serve` does).
public func tinyServer(maxWaiting: Int = 64, apiKey: String? = nil, maxBody: Int = 1 << 20, ready: Bool = true, context: Int = 1024,
                       adapters: ((any LanguageModel) throws -> any AdapterSource)? = nil, router: (any RequestRouter)? = nil,
                       routes: (Router<BasicRequestContext>, ServerState) -> Void = { _, _ in })
    throws -> (Application<RouterResponder<BasicRequestContext>>, EngineClient) {
    let loaded = try ArchitectureRegistry.load(file: GGUFFile(bytes: TinyModels.llama()),
                                               options: ModelLoadOptions(threads: 1, maxBatchTokens: 256, maxContext: context))
    let model = loaded.model, tokenizer = loaded.tokenizer
    var c = EngineConfiguration()
    c.kvMemoryBytes = 4 << 20
    c.pageSize = 8
    c.contextSize = context
    c.maxBatchTokens = 256
    c.maxWaitingRequests = maxWaiting
    let engine = EngineClient(model: model, tokenizer: tokenizer, configuration: c, adapters: try adapters?(model))
    engine.start()
    let state = ServerState()
    if ready {
        state.service = ChatService(engine: engine, modelName: "tiny", template: loaded.chatTemplate,
                                    router: router)
        state.ready.store(true, ordering: .relaxed)
    }
    var sc = ServerConfiguration()
    sc.apiKey = apiKey
    sc.maxBodyBytes = maxBody
    let router = buildRouter(state: state, configuration: sc)
    routes(router, state)
    return (Application(router: router), engine)
}

public func body(_ json: String) -> ByteBuffer { ByteBuffer(string: json) }
public let jsonHeaders: HTTPFields = [.contentType: "application/json"]

public func decode<T: Decodable>(_ type: T.Type, _ buffer: ByteBuffer) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
}

/// Parses an SSE body into its `data:` payloads.
public func events(_ buffer: ByteBuffer) -> [String] {
    String(buffer: buffer).components(separatedBy: "\n\n").compactMap { block in
        block.hasPrefix("data: ") ? String(block.dropFirst(6)) : nil
    }
}


/// SmolLM2-135M behind the in-process `ChatService` (the client `tern agent`, `tern arena` and the
/// chat benchmarks use by default): 4096 positions, 128 MiB of KV, two threads.
public func smolLM2Service() throws -> (ChatService, EngineClient) {
    let loaded = try ArchitectureRegistry.load(path: Fixtures.requireDefaultModel(),
                                               options: ModelLoadOptions(threads: 2, maxBatchTokens: 512, maxContext: 4096))
    var c = EngineConfiguration()
    c.contextSize = 4096
    c.kvMemoryBytes = 128 << 20
    let engine = EngineClient(model: loaded.model, tokenizer: loaded.tokenizer, configuration: c)
    engine.start()
    return (ChatService(engine: engine, modelName: "smollm2", template: loaded.chatTemplate), engine)
}
