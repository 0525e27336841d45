// SPDX-License-Identifier: Apache-2.0

import Foundation
import GGUF
import InferenceEngine
import Kernels
import Support
import Synchronization
import TestSupport
import Testing
import Tokenization
import TransformerModels



/// Reference for early exit: greedy decoding through `forward(layerLimit:)`, one sequence, private cache.
func referenceEarlyExit(_ model: any LanguageModel, prompt: [Int], maxTokens: Int, depth: Int) throws -> [Int] {
    let cache = model.makeCache(capacity: prompt.count + maxTokens + 1)
    var out: [Int] = []
    var next = prompt
    for _ in 0..<maxTokens {
        let logits = try model.forward([SequenceChunk(cache: cache, tokens: next, logits: .last)], layerLimit: depth)[0]
        let t = logits.indices.max { logits[$0] < logits[$1] }!
        out.append(t)
        next = [t]
    }
    return out
}

@Suite("Serving engine on a tiny model")
struct EngineTests {
    @Test("engines sharing one device and one thread pool take turns: every request gets its reference output")
    func sharedDevice() async throws {
        let file = try GGUFFile(bytes: TinyModels.llama())
        let pool = ThreadPool(threads: 2), device = SharedDevice()
        let engines = try (0..<3).map { _ -> (EngineClient, any LanguageModel, Tokenizer) in
            let loaded = try ArchitectureRegistry.load(file: file, options: ModelLoadOptions(pool: pool, maxBatchTokens: 32, maxContext: 256))
            var c = EngineConfiguration()
            c.kvMemoryBytes = 4 << 20; c.pageSize = 4; c.contextSize = 256; c.maxBatchTokens = 32
            c.sharedDevice = device
            let engine = EngineClient(model: loaded.model, tokenizer: loaded.tokenizer, configuration: c, policy: FCFSScheduler())
            engine.start()
            return (engine, loaded.model, loaded.tokenizer)
        }
        defer { for (e, _, _) in engines { e.shutdown() } }
        let ps = prompts(6, length: 9)
        let outs = try await withThrowingTaskGroup(of: (Int, RequestOutcome).self) { group in
            for (i, p) in ps.enumerated() {
                group.addTask { (i, try await run(engines[i % 3].0, GenerationRequest(prompt: p, maxTokens: 6, ignoreEndOfGeneration: true))) }
            }
            var out = [RequestOutcome](repeating: RequestOutcome(), count: ps.count)
            for try await (i, o) in group { out[i] = o }
            return out
        }
        for (i, p) in ps.enumerated() {
            #expect(outs[i].tokens == (try reference(engines[0].1, engines[0].2, prompt: p, maxTokens: 6)), "request \(i)")
        }
        // Each engine needs at least one prefill step and five decode steps of its own.
        #expect(device.turns >= 3 * 6)
    }

    @Test("a shared device has one holder at a time, whoever asks", .timeLimit(.minutes(1)))
    func sharedDeviceExclusion() async {
        final class Holders: Sendable { let count = Mutex((now: 0, most: 0)) }
        let device = SharedDevice(), inside = Holders()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    _ = try? await onDedicatedThread {
                        for _ in 0..<200 {
                            device.withTurn {
                                inside.count.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                                for _ in 0..<50 { sched_yield() }  // hold the device long enough for others to queue
                                inside.count.withLock { $0.now -= 1 }
                            }
                        }
                    }
                }
            }
        }
        #expect(inside.count.withLock { $0.most } == 1)
        #expect(device.turns == 800)
    }

    @Test("early exit: per-request layer limits batch per depth and equal one-sequence early-exit decoding")
    func earlyExit() async throws {
        let (engine, model, tokenizer) = try tinyEngine()
        defer { engine.shutdown() }
        let ps = prompts(6, length: 10)
        // Depths 1 (early exit), 2 (= full, normalised to the base model) and nil alternate in one batch.
        let depths: [Int?] = [1, nil, 1, 2, nil, 1]
        let results = try await withThrowingTaskGroup(of: (Int, RequestOutcome).self) { group in
            for (i, p) in ps.enumerated() {
                group.addTask { (i, try await run(engine, GenerationRequest(prompt: p, maxTokens: 8, ignoreEndOfGeneration: true, layerLimit: depths[i]))) }
            }
            var out = [RequestOutcome](repeating: RequestOutcome(), count: ps.count)
            for try await (i, o) in group { out[i] = o }
            return out
        }
        for (i, p) in ps.enumerated() {
            let want = depths[i] == 1 ? try referenceEarlyExit(model, prompt: p, maxTokens: 8, depth: 1)
                                      : try reference(model, tokenizer, prompt: p, maxTokens: 8)
            #expect(results[i].tokens == want, "request \(i) depth \(String(describing: depths[i]))")
        }
        // The shallow model really computes something else (else the comparison above proves nothing).
        let shallow = try model.forward([SequenceChunk(cache: model.makeCache(capacity: 16), tokens: ps[0])], layerLimit: 1)[0]
        let deep = try model.forward([SequenceChunk(cache: model.makeCache(capacity: 16), tokens: ps[0])])[0]
        #expect(zip(shallow, deep).map { abs($0 - $1) }.max()! > 1e-3)
        // A prefix computed at depth 1 is never reused at full depth (its pages lack layer 2's KV).
        let p = prompts(1, length: 14)[0]
        _ = try await run(engine, GenerationRequest(prompt: p, maxTokens: 2, ignoreEndOfGeneration: true, layerLimit: 1))
        let full = try await run(engine, GenerationRequest(prompt: p, maxTokens: 4, ignoreEndOfGeneration: true))
        #expect(full.cached == 0)
        #expect(full.tokens == (try reference(model, tokenizer, prompt: p, maxTokens: 4)))
        let again = try await run(engine, GenerationRequest(prompt: p, maxTokens: 2, ignoreEndOfGeneration: true, layerLimit: 1))
        #expect(again.cached == 12)
        // Out-of-range depths are refused at submission.
        #expect(throws: EngineError.self) { _ = try engine.submit(GenerationRequest(prompt: p, layerLimit: 3)) }
        #expect(throws: EngineError.self) { _ = try engine.submit(GenerationRequest(prompt: p, layerLimit: 0)) }
        #expect(engine.drainStats().usedPages == 0)
    }

    @Test("concurrent requests, batched continuously, equal one-at-a-time greedy decoding")
    func continuousBatching() async throws {
        let (engine, model, tokenizer) = try tinyEngine()
        defer { engine.shutdown() }
        let ps = prompts(12)
        let results = try await withThrowingTaskGroup(of: (Int, RequestOutcome).self) { group in
            for (i, p) in ps.enumerated() {
                group.addTask { (i, try await run(engine, GenerationRequest(prompt: p, maxTokens: 10, ignoreEndOfGeneration: true))) }
            }
            var out = [RequestOutcome](repeating: RequestOutcome(), count: ps.count)
            for try await (i, o) in group { out[i] = o }
            return out
        }
        for (i, p) in ps.enumerated() {
            let want = try reference(model, tokenizer, prompt: p, maxTokens: 10)
            #expect(results[i].tokens == want, "request \(i)")
            #expect(results[i].finish == .length)
        }
        let s = engine.drainStats()
        #expect(s.usedPages == 0 && s.running == 0 && s.waiting == 0)
        #expect(s.steps < 12 * 11)  // requests shared steps
    }

    @Test("a KV pool too small for everyone preempts and recomputes, with identical outputs")
    func preemption() async throws {
        // 12 pages of 4 positions: any two sequences of 8 + 24 positions (8 pages each) collide.
        let (engine, model, tokenizer) = try tinyEngine(kvMemory: 12 * PagePool.bytesPerPage(layers: 2, kvDim: 32, pageSize: 4),
                                                        prefix: false, start: false)
        defer { engine.shutdown() }
        let ps = prompts(3, length: 8)
        // Queue all three before the engine starts, so they are admitted together and must collide.
        let streams = try ps.map { try engine.submit(GenerationRequest(prompt: $0, maxTokens: 24, ignoreEndOfGeneration: true)) }
        engine.start()
        var results: [RequestOutcome] = []
        for stream in streams {
            var o = RequestOutcome()
            for try await e in stream {
                if case .token(let id, _, _) = e, id >= 0 { o.tokens.append(id) }
            }
            results.append(o)
        }
        for (i, p) in ps.enumerated() {
            #expect(results[i].tokens == (try reference(model, tokenizer, prompt: p, maxTokens: 24)), "request \(i)")
        }
        let s = engine.drainStats()
        #expect(s.preemptions > 0)
        #expect(s.usedPages == 0)
    }

    @Test("prefix cache: a repeated prompt reuses full pages and gives the same output")
    func prefixCache() async throws {
        let (engine, _, _) = try tinyEngine()
        defer { engine.shutdown() }
        let p = prompts(1, length: 14)[0]  // 3 full pages of 4 + 2 positions
        let a = try await run(engine, GenerationRequest(prompt: p, maxTokens: 6, ignoreEndOfGeneration: true))
        let b = try await run(engine, GenerationRequest(prompt: p, maxTokens: 6, ignoreEndOfGeneration: true))
        #expect(a.cached == 0)
        #expect(b.cached == 12)
        #expect(a.tokens == b.tokens)
        let s = engine.drainStats()
        #expect(s.prefixCacheHitTokens == 12 && s.usedPages == 0 && s.cachedPages > 0)
        // Clearing forgets the prefix: the same prompt is computed again, to the same output.
        engine.clearPrefixCache()
        let c = try await run(engine, GenerationRequest(prompt: p, maxTokens: 6, ignoreEndOfGeneration: true))
        #expect(c.cached == 0)
        #expect(c.tokens == a.tokens)
        let d = try await run(engine, GenerationRequest(prompt: p, maxTokens: 6, ignoreEndOfGeneration: true))
        #expect(d.cached == 12, "the cache works again after clearing")
    }

    @Test("cancelling a stream frees its pages; bad requests fail alone")
    func cancellationAndErrors() async throws {
        let (engine, _, _) = try tinyEngine(maxWaiting: 2)
        defer { engine.shutdown() }
        let stream = try engine.submit(GenerationRequest(prompt: [5, 6, 7], maxTokens: 200, ignoreEndOfGeneration: true))
        var seen = 0
        for try await e in stream {
            if case .token = e { seen += 1 }
            if seen == 3 { break }  // dropping the iterator cancels the request
        }
        for _ in 0..<200 {
            if engine.drainStats().usedPages == 0 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(engine.drainStats().usedPages == 0)
        #expect(throws: EngineError.emptyPrompt) { try engine.submit(GenerationRequest(prompt: [])) }
        #expect(throws: EngineError.invalidToken(99_999)) { try engine.submit(GenerationRequest(prompt: [1, 99_999])) }
        #expect(throws: EngineError.promptTooLong(tokens: 300, limit: 256)) { try engine.submit(GenerationRequest(prompt: Array(repeating: 5, count: 300))) }
        #expect(throws: EngineError.unknownAdapter("sql")) { try engine.submit(GenerationRequest(prompt: [5], adapter: "sql")) }
        // Still serving.
        let ok = try await run(engine, GenerationRequest(prompt: [5, 6, 7], maxTokens: 3, ignoreEndOfGeneration: true))
        #expect(ok.tokens.count == 3)
    }

    @Test("stop strings, max tokens and choice constraints")
    func stopsAndConstraints() async throws {
        let (engine, _, tokenizer) = try tinyEngine()
        defer { engine.shutdown() }
        let p = tokenizer.encode("hello world")
        let full = try await run(engine, GenerationRequest(prompt: p, maxTokens: 16, ignoreEndOfGeneration: true))
        let chars = Array(full.text)
        if chars.count > 5 {
            let stop = String(chars[3..<5])
            let s = try await run(engine, GenerationRequest(prompt: p, maxTokens: 16, stop: [stop], ignoreEndOfGeneration: true))
            #expect(s.finish == .stop)
            #expect(s.text == String(full.text[..<full.text.firstRange(of: stop)!.lowerBound]))
        }
        let choice = try await run(engine, GenerationRequest(prompt: p, maxTokens: 16, constraint: ChoiceConstraint(["yes", "no", "maybe"])))
        #expect(["yes", "no", "maybe"].contains(choice.text), "\(choice.text)")
        #expect(choice.finish == .stop)
    }

    @Test("JSON-schema constrained output always parses and matches the schema")
    func jsonConstraint() async throws {
        let (engine, _, tokenizer) = try tinyEngine()
        defer { engine.shutdown() }
        let schema = JSONSchema.object(properties: [("name", .string(values: ["get_weather", "get_time"])),
                                                    ("arguments", .object(properties: [("city", .string(values: nil)), ("days", .number(integer: true))], required: ["city"]))],
                                       required: ["name", "arguments"])
        var sampling = SamplingParameters()
        sampling.temperature = 0.9
        for seed in UInt64(0)..<4 {
            sampling.seed = seed
            let o = try await run(engine, GenerationRequest(prompt: tokenizer.encode("hello"), sampling: sampling, maxTokens: 120,
                                                            constraint: JSONSchemaConstraint(schema)))
            if o.finish == .stop {
                let json = try #require(try JSONSerialization.jsonObject(with: Data(o.text.utf8)) as? [String: Any], "\(o.text)")
                #expect(["get_weather", "get_time"].contains(json["name"] as? String ?? ""))
                #expect((json["arguments"] as? [String: Any])?["city"] is String)
            } else {
                #expect(JSONSchemaConstraint(schema).isValidPrefix(Array(o.text.utf8)), "\(o.text)")
            }
        }
    }
}

@Suite("Scheduler policy and page pool")
struct SchedulerTests {
    @Test("FCFS: running first, chunked prefill within the budget, admission in order")
    func fcfs() {
        let s = FCFSScheduler()
        let input = SchedulerInput(
            running: [ScheduledSequenceState(id: 1, computed: 10, target: 11, pages: 3)],
            waiting: [ScheduledSequenceState(id: 2, computed: 0, target: 40, pages: 0), ScheduledSequenceState(id: 3, computed: 0, target: 5, pages: 0)],
            availablePages: 100, pageSize: 4, tokenBudget: 16, maxRunning: 8)
        let out = s.schedule(input)
        #expect(out.scheduled.map(\.id) == [1, 2])
        #expect(out.scheduled.map(\.tokens) == [1, 15])  // decode, then a 15-token prefill chunk
        #expect(out.admitted == [2] && out.preempted.isEmpty)
    }

    @Test("out of pages: the lowest-priority running sequence is preempted, nothing new is admitted")
    func preempt() {
        let s = FCFSScheduler()
        let input = SchedulerInput(
            running: [ScheduledSequenceState(id: 1, computed: 8, target: 9, pages: 2), ScheduledSequenceState(id: 2, computed: 8, target: 9, pages: 2)],
            waiting: [ScheduledSequenceState(id: 3, computed: 0, target: 4, pages: 0)],
            availablePages: 1, pageSize: 4, tokenBudget: 16, maxRunning: 8)
        let out = s.schedule(input)
        #expect(out.preempted == [2])
        #expect(out.scheduled.map(\.id) == [1])
        #expect(out.admitted.isEmpty)
    }

    @Test("a waiting request that does not fit blocks later ones (no overtaking)")
    func noOvertaking() {
        let out = FCFSScheduler().schedule(SchedulerInput(
            running: [], waiting: [ScheduledSequenceState(id: 1, computed: 0, target: 100, pages: 0), ScheduledSequenceState(id: 2, computed: 0, target: 2, pages: 0)],
            availablePages: 2, pageSize: 4, tokenBudget: 64, maxRunning: 8))
        #expect(out.admitted.isEmpty)
    }

    @Test("page pool: refcounts, prefix registration, LRU eviction")
    func pool() {
        let pool = PagePool(pageCount: 3, pageSize: 4, layers: 1, kvDim: 16)
        let a = pool.allocate()!, b = pool.allocate()!
        pool.register(a, hash: 42)
        #expect(pool.lookup(42) == a)  // shared: refcount 2
        pool.release(a)
        pool.release(a)
        #expect(pool.cachedPages == 1 && pool.availablePages == 2)
        #expect(pool.lookup(42) == a)  // revived from the cache
        pool.release(a)
        _ = pool.allocate()!            // the free page
        let evicted = pool.allocate()   // must evict the cached one
        #expect(evicted == a && pool.lookup(42) == nil)
        #expect(pool.allocate() == nil)
        pool.release(b)
        #expect(pool.availablePages == 1)
    }

    @Test("JSON constraint: prefixes, completeness, whitespace cap", arguments: [
        ("{\"a\": 1", true, false), ("{\"a\": 1}", true, true), ("{\"b\": 1}", false, false), ("{\"a\": \"x\"}", false, false),
        ("{\"a\": 12, \"c\": [tr", true, false), ("{\"a\": 12, \"c\": [true, false]}", true, true), ("{\"a\": 1}x", false, false),
        ("{" + String(repeating: " ", count: 30), false, false),
    ])
    func json(_ text: String, _ prefix: Bool, _ complete: Bool) {
        let c = JSONSchemaConstraint(.object(properties: [("a", .number(integer: true)), ("c", .array(items: .boolean))], required: ["a"]))
        #expect(c.isValidPrefix(Array(text.utf8)) == prefix)
        #expect(c.isComplete(Array(text.utf8)) == complete)
    }
}

@Suite("Regex constraint")
struct RegexConstraintTests {
    @Test("prefixes and complete matches", arguments: [
        ("[0-9]{3}-[0-9]{4}", "555-", true, false), ("[0-9]{3}-[0-9]{4}", "555-1234", true, true), ("[0-9]{3}-[0-9]{4}", "55a", false, false),
        ("(yes|no)!?", "ye", true, false), ("(yes|no)!?", "no", true, true), ("(yes|no)!?", "no!", true, true), ("(yes|no)!?", "no!!", false, false),
        ("\\d+(\\.\\d{1,2})?", "12.", true, false), ("\\d+(\\.\\d{1,2})?", "12.5", true, true), ("\\d+(\\.\\d{1,2})?", "12.555", false, false),
        ("[^,]*,", "abc", true, false), ("[^,]*,", "abc,", true, true), ("a{2,}", "a", true, false), ("a{2,}", "aaaa", true, true),
    ])
    func cases(_ pattern: String, _ text: String, _ prefix: Bool, _ complete: Bool) throws {
        let r = try RegexConstraint(pattern)
        #expect(r.isValidPrefix(Array(text.utf8)) == prefix)
        #expect(r.isComplete(Array(text.utf8)) == complete)
    }

    @Test("syntax errors are reported")
    func errors() {
        for bad in ["(ab", "[a-", "*a", "a{3,1}"] { #expect(throws: RegexConstraint.SyntaxError.self) { try RegexConstraint(bad) } }
    }

    @Test("generation under a regex matches it")
    func generation() async throws {
        let (engine, _, tokenizer) = try tinyEngine()
        defer { engine.shutdown() }
        let r = try RegexConstraint("[0-9]{3}-[0-9]{4}")
        var sampling = SamplingParameters()
        sampling.temperature = 1
        for seed in UInt64(0)..<3 {
            sampling.seed = seed
            let o = try await run(engine, GenerationRequest(prompt: tokenizer.encode("hello"), sampling: sampling, maxTokens: 20, constraint: r))
            #expect(r.isComplete(Array(o.text.utf8)), "\(o.text)")
            #expect(o.finish == .stop)
        }
    }
}
