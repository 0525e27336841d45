// SPDX-License-Identifier: Apache-2.0

import Foundation
import Kernels
import Tokenization
import TransformerModels
import Synchronization

/// The single owner of the model and the KV pool: runs the step loop on its own thread.
///
/// Each step: take new submissions and cancellations, ask the ``SchedulingPolicy`` what to run,
/// apply preemptions and admissions (with prefix-cache lookups), allocate pages, run one forward
/// pass over every scheduled chunk, then sample, stream and finish sequences. CPU-bound work never
/// runs on Swift's cooperative pool.
final class EngineCore: @unchecked Sendable {
    typealias Continuation = AsyncThrowingStream<GenerationEvent, any Error>.Continuation

    let model: any LanguageModel
    let tokenizer: Tokenizer
    let pool: PagePool
    /// Pages for LoRA adapters when the configuration keeps them apart from KV (the no-unified
    /// ablation); nil under unified paging, where adapters take pages from ``pool``.
    let adapterPool: PagePool?
    let configuration: EngineConfiguration
    let policy: any SchedulingPolicy
    let contextSize: Int
    let stats = Mutex(EngineStats())
    /// LoRA adapters requests may name (nil: base model only).
    let adapters: (any AdapterSource)?

    private struct Inbox {
        var submissions: [Sequence] = []
        var cancelled: Set<RequestID> = []
        var stopping = false
        var dropPrefixCache = false
        var waitingCount = 0
    }
    private let inbox = Mutex(Inbox())
    private let wake = DispatchSemaphore(value: 0)
    private var thread: Thread?
    private let finishedThread = DispatchSemaphore(value: 0)
    /// Signalled when a ``SharedDevice`` hands this engine its turn.
    private let deviceTurn = DispatchSemaphore(value: 0)

    // Owned by the engine thread.
    private var waiting: [Sequence] = []
    private var running: [Sequence] = []

    /// An adapter resident in pool pages and the running sequences using it.
    private final class ResidentAdapter {
        let paged: PagedLoRA
        let pages: [Int32]
        var users = 1
        init(paged: PagedLoRA, pages: [Int32]) { self.paged = paged; self.pages = pages }
    }
    /// By adapter instance id. Loaded when a running sequence first needs it, offloaded (pages
    /// freed) when its last running user leaves.
    private var resident: [UInt64: ResidentAdapter] = [:]

    init(model: any LanguageModel, tokenizer: Tokenizer, configuration: EngineConfiguration, policy: any SchedulingPolicy,
         adapters: (any AdapterSource)? = nil) {
        self.model = model
        self.adapters = adapters
        self.tokenizer = tokenizer
        self.configuration = configuration
        self.policy = policy
        let hp = model.hyperparameters
        contextSize = min(configuration.contextSize ?? min(hp.contextLength, 8192), model.maxContext)
        let perPage = PagePool.bytesPerPage(layers: hp.layers, kvDim: hp.kvDim, pageSize: configuration.pageSize)
        let adapterBytes = configuration.separateAdapterPoolBytes.map { min(max($0, 0), configuration.kvMemoryBytes) }
        pool = PagePool(pageCount: max(1, (configuration.kvMemoryBytes - (adapterBytes ?? 0)) / perPage), pageSize: configuration.pageSize,
                        layers: hp.layers, kvDim: hp.kvDim)
        adapterPool = adapterBytes.map {
            PagePool(pageCount: max(1, $0 / perPage), pageSize: configuration.pageSize, layers: hp.layers, kvDim: hp.kvDim)
        }
        stats.withLock { $0.totalPages = pool.pageCount }
    }

    func start() {
        let t = Thread { [self] in loop() }
        t.name = "tern.engine"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    /// Asks the loop to forget every cached prompt prefix before it takes the next submissions.
    func dropPrefixCache() {
        inbox.withLock { $0.dropPrefixCache = true }
        wake.signal()
    }

    /// Asks the loop to finish; in-flight requests end with `.cancelled`.
    func stop() {
        inbox.withLock { $0.stopping = true }
        wake.signal()
        if thread != nil { finishedThread.wait() }
    }

    /// Queues a request; fails fast on bad input or overload.
    func submit(_ request: GenerationRequest, id: RequestID, continuation: Continuation) throws(EngineError) {
        // Resolve the adapter now: the sequence keeps it even if it is unloaded while running.
        var adapter: LoRAAdapter? = nil
        if let name = request.adapter {
            guard let a = adapters?.adapter(named: name) else { throw .unknownAdapter(name) }
            adapter = a
        }
        guard !request.prompt.isEmpty else { throw .emptyPrompt }
        let vocab = model.hyperparameters.vocabularySize
        if let bad = request.prompt.first(where: { $0 < 0 || $0 >= vocab }) { throw .invalidToken(bad) }
        guard request.prompt.count + 1 <= contextSize else { throw .promptTooLong(tokens: request.prompt.count, limit: contextSize) }
        let poolPositions = pool.pageCount * pool.pageSize
        guard request.prompt.count + 1 <= poolPositions else { throw .exceedsMemory(tokens: request.prompt.count + 1, limit: poolPositions) }
        guard request.maxTokens >= 0 else { throw .invalidRequest("max_tokens must be >= 0") }
        var request = request
        if let depth = request.layerLimit {
            let layers = model.hyperparameters.layers
            guard (1...layers).contains(depth) else { throw .invalidRequest("layer limit \(depth) is outside 1...\(layers)") }
            // The full depth is the base model: it shares its prefix cache.
            if depth == layers { request.layerLimit = nil }
        }
        let seq = Sequence(id: id, request: request, cache: pool.makeCache(), tokenizer: tokenizer, continuation: continuation)
        seq.adapter = adapter
        if let adapter, adapterPool == nil, configuration.mergeSwap == nil {
            // Unified paging: f16 weights over the bytes of one KV position (all layers, K and V).
            let hp = model.hyperparameters
            let perPosition = hp.layers * 2 * hp.kvDim
            seq.adapterPositions = (adapter.parameterCount + perPosition - 1) / perPosition
        }
        try inbox.withLock { (box: inout Inbox) throws(EngineError) in
            guard !box.stopping else { throw .shuttingDown }
            guard box.waitingCount < configuration.maxWaitingRequests else { throw .overloaded(waiting: box.waitingCount) }
            box.submissions.append(seq)
            box.waitingCount += 1
        }
        wake.signal()
    }

    func cancel(_ id: RequestID) {
        inbox.withLock { _ = $0.cancelled.insert(id) }
        wake.signal()
    }

    // MARK: - The loop

    private func loop() {
        while true {
            guard takeInbox() else { return }
            if running.isEmpty && waiting.isEmpty {
                publishStats()
                wake.wait()
                continue
            }
            if let device = configuration.sharedDevice {
                // Requests that arrived while this engine waited for its turn join this step.
                let keepGoing = device.withTurn(wake: deviceTurn) { () -> Bool in
                    guard takeInbox() else { return false }
                    if !(running.isEmpty && waiting.isEmpty) { step() }
                    return true
                }
                guard keepGoing else { return }
            } else {
                step()
            }
            publishStats()
        }
    }

    /// Takes new submissions, cancellations and a prefix-cache drop from the inbox. On a stop
    /// request, ends every sequence and returns false (the loop must exit).
    private func takeInbox() -> Bool {
        let (new, cancelled, stopping, dropCache) = inbox.withLock { box -> ([Sequence], Set<RequestID>, Bool, Bool) in
            defer {
                box.submissions.removeAll()
                box.cancelled.removeAll()
                box.dropPrefixCache = false
            }
            return (box.submissions, box.cancelled, box.stopping, box.dropPrefixCache)
        }
        if dropCache { pool.dropCache() }
        let now = Date()
        for s in new { s.arrival = now }
        waiting.append(contentsOf: new)
        if stopping {
            for s in running + waiting { finish(s, .cancelled) }
            running.removeAll()
            waiting.removeAll()
            publishStats()
            finishedThread.signal()
            return false
        }
        for id in cancelled {
            if let i = running.firstIndex(where: { $0.id == id }) { finish(running.remove(at: i), .cancelled) }
            if let i = waiting.firstIndex(where: { $0.id == id }) {
                finish(waiting.remove(at: i), .cancelled)
            }
        }
        return true
    }

    private func step() {
        let now = Date()
        func state(_ s: Sequence, running: Bool) -> ScheduledSequenceState {
            ScheduledSequenceState(id: s.id, computed: running ? s.cache.count : 0, target: s.tokens.count,
                                   pages: running ? s.cache.pageTable.count : 0, waited: now.timeIntervalSince(s.arrival),
                                   adapter: s.adapter?.instanceID, adapterPositions: s.adapterPositions,
                                   remainingOutput: max(0, s.request.maxTokens - s.generated))
        }
        let input = SchedulerInput(
            running: running.map { state($0, running: true) }, waiting: waiting.map { state($0, running: false) },
            availablePages: pool.availablePages + standbyAdapterPages, pageSize: pool.pageSize,
            tokenBudget: configuration.maxBatchTokens, maxRunning: configuration.maxRunningSequences, totalPages: pool.pageCount)
        let decision = policy.schedule(input)

        for id in decision.aborted {
            guard let i = waiting.firstIndex(where: { $0.id == id }) else { continue }
            let s = waiting.remove(at: i)
            inbox.withLock { $0.waitingCount -= 1 }
            stats.withLock { $0.aborted += 1 }
            s.fail(EngineError.aborted(waitedSeconds: now.timeIntervalSince(s.arrival)))
        }

        for id in decision.preempted {
            guard let i = running.firstIndex(where: { $0.id == id }) else { continue }
            let s = running.remove(at: i)
            releasePages(s)
            s.preemptions += 1
            stats.withLock { $0.preemptions += 1 }
            if running.isEmpty && decision.scheduled.isEmpty {
                // It cannot fit even alone: end it rather than loop forever.
                finish(s, .length)
            } else {
                waiting.insert(s, at: 0)
            }
        }
        for id in decision.admitted {
            guard let i = waiting.firstIndex(where: { $0.id == id }) else { continue }
            let s = waiting.remove(at: i)
            inbox.withLock { $0.waitingCount -= 1 }
            admit(s)
            running.append(s)
        }
        var batch = ForwardBatch()
        batch.loraBatching = configuration.loraBatching
        var slotSequences: [Sequence] = []  // [batch slots]: the sequence behind each slot
        var promptTokens = 0  // tokens of prompt chunks (no logits, or more than one token)
        let merge = configuration.mergeSwap
        // Merge-swap: the weights hold one adapter, so a pass runs only the first scheduled sequence's adapter.
        let passAdapter = merge.flatMap { _ in decision.scheduled.lazy.compactMap { id, _ in self.running.first { $0.id == id } }.first?.adapter }
        for (id, n) in decision.scheduled {
            guard let s = running.first(where: { $0.id == id }) else { continue }
            let count = min(n, s.tokens.count - s.cache.count)
            guard count > 0 else { continue }
            if merge != nil {
                guard s.adapter === passAdapter else { continue }
            } else if !ensureAdapter(s) {
                if running.count == 1 || !adapterCanEverFit(s) {
                    // Alone and its adapter still does not fit (or larger than the whole adapter pool): it never will.
                    running.removeAll { $0 === s }
                    releasePages(s)
                    if adapterPool != nil {
                        s.fail(EngineError.invalidRequest("adapter '\(s.request.adapter ?? "")' does not fit in the adapter memory"))
                    } else {
                        s.fail(EngineError.exceedsMemory(tokens: s.tokens.count + s.adapterPositions, limit: pool.pageCount * pool.pageSize))
                    }
                }
                continue
            }
            guard ensurePages(s, positions: s.cache.count + count) else {
                // The pool ran dry despite the plan (cached pages were all pinned): retry next step.
                continue
            }
            let end = s.cache.count + count
            let tokens = Array(s.tokens[s.cache.count..<end])
            let logits: LogitsRequest = end == s.tokens.count ? .last : .none
            let adapterSlot: Int = if merge != nil {
                -1
            } else if let a = s.adapter {
                batch.addAdapter(a, paged: resident[a.instanceID]?.paged)
            } else {
                -1
            }
            let slot = batch.addSequence(cache: s.cache, layerLimit: s.layerLimit)
            batch.append(tokens, to: slot, outputs: logits, adapter: adapterSlot)
            if logits == .none || tokens.count > 1 { promptTokens += tokens.count }
            slotSequences.append(s)
        }
        guard !batch.isEmpty else {
            if decision.scheduled.isEmpty && decision.preempted.isEmpty && running.isEmpty && !waiting.isEmpty {
                // Nothing fits right now and nothing runs: fail the head of the queue rather than spin.
                let s = waiting.removeFirst()
                inbox.withLock { $0.waitingCount -= 1 }
                s.fail(EngineError.exceedsMemory(tokens: s.tokens.count, limit: pool.pageCount * pool.pageSize))
            }
            return
        }
        let started = Date()
        do {
            // Early-exit sequences share the pass; each layer runs over the sequences still that deep.
            merge?.activate(passAdapter)
            let out = try model.forward(batch)
            for r in 0..<out.count {
                sampleNext(slotSequences[batch.sequences[out.tokenIndices[r]]], out[r])
            }
        } catch {
            for s in slotSequences {
                running.removeAll { $0 === s }
                releasePages(s)
                s.fail(EngineError.internalError("\(error)"))
            }
            return
        }
        let stepSeconds = Date().timeIntervalSince(started)
        stats.withLock {
            $0.steps += 1
            $0.lastStepSeconds = stepSeconds
            $0.promptTokensComputed += promptTokens
        }
        for s in slotSequences {
            registerFullPages(s)
            if let reason = s.pendingFinish {
                running.removeAll { $0 === s }
                finish(s, reason)
            }
        }
        prefetchAdapters()
    }

    // MARK: - Sequences

    private func admit(_ s: Sequence) {
        // Prefix cache: reuse full pages of the prompt, but always leave at least one token to
        // compute so the step yields logits.
        var cached = 0
        if configuration.prefixCaching {
            let fullPages = (s.tokens.count - 1) / pool.pageSize
            var parent = s.hashSeed
            var pages: [Int32] = []
            for k in 0..<fullPages {
                let h = PagePool.hash(parent: parent, tokens: s.tokens[(k * pool.pageSize)..<((k + 1) * pool.pageSize)])
                guard let page = pool.lookup(h) else { break }
                pages.append(page)
                s.pageHashes.append(h)
                parent = h
            }
            s.cache.pageTable = pages
            cached = pages.count * pool.pageSize
            s.cache.assumeComputed(cached)
        }
        if !s.started {
            s.started = true
            s.cachedPromptTokens = cached
            s.continuation.yield(.started(promptTokens: s.promptCount, cachedPromptTokens: cached))
            stats.withLock { $0.prefixCacheHitTokens += cached; $0.promptTokensTotal += s.promptCount }
        }
    }

    private func ensurePages(_ s: Sequence, positions: Int) -> Bool {
        var table = s.cache.pageTable
        while table.count * pool.pageSize < positions {
            guard let p = allocatePage() else {
                s.cache.pageTable = table
                return false
            }
            table.append(p)
        }
        s.cache.pageTable = table
        return true
    }

    /// Makes `s`'s adapter resident in pool pages (loading it on first use) and counts `s` as a
    /// user. False when the pool cannot hold it now. An adapter with a row longer than a page
    /// block stays on the host path (still correct, not paged).
    private func ensureAdapter(_ s: Sequence) -> Bool {
        guard let a = s.adapter, !s.holdsAdapter else { return true }
        if resident[a.instanceID] == nil {
            guard PagedLoRA.blocksNeeded(for: a, blockCapacity: pool.blockCapacity) != nil else { return true }
            guard load(a, prefetch: false) else { return false }
        }
        resident[a.instanceID]!.users += 1
        s.holdsAdapter = true
        return true
    }

    /// Pages of resident adapters no running sequence uses (prefetched or idle). Under unified
    /// paging a KV allocation offloads them on demand, so the scheduler may count them as free;
    /// otherwise a prefetched adapter would block the admission it was loaded to speed up.
    private var standbyAdapterPages: Int {
        guard adapterPool == nil else { return 0 }
        return resident.values.reduce(0) { $0 + ($1.users == 0 ? $1.pages.count : 0) }
    }

    /// False when `s`'s adapter is larger than the whole separate adapter pool (it would wait forever).
    private func adapterCanEverFit(_ s: Sequence) -> Bool {
        guard let adapterPool, let a = s.adapter,
              let pages = Self.pages(for: a, in: adapterPool) else { return true }
        return pages <= adapterPool.pageCount
    }

    /// Pool pages `a` occupies when resident (a page holds two blocks: its key and value planes);
    /// nil when a row is longer than a block (the adapter stays on the host path).
    private static func pages(for a: LoRAAdapter, in pool: PagePool) -> Int? {
        PagedLoRA.blocksNeeded(for: a, blockCapacity: pool.blockCapacity).map { ($0 + 1) / 2 }
    }

    /// Copies `a` into newly allocated pool pages (no users yet). False when the pool is full.
    private func load(_ a: LoRAAdapter, prefetch: Bool) -> Bool {
        let pool = adapterPool ?? self.pool
        guard let count = Self.pages(for: a, in: pool) else { return false }
        var pages: [Int32] = []
        for _ in 0..<count {
            guard let p = prefetch ? pool.allocate() : allocateAdapterPage() else {
                for p in pages { pool.release(p) }
                return false
            }
            pages.append(p)
        }
        let paged = PagedLoRA(adapter: a, blockCapacity: pool.blockCapacity) { layer, i in
            pool.block(page: pages[i / 2], layer: layer, plane: i % 2)
        }
        let r = ResidentAdapter(paged: paged, pages: pages)
        r.users = 0
        resident[a.instanceID] = r
        stats.withLock {
            $0.adapterLoads += 1
            if prefetch { $0.adapterPrefetches += 1 }
        }
        return true
    }

    /// Drops `s`'s use of its adapter. An adapter nobody runs with stays resident (standby) only
    /// while a queued request needs it; otherwise it is offloaded and its pages return to the pool.
    private func releaseAdapter(_ s: Sequence) {
        guard s.holdsAdapter, let a = s.adapter, let r = resident[a.instanceID] else { return }
        s.holdsAdapter = false
        r.users -= 1
        if r.users == 0 && !configuration.adapterResidency.keepsStandby(neededByQueue: waiting.contains { $0.adapter === a }) {
            offload(a.instanceID)
        }
    }

    private func offload(_ id: UInt64) {
        guard let r = resident.removeValue(forKey: id) else { return }
        let pool = adapterPool ?? self.pool
        for p in r.pages { pool.release(p) }
    }

    /// A KV page; under unified paging, when the pool is exhausted, standby adapters (resident, no
    /// running user) are offloaded first.
    private func allocatePage() -> Int32? {
        if let p = pool.allocate() { return p }
        guard adapterPool == nil else { return nil }
        return allocateByOffloading(from: pool)
    }

    /// A page for an adapter, from the adapter pool when it is separate.
    private func allocateAdapterPage() -> Int32? {
        guard let adapterPool else { return allocatePage() }
        return adapterPool.allocate() ?? allocateByOffloading(from: adapterPool)
    }

    private func allocateByOffloading(from pool: PagePool) -> Int32? {
        for (id, r) in resident where r.users == 0 {
            offload(id)
            if let p = pool.allocate() { return p }
        }
        return nil
    }

    /// Loading ahead (S-LoRA's prefetch), as the residency policy chooses: offloads standby adapters
    /// it no longer keeps, then loads the adapters it picks from the head of the queue. Policies that
    /// look at no waiting request (``OnDemandResidency``) cost nothing here.
    private func prefetchAdapters() {
        let policy = configuration.adapterResidency
        guard policy.lookahead > 0, configuration.mergeSwap == nil else { return }
        // Requests without adapters (plain serving) cost two empty checks per step here.
        for (id, r) in resident where r.users == 0
            && !policy.keepsStandby(neededByQueue: waiting.contains { $0.adapter?.instanceID == id }) { offload(id) }
        let head = waiting.prefix(policy.lookahead)
        guard head.contains(where: { $0.adapter != nil }) else { return }
        let pool = adapterPool ?? self.pool
        let queued = head.map { s -> AdapterResidencyState.Queued? in
            guard let a = s.adapter, let pages = Self.pages(for: a, in: pool) else { return nil }
            return AdapterResidencyState.Queued(adapter: a.instanceID, pages: pages, resident: resident[a.instanceID] != nil)
        }
        let state = AdapterResidencyState(queued: queued, availablePages: pool.availablePages, runningSequences: running.count,
                                          unifiedPool: adapterPool == nil)
        for id in policy.prefetch(state) where resident[id] == nil {
            guard let a = head.first(where: { $0.adapter?.instanceID == id })?.adapter else { continue }
            _ = load(a, prefetch: true)
        }
    }

    private func releasePages(_ s: Sequence) {
        releaseAdapter(s)
        for p in s.cache.pageTable { pool.release(p) }
        s.cache.pageTable = []
        s.cache.reset()
        s.pageHashes.removeAll()
    }

    /// Registers pages that just became full so later prompts can share them.
    private func registerFullPages(_ s: Sequence) {
        guard configuration.prefixCaching else { return }
        let full = s.cache.count / pool.pageSize
        while s.pageHashes.count < full {
            let k = s.pageHashes.count
            let h = PagePool.hash(parent: s.pageHashes.last ?? s.hashSeed, tokens: s.tokens[(k * pool.pageSize)..<((k + 1) * pool.pageSize)])
            pool.register(s.cache.pageTable[k], hash: h)
            s.pageHashes.append(h)
        }
    }

    private func sampleNext(_ s: Sequence, _ logits: UnsafeBufferPointer<Float>) {
        let token = s.choose(logits)
        let now = Date()
        if s.firstTokenTime == nil {
            s.firstTokenTime = now
            stats.withLock { $0.ttft.append(now.timeIntervalSince(s.arrival)) }
        } else if let last = s.lastTokenTime {
            stats.withLock { $0.interTokenLatency.append(now.timeIntervalSince(last)) }
        }
        s.lastTokenTime = now
        stats.withLock { $0.generationTokensTotal += 1 }
        s.accept(token, contextSize: contextSize)
    }

    private func finish(_ s: Sequence, _ reason: FinishReason) {
        releasePages(s)
        s.finish(reason)
        stats.withLock {
            $0.finished += 1
            $0.e2eLatency.append(Date().timeIntervalSince(s.arrival))
        }
    }

    private func publishStats() {
        let waitingCount = inbox.withLock { $0.waitingCount }
        stats.withLock {
            $0.running = running.count
            $0.waiting = waitingCount
            $0.usedPages = pool.usedPages
            $0.cachedPages = pool.cachedPages
            $0.residentAdapters = resident.count
            $0.adapterPages = resident.values.reduce(0) { $0 + $1.pages.count }
        }
    }
}

/// Counters and latency samples the server exports as metrics (drained by the reader).
public struct EngineStats: Sendable {
    /// All zero: the counters of an engine that has not run yet.
    public init() {}

    public var running = 0
    public var waiting = 0
    public var usedPages = 0
    public var cachedPages = 0
    public var totalPages = 0
    public var steps = 0
    public var finished = 0
    public var preemptions = 0
    public var promptTokensTotal = 0
    public var promptTokensComputed = 0
    public var prefixCacheHitTokens = 0
    /// Requests dropped from the queue by an early-abort scheduler.
    public var aborted = 0
    /// LoRA adapters loaded into pool pages so far, and how many of those loads were prefetches.
    public var adapterLoads = 0
    public var adapterPrefetches = 0
    /// LoRA adapters resident in pool pages now, and the pages they hold.
    public var residentAdapters = 0
    public var adapterPages = 0
    public var generationTokensTotal = 0
    public var lastStepSeconds = 0.0
    /// Latency samples since the last drain (seconds).
    public var ttft: [Double] = []
    public var interTokenLatency: [Double] = []
    public var e2eLatency: [Double] = []

    /// Fraction of KV pages held by running sequences.
    public var kvUsage: Double { totalPages > 0 ? Double(usedPages) / Double(totalPages) : 0 }
}
