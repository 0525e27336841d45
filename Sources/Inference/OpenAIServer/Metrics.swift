// SPDX-License-Identifier: Apache-2.0

public import CoreMetrics
import Foundation
import InferenceEngine
public import Prometheus
import Synchronization

extension PrometheusMetricsFactory {
    /// A factory over a fresh registry with Tern's latency buckets (5 ms to 60 s). The server's
    /// parts record with the state's factory explicitly (the router and the adapter store on each
    /// scrape); `tern serve` also bootstraps the process-wide `MetricsSystem` with it, so anything
    /// recording through swift-metrics' default factory lands in the same `/metrics`.
    public static func tern() -> PrometheusMetricsFactory {
        var f = PrometheusMetricsFactory(registry: PrometheusCollectorRegistry())
        f.defaultDurationHistogramBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60].map { .milliseconds(Int($0 * 1000)) }
        return f
    }
}

/// The engine's series (vLLM / llama.cpp semantics, `tern_` prefix), recorded through swift-metrics.
/// The engine keeps cumulative counters; each scrape moves what changed since the last one.
final class ServerMetrics: Sendable {
    private let running, waiting, kvUsage, kvCached, tokensPerSecond, adaptersResident, adapterPages: CoreMetrics.Gauge
    private let promptTokens, generationTokens, preemptions, requests, prefixHits, adapterLoads, aborted: CoreMetrics.Counter
    private let ttft, itl, e2e: CoreMetrics.Timer
    /// Generated tokens per second over the last scrape interval (at least 0.5 s).
    let rate = Mutex<Double>(0)
    private let last = Mutex<(stats: EngineStats, time: Date, rateTokens: Int)>((EngineStats(), Date(), 0))

    init(factory: any MetricsFactory) {
        func gauge(_ name: String) -> CoreMetrics.Gauge { CoreMetrics.Gauge(label: name, factory: factory) }
        func counter(_ name: String) -> CoreMetrics.Counter { CoreMetrics.Counter(label: name, factory: factory) }
        running = gauge("tern_requests_running")
        waiting = gauge("tern_requests_waiting")
        kvUsage = gauge("tern_kv_cache_usage_ratio")
        kvCached = gauge("tern_kv_cache_prefix_pages")
        tokensPerSecond = gauge("tern_generation_tokens_per_second")
        adaptersResident = gauge("tern_lora_adapters_resident")
        adapterPages = gauge("tern_lora_adapter_pages")
        promptTokens = counter("tern_prompt_tokens_total")
        generationTokens = counter("tern_generation_tokens_total")
        preemptions = counter("tern_preemptions_total")
        requests = counter("tern_requests_finished_total")
        prefixHits = counter("tern_prefix_cache_hit_tokens_total")
        adapterLoads = counter("tern_lora_adapter_loads_total")
        aborted = counter("tern_requests_aborted_total")
        ttft = CoreMetrics.Timer(label: "tern_time_to_first_token_seconds", factory: factory)
        itl = CoreMetrics.Timer(label: "tern_inter_token_latency_seconds", factory: factory)
        e2e = CoreMetrics.Timer(label: "tern_e2e_request_latency_seconds", factory: factory)
    }

    /// Moves the engine's counters and samples into the series.
    func update(from s: EngineStats) {
        running.record(s.running)
        waiting.record(s.waiting)
        kvUsage.record(s.kvUsage)
        kvCached.record(s.cachedPages)
        adaptersResident.record(s.residentAdapters)
        adapterPages.record(s.adapterPages)
        for x in s.ttft { ttft.recordSeconds(x) }
        for x in s.interTokenLatency { itl.recordSeconds(x) }
        for x in s.e2eLatency { e2e.recordSeconds(x) }
        last.withLock { l in
            // Readings can reach this lock out of order (a /status and a /metrics at once): a
            // counter moves only forward, by what is new since the highest reading recorded.
            func step(_ reading: Int, _ recorded: inout Int) -> Int {
                defer { recorded = max(recorded, reading) }
                return max(0, reading - recorded)
            }
            promptTokens.increment(by: step(s.promptTokensTotal, &l.stats.promptTokensTotal))
            generationTokens.increment(by: step(s.generationTokensTotal, &l.stats.generationTokensTotal))
            preemptions.increment(by: step(s.preemptions, &l.stats.preemptions))
            requests.increment(by: step(s.finished, &l.stats.finished))
            prefixHits.increment(by: step(s.prefixCacheHitTokens, &l.stats.prefixCacheHitTokens))
            adapterLoads.increment(by: step(s.adapterLoads, &l.stats.adapterLoads))
            aborted.increment(by: step(s.aborted, &l.stats.aborted))
            let now = Date()
            let dt = now.timeIntervalSince(l.time)
            if dt >= 0.5 {
                let r = Double(max(0, s.generationTokensTotal - l.rateTokens)) / dt
                tokensPerSecond.record(r)
                rate.withLock { $0 = r }
                l.time = now
                l.rateTokens = max(l.rateTokens, s.generationTokensTotal)
            }
        }
    }
}
