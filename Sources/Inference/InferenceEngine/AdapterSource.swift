// SPDX-License-Identifier: Apache-2.0

public import TransformerModels

/// Where the engine finds the LoRA adapter a request names: the engine's only view of an adapter
/// store. S-LoRA's host store (`MultiLoRA.AdapterStore`: formats, disk tier, run-time loading)
/// implements it; the engine keeps the rest of the S-LoRA hooks itself (adapter slots in the
/// batch, adapter pages from the KV pool, the LoRA kernels).
public protocol AdapterSource: AnyObject, Sendable {
    /// The adapter registered as `name`, or nil when there is none. May read it from slower
    /// storage first; the engine calls it once per request, on the submitting thread.
    func adapter(named name: String) -> LoRAAdapter?
    /// Whether `name` is registered, without loading it.
    func contains(_ name: String) -> Bool
    /// Registered adapter names, sorted (listed by `/v1/models`).
    var names: [String] { get }
}
