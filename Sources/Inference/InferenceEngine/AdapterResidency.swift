// SPDX-License-Identifier: Apache-2.0

/// Which LoRA adapters the engine keeps in pool pages beyond what running requests hold: the
/// standby and prefetch half of S-LoRA's adapter memory management.
///
/// The engine owns the mechanism: it copies an adapter into pool pages when a request using it is
/// admitted, counts the running requests using it, frees its pages when it is no longer wanted, and
/// offloads standby adapters (resident, no running user) first when a KV page is needed. A policy
/// only chooses. ``OnDemandResidency`` (the default) never loads ahead; S-LoRA's prefetch is
/// `MultiLoRA.SLoRAResidency`.
public protocol AdapterResidencyPolicy: Sendable {
    /// How many waiting requests, from the head of the queue, ``prefetch(_:)`` looks at (0: it is
    /// never called).
    var lookahead: Int { get }
    /// Whether an adapter that no running request uses stays resident. `neededByQueue`: a waiting
    /// request names it.
    func keepsStandby(neededByQueue: Bool) -> Bool
    /// Adapters (instance ids) to load into free pages now, ahead of admission, in order. Called
    /// after every step while requests wait; the engine loads each one that still fits.
    func prefetch(_ state: AdapterResidencyState) -> [UInt64]
}

extension AdapterResidencyPolicy {
    /// The default: an adapter stays resident exactly while a waiting request names it.
    public func keepsStandby(neededByQueue: Bool) -> Bool { neededByQueue }
}

/// What a residency policy sees after a step.
public struct AdapterResidencyState: Sendable {
    /// One waiting request's adapter.
    public struct Queued: Sendable, Equatable {
        /// The adapter's instance id.
        public var adapter: UInt64
        /// Pages it occupies once resident.
        public var pages: Int
        /// Whether it is resident already.
        public var resident: Bool

        /// Creates an entry.
        public init(adapter: UInt64, pages: Int, resident: Bool) { self.adapter = adapter; self.pages = pages; self.resident = resident }
    }

    /// The first ``AdapterResidencyPolicy/lookahead`` waiting requests, queue order; nil for a
    /// request without an adapter or with one too large for pages (it runs on the host path).
    public var queued: [Queued?]
    /// Pages that can be handed out now (free plus evictable prefix-cache pages) in the pool adapters use.
    public var availablePages: Int
    /// Requests running now.
    public var runningSequences: Int
    /// Whether adapters share the KV pool (S-LoRA's unified paging) rather than a pool of their own.
    public var unifiedPool: Bool

    /// Creates a state.
    public init(queued: [Queued?], availablePages: Int, runningSequences: Int, unifiedPool: Bool) {
        self.queued = queued; self.availablePages = availablePages; self.runningSequences = runningSequences; self.unifiedPool = unifiedPool
    }
}

/// The engine's default: an adapter is loaded when a request using it is admitted and stays
/// resident only while running or waiting requests name it; nothing is loaded ahead.
public struct OnDemandResidency: AdapterResidencyPolicy {
    /// Creates the policy.
    public init() {}
    public var lookahead: Int { 0 }
    public func prefetch(_ state: AdapterResidencyState) -> [UInt64] { [] }
}
