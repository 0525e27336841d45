// SPDX-License-Identifier: Apache-2.0

import InferenceEngine
import MultiLoRA
import TestSupport
import Testing
import TransformerModels

private func seq(_ id: RequestID, prompt: Int, out: Int, computed: Int = 0, pages: Int = 0, waited: Double = 0,
                 adapter: UInt64? = nil, adapterPositions: Int = 0) -> ScheduledSequenceState {
    ScheduledSequenceState(id: id, computed: computed, target: prompt, pages: pages, waited: waited, adapter: adapter,
                           adapterPositions: adapterPositions, remainingOutput: out)
}

@Suite("S-LoRA schedulers")
struct SLoRASchedulerTests {
    @Test("admission formula on hand-computed cases; each adapter counted once")
    func formula() {
        // Sorted by tokens left: (4, 20), (10, 5). Peaks: 20·1 + 4 = 24; 5·2 + 14 = 24.
        let m: [(sofar: Int, left: Int, adapter: UInt64?, adapterPositions: Int)] = [(10, 5, nil, 0), (4, 20, nil, 0)]
        #expect(SLoRAScheduler.fits(m, capacity: 25))
        #expect(!SLoRAScheduler.fits(m, capacity: 24))
        // (1, 30) alone peaks at 31; with (10, 5): 30 + 1 = 31, 5·2 + 11 = 21 → 31.
        #expect(SLoRAScheduler.fits([(10, 5, nil, 0), (1, 30, nil, 0)], capacity: 32))
        let shared: [(sofar: Int, left: Int, adapter: UInt64?, adapterPositions: Int)] = [(10, 5, 7, 80), (4, 20, 7, 80)]
        #expect(SLoRAScheduler.fits(shared, capacity: 105) && !SLoRAScheduler.fits(shared, capacity: 104))
        let two: [(sofar: Int, left: Int, adapter: UInt64?, adapterPositions: Int)] = [(10, 5, 7, 80), (4, 20, 8, 40)]
        #expect(SLoRAScheduler.fits(two, capacity: 145) && !SLoRAScheduler.fits(two, capacity: 144))
    }

    @Test("FCFS admits in order and stops at the first request that cannot finish; LCFS takes the newest first")
    func orders() {
        // 25 pages × 4 = 100 positions. Request 1 would need 60 + 50 = 110: blocks the rest.
        let waiting = [seq(1, prompt: 60, out: 50), seq(2, prompt: 10, out: 10), seq(3, prompt: 12, out: 10)]
        let input = SchedulerInput(running: [], waiting: waiting, availablePages: 25, pageSize: 4, tokenBudget: 256, maxRunning: 8)
        #expect(SLoRAScheduler(order: .fcfs).schedule(input).admitted.isEmpty)
        #expect(SLoRAScheduler(order: .lcfs).schedule(input).admitted == [3, 2])
        // The vLLM-style FCFS admits by current pages only (it would preempt later).
        #expect(FCFSScheduler().schedule(input).admitted == [1, 2, 3])
    }

    @Test("running sequences' future tokens count: admission never over-commits")
    func runningCounts() {
        let running = [seq(1, prompt: 40, out: 40, computed: 40, pages: 10)]
        let input = SchedulerInput(running: running, waiting: [seq(2, prompt: 8, out: 20)], availablePages: 15, pageSize: 4,
                                   tokenBudget: 64, maxRunning: 8)
        // Peak: (40, 40) and (8, 20): 40 + 40 = 80; 20·2 + 48 = 88 < 100.
        #expect(SLoRAScheduler().schedule(input).admitted == [2])
        var tight = input
        tight.totalPages = 22  // 88 positions
        #expect(SLoRAScheduler().schedule(tight).admitted.isEmpty)
    }

    @Test("early abort drops requests that can no longer meet the SLO")
    func abort() {
        let waiting = [seq(1, prompt: 8, out: 8, waited: 5.6), seq(2, prompt: 8, out: 8, waited: 1), seq(3, prompt: 8, out: 8, waited: 5.4)]
        let out = SLoRAScheduler(order: .abort, slo: 6).schedule(
            SchedulerInput(running: [], waiting: waiting, availablePages: 100, pageSize: 4, tokenBudget: 64, maxRunning: 8))
        #expect(out.aborted == [1] && Set(out.admitted) == [2, 3])
    }

    @Test("cluster scheduling prefers requests of the adapters already running")
    func cluster() {
        let running = [seq(1, prompt: 8, out: 8, computed: 8, pages: 2, adapter: 10), seq(2, prompt: 8, out: 8, computed: 8, pages: 2, adapter: 11)]
        let waiting = [seq(3, prompt: 8, out: 8, adapter: 12), seq(4, prompt: 8, out: 8, adapter: 11)]
        let input = SchedulerInput(running: running, waiting: waiting, availablePages: 100, pageSize: 4, tokenBudget: 64, maxRunning: 3)
        #expect(SLoRAScheduler(clusterAdapters: 2).schedule(input).admitted == [4])
        #expect(SLoRAScheduler().schedule(input).admitted == [3])
    }

    @Test("baselines: static per-adapter batches never join; single-adapter batches admit only the active adapter")
    func baselines() {
        let waiting = [seq(3, prompt: 8, out: 8, adapter: 12), seq(4, prompt: 8, out: 8, adapter: 11), seq(5, prompt: 8, out: 8, adapter: 12)]
        let idle = SchedulerInput(running: [], waiting: waiting, availablePages: 100, pageSize: 4, tokenBudget: 64, maxRunning: 8)
        #expect(StaticAdapterBatchScheduler(maxBatch: 6).schedule(idle).admitted == [3, 5])
        #expect(StaticAdapterBatchScheduler(maxBatch: 1).schedule(idle).admitted == [3])
        #expect(SingleAdapterScheduler().schedule(idle).admitted == [3, 5])
        let busy = SchedulerInput(running: [seq(1, prompt: 8, out: 8, computed: 8, pages: 2, adapter: 11)], waiting: waiting,
                                  availablePages: 100, pageSize: 4, tokenBudget: 64, maxRunning: 8)
        #expect(StaticAdapterBatchScheduler().schedule(busy).admitted.isEmpty, "nothing joins a static batch")
        #expect(SingleAdapterScheduler().schedule(busy).admitted == [4], "only the running adapter's requests join")
    }

    @Test("in the engine: S-LoRA admission serves every request correctly; an impossible SLO aborts with a clear error")
    func engine() async throws {
        let (engine, model, tokenizer) = try tinyEngine(kvMemory: 1 << 20, policy: SLoRAScheduler(order: .fcfs))
        defer { engine.shutdown() }
        let ps = prompts(6)
        let outs = try await withThrowingTaskGroup(of: (Int, RequestOutcome).self) { group in
            for (i, p) in ps.enumerated() {
                var r = GenerationRequest(prompt: p, maxTokens: 12)
                r.ignoreEndOfGeneration = true
                group.addTask { (i, try await run(engine, r)) }
            }
            var out = [RequestOutcome](repeating: RequestOutcome(), count: ps.count)
            for try await (i, o) in group { out[i] = o }
            return out
        }
        for (i, p) in ps.enumerated() { #expect(outs[i].tokens == (try reference(model, tokenizer, prompt: p, maxTokens: 12))) }

        let (strict, _, _) = try tinyEngine(policy: SLoRAScheduler(order: .abort, slo: 0.1))  // margin 0.5 > SLO: all abort
        defer { strict.shutdown() }
        await #expect(throws: EngineError.self) { _ = try await run(strict, GenerationRequest(prompt: [5, 6, 7], maxTokens: 4)) }
        #expect(strict.drainStats().aborted == 1)
    }
}
