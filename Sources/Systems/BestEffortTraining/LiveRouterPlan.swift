// SPDX-License-Identifier: Apache-2.0

public import BestEffortServing
import Foundation

/// What `tern serve --router` routes with, read before the model loads so that a bad file stops
/// the server at once; ``makeRouter(modelLayers:)`` builds the router once the model is known.
public struct LiveRouterPlan: Sendable {
    /// The learned policy (nil for a static tier or a live baseline).
    let policy: RouterPolicyFile?
    /// `static:TIER`, `greedy-deadline` or `random` (nil for a learned policy).
    let fixed: String?
    /// Deadlines and the rest, as `tern best-effort` derives them from the same table (baselines only).
    let settings: SimulationSettings?
    let table: TierTable

    /// Reads the router's files: `router` is a policy file from `tern best-effort train`,
    /// `static:TIER` (the paper's static baseline, live), `greedy-deadline` or `random`; `tiers`
    /// is the tier table from `tern profile`. The oracle needs hindsight and runs only in the simulator.
    public init(router: String, tiers: String) throws(LiveRouterPlanError) {
        do {
            if router.hasPrefix("static:") || ["greedy-deadline", "random"].contains(router) {
                var options = BestEffortSetup.Options()
                options.tiers = tiers
                let setup = try BestEffortSetup(options)
                (policy, fixed, settings, table) = (nil, router, setup.settings, setup.table)
            } else if !FileManager.default.fileExists(atPath: router) {
                throw LiveRouterPlanError("\(router): no such policy file; give a policy from `tern best-effort train`, static:TIER, greedy-deadline or random (the oracle needs hindsight and runs only in the simulator)")
            } else {
                (policy, fixed, settings, table) = (try RouterPolicyFile(contentsOf: router), nil, nil, try TierTable(contentsOf: tiers))
            }
        } catch let error as LiveRouterPlanError {
            throw error
        } catch {
            throw LiveRouterPlanError("\(router) / tiers \(tiers): \(error)")
        }
    }

    /// The router for a served model of `modelLayers` decoder layers.
    public func makeRouter(modelLayers layers: Int) throws -> LiveRouter {
        let specs = table.tiers.map(\.spec)
        if let policy { return try LiveRouter(policy: policy, table: specs, modelLayers: layers) }
        guard let fixed, let settings else { throw LiveRouterPlanError("an empty router plan") }
        if fixed.hasPrefix("static:") {
            return try LiveRouter(staticTier: String(fixed.dropFirst("static:".count)), table: specs, settings: settings, modelLayers: layers)
        }
        return try LiveRouter(baseline: fixed, table: table, settings: settings, modelLayers: layers)
    }
}

/// Why a router plan could not be read.
public struct LiveRouterPlanError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
