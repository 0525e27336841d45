// SPDX-License-Identifier: Apache-2.0

import Support
public import GGUF

/// Reference quantizers (ggml's scalar `quantize_row_*_ref` rules) for building test weights.
public enum Quantizers {
    static func f16Bits(_ x: Float) -> [UInt8] {
        let b = Float16(x).bitPattern
        return [UInt8(b & 0xFF), UInt8(b >> 8)]
    }

    /// Encodes `x` (a multiple of the block size) in `type`: ``GGMLQuantizer`` (F32, F16, BF16, Q8_0, Q4_0, Q4_1).
    public static func quantize(_ x: [Float], as type: GGMLType) -> [UInt8] { GGMLQuantizer.quantize(x, as: type) }

    /// Random raw blocks of `type` with finite, moderate fp16 scales: valid input for any decoder.
    public static func randomBlocks(_ type: GGMLType, blocks: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        var out = (0..<(blocks * type.typeSize)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        // Offsets of fp16 scale fields within one block.
        let scaleOffsets: [Int] = switch type {
        case .q4_0, .q5_0, .q8_0: [0]
        case .q4_1, .q5_1, .q8_1: [0, 2]
        case .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        case .q2_K: [80, 82]
        case .q3_K: [108]
        case .f16: Array(stride(from: 0, to: type.typeSize, by: 2))
        default: []
        }
        for b in 0..<blocks {
            for off in scaleOffsets {
                let v = Float.random(in: 0.001...0.5, using: &rng) * (Bool.random(using: &rng) ? 1 : -1)
                let bits = f16Bits(v)
                out[b * type.typeSize + off] = bits[0]
                out[b * type.typeSize + off + 1] = bits[1]
            }
        }
        return out
    }
}

