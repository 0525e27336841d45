// SPDX-License-Identifier: Apache-2.0

public import CoreMetrics
public import Support

/// Decides, per request, how the engine serves it: how many decoder layers run (early exit) and
/// what text goes before the prompt. Learned best-effort serving's `LiveRouter` implements it;
/// the server only sees this protocol, so it depends on no system module.
///
/// A server calls ``route(metadata:)`` when a request arrives, ``started(_:count:)`` once its
/// sequences are accepted by the engine, and ``finished(_:completed:)`` as each sequence ends.
public protocol RequestRouter: Sendable {
    /// Routes an arriving request by its `metadata` (OpenAI's free-form request labels).
    /// - Throws: ``RoutingError`` to reject it.
    func route(metadata: [String: String]?) throws(RoutingError) -> RoutingDecision
    /// `count` sequences of a routed request were accepted by the engine.
    func started(_ decision: RoutingDecision, count: Int)
    /// One sequence of a routed request ended; `completed` unless it failed or was cancelled.
    func finished(_ decision: RoutingDecision, completed: Bool)
    /// Records the router's series through swift-metrics into `factory` (called before each
    /// `/metrics` scrape; counters move by what changed since the previous call).
    func recordMetrics(into factory: any MetricsFactory)
    /// The router's state for `/status`.
    func status() -> JSONValue
}

/// How one request is served.
public struct RoutingDecision: Sendable {
    /// Decoder layers to run; nil (or the model's depth) runs the full model.
    public var layerLimit: Int?
    /// Text placed before the prompt (for example a tier's few-shot examples).
    public var promptPrefix: String
    /// Reported as the response's `system_fingerprint` (for example the tier's name).
    public var fingerprint: String?
    /// The router's own record of the decision, handed back in ``RequestRouter/started(_:count:)``
    /// and ``RequestRouter/finished(_:completed:)``.
    public var context: any Sendable

    /// A decision.
    public init(layerLimit: Int?, promptPrefix: String = "", fingerprint: String? = nil, context: any Sendable) {
        self.layerLimit = layerLimit
        self.promptPrefix = promptPrefix
        self.fingerprint = fingerprint
        self.context = context
    }
}

/// Why a router refused a request.
public enum RoutingError: Error, Sendable, Equatable {
    /// A request label the router cannot use (a 400 naming `parameter`).
    case invalidLabel(String, parameter: String)
    /// Shed under load (a 503 the client may retry).
    case shed(String)
}
