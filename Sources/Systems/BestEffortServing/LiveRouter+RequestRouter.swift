// SPDX-License-Identifier: Apache-2.0

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

    /// The counters in Prometheus text format (per tier, labelled `tier`).
    public func metricsText() -> String {
        let r = snapshot()
        func escape(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
        var out = ""
        let series: [(String, String, String, (Snapshot.Tier) -> Int)] = [
            ("tern_router_requests_total", "counter", "Sequences the router sent to each tier", { $0.routed }),
            ("tern_router_in_flight", "gauge", "Sequences waiting or running per tier (the router's queue state)", { $0.inFlight }),
            ("tern_router_finished_total", "counter", "Routed sequences that ended per tier", { $0.finished }),
            ("tern_router_on_time_total", "counter", "Routed sequences that completed within their task's deadline", { $0.onTime }),
        ]
        for (name, type, help, value) in series {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for t in r.tiers { out += "\(name){tier=\"\(escape(t.name))\"} \(value(t))\n" }
        }
        out += "# HELP tern_router_dropped_total Requests the router dropped\n# TYPE tern_router_dropped_total counter\ntern_router_dropped_total \(r.dropped)\n"
        out += "# HELP tern_router_unlabeled_total Routed requests without metadata.task\n# TYPE tern_router_unlabeled_total counter\ntern_router_unlabeled_total \(r.unlabeled)\n"
        out += "# HELP tern_router_arrival_rate Arrivals per second over the router's rate window\n# TYPE tern_router_arrival_rate gauge\ntern_router_arrival_rate \(r.arrivalRate)\n"
        return out
    }

    /// The snapshot as JSON (tiers with their counters, drops, unlabelled requests, arrival rate).
    public func status() -> JSONValue {
        guard let data = try? JSONEncoder().encode(snapshot()), let value = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            return .null
        }
        return value
    }
}
