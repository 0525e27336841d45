// SPDX-License-Identifier: Apache-2.0

/// Availability and quality of one simulation.
public struct ServingMetrics: Sendable {
    /// Fraction of requests completed within their deadline.
    public var availability: Double
    /// Delivered quality ÷ peak quality over the whole trace.
    public var relativeQuality: Double
    /// Per window (by arrival time): delivered quality ÷ peak quality; windows without requests are skipped.
    public var windows: [Double]
    public var meanReward: Double

    /// Fraction of windows at or above `x` of peak.
    public func fractionOfWindows(atLeast x: Double) -> Double {
        windows.isEmpty ? 0 : Double(windows.filter { $0 >= x - 1e-12 }.count) / Double(windows.count)
    }

    /// Measures a result. Peak = every request served on time by the tier best on its task.
    public init(_ result: SimulationResult, model: ServingModel, window: Double) {
        let n = Double(max(result.outcomes.count, 1))
        availability = Double(result.outcomes.filter(\.onTime).count) / n
        meanReward = result.outcomes.map(\.reward).reduce(0, +) / n
        let served = result.outcomes.map(\.served).reduce(0, +)
        let peak = result.outcomes.map { model.peak(task: $0.request.task) }.reduce(0, +)
        relativeQuality = peak > 0 ? served / peak : 0
        var sums: [Int: (Double, Double)] = [:]
        for o in result.outcomes {
            let w = Int(o.request.arrival / window)
            let s = sums[w, default: (0, 0)]
            sums[w] = (s.0 + o.served, s.1 + model.peak(task: o.request.task))
        }
        windows = sums.keys.sorted().map { sums[$0]!.1 > 0 ? sums[$0]!.0 / sums[$0]!.1 : 0 }
    }
}
