// SPDX-License-Identifier: Apache-2.0

import Support
public import Tensors

/// Finite-difference verification of gradient rules, for tests of every op, layer and loss.
public enum GradientCheck {
    /// The largest mismatch found by ``compare(_:at:seed:epsilon:)``.
    public struct Report: Sendable, CustomStringConvertible {
        /// Largest `|analytic − numeric| / (atol + rtol·max(|analytic|, |numeric|))` over all
        /// elements: at most 1 means every element is within tolerance.
        public var worstRatio: Double
        public var worstAnalytic: Double
        public var worstNumeric: Double
        public var worstInput: Int
        public var worstIndex: Int
        public var checked: Int
        public var description: String {
            "worst ratio \(worstRatio) at input \(worstInput)[\(worstIndex)]: analytic \(worstAnalytic), numeric \(worstNumeric) (\(checked) checked)"
        }
    }

    /// Compares reverse-mode gradients of `L = Σ f(x) ⊙ R` (fixed random `R`) with central differences.
    ///
    /// - Parameters:
    ///   - f: the function under test; it may return any shape.
    ///   - inputs: the points at which to differentiate (each becomes a leaf requiring gradients).
    ///   - epsilon: the finite-difference step.
    public static func compare(_ f: ([Variable]) -> Variable, at inputs: [Tensor], seed: UInt64 = 7, epsilon: Float = 1e-2,
                               absoluteTolerance: Double = 2e-3, relativeTolerance: Double = 2e-2) -> Report {
        var gen = SeededRandom(seed: seed)
        let probe = GradientMode.with(enabled: false) { f(inputs.map { Variable($0) }) }
        let weights = Tensor.uniform(probe.shape, low: -1, high: 1, generator: &gen)
        let wScalars = weights.scalars.map(Double.init)
        func loss(_ xs: [Tensor]) -> Double {
            let y = GradientMode.with(enabled: false) { f(xs.map { Variable($0) }) }
            return zip(y.value.scalars, wScalars).reduce(0.0) { $0 + Double($1.0) * $1.1 }
        }
        let leaves = inputs.map { Variable($0, requiresGradient: true) }
        let out = GradientMode.with(enabled: true) { (f(leaves) * Variable(weights)).sum() }
        let analytic = gradients(of: out, withRespectTo: leaves).map { $0.value.scalars }
        var report = Report(worstRatio: 0, worstAnalytic: 0, worstNumeric: 0, worstInput: 0, worstIndex: 0, checked: 0)
        for (i, x) in inputs.enumerated() {
            for j in 0..<x.count {
                var plus = inputs, minus = inputs
                var xp = x.contiguousCopy(), xm = x.contiguousCopy()
                xp.withUnsafeMutableBufferPointer { $0[j] += epsilon }
                xm.withUnsafeMutableBufferPointer { $0[j] -= epsilon }
                plus[i] = xp
                minus[i] = xm
                let numeric = (loss(plus) - loss(minus)) / (2 * Double(epsilon))
                let a = Double(analytic[i][j])
                let ratio = Swift.abs(a - numeric) / (absoluteTolerance + relativeTolerance * Swift.max(Swift.abs(a), Swift.abs(numeric)))
                report.checked += 1
                if ratio > report.worstRatio {
                    report = Report(worstRatio: ratio, worstAnalytic: a, worstNumeric: numeric, worstInput: i, worstIndex: j, checked: report.checked)
                }
            }
        }
        return report
    }
}
