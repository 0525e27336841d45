// SPDX-License-Identifier: Apache-2.0

/// Wraps any policy so heterogeneous lists of policies can run through the generic simulator.
public struct AnyRoutingPolicy: RoutingPolicy {
    var inner: any RoutingPolicy
    public var name: String { inner.name }
    public init(_ inner: any RoutingPolicy) { self.inner = inner }
    public mutating func route(_ c: RoutingContext, model: ServingModel, settings: SimulationSettings) -> Int {
        inner.route(c, model: model, settings: settings)
    }
}

/// The reproduction's evaluation: stable-rate sweeps, bursty windows, and shifts.
public struct BestEffortEvaluation {
    public var model: ServingModel
    public var settings: SimulationSettings
    /// Length (s) of a quality window.
    public var window: Double

    public init(model: ServingModel, settings: SimulationSettings, window: Double = 10) {
        self.model = model
        self.settings = settings
        self.window = window
    }

    public func metrics(_ policy: any RoutingPolicy, on trace: Trace) -> ServingMetrics {
        var p = AnyRoutingPolicy(policy)
        return ServingMetrics(Simulator(model: model, settings: settings).run(trace, policy: &p), model: model, window: window)
    }

    /// Availability at each Poisson rate (held-out seeds), uniform task mix.
    public func availabilitySweep(_ makePolicy: () -> any RoutingPolicy, rates: [Double], duration: Double, seed: UInt64) -> [Double] {
        rates.enumerated().map { i, rate in
            let trace = Trace.poisson(rate: rate, duration: duration, mix: [(0, uniformMix)], seed: seed &+ UInt64(i))
            return metrics(makePolicy(), on: trace).availability
        }
    }

    /// The highest rate of the grid whose availability is at least `target` (0 when none).
    public static func maxRate(rates: [Double], availability: [Double], target: Double) -> Double {
        zip(rates, availability).filter { $0.1 >= target }.map(\.0).max() ?? 0
    }

    public var uniformMix: [Double] { [Double](repeating: 1, count: model.taskCount) }
}
