// SPDX-License-Identifier: Apache-2.0

public import InferenceEngine

/// S-LoRA's adapter prefetch: while requests run, the adapters of the next queued requests are
/// loaded into free pool pages so that admission does not wait for the copy; an adapter no running
/// or waiting request names is offloaded.
///
/// Under unified paging the policy leaves one page per running request plus one free, so that a
/// prefetched adapter never takes the page a running request's KV cache grows into next. With a
/// separate adapter pool there is nothing to protect and no margin is kept.
public struct SLoRAResidency: AdapterResidencyPolicy {
    /// Waiting requests looked at, from the head of the queue.
    public var lookahead: Int

    /// Creates the policy.
    public init(lookahead: Int = 8) { self.lookahead = lookahead }

    public func prefetch(_ state: AdapterResidencyState) -> [UInt64] {
        let margin = state.unifiedPool ? state.runningSequences + 1 : 0
        var available = state.availablePages
        var chosen: [UInt64] = []
        for case let q? in state.queued where !q.resident && !chosen.contains(q.adapter) && available >= q.pages + margin {
            chosen.append(q.adapter)
            available -= q.pages
        }
        return chosen
    }
}
