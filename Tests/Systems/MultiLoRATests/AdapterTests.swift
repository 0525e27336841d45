// SPDX-License-Identifier: Apache-2.0

import Support
import Foundation
import GGUF
import InferenceEngine
import MultiLoRA
import TestSupport
import Tokenization
import Testing
import TransformerModels

/// Greedy decoding through the model directly, with an adapter: the engine's reference.
func referenceWithAdapter(_ model: any LanguageModel, _ adapter: LoRAAdapter?, prompt: [Int], maxTokens: Int) throws -> [Int] {
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

/// Runs one greedy request per prompt (with the matching adapter) concurrently; outcomes in prompt order.
func runConcurrently(_ engine: EngineClient, prompts ps: [[Int]], adapters names: [String?], maxTokens: Int) async throws -> [RequestOutcome] {
    try await withThrowingTaskGroup(of: (Int, RequestOutcome).self) { group in
        for i in 0..<ps.count {
            var r = GenerationRequest(prompt: ps[i], maxTokens: maxTokens)
            r.ignoreEndOfGeneration = true
            r.adapter = names[i]
            group.addTask { (i, try await run(engine, r)) }
        }
        var out = [RequestOutcome](repeating: RequestOutcome(), count: ps.count)
        for try await (i, o) in group { out[i] = o }
        return out
    }
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
    static func store(_ model: any LanguageModel) throws -> AdapterStore {
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
        let outcomes = try await runConcurrently(engine, prompts: ps, adapters: names, maxTokens: 8)
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

    @Test("a disk tier: a directory of adapters registers without loading; requests read them; an LRU host budget evicts")
    func diskTier() async throws {
        let dir = try TempDir()
        let (engine, model, _) = try tinyEngine(start: false, adapters: { m in
            let hp = m.hyperparameters
            for i in 0..<5 {
                let a = LoRAAdapter.synthetic(name: "d\(i)", hyperparameters: hp, rank: 4, targets: [.q, .v], magnitude: 1, seed: UInt64(10 + i))
                try a.ggufWriter(architecture: "llama").write(to: dir.file("d\(i).gguf"))
            }
            try Data("not an adapter".utf8).write(to: URL(fileURLWithPath: dir.file("notes.txt")))  // ignored: not *.gguf
            let one = LoRAAdapter.synthetic(name: "x", hyperparameters: hp, rank: 4, targets: [.q, .v], magnitude: 1, seed: 10).byteCount
            let s = AdapterStore(hyperparameters: hp, allowedDirectories: [dir.path], hostBudgetBytes: 2 * one)
            #expect(try s.registerDirectory(dir.path) == 5)
            return s
        })
        engine.start()
        defer { engine.shutdown() }
        let store = try #require(engine.adapters as? AdapterStore)
        #expect(store.names == ["d0", "d1", "d2", "d3", "d4"] && store.diskStats.loads == 0 && store.contains("d3"))
        // Requests read adapters from disk; outputs equal the adapter's reference.
        let ps = prompts(3)
        let out = try await runConcurrently(engine, prompts: ps, adapters: ["d0", "d1", "d2"], maxTokens: 6)
        for i in 0..<3 {
            let a = LoRAAdapter.synthetic(name: "d\(i)", hyperparameters: model.hyperparameters, rank: 4, targets: [.q, .v], magnitude: 1, seed: UInt64(10 + i))
            // The GGUF round trip stores f32, so the weights are identical.
            #expect(out[i].tokens == (try referenceWithAdapter(model, a, prompt: ps[i], maxTokens: 6)), "adapter d\(i)")
        }
        #expect(store.diskStats.loads == 3 && store.diskStats.cached == 2)  // budget: two in memory
        _ = store.adapter(named: "d2")  // in memory: no read
        #expect(store.diskStats.loads == 3)
        _ = store.adapter(named: "d0")  // evicted earlier: read again, evicting d1 (least recent)
        #expect(store.diskStats.loads == 4 && store.diskStats.cached == 2)
        try store.unload("d4")
        #expect(!store.contains("d4") && store.names.count == 4)
        // A broken file in a registered directory stops registration with the reason.
        try Data("GGUF broken".utf8).write(to: URL(fileURLWithPath: dir.file("zz.gguf")))
        let fresh = AdapterStore(hyperparameters: model.hyperparameters, allowedDirectories: [dir.path])
        #expect(throws: AdapterStoreError.self) { try fresh.registerDirectory(dir.path) }
        // Outside the allowed directories, nothing registers.
        let other = AdapterStore(hyperparameters: model.hyperparameters, allowedDirectories: ["/tmp/definitely-not-here"])
        #expect(throws: AdapterStoreError.pathNotAllowed(dir.file("d0.gguf"))) { try other.registerOnDisk(name: "d0", path: dir.file("d0.gguf")) }
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

/// Writes a safetensors file (F32 or F16) the way PyTorch's `safetensors.torch.save_file` does.
func writeSafeTensors(_ tensors: [(String, [Int], [Float])], f16: Bool = false, to path: String) throws {
    var header: [String: Any] = ["__metadata__": ["format": "pt"]]
    var payload = Data()
    for (name, shape, values) in tensors {
        let begin = payload.count
        for v in values {
            if f16 {
                withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { payload.append(contentsOf: $0) }
            } else {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { payload.append(contentsOf: $0) }
            }
        }
        header[name] = ["dtype": f16 ? "F16" : "F32", "shape": shape, "data_offsets": [begin, payload.count]]
    }
    let json = try JSONSerialization.data(withJSONObject: header)
    var file = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
    file.append(json)
    file.append(payload)
    try file.write(to: URL(fileURLWithPath: path))
}

@Suite("PEFT adapters")
struct PEFTAdapterTests {
    @Test("a PEFT directory loads with llama.cpp's Q/K row permutation and PEFT's scales")
    func peftLayout() throws {
        let (engine, model, _) = try tinyEngine(start: false)
        _ = engine
        let hp = model.hyperparameters
        let dir = try TempDir()
        let r = 4
        var rng = SeededRandom(seed: 12)
        var tensors: [(String, [Int], [Float])] = []
        var expected: [String: ([Float], [Float])] = [:]
        for (proj, target) in [("q_proj", LoRAAdapter.Target.q), ("k_proj", .k), ("v_proj", .v), ("down_proj", .down)] {
            let (i, o) = target.dimensions(hp)
            let section = target == .down ? "mlp" : "self_attn"
            let a = rng.floats(r * i), b = rng.floats(o * r)
            let stem = "base_model.model.model.layers.1.\(section).\(proj)"
            tensors.append((stem + ".lora_A.weight", [r, i], a))
            tensors.append((stem + ".lora_B.weight", [o, r], b))
            expected[proj] = (a, b)
        }
        try writeSafeTensors(tensors, to: dir.file("adapter_model.safetensors"))
        try Data(#"{"peft_type":"LORA","r":4,"lora_alpha":8,"target_modules":["q_proj","k_proj","v_proj","down_proj"],"bias":"none"}"#.utf8)
            .write(to: URL(fileURLWithPath: dir.file("adapter_config.json")))
        let store = AdapterStore(hyperparameters: hp, allowedDirectories: [dir.path])
        let adapter = try store.load(name: "peft", path: dir.path)
        #expect(adapter.targets == [.q, .k, .v, .down] && adapter.maxRank == 4)
        #expect(adapter.pair(layer: 0, .q) == nil)
        let q = try #require(adapter.pair(layer: 1, .q)), k = try #require(adapter.pair(layer: 1, .k)), v = try #require(adapter.pair(layer: 1, .v))
        #expect(q.scale == 2 && q.a == expected["q_proj"]!.0)
        #expect(v.b == expected["v_proj"]!.1, "v is not permuted")
        // Row (head h, half p, index j) of the HF layout lands at row h·d + 2j + p.
        let d = hp.headDim, half = d / 2
        let hfB = expected["k_proj"]!.1
        for h in 0..<hp.kvHeads { for p in 0..<2 { for j in 0..<half { for c in 0..<r {
            #expect(k.b[(h * d + 2 * j + p) * r + c] == hfB[(h * d + p * half + j) * r + c])
        }}}}
        #expect(q.b != expected["q_proj"]!.1 && Set(q.b) == Set(expected["q_proj"]!.1), "q rows are permuted, not changed")

        // rsLoRA scale, F16 weights, and refusals with reasons.
        try Data(#"{"r":4,"lora_alpha":8,"use_rslora":true}"#.utf8).write(to: URL(fileURLWithPath: dir.file("adapter_config.json")))
        try writeSafeTensors(tensors, f16: true, to: dir.file("adapter_model.safetensors"))
        let rs = try store.load(name: "rs", path: dir.path)
        #expect(rs.pair(layer: 1, .v)!.scale == 4 && abs(rs.pair(layer: 1, .v)!.a[0] - Float(Float16(expected["v_proj"]!.0[0]))) == 0)
        try Data(#"{"r":4,"lora_alpha":8,"bias":"all"}"#.utf8).write(to: URL(fileURLWithPath: dir.file("adapter_config.json")))
        #expect(throws: AdapterStoreError.self) { _ = try store.load(name: "bias", path: dir.path) }
        try Data(#"{"r":4,"lora_alpha":8}"#.utf8).write(to: URL(fileURLWithPath: dir.file("adapter_config.json")))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir.file("adapter_model.safetensors")))
        bytes = bytes.prefix(bytes.count - 10)
        try bytes.write(to: URL(fileURLWithPath: dir.file("adapter_model.safetensors")))
        do {
            _ = try store.load(name: "cut", path: dir.path)
            Issue.record("a truncated safetensors file was accepted")
        } catch {
            #expect("\(error)".contains("outside the file"), "\(error)")
        }
        // Hostile headers are errors, never traps: shapes whose product overflows, offsets past the
        // end or reversed, negative dimensions (found worth checking by fuzz/run.sh safetensors).
        for header in [#"{"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#,
                       #"{"x":{"dtype":"F32","shape":[-2,-2],"data_offsets":[0,16]}}"#,
                       #"{"x":{"dtype":"F16","shape":[2],"data_offsets":[9223372036854775807,-9223372036854775805]}}"#,
                       #"{"x":{"dtype":"F16","shape":[2],"data_offsets":[4,0]}}"#,
                       #"{"x":{"dtype":"F32","shape":[1]}}"#, #"[1,2]"#, #"{"#, #"{"x":"F32"}"#, #"{"x":5}"#, #"{"x":null}"#] {
            var file = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { file.append(contentsOf: $0) }
            file.append(contentsOf: Array(header.utf8) + [UInt8](repeating: 0, count: 8))
            try file.write(to: URL(fileURLWithPath: dir.file("adapter_model.safetensors")))
            #expect(throws: AdapterStoreError.self, "\(header)") { _ = try store.load(name: "hostile", path: dir.path) }
        }
    }
}

@Suite("Unified paging: adapters in the KV pool")
struct UnifiedPagingTests {
    @Test("adapters take pool pages while used and give them back; outputs match the host path")
    func residency() async throws {
        // f16-exact adapter weights, so the paged (f16) and host (f32) copies hold the same values.
        func exact(_ a: LoRAAdapter) -> LoRAAdapter {
            LoRAAdapter(name: a.name, alpha: a.alpha, pairs: a.pairs.map { row in row.map { p in p.map {
                LoRAAdapter.Pair(a: $0.a.map { Float(Float16($0)) }, b: $0.b.map { Float(Float16($0)) }, rank: $0.rank,
                                 inputs: $0.inputs, outputs: $0.outputs, scale: $0.scale)
            }}})
        }
        let (engine, model, _) = try tinyEngine(kvMemory: 1 << 20, adapters: { m in
            let s = AdapterStore(hyperparameters: m.hyperparameters)
            try s.register(exact(LoRAAdapter.synthetic(name: "a", hyperparameters: m.hyperparameters, rank: 8,
                                                       targets: LoRAAdapter.Target.allCases, magnitude: 1, seed: 1)))
            try s.register(exact(LoRAAdapter.synthetic(name: "b", hyperparameters: m.hyperparameters, rank: 4, magnitude: 1, seed: 2)))
            return s
        })
        defer { engine.shutdown() }
        let idle = engine.drainStats()
        #expect(idle.usedPages == 0)
        let ps = prompts(4)
        let names = ["a", "b", "a", nil]
        let outs = try await runConcurrently(engine, prompts: ps, adapters: names, maxTokens: 10)
        for i in 0..<ps.count {
            let ref = try referenceWithAdapter(model, names[i].flatMap { engine.adapters?.adapter(named: $0) }, prompt: ps[i], maxTokens: 10)
            #expect(outs[i].tokens == ref, "request \(i)")
        }
        // Let the engine publish its idle state.
        var stats = engine.drainStats()
        for _ in 0..<500 where stats.residentAdapters > 0 || stats.running > 0 {
            try await Task.sleep(for: .milliseconds(20))
            stats = engine.drainStats()
        }
        #expect(stats.adapterLoads >= 2, "both adapters were loaded into the pool")
        #expect(stats.residentAdapters == 0 && stats.adapterPages == 0, "offloaded once idle")
        #expect(stats.usedPages == 0, "every KV and adapter page is back")
    }
}

/// `a` with f16-exact weights, so paged (f16) and host (f32) copies hold the same values.
func f16Exact(_ a: LoRAAdapter) -> LoRAAdapter {
    LoRAAdapter(name: a.name, alpha: a.alpha, pairs: a.pairs.map { row in row.map { p in p.map {
        LoRAAdapter.Pair(a: $0.a.map { Float(Float16($0)) }, b: $0.b.map { Float(Float16($0)) }, rank: $0.rank,
                         inputs: $0.inputs, outputs: $0.outputs, scale: $0.scale)
    }}})
}

@Suite("S-LoRA ablations: padded bmm and a separate adapter pool")
struct SLoRAAblationTests {
    static func mixedRanks(_ m: any LanguageModel) throws -> AdapterStore {
        let s = AdapterStore(hyperparameters: m.hyperparameters)
        try s.register(f16Exact(LoRAAdapter.synthetic(name: "a", hyperparameters: m.hyperparameters, rank: 8,
                                                      targets: LoRAAdapter.Target.allCases, magnitude: 1, seed: 1)))
        try s.register(f16Exact(LoRAAdapter.synthetic(name: "b", hyperparameters: m.hyperparameters, rank: 2, magnitude: 1, seed: 2)))
        return s
    }

    @Test("padded batched matmul (ranks 8 and 2 in one batch) gives each request its reference output")
    func paddedBMM() async throws {
        let (engine, model, _) = try tinyEngine(adapters: Self.mixedRanks) { $0.loraBatching = .paddedBMM }
        defer { engine.shutdown() }
        let ps = prompts(5)
        let names: [String?] = ["a", "b", nil, "b", "a"]
        let outs = try await runConcurrently(engine, prompts: ps, adapters: names, maxTokens: 8)
        for i in 0..<ps.count {
            let ref = try referenceWithAdapter(model, names[i].flatMap { engine.adapters?.adapter(named: $0) }, prompt: ps[i], maxTokens: 8)
            #expect(outs[i].tokens == ref, "request \(i) with adapter \(names[i] ?? "none")")
        }
    }

    @Test("merge-swap: adapters merged into f32 weights one at a time give the unmerged outputs")
    func mergeSwap() async throws {
        let file = try GGUFFile(bytes: TinyModels.llama())
        let targets = Set(LoRAAdapter.Target.allCases)
        let merge = try MergeSwapWeights(base: file, targets: targets, threads: 1, maxBatchTokens: 32, maxContext: 256)
        let store = try AdapterEngineTests.store(merge.model)
        var c = EngineConfiguration()
        c.kvMemoryBytes = 8 << 20
        c.pageSize = 4
        c.maxBatchTokens = 32
        c.contextSize = 256
        c.mergeSwap = merge
        let engine = EngineClient(model: merge.model, tokenizer: try Tokenizer(gguf: file), configuration: c,
                                  policy: SingleAdapterScheduler(), adapters: store)
        engine.start()
        defer { engine.shutdown() }
        let ps = prompts(6)
        let names: [String?] = ["a", nil, "b", "a", nil, "b"]
        let outs = try await runConcurrently(engine, prompts: ps, adapters: names, maxTokens: 8)
        // Reference: the same f32 weights with nothing merged, adapters applied unmerged.
        let plain = try MergeSwapWeights(base: file, targets: targets, threads: 1, maxBatchTokens: 32, maxContext: 256).model
        var differs = false
        for i in 0..<ps.count {
            let adapter = names[i].flatMap { store.adapter(named: $0) }
            let ref = try referenceWithAdapter(plain, adapter, prompt: ps[i], maxTokens: 8)
            #expect(outs[i].tokens == ref, "request \(i) with adapter \(names[i] ?? "none")")
            if adapter != nil, try referenceWithAdapter(plain, nil, prompt: ps[i], maxTokens: 8) != ref { differs = true }
        }
        #expect(differs, "the merged adapters should change some greedy output")
        #expect(merge.swaps >= 3, "a, b and the base each needed a switch (\(merge.swaps))")
    }

    @Test("merge-swap on a quantized base re-quantizes each merge: the same logits as a merged Q4_1 copy, the base restored byte for byte")
    func mergeSwapRequantized() throws {
        let file = try GGUFFile(bytes: TinyModels.llama())  // every projection stored as Q4_1
        let targets = Set(LoRAAdapter.Target.allCases)  // adapter "a" adapts all of them
        let merge = try MergeSwapWeights(base: file, targets: targets, keepStoredTypes: true, threads: 1, maxBatchTokens: 32, maxContext: 64)
        let adapter = try AdapterEngineTests.store(merge.model).adapter(named: "a")!
        let copyFile = try GGUFFile(bytes: adapter.merged(into: file, keepStoredTypes: true).bytes())
        for info in copyFile.tensors { #expect(info.type == file.tensors.first { $0.name == info.name }!.type, "\(info.name)") }
        let copy = try ArchitectureRegistry.loadModel(copyFile, options: ModelLoadOptions(threads: 1, maxBatchTokens: 32, maxContext: 64))
        let base = try ArchitectureRegistry.loadModel(file, options: ModelLoadOptions(threads: 1, maxBatchTokens: 32, maxContext: 64))
        func logits(_ m: any LanguageModel) throws -> [Float] {
            try m.forward([SequenceChunk(cache: m.makeCache(capacity: 16), tokens: [5, 17, 42, 9])])[0]
        }
        merge.activate(adapter)
        let mergedLogits = try logits(merge.model)
        // The two merges sum W₀ + s·B·A in different orders, so a few values may round to the other
        // Q4_1 level: the logits agree far more closely than either agrees with the base.
        func gap(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max()! }
        let toCopy = gap(mergedLogits, try logits(copy)), toBase = gap(mergedLogits, try logits(base))
        #expect(toBase > 0.05, "the adapter should change the logits (\(toBase))")
        #expect(toCopy < toBase / 10, "merged \(toCopy) vs base \(toBase)")
        merge.activate(nil)
        #expect(try logits(merge.model) == (try logits(base)))
        #expect(merge.swaps == 2)
    }

    @Test("a quantized merge of a type Tern cannot write is a clear error")
    func mergeUnsupportedType() throws {
        var c = TinyModels.Configuration()
        c.hidden = 256
        let tiny = try GGUFFile(bytes: TinyModels.llama(c))
        // The same model with layer 0's query projection stored as Q6_K (random blocks).
        var w = GGUFWriter(alignment: tiny.alignment)
        for key in tiny.metadataKeys where key != "general.alignment" { w.set(key, tiny.metadata[key]!) }
        let query = GGUFTensorName.Block.query.name(layer: 0)
        for info in tiny.tensors {
            if info.name == query {
                let blocks = info.shape.reduce(1, *) / GGMLType.q6_K.blockSize
                w.addTensor(name: info.name, shape: info.shape, type: .q6_K, data: Quantizers.randomBlocks(.q6_K, blocks: blocks, seed: 3))
            } else {
                w.addTensor(name: info.name, shape: info.shape, type: info.type, data: Array(tiny.data(for: info)))
            }
        }
        let file = try GGUFFile(bytes: w.bytes())
        #expect(throws: GGUFError.cannotEncode(tensor: query, type: "\(GGMLType.q6_K)")) {
            _ = try MergeSwapWeights(base: file, targets: [.q], keepStoredTypes: true, threads: 1, maxBatchTokens: 8, maxContext: 32)
        }
    }

    @Test("a separate adapter pool: outputs unchanged, KV pool smaller, an adapter larger than that pool fails alone")
    func separatePool() async throws {
        let file = try GGUFFile(bytes: TinyModels.llama())
        let hp = try ArchitectureRegistry.loadModel(file, options: ModelLoadOptions(threads: 1, maxBatchTokens: 8, maxContext: 32)).hyperparameters
        let store = try Self.mixedRanks(ArchitectureRegistry.loadModel(file, options: ModelLoadOptions(threads: 1, maxBatchTokens: 8, maxContext: 32)))
        let pageSize = 4, perPage = PagePool.bytesPerPage(layers: hp.layers, kvDim: hp.kvDim, pageSize: pageSize)
        func pages(_ name: String) throws -> Int {
            let blocks = try #require(PagedLoRA.blocksNeeded(for: store.adapter(named: name)!, blockCapacity: pageSize * hp.kvDim))
            return (blocks + 1) / 2
        }
        let (pa, pb) = (try pages("a"), try pages("b"))
        try #require(pa > pb, "adapter a needs more pages than b")
        let kv = 8 << 20
        let (engine, model, _) = try tinyEngine(kvMemory: kv, pageSize: pageSize, adapters: Self.mixedRanks) {
            $0.separateAdapterPoolBytes = pb * perPage  // room for b only
        }
        defer { engine.shutdown() }
        let ps = prompts(4)
        var big = GenerationRequest(prompt: ps[3], maxTokens: 6)
        big.adapter = "a"
        let failure = Task { () -> String in
            do { _ = try await run(engine, big); return "completed" } catch { return "\(error)" }
        }
        let names: [String?] = ["b", nil, "b"]
        let outs = try await runConcurrently(engine, prompts: Array(ps.prefix(3)), adapters: names, maxTokens: 6)
        for i in 0..<3 {
            let ref = try referenceWithAdapter(model, names[i].flatMap { engine.adapters?.adapter(named: $0) }, prompt: ps[i], maxTokens: 6)
            #expect(outs[i].tokens == ref, "request \(i) with adapter \(names[i] ?? "none")")
        }
        let message = await failure.value
        #expect(message.contains("does not fit in the adapter memory"), "\(message)")
        var stats = engine.drainStats()
        for _ in 0..<500 where stats.running > 0 || stats.residentAdapters > 0 {
            try await Task.sleep(for: .milliseconds(20))
            stats = engine.drainStats()
        }
        #expect(stats.totalPages == (kv - pb * perPage) / perPage, "the KV pool lost the adapter pool's share")
        #expect(stats.usedPages == 0 && stats.residentAdapters == 0)
    }
}

@Suite("Adapter prefetch")
struct AdapterPrefetchTests {
    @Test("a prefetched standby adapter never blocks an admission: its pages count as free and are reclaimed")
    func standbyPagesAreFree() async throws {
        let file = try GGUFFile(bytes: TinyModels.llama())
        let hp = try ArchitectureRegistry.loadModel(file, options: ModelLoadOptions(threads: 1, maxBatchTokens: 8, maxContext: 32)).hyperparameters
        let pageSize = 4, perPage = PagePool.bytesPerPage(layers: hp.layers, kvDim: hp.kvDim, pageSize: pageSize)
        let store = try AdapterEngineTests.store(ArchitectureRegistry.loadModel(file, options: ModelLoadOptions(threads: 1, maxBatchTokens: 8, maxContext: 32)))
        func pages(_ name: String) throws -> Int {
            (try #require(PagedLoRA.blocksNeeded(for: store.adapter(named: name)!, blockCapacity: pageSize * hp.kvDim)) + 1) / 2
        }
        let (pa, pb) = (try pages("a"), try pages("b"))
        let total = pa + pb + 6
        // R (adapter a) runs alone; meanwhile b is prefetched for Y. X (no adapter) needs more pages
        // than are free once R ends unless b's standby pages count: it used to fail as too large.
        let (engine, _, _) = try tinyEngine(kvMemory: total * perPage, pageSize: pageSize, maxBatch: 256, maxRunning: 1,
                                            start: false, adapters: AdapterEngineTests.store) { $0.adapterResidency = SLoRAResidency() }
        defer { engine.shutdown() }
        var r = GenerationRequest(prompt: [5, 6, 7], maxTokens: 8, ignoreEndOfGeneration: true)
        r.adapter = "a"
        let x = GenerationRequest(prompt: (0..<(4 * (pa + 7) - 2)).map { 3 + $0 % 200 }, maxTokens: 1, ignoreEndOfGeneration: true)
        var y = GenerationRequest(prompt: [8, 9], maxTokens: 2, ignoreEndOfGeneration: true)
        y.adapter = "b"
        let streams = [try engine.submit(r), try engine.submit(x), try engine.submit(y)]
        engine.start()
        for (i, s) in streams.enumerated() {
            var finished = false
            do {
                for try await e in s { if case .finished = e { finished = true } }
            } catch {
                Issue.record("request \(i) failed: \(error)")
            }
            #expect(finished, "request \(i)")
        }
        #expect(engine.drainStats().adapterPrefetches >= 1, "b was prefetched while R ran")
    }

    @Test("S-LoRA residency prefetches queued requests' adapters while others run, then offloads them at idle; on demand loads none ahead",
          arguments: [true, false])
    func prefetch(slora: Bool) async throws {
        let (engine, model, _) = try tinyEngine(maxRunning: 1, start: false, adapters: AdapterEngineTests.store) {
            $0.adapterResidency = slora ? SLoRAResidency() : OnDemandResidency()
        }
        defer { engine.shutdown() }
        var streams: [AsyncThrowingStream<GenerationEvent, any Error>] = []
        for (i, name) in ["a", "b", "a"].enumerated() {
            var r = GenerationRequest(prompt: prompts(3)[i], maxTokens: 6)
            r.ignoreEndOfGeneration = true
            r.adapter = name
            streams.append(try engine.submit(r))
        }
        engine.start()
        var tokens: [[Int]] = []
        for s in streams {
            var t: [Int] = []
            for try await e in s { if case .token(let id, _, _) = e, id >= 0 { t.append(id) } }
            tokens.append(t)
        }
        for (i, name) in ["a", "b", "a"].enumerated() {
            #expect(tokens[i] == (try referenceWithAdapter(model, engine.adapters?.adapter(named: name), prompt: prompts(3)[i], maxTokens: 6)))
        }
        var stats = engine.drainStats()
        for _ in 0..<500 where stats.residentAdapters > 0 || stats.running > 0 {
            try await Task.sleep(for: .milliseconds(20))
            stats = engine.drainStats()
        }
        #expect(slora ? stats.adapterPrefetches >= 1 : stats.adapterPrefetches == 0, "b was loaded while a's request ran (S-LoRA only)")
        #expect(stats.adapterLoads <= 3 && stats.residentAdapters == 0 && stats.usedPages == 0)
    }
}
