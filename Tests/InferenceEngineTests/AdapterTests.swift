// SPDX-License-Identifier: Apache-2.0

import Foundation
import GGUF
import InferenceEngine
import TestSupport
import Testing
import TransformerModels

/// Greedy decoding through the model directly, with an adapter: the engine's reference.
func referenceWithAdapter(_ model: LlamaModel, _ adapter: LoRAAdapter?, prompt: [Int], maxTokens: Int) throws -> [Int] {
    let cache = model.makeCache(capacity: 256)
    var logits = try model.forward([SequenceChunk(cache: cache, tokens: prompt, adapter: adapter)])[0]
    var out: [Int] = []
    for _ in 0..<maxTokens {
        let next = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!
        out.append(next)
        logits = try model.forward([SequenceChunk(cache: cache, tokens: [next], adapter: adapter)])[0]
    }
    return out
}

/// A temporary directory removed at deinit.
final class TempDir {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "tern-adapters-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

@Suite("LoRA adapters in the serving engine")
struct AdapterEngineTests {
    static func store(_ model: LlamaModel) throws -> AdapterStore {
        let s = AdapterStore(hyperparameters: model.hyperparameters, reservedNames: ["tiny"])
        try s.register(LoRAAdapter.synthetic(name: "a", hyperparameters: model.hyperparameters, rank: 8,
                                             targets: LoRAAdapter.Target.allCases, magnitude: 1, seed: 1))
        try s.register(LoRAAdapter.synthetic(name: "b", hyperparameters: model.hyperparameters, rank: 2,
                                             targets: [.v, .o, .up], magnitude: 0.3, seed: 2))
        return s
    }

    @Test("concurrent requests with different adapters (and none) each equal their reference")
    func mixedAdapters() async throws {
        let (engine, model, _) = try tinyEngine(adapters: Self.store)
        defer { engine.shutdown() }
        let ps = prompts(6)
        let names: [String?] = ["a", nil, "b", "a", nil, "b"]
        let outcomes = try await withThrowingTaskGroup(of: (Int, Outcome).self) { group in
            for i in 0..<ps.count {
                var r = GenerationRequest(prompt: ps[i], maxTokens: 8)
                r.ignoreEndOfGeneration = true
                r.adapter = names[i]
                group.addTask { (i, try await run(engine, r)) }
            }
            var out = [Outcome](repeating: Outcome(), count: ps.count)
            for try await (i, o) in group { out[i] = o }
            return out
        }
        var differs = false
        for i in 0..<ps.count {
            let adapter = names[i].flatMap { engine.adapters?.adapter(named: $0) }
            let ref = try referenceWithAdapter(model, adapter, prompt: ps[i], maxTokens: 8)
            #expect(outcomes[i].tokens == ref, "request \(i) with adapter \(names[i] ?? "none")")
            if names[i] != nil, try referenceWithAdapter(model, nil, prompt: ps[i], maxTokens: 8) != ref { differs = true }
        }
        #expect(differs, "the adapters should change some greedy output")
    }

    @Test("unknown adapters fail at submission; the prefix cache never crosses adapters")
    func unknownAndPrefixIsolation() async throws {
        let (engine, model, _) = try tinyEngine(pageSize: 4, adapters: Self.store)
        defer { engine.shutdown() }
        var r = GenerationRequest(prompt: [5, 6, 7], maxTokens: 2)
        r.adapter = "missing"
        #expect(throws: EngineError.unknownAdapter("missing")) { _ = try engine.submit(r) }

        let prompt = Array(20..<37)  // four full pages of 4 and one more token
        var withA = GenerationRequest(prompt: prompt, maxTokens: 4)
        withA.ignoreEndOfGeneration = true
        withA.adapter = "a"
        let first = try await run(engine, withA)
        #expect(first.cached == 0)
        var base = withA
        base.adapter = nil
        let afterA = try await run(engine, base)
        #expect(afterA.cached == 0, "pages computed under adapter a must not serve the base model")
        #expect(afterA.tokens == (try referenceWithAdapter(model, nil, prompt: prompt, maxTokens: 4)))
        let again = try await run(engine, withA)
        #expect(again.cached == 16 && again.tokens == first.tokens, "the same adapter does reuse its own pages")
    }

    @Test("the store confines loading to allowed directories and checks names and files")
    func storeConfinement() throws {
        let (engine, model, _) = try tinyEngine(start: false)
        _ = engine
        let allowed = try TempDir(), outside = try TempDir()
        let adapter = LoRAAdapter.synthetic(name: "x", hyperparameters: model.hyperparameters, rank: 2, seed: 5)
        try adapter.ggufWriter(architecture: "llama").write(to: allowed.file("good.gguf"))
        try adapter.ggufWriter(architecture: "llama").write(to: outside.file("secret.gguf"))
        try FileManager.default.createSymbolicLink(atPath: allowed.file("escape.gguf"), withDestinationPath: outside.file("secret.gguf"))
        try Data("not a gguf".utf8).write(to: URL(fileURLWithPath: allowed.file("junk.gguf")))

        let store = AdapterStore(hyperparameters: model.hyperparameters, allowedDirectories: [allowed.path], reservedNames: ["tiny"])
        #expect(try store.load(name: "good", path: allowed.file("good.gguf")).maxRank == 2)
        #expect(store.names == ["good"])
        #expect(throws: AdapterStoreError.pathNotAllowed(outside.file("secret.gguf"))) { _ = try store.load(name: "s", path: outside.file("secret.gguf")) }
        #expect(throws: AdapterStoreError.pathNotAllowed(allowed.file("escape.gguf"))) { _ = try store.load(name: "s", path: allowed.file("escape.gguf")) }
        let dotdot = allowed.path + "/../" + URL(fileURLWithPath: outside.path).lastPathComponent + "/secret.gguf"
        #expect(throws: AdapterStoreError.pathNotAllowed(dotdot)) { _ = try store.load(name: "s", path: dotdot) }
        #expect(throws: AdapterStoreError.self) { _ = try store.load(name: "j", path: allowed.file("junk.gguf")) }
        #expect(throws: AdapterStoreError.alreadyLoaded("good")) { _ = try store.load(name: "good", path: allowed.file("good.gguf")) }
        for bad in ["", "tiny", "a/b", "../x", String(repeating: "z", count: 65), "sp ace"] {
            #expect(throws: AdapterStoreError.invalidName(bad)) { _ = try store.load(name: bad, path: allowed.file("good.gguf")) }
        }
        try store.unload("good")
        #expect(store.names.isEmpty)
        #expect(throws: AdapterStoreError.unknown("good")) { try store.unload("good") }
        let closed = AdapterStore(hyperparameters: model.hyperparameters)
        #expect(throws: AdapterStoreError.pathNotAllowed(allowed.file("good.gguf"))) { _ = try closed.load(name: "g", path: allowed.file("good.gguf")) }
    }
}
