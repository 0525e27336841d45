// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `log Σ exp(x)` computed stably (max subtracted, sum in `Double`); `-inf` for an empty input.
public func logSumExp(_ x: UnsafeBufferPointer<Float>) -> Float {
    var m = -Float.infinity
    for v in x { m = max(m, v) }
    guard m.isFinite else { return m }
    var sum = 0.0
    for v in x { sum += Double(expf(v - m)) }
    return m + Float(log(sum))
}

/// `log Σ exp(x)` over an array.
public func logSumExp(_ x: [Float]) -> Float { x.withUnsafeBufferPointer { logSumExp($0) } }

/// Log-softmax of `x` into `out` (same count): `out[i] = x[i] − logSumExp(x)`.
public func logSoftmax(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
    precondition(x.count == out.count, "logSoftmax: \(x.count) inputs, \(out.count) outputs")
    let lse = logSumExp(x)
    for i in 0..<x.count { out[i] = x[i] - lse }
}

/// Log-softmax of an array.
public func logSoftmax(_ x: [Float]) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { logSoftmax(src, into: $0) } }
    return out
}
