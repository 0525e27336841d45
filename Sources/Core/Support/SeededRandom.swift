// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tern's one seeded random generator: SplitMix64 (Steele, Lea and Flood, 2014).
///
/// Every seeded draw in Tern goes through this type, so the same seed gives the same traces, game
/// settings, weight initialisations and sampled tokens on every machine. It conforms to
/// `RandomNumberGenerator`, so the standard library's `Int.random(in:using:)` and
/// `shuffled(using:)` work with it too.
///
/// ```swift
/// var random = SeededRandom(seed: 42)
/// let u = random.nextDouble()           // [0, 1)
/// let w = random.nextNormal()           // standard normal, Float
/// let i = random.nextInt(below: 10)     // 0..<10
/// ```
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator whose first output is SplitMix64's first output for `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in the open interval `(0, 1)` (safe under `log`), 53 random bits.
    @inline(__always)
    public mutating func nextOpenDouble() -> Double { (Double(next() >> 11) + 0.5) * 0x1p-53 }

    /// Uniform in `[0, 1)` with 24 random bits.
    @inline(__always)
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Standard normal `Float` (Box–Muller on two 24-bit uniforms).
    public mutating func nextNormal() -> Float {
        let u1 = max(nextFloat(), 1e-12), u2 = nextFloat()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }

    /// Standard normal `Double` (Box–Muller on two open uniforms).
    public mutating func nextGaussian() -> Double {
        (-2 * log(nextOpenDouble())).squareRoot() * cos(2 * .pi * nextOpenDouble())
    }

    /// Exponential with the given rate (mean `1/rate`).
    public mutating func nextExponential(rate: Double) -> Double { -log(1 - nextDouble()) / rate }

    /// Gamma(shape, scale) by Marsaglia and Tsang; shapes below 1 are boosted by `u^(1/shape)`.
    public mutating func nextGamma(shape: Double, scale: Double) -> Double {
        precondition(shape > 0 && scale > 0, "gamma: shape \(shape), scale \(scale)")
        if shape < 1 { return nextGamma(shape: shape + 1, scale: scale) * pow(nextOpenDouble(), 1 / shape) }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = nextGaussian()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextOpenDouble()
            if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return d * v * scale }
        }
    }

    /// Uniform integer in `0..<n` (modulo reduction: the bias is below 2^-40 for every `n` Tern uses).
    @inline(__always)
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "nextInt(below: \(n))")
        return Int(next() % UInt64(n))
    }

    /// Fisher–Yates shuffle drawing with ``nextInt(below:)`` (stable across Swift versions, unlike
    /// the standard library's `shuffle(using:)`, whose algorithm is not specified).
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, nextInt(below: i + 1)) }
    }

    /// `count` floats uniform in `range`.
    public mutating func floats(_ count: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &self) }
    }
}
