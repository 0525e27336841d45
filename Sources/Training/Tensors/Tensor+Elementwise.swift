// SPDX-License-Identifier: Apache-2.0

import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// Pointwise functions of one tensor, evaluated by ``Tensor/map(_:)``.
public enum UnaryFunction: Sendable, CaseIterable {
    case negate, exp, log, sqrt, reciprocal, square, abs, sign
    case relu, step
    case sigmoid, tanh, softplus, silu
    /// GELU with the exact erf form, `x · Φ(x)` (PyTorch's default).
    case gelu
    /// `Φ(x) + x · φ(x)`, the derivative of ``gelu``.
    case geluDerivative
    /// `φ(x) · (2 − x²)`, the second derivative of ``gelu``.
    case geluSecondDerivative
    case erf
}

/// Pointwise functions of two broadcast tensors, evaluated by ``Tensor/zip(_:_:_:)``.
public enum BinaryFunction: Sendable {
    case add, subtract, multiply, divide, maximum, minimum
    /// 1 where `a > b`, else 0.
    case greater
    /// 1 where `a == b`, else 0.
    case equal
}

@inline(__always) private func sigmoid8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    1 / (1 + TrainingMath.exp(-x))
}

private let invSqrt2: Float = 0.70710678118654752
private let invSqrt2Pi: Float = 0.39894228040143268

extension Tensor {
    /// Applies `f` to every element.
    public func map(_ f: UnaryFunction) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        let dst = out.storage.base
        withUnsafeBufferPointer { src in
            let s = src.baseAddress!
            Parallel.forEach(count: src.count, grain: f.isCheap ? 65_536 : 8_192) { r in
                Tensor.applyUnary(f, s + r.lowerBound, dst + r.lowerBound, r.count)
            }
        }
        return out
    }

    /// Applies a lane-wise function 8 floats at a time (the tail through a zero-padded vector).
    @inline(__always)
    static func vectorized(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int,
                           _ f: (SIMD8<Float>) -> SIMD8<Float>) {
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(s + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(d + i).storeBytes(of: f(v), as: SIMD8<Float>.self)
            i += 8
        }
        if i < n {
            var v = SIMD8<Float>(repeating: 0)
            for j in 0..<(n - i) { v[j] = s[i + j] }
            let r = f(v)
            for j in 0..<(n - i) { d[i + j] = r[j] }
        }
    }

    static func applyUnary(_ f: UnaryFunction, _ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int) {
        switch f {
        case .negate: for i in 0..<n { d[i] = -s[i] }
        case .exp: vectorized(s, d, n) { TrainingMath.exp($0) }
        case .log: for i in 0..<n { d[i] = logf(s[i]) }
        case .sqrt: for i in 0..<n { d[i] = s[i].squareRoot() }
        case .reciprocal: for i in 0..<n { d[i] = 1 / s[i] }
        case .square: for i in 0..<n { d[i] = s[i] * s[i] }
        case .abs: for i in 0..<n { d[i] = Swift.abs(s[i]) }
        case .sign: for i in 0..<n { d[i] = s[i] > 0 ? 1 : (s[i] < 0 ? -1 : 0) }
        case .relu: for i in 0..<n { d[i] = Swift.max(s[i], 0) }
        case .step: for i in 0..<n { d[i] = s[i] > 0 ? 1 : 0 }
        case .sigmoid: vectorized(s, d, n) { sigmoid8($0) }
        case .tanh: vectorized(s, d, n) { 2 * sigmoid8(2 * $0) - 1 }
        case .silu: vectorized(s, d, n) { $0 * sigmoid8($0) }
        case .softplus:
            for i in 0..<n { let x = s[i]; d[i] = Swift.max(x, 0) + log1pf(expf(-Swift.abs(x))) }
        case .gelu: vectorized(s, d, n) { x in 0.5 * x * (1 + TrainingMath.erf(x * invSqrt2)) }
        case .geluDerivative:
            vectorized(s, d, n) { x in
                0.5 * (1 + TrainingMath.erf(x * invSqrt2)) + x * invSqrt2Pi * TrainingMath.exp(-0.5 * x * x)
            }
        case .geluSecondDerivative:
            for i in 0..<n { let x = s[i]; d[i] = invSqrt2Pi * expf(-0.5 * x * x) * (2 - x * x) }
        case .erf: for i in 0..<n { d[i] = erff(s[i]) }
        }
    }

    /// The shape two shapes broadcast to (NumPy rules), or `nil` when they are incompatible.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let x = i < r - a.count ? 1 : a[i - (r - a.count)]
            let y = i < r - b.count ? 1 : b[i - (r - b.count)]
            if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
        }
        return out
    }

    /// Applies `f` elementwise with broadcasting.
    public static func zip(_ a: Tensor, _ b: Tensor, _ f: BinaryFunction) -> Tensor {
        guard let shape = broadcastShape(a.shape, b.shape) else {
            preconditionFailure("broadcast: \(a.shape) and \(b.shape) are incompatible")
        }
        var out = Tensor(uninitializedShape: shape)
        let d = out.storage.base
        let n = out.count
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let sa = pa.baseAddress!, sb = pb.baseAddress!
                if a.shape == b.shape {
                    Parallel.forEach(count: n, grain: 65_536) { r in
                        binaryLoop(f, sa + r.lowerBound, 1, sb + r.lowerBound, 1, d + r.lowerBound, r.count)
                    }
                    return
                }
                if a.count == 1 || b.count == 1 {
                    Parallel.forEach(count: n, grain: 65_536) { r in
                        binaryLoop(f, a.count == 1 ? sa : sa + r.lowerBound, a.count == 1 ? 0 : 1,
                                   b.count == 1 ? sb : sb + r.lowerBound, b.count == 1 ? 0 : 1,
                                   d + r.lowerBound, r.count)
                    }
                    return
                }
                // General case: element strides of each operand in the output's index space
                // (0 along broadcast dimensions); loop rows of the last two merged dims.
                let rank = shape.count
                func bstrides(_ s: [Int]) -> [Int] {
                    let full = [Int](repeating: 1, count: rank - s.count) + s
                    let cs = Tensor.contiguousStrides(full)
                    return (0..<rank).map { full[$0] == 1 ? 0 : cs[$0] }
                }
                let stA = bstrides(a.shape), stB = bstrides(b.shape)
                let inner = shape[rank - 1]
                let rows = n / Swift.max(inner, 1)
                let ia = stA[rank - 1], ib = stB[rank - 1]
                Parallel.forEach(count: rows, grain: Swift.max(1, 65_536 / Swift.max(inner, 1))) { r in
                    var idx = [Int](repeating: 0, count: rank)
                    var rem = r.lowerBound
                    for dim in stride(from: rank - 2, through: 0, by: -1) {
                        idx[dim] = rem % shape[dim]
                        rem /= shape[dim]
                    }
                    var oa = 0, ob = 0
                    for dim in 0..<(rank - 1) { oa += idx[dim] * stA[dim]; ob += idx[dim] * stB[dim] }
                    for row in r {
                        binaryLoop(f, sa + oa, ia, sb + ob, ib, d + row * inner, inner)
                        var dim = rank - 2
                        while dim >= 0 {
                            idx[dim] += 1
                            oa += stA[dim]; ob += stB[dim]
                            if idx[dim] < shape[dim] { break }
                            oa -= stA[dim] * shape[dim]; ob -= stB[dim] * shape[dim]
                            idx[dim] = 0
                            dim -= 1
                        }
                    }
                }
            }
        }
        return out
    }

    @inline(__always)
    static func binaryLoop(_ f: BinaryFunction, _ a: UnsafePointer<Float>, _ ia: Int,
                           _ b: UnsafePointer<Float>, _ ib: Int, _ d: UnsafeMutablePointer<Float>, _ n: Int) {
        @inline(__always) func run(_ op: (Float, Float) -> Float) {
            if ia == 1 && ib == 1 {
                for i in 0..<n { d[i] = op(a[i], b[i]) }
            } else if ia == 1 {
                let y = b[0]
                for i in 0..<n { d[i] = op(a[i], y) }
            } else if ib == 1 {
                let x = a[0]
                for i in 0..<n { d[i] = op(x, b[i]) }
            } else {
                let v = op(a[0], b[0])
                for i in 0..<n { d[i] = v }
            }
        }
        switch f {
        case .add: run { $0 + $1 }
        case .subtract: run { $0 - $1 }
        case .multiply: run { $0 * $1 }
        case .divide: run { $0 / $1 }
        case .maximum: run { Swift.max($0, $1) }
        case .minimum: run { Swift.min($0, $1) }
        case .greater: run { $0 > $1 ? 1 : 0 }
        case .equal: run { $0 == $1 ? 1 : 0 }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { zip(a, b, .add) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { zip(a, b, .subtract) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { zip(a, b, .multiply) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { zip(a, b, .divide) }
    public static prefix func - (a: Tensor) -> Tensor { a.map(.negate) }

    /// `self · scale + shift` in one pass.
    public func affine(scale: Float, shift: Float = 0) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        let d = out.storage.base
        withUnsafeBufferPointer { s in
            let p = s.baseAddress!
            Parallel.forEach(count: s.count, grain: 65_536) { r in
                for i in r { d[i] = p[i] * scale + shift }
            }
        }
        return out
    }

    public static func + (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1, shift: b) }
    public static func - (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1, shift: -b) }
    public static func * (a: Tensor, b: Float) -> Tensor { a.affine(scale: b) }
    public static func * (a: Float, b: Tensor) -> Tensor { b.affine(scale: a) }
    public static func / (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1 / b) }
    public static func - (a: Float, b: Tensor) -> Tensor { b.affine(scale: -1, shift: a) }
    public static func + (a: Float, b: Tensor) -> Tensor { b.affine(scale: 1, shift: a) }

    /// Raises every element to a constant power.
    public func power(_ p: Float) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        let d = out.storage.base
        withUnsafeBufferPointer { s in for i in 0..<s.count { d[i] = powf(s[i], p) } }
        return out
    }

    /// Clamps every element into `lo...hi`.
    public func clamped(_ lo: Float, _ hi: Float) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        let d = out.storage.base
        withUnsafeBufferPointer { s in for i in 0..<s.count { d[i] = Swift.min(Swift.max(s[i], lo), hi) } }
        return out
    }

    /// `self += alpha · other` in place (same shape): the optimizer's axpy.
    public mutating func addScaled(_ other: Tensor, _ alpha: Float) {
        precondition(shape == other.shape, "addScaled: \(shape) vs \(other.shape)")
        other.withUnsafeBufferPointer { o in
            withUnsafeMutableBufferPointer { d in
                let po = o.baseAddress!, pd = d.baseAddress!
                Parallel.forEach(count: d.count, grain: 65_536) { r in
                    for i in r { pd[i] += alpha * po[i] }
                }
            }
        }
    }

    /// `self *= factor` in place.
    public mutating func scale(by factor: Float) {
        withUnsafeMutableBufferPointer { d in for i in 0..<d.count { d[i] *= factor } }
    }

    /// `self = where(mask > 0, self, replacement)` elementwise; `mask` broadcasts to `self`.
    public func masked(by mask: Tensor, fill replacement: Float) -> Tensor {
        let m = mask.shape == shape ? mask : Tensor.zip(Tensor(shape: shape, repeating: 0), mask, .add)
        var out = Tensor(uninitializedShape: shape)
        let d = out.storage.base
        withUnsafeBufferPointer { s in
            m.withUnsafeBufferPointer { mm in
                for i in 0..<s.count { d[i] = mm[i] > 0 ? s[i] : replacement }
            }
        }
        return out
    }
}

extension UnaryFunction {
    var isCheap: Bool {
        switch self {
        case .negate, .square, .abs, .sign, .relu, .step, .reciprocal, .sqrt: true
        default: false
        }
    }
}
