// SPDX-License-Identifier: Apache-2.0

public import CoreMetrics
import Foundation
public import InferenceEngine
public import Support

/// `tern serve --router`: the server routes through the engine's `RequestRouter` protocol.
/// `metadata.task` names the request's task; the decision runs the tier's depth and puts the
/// tier's few-shot examples before the prompt.
extension LiveRouter: RequestRouter {
    public func route(metadata: [String: String]?) throws(RoutingError) -> RoutingDecision {
        var task: Int? = nil
        if let name = metadata?["task"] {
            guard let t = taskIndex(named: name) else {
                throw .invalidLabel("metadata.task '\(name)' is not one of the router's tasks: \(tasks.map(\.name).joined(separator: ", "))",
                                    parameter: "metadata.task")
            }
            task = t
        }
        let d = route(task: task)
        guard let m = d.tier else { throw .shed("the router dropped this request under load; retry later") }
        let tier = tiers[m]
        let prefix = tier.shots > 0 ? task.map { tasks[$0].fewShotPrefix(shots: tier.shots) } ?? "" : ""
        return RoutingDecision(layerLimit: tier.layers, promptPrefix: prefix, fingerprint: "tern-tier-" + tier.name, context: d)
    }

    public func started(_ decision: RoutingDecision, count: Int) {
        guard let d = decision.context as? Decision else { return }
        started(d, count: count)
    }

    public func finished(_ decision: RoutingDecision, completed: Bool) {
        guard let d = decision.context as? Decision else { return }
        finished(d, completed: completed)
    }

    /// The counters through swift-metrics (per tier, labelled `tier`). Counters move by what is new
    /// since the highest reading recorded (readings may arrive out of order), so one router reports
    /// to one factory.
    public func recordMetrics(into factory: any MetricsFactory) {
        let now = snapshot()
        // Under the lock: each counter's step past its highest recorded value; recorded outside it.
        let steps: [(name: String, tier: String?, step: Int)] = reported.withLock { recorded in
            var out: [(String, String?, Int)] = []
            func step(_ name: String, _ tier: String?, _ value: Int) {
                let key = name + "|" + (tier ?? "")
                let previous = recorded[key] ?? 0
                recorded[key] = max(previous, value)
                out.append((name, tier, max(0, value - previous)))
            }
            for t in now.tiers {
                step("tern_router_requests_total", t.name, t.routed)
                step("tern_router_finished_total", t.name, t.finished)
                step("tern_router_on_time_total", t.name, t.onTime)
            }
            step("tern_router_dropped_total", nil, now.dropped)
            step("tern_router_unlabeled_total", nil, now.unlabeled)
            return out
        }
        for s in steps {
            Counter(label: s.name, dimensions: s.tier.map { [("tier", $0)] } ?? [], factory: factory).increment(by: s.step)
        }
        for t in now.tiers { Gauge(label: "tern_router_in_flight", dimensions: [("tier", t.name)], factory: factory).record(t.inFlight) }
        Gauge(label: "tern_router_arrival_rate", factory: factory).record(now.arrivalRate)
    }

    /// The snapshot as JSON (tiers with their counters, drops, unlabelled requests, arrival rate).
    public func status() -> JSONValue {
        guard let data = try? JSONEncoder().encode(snapshot()), let value = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            return .null
        }
        return value
    }
}
