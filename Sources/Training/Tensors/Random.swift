// SPDX-License-Identifier: Apache-2.0

public import Support

#if canImport(Glibc)
import Glibc
#endif

extension Tensor {
    /// Uniform samples in `[low, high)`.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, generator: inout SeededRandom) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = low + (high - low) * generator.nextFloat() }
        }
        return t
    }

    /// Normal samples with mean `mean` and standard deviation `std`.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: inout SeededRandom) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = mean + std * generator.nextNormal() }
        }
        return t
    }

    /// A 0/1 keep-mask with keep probability `1 − p`, already divided by `1 − p` (inverted dropout).
    public static func dropoutMask(_ shape: [Int], p: Float, generator: inout SeededRandom) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let keep = 1 / (1 - p)
        t.withUnsafeMutableBufferPointer { b in
            for i in 0..<b.count { b[i] = generator.nextFloat() >= p ? keep : 0 }
        }
        return t
    }
}
