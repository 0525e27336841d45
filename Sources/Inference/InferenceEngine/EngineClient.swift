// SPDX-License-Identifier: Apache-2.0

public import Tokenization
public import TransformerModels
import Synchronization

/// The thread-safe front door of the serving engine: submit a request, get one stream of events.
///
/// The model runs on the engine's own thread (``EngineCore``); this type only queues work. When a
/// stream's consumer goes away (a client disconnects), the request is cancelled and its KV pages
/// are freed.
///
/// ```swift
/// let engine = EngineClient(model: model, tokenizer: tokenizer, configuration: EngineConfiguration())
/// engine.start()
/// for try await event in try engine.submit(GenerationRequest(prompt: ids, maxTokens: 32)) {
///     if case .token(_, let text, _) = event { print(text, terminator: "") }
/// }
/// ```
public final class EngineClient: Sendable {
    /// The tokenizer requests are encoded with.
    public let tokenizer: Tokenizer
    /// Longest sequence, prompt plus output, in tokens.
    public var contextSize: Int { core.contextSize }
    /// Decoder layers of the served model (the largest ``GenerationRequest/layerLimit``).
    public var layerCount: Int { core.model.hyperparameters.layers }
    /// The configuration in force.
    public var configuration: EngineConfiguration { core.configuration }
    /// The LoRA adapters this engine serves, if any.
    public let adapters: (any AdapterSource)?
    private let core: EngineCore
    private let nextID = Mutex<RequestID>(1)

    /// Creates an engine over a loaded model; call ``start()`` before submitting.
    ///
    /// - Parameter adapters: the LoRA adapters requests may name in ``GenerationRequest/adapter``.
    public init(model: any LanguageModel, tokenizer: Tokenizer, configuration: EngineConfiguration,
                policy: any SchedulingPolicy = FCFSScheduler(), adapters: (any AdapterSource)? = nil) {
        self.tokenizer = tokenizer
        self.adapters = adapters
        core = EngineCore(model: model, tokenizer: tokenizer, configuration: configuration, policy: policy, adapters: adapters)
    }

    /// Starts the engine thread.
    public func start() { core.start() }

    /// Stops the engine thread; in-flight requests finish with ``FinishReason/cancelled``.
    public func shutdown() { core.stop() }

    /// Queues a request and returns its event stream.
    /// - Throws: ``EngineError`` at once for invalid requests, overload or shutdown.
    public func submit(_ request: GenerationRequest) throws(EngineError) -> AsyncThrowingStream<GenerationEvent, any Error> {
        let id = nextID.withLock { id -> RequestID in
            defer { id += 1 }
            return id
        }
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, any Error>.makeStream(bufferingPolicy: .unbounded)
        let core = self.core
        continuation.onTermination = { termination in
            if case .cancelled = termination { core.cancel(id) }
        }
        do {
            try core.submit(request, id: id, continuation: continuation)
        } catch {
            continuation.onTermination = nil
            continuation.finish()
            throw error
        }
        return stream
    }

    /// Forgets every cached prompt prefix (KV pages kept for reuse), as if the engine had just
    /// started; running requests keep their pages. Takes effect before any later submission.
    /// Benchmarks use it so one method's prompts are never served from another's cache.
    public func clearPrefixCache() { core.dropPrefixCache() }

    /// A snapshot of the engine's counters; latency samples are handed over and cleared.
    public func drainStats() -> EngineStats {
        core.stats.withLock { s in
            let copy = s
            s.ttft.removeAll(keepingCapacity: true)
            s.interTokenLatency.removeAll(keepingCapacity: true)
            s.e2eLatency.removeAll(keepingCapacity: true)
            return copy
        }
    }

    /// Total KV pages and positions per page.
    public var kvPages: (pages: Int, pageSize: Int) { (core.pool.pageCount, core.pool.pageSize) }
}
