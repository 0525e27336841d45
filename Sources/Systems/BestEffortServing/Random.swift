// SPDX-License-Identifier: Apache-2.0

public import Support

extension SeededRandom {
    /// The generator behind best-effort traces, tasks and policies: SplitMix64 started one step on
    /// (`seed + golden ratio`), which keeps the streams of the committed results.
    public static func bestEffort(seed: UInt64) -> SeededRandom { SeededRandom(seed: seed &+ 0x9E37_79B9_7F4A_7C15) }
}
