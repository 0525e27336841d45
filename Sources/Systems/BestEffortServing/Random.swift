// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A small seedable generator (SplitMix64) so traces, tasks and simulations are identical on every
/// machine for the same seed. The inference stack does not import `Tensors`, hence its own.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Exponential with the given rate (mean `1/rate`).
    public mutating func exponential(rate: Double) -> Double { -log(1 - uniform()) / rate }

    /// Uniform integer in `0..<n`.
    public mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

