// SPDX-License-Identifier: Apache-2.0

import InferenceEngine
import MultiLoRA
import TransformerModels

/// S-LoRA serving: many LoRA adapters over one base model in one continuous batch, each request
/// naming its adapter; adapters load from llama.cpp GGUF or PEFT directories.
func serveTwoAdapters(modelPath: String, adapterA: String, adapterB: String) async throws -> [String] {
    let loaded = try ArchitectureRegistry.load(path: modelPath, options: ModelLoadOptions(threads: 2))
    let store = AdapterStore(hyperparameters: loaded.model.hyperparameters, architecture: loaded.model.architecture)
    _ = try store.loadTrusted(name: "a", path: adapterA)
    _ = try store.loadTrusted(name: "b", path: adapterB)
    var configuration = EngineConfiguration()
    configuration.adapterResidency = SLoRAResidency()  // load queued requests' adapters into pool pages ahead
    let engine = EngineClient(model: loaded.model, tokenizer: loaded.tokenizer, configuration: configuration, adapters: store)
    engine.start()
    defer { engine.shutdown() }
    var texts: [String] = []
    for name in ["a", "b"] {
        var request = GenerationRequest(prompt: loaded.tokenizer.encode("Hello"), maxTokens: 8)
        request.adapter = name
        var text = ""
        for try await event in try engine.submit(request) {
            if case .token(_, let piece, _) = event { text += piece }
        }
        texts.append(text)
    }
    return texts
}
