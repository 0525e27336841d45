// SPDX-License-Identifier: Apache-2.0

public import InferenceEngine
import Synchronization

/// S-LoRA's schedulers (its router, from LightLLM): admission by the unified-memory formula,
/// and the queue orders the paper compares.
///
/// Admission (`_can_add_new_req`): for the running sequences plus the candidates admitted so far
/// plus the next one, take pairs (tokens so far, tokens left), sort by tokens left descending, and
/// admit only if `max_i (left_i·(i+1) + Σ_{j≤i} sofar_j)` stays below the pool's positions minus the
/// positions that the distinct adapters of all of them occupy (adapters and KV in one currency).
/// The scan stops at the first candidate that does not fit (head-of-line blocking, as in S-LoRA).
/// Because a request is admitted only if it can run to completion, preemption is a fallback that
/// should not happen.
public final class SLoRAScheduler: SchedulingPolicy, @unchecked Sendable {
    /// The order in which waiting requests are considered.
    public enum Order: String, Sendable, CaseIterable {
        /// First come, first served (`slora`).
        case fcfs
        /// Last come, first served (the paper's "LCFS").
        case lcfs
        /// Early abort (`--enable-abort`): drop queued requests that can no longer meet the SLO;
        /// newest first while the estimated arrivals per step reach the estimated batch size,
        /// oldest first otherwise (EWMA 0.7/0.3).
        case abort
    }

    /// The queue order.
    public let order: Order
    /// Time-to-first-token objective in seconds (early abort).
    public let slo: Double
    /// Seconds of slack the abort rule keeps (S-LoRA: 0.5 s).
    public let abortMargin: Double
    /// Cluster scheduling (`--batch-num-adapters k`): once the running batch holds this many
    /// adapters, requests for those adapters are admitted first.
    public let clusterAdapters: Int?

    private struct Estimates {
        var arrivals = 0.0
        var batch = 0.0
        var seen = Set<RequestID>()
    }
    private let estimates = Mutex(Estimates())

    /// Creates the scheduler.
    public init(order: Order = .fcfs, slo: Double = 6, abortMargin: Double = 0.5, clusterAdapters: Int? = nil) {
        self.order = order
        self.slo = slo
        self.abortMargin = abortMargin
        self.clusterAdapters = clusterAdapters
    }

    /// The S-LoRA admission test for a set of sequences: `(sofar, left)` pairs and their adapters.
    public static func fits(_ members: [(sofar: Int, left: Int, adapter: UInt64?, adapterPositions: Int)], capacity: Int) -> Bool {
        var adapterCost: [UInt64: Int] = [:]
        for m in members { if let a = m.adapter { adapterCost[a] = m.adapterPositions } }
        let room = capacity - adapterCost.values.reduce(0, +)
        let sorted = members.sorted { $0.left > $1.left }
        var prefix = 0
        var peak = 0
        for (i, m) in sorted.enumerated() {
            prefix += m.sofar
            peak = max(peak, m.left * (i + 1) + prefix)
        }
        return peak < room
    }

    public func schedule(_ input: SchedulerInput) -> SchedulerOutput {
        var (out, budget, free, running) = input.scheduleRunning()
        guard out.preempted.isEmpty else { return out }

        var queue = input.waiting
        switch order {
        case .fcfs: break
        case .lcfs: queue.reverse()
        case .abort:
            let late = queue.filter { $0.waited + abortMargin >= slo }
            out.aborted = late.map(\.id)
            queue.removeAll { $0.waited + abortMargin >= slo }
            let newest = estimates.withLock { e -> Bool in
                let arrived = input.waiting.filter { !e.seen.contains($0.id) }
                for w in arrived { e.seen.insert(w.id) }
                e.seen.formIntersection(Set(input.waiting.map(\.id)))
                e.arrivals = 0.7 * e.arrivals + 0.3 * Double(arrived.count)
                e.batch = 0.7 * e.batch + 0.3 * Double(input.running.count)
                return e.arrivals >= e.batch
            }
            if newest { queue.reverse() }
        }
        if let k = clusterAdapters {
            let active = Set(running.compactMap(\.adapter))
            if active.count >= k {
                let (mine, others) = (queue.filter { $0.adapter.map(active.contains) ?? false },
                                      queue.filter { !($0.adapter.map(active.contains) ?? false) })
                queue = mine + others
            }
        }

        var members = running.map { (sofar: $0.target, left: $0.remainingOutput, adapter: $0.adapter, adapterPositions: $0.adapterPositions) }
        let capacity = input.totalPages * input.pageSize
        var runningCount = running.count
        for w in queue {
            guard runningCount < input.maxRunning else { break }
            // A new request holds its prompt and will need up to max_tokens more positions.
            let candidate = (sofar: w.target, left: w.remainingOutput, adapter: w.adapter, adapterPositions: w.adapterPositions)
            guard Self.fits(members + [candidate], capacity: capacity),
                  input.admit(w, budget: &budget, free: &free, into: &out) else { break }
            members.append(candidate)
            runningCount += 1
        }
        return out
    }
}

/// The PEFT-style baseline of S-LoRA's evaluation, as a policy in the same engine: static batches
/// of one adapter at a time. A batch takes up to `maxBatch` queued requests of the adapter of the
/// oldest queued request (FIFO among them) and runs until all of them finish; nothing joins a
/// running batch, and the next batch (possibly another adapter: the swap) starts only then.
///
/// Deviation from Hugging Face PEFT's server: sequences of a batch finish individually rather
/// than padding to the longest prompt and output, which favours this baseline.
public struct StaticAdapterBatchScheduler: SchedulingPolicy {
    /// Most requests per static batch.
    public let maxBatch: Int

    /// Creates the policy.
    public init(maxBatch: Int = 6) {
        precondition(maxBatch >= 1, "StaticAdapterBatchScheduler needs a batch of at least 1")
        self.maxBatch = maxBatch
    }

    public func schedule(_ input: SchedulerInput) -> SchedulerOutput {
        var (out, budget, free, running) = input.scheduleRunning()
        guard running.isEmpty, out.preempted.isEmpty, let head = input.waiting.first else { return out }
        var admitted = 0
        for w in input.waiting where w.adapter == head.adapter {
            guard admitted < maxBatch, admitted < input.maxRunning,
                  input.admit(w, budget: &budget, free: &free, into: &out) else { break }
            admitted += 1
        }
        return out
    }
}

/// An ablation of S-LoRA's heterogeneous batching: continuous batching restricted to one adapter at
/// a time (the repository's merge-swap `peft` scheduler without the merge). Requests of the adapter
/// already running may join; requests of other adapters wait until the batch drains, then the
/// oldest queued request's adapter becomes the active one.
public struct SingleAdapterScheduler: SchedulingPolicy {
    public init() {}

    public func schedule(_ input: SchedulerInput) -> SchedulerOutput {
        var (out, budget, free, running) = input.scheduleRunning()
        guard out.preempted.isEmpty, !input.waiting.isEmpty else { return out }
        let current: UInt64? = running.isEmpty ? input.waiting[0].adapter : running[0].adapter
        var runningCount = running.count
        for w in input.waiting where w.adapter == current {
            guard runningCount < input.maxRunning, input.admit(w, budget: &budget, free: &free, into: &out) else { break }
            runningCount += 1
        }
        return out
    }
}
