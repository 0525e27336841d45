// SPDX-License-Identifier: Apache-2.0

import Support

/// Measures two contenders fairly on a noisy machine: runs them alternately (A, B, B, A, A, B, ...:
/// each goes first equally often), repeats, and reports medians, so drift and warm-up hit both.
///
/// ```swift
/// let r = try AlternatingRuns.measure(repetitions: 5, ours: { try tern() }, theirs: { try llamaCpp() })
/// r.ratio   // median(ours) / median(theirs)
/// ```
public enum AlternatingRuns {
    /// The measurements of both contenders.
    public struct Result: Sendable, Equatable, Codable {
        /// Every measurement of ours, in run order.
        public var ours: [Double]
        /// Every measurement of theirs, in run order.
        public var theirs: [Double]
        /// Median of ours.
        public var oursMedian: Double { Statistics.median(ours) ?? .nan }
        /// Median of theirs.
        public var theirsMedian: Double { Statistics.median(theirs) ?? .nan }
        /// `oursMedian / theirsMedian`.
        public var ratio: Double { oursMedian / theirsMedian }
    }

    /// The order of `repetitions` pairs: `true` when ours runs first in pair `i` (ABBA pattern).
    public static func oursFirst(_ i: Int) -> Bool { i % 4 == 0 || i % 4 == 3 }

    /// Runs both `repetitions` times in ABBA order; each closure returns one measurement.
    public static func measure(repetitions: Int, ours: () throws -> Double, theirs: () throws -> Double) rethrows -> Result {
        precondition(repetitions > 0, "AlternatingRuns: \(repetitions) repetitions")
        var result = Result(ours: [], theirs: [])
        for i in 0..<repetitions {
            if oursFirst(i) {
                result.ours.append(try ours())
                result.theirs.append(try theirs())
            } else {
                result.theirs.append(try theirs())
                result.ours.append(try ours())
            }
        }
        return result
    }

    /// The async form of ``measure(repetitions:ours:theirs:)``.
    public static func measure(repetitions: Int, ours: () async throws -> Double, theirs: () async throws -> Double) async rethrows -> Result {
        precondition(repetitions > 0, "AlternatingRuns: \(repetitions) repetitions")
        var result = Result(ours: [], theirs: [])
        for i in 0..<repetitions {
            if oursFirst(i) {
                result.ours.append(try await ours())
                result.theirs.append(try await theirs())
            } else {
                result.theirs.append(try await theirs())
                result.ours.append(try await ours())
            }
        }
        return result
    }
}
