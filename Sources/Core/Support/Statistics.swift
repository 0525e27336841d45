// SPDX-License-Identifier: Apache-2.0

/// Summary statistics for benchmark timings and results over seeds.
///
/// ```swift
/// Statistics.median([3, 1, 2])              // 2
/// Statistics.percentile([1, 2, 3, 4], 0.9)  // 3.7 (linear interpolation)
/// Statistics.meanAndSpread([70.1, 72.3])    // mean 71.2, sample standard deviation 1.56
/// ```
public enum Statistics {
    /// Arithmetic mean; `nil` for an empty input.
    public static func mean(_ xs: [Double]) -> Double? {
        xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count)
    }

    /// Median (the mean of the two middle values for an even count); `nil` for an empty input.
    public static func median(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }

    /// The `q`-quantile (`q` in `[0, 1]`) with linear interpolation between order statistics
    /// (NumPy's default); `nil` for an empty input.
    public static func percentile(_ xs: [Double], _ q: Double) -> Double? {
        guard !xs.isEmpty else { return nil }
        precondition((0...1).contains(q), "percentile: q = \(q) outside [0, 1]")
        let s = xs.sorted()
        let position = q * Double(s.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, s.count - 1)
        return s[lower] + (s[upper] - s[lower]) * (position - Double(lower))
    }

    /// Sample standard deviation (n − 1 in the denominator); 0 for fewer than two values.
    public static func standardDeviation(_ xs: [Double]) -> Double {
        guard xs.count > 1, let m = mean(xs) else { return 0 }
        return (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
    }

    /// Mean and sample standard deviation over seeds (0 spread for one seed); `nil` for no values.
    public static func meanAndSpread(_ xs: [Double]) -> MeanAndSpread? {
        mean(xs).map { MeanAndSpread(mean: $0, spread: standardDeviation(xs), count: xs.count) }
    }
}

/// A mean with its sample standard deviation over `count` runs or seeds.
public struct MeanAndSpread: Sendable, Codable, Equatable {
    /// The mean.
    public var mean: Double
    /// The sample standard deviation (0 when `count` is 1).
    public var spread: Double
    /// How many values.
    public var count: Int

    /// Creates a value.
    public init(mean: Double, spread: Double, count: Int) { self.mean = mean; self.spread = spread; self.count = count }
}
