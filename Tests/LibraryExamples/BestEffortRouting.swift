// SPDX-License-Identifier: Apache-2.0

import BestEffortServing
import BestEffortTraining

/// Learned best-effort serving, in the simulator over a measured tier table: the share of requests
/// answered within their deadline when every request goes to the best tier, and when the
/// greedy-deadline router picks the tier of each, at twice the best tier's capacity.
func availabilityUnderOverload(tierTable: String) throws -> (staticBest: Double, greedyDeadline: Double) {
    var options = BestEffortSetup.Options()
    options.tiers = tierTable
    let setup = try BestEffortSetup(options)
    let capacity = setup.model.capacity(setup.best, maxBatch: setup.settings.maxBatch)
    let trace = Trace.poisson(rate: 2 * capacity, duration: 60, mix: [(0, [Double](repeating: 1, count: setup.model.taskCount))], seed: 1)
    let evaluation = BestEffortEvaluation(model: setup.model, settings: setup.settings)
    let staticBest = evaluation.metrics(StaticPolicy(tier: setup.best, name: "static-best"), on: trace)
    let greedy = evaluation.metrics(GreedyDeadlinePolicy(), on: trace)
    return (staticBest.availability, greedy.availability)
}
