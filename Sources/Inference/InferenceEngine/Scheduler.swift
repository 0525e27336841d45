// SPDX-License-Identifier: Apache-2.0

/// One sequence as the scheduler sees it: numbers only.
public struct ScheduledSequenceState: Sendable, Equatable {
    /// The request.
    public var id: RequestID
    /// Positions already in the KV cache.
    public var computed: Int
    /// Positions that must be in the cache before the next token can be sampled (prompt + generated).
    public var target: Int
    /// Pages the sequence holds.
    public var pages: Int
    /// Seconds since the request arrived.
    public var waited: Double
    /// Identity of the sequence's LoRA adapter instance (nil: the base model).
    public var adapter: UInt64?
    /// The adapter's weights in KV-position equivalents (S-LoRA's unified currency; 0 without one).
    public var adapterPositions: Int
    /// Tokens the request may still generate (its `max_tokens` minus those generated).
    public var remainingOutput: Int

    /// Creates a state.
    public init(id: RequestID, computed: Int, target: Int, pages: Int, waited: Double = 0, adapter: UInt64? = nil,
                adapterPositions: Int = 0, remainingOutput: Int = 0) {
        self.id = id; self.computed = computed; self.target = target; self.pages = pages; self.waited = waited
        self.adapter = adapter; self.adapterPositions = adapterPositions; self.remainingOutput = remainingOutput
    }
}

/// Everything a scheduling decision depends on.
public struct SchedulerInput: Sendable {
    /// Running sequences, highest priority first (FCFS: earliest arrival first).
    public var running: [ScheduledSequenceState]
    /// Waiting sequences, highest priority first.
    public var waiting: [ScheduledSequenceState]
    /// Pages that can be allocated.
    public var availablePages: Int
    /// Positions per page.
    public var pageSize: Int
    /// Token budget of this step.
    public var tokenBudget: Int
    /// Most running sequences.
    public var maxRunning: Int
    /// Pages in the whole pool (free, cached and held).
    public var totalPages: Int

    /// Creates an input.
    public init(running: [ScheduledSequenceState], waiting: [ScheduledSequenceState], availablePages: Int,
                pageSize: Int, tokenBudget: Int, maxRunning: Int, totalPages: Int? = nil) {
        self.running = running; self.waiting = waiting; self.availablePages = availablePages; self.pageSize = pageSize
        self.tokenBudget = tokenBudget; self.maxRunning = maxRunning
        self.totalPages = totalPages ?? availablePages + running.reduce(0) { $0 + $1.pages }
    }
}

/// A scheduling decision: which sequences compute how many tokens this step.
public struct SchedulerOutput: Sendable, Equatable {
    /// (sequence, tokens to compute) in batch order.
    public var scheduled: [(id: RequestID, tokens: Int)] = []
    /// Waiting sequences that start running this step.
    public var admitted: [RequestID] = []
    /// Running sequences that lose their pages (recomputed later from their tokens).
    public var preempted: [RequestID] = []
    /// Waiting sequences dropped because they can no longer meet their deadline (early abort).
    public var aborted: [RequestID] = []

    public init() {}

    public static func == (a: SchedulerOutput, b: SchedulerOutput) -> Bool {
        a.scheduled.map(\.id) == b.scheduled.map(\.id) && a.scheduled.map(\.tokens) == b.scheduled.map(\.tokens)
            && a.admitted == b.admitted && a.preempted == b.preempted && a.aborted == b.aborted
    }
}

/// A scheduling policy: state in, decision out. It never touches the model or the pool, so
/// policies (FCFS, fairness, adapter-aware) can be swapped and tested in isolation.
public protocol SchedulingPolicy: Sendable {
    /// Decides the next step.
    func schedule(_ input: SchedulerInput) -> SchedulerOutput
}

/// First come, first served with continuous batching and chunked prefill (vLLM's V1 rule: a
/// sequence is just computed versus target tokens; each step hands out a token budget).
///
/// Running sequences are served first, in order; when pages run out, the lowest-priority running
/// sequence is preempted (recompute). Waiting sequences are admitted in order while budget, pages
/// and running slots last; a long prompt is split across steps.
public struct FCFSScheduler: SchedulingPolicy {
    public init() {}

    public func schedule(_ input: SchedulerInput) -> SchedulerOutput {
        var (out, budget, free, running) = input.scheduleRunning()
        // Admit new work only when nobody had to be preempted: it would just be preempted next.
        guard out.preempted.isEmpty else { return out }
        var runningCount = running.count
        for w in input.waiting {
            guard runningCount < input.maxRunning else { break }
            // FCFS: never let a later request overtake one that does not fit yet.
            guard input.admit(w, budget: &budget, free: &free, into: &out) else { break }
            runningCount += 1
        }
        return out
    }
}

extension SchedulerInput {
    /// Pages needed to hold `positions` positions.
    func pagesFor(_ positions: Int) -> Int { (positions + pageSize - 1) / pageSize }

    /// The running stage every policy shares: running sequences are served first, in order, with the
    /// step's token budget; when pages run out, the lowest-priority running sequence is preempted
    /// (recompute), or the sequence itself when it is the last. Returns the partial decision, the
    /// budget and free pages left, and the sequences still running. Policies in other modules (S-LoRA's
    /// schedulers) build on it.
    public func scheduleRunning() -> (SchedulerOutput, budget: Int, free: Int, running: [ScheduledSequenceState]) {
        let input = self
        var out = SchedulerOutput()
        var budget = input.tokenBudget
        var free = input.availablePages
        var running = input.running
        var i = 0
        while i < running.count && budget > 0 {
            let s = running[i]
            let n = min(s.target - s.computed, budget)
            if n <= 0 {
                i += 1
                continue
            }
            let need = max(0, input.pagesFor(s.computed + n) - s.pages)
            var selfPreempted = false
            while need > free {
                if let victim = running.last, victim.id != s.id {
                    running.removeLast()
                    free += victim.pages
                    out.preempted.append(victim.id)
                } else {
                    running.remove(at: i)
                    free += s.pages
                    out.preempted.append(s.id)
                    selfPreempted = true
                    break
                }
            }
            if selfPreempted { continue }
            free -= need
            budget -= n
            out.scheduled.append((s.id, n))
            i += 1
        }
        return (out, budget, free, running)
    }

    /// Admits waiting sequence `w` with its first chunk if the step's budget and free pages allow;
    /// returns false (changing nothing) when they do not.
    public func admit(_ w: ScheduledSequenceState, budget: inout Int, free: inout Int, into out: inout SchedulerOutput) -> Bool {
        let input = self
        guard budget > 0 else { return false }
        let n = min(w.target - w.computed, budget)
        let need = max(0, input.pagesFor(w.computed + n) - w.pages)
        guard need <= free else { return false }
        free -= need
        budget -= n
        out.admitted.append(w.id)
        out.scheduled.append((w.id, n))
        return true
    }
}
