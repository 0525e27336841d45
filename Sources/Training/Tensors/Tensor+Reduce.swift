// SPDX-License-Identifier: Apache-2.0

import Kernels

extension Tensor {
    /// Normalizes a possibly negative axis.
    @inline(__always)
    public func axis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < Swift.max(rank, 1), "axis \(a) out of range for shape \(shape)")
        return r
    }

    /// `(outer, n, inner)` for viewing `self` as `[outer, shape[axis], inner]`.
    @inline(__always)
    public func split(at axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Sum of all elements as a rank-0 tensor (accumulated in `Double`).
    public func sum() -> Tensor {
        var s = 0.0
        withUnsafeBufferPointer { p in
            var acc = SIMD8<Float>(repeating: 0)
            var i = 0
            // Blocks of 1,024 in Float SIMD, then into Double: fast and accurate enough.
            while i < p.count {
                let end = Swift.min(i + 1024, p.count)
                acc = .zero
                var j = i
                while j + 8 <= end {
                    acc += UnsafeRawPointer(p.baseAddress! + j).loadUnaligned(as: SIMD8<Float>.self)
                    j += 8
                }
                var t = Double(acc.sum())
                while j < end { t += Double(p[j]); j += 1 }
                s += t
                i = end
            }
        }
        return Tensor(Float(s))
    }

    /// Mean of all elements as a rank-0 tensor.
    public func mean() -> Tensor { Tensor(sum().scalar / Float(Swift.max(count, 1))) }

    /// Sums over `axes`; keeps them as size-1 dimensions when `keepingDimensions`.
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let ax = Set(axes.map { axis($0) })
        var t = self
        for a in ax.sorted(by: >) { t = t.sumKeeping(axis: a) }
        if keepingDimensions { return t }
        return t.reshaped(shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element))
    }

    /// Mean over `axes`.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let n = Set(axes.map { axis($0) }).map { shape[$0] }.reduce(1, *)
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions).affine(scale: 1 / Float(n))
    }

    /// Sums one axis, keeping it with size 1.
    func sumKeeping(axis a: Int) -> Tensor {
        let (outer, n, inner) = split(at: a)
        var outShape = shape
        outShape[a] = 1
        var out = Tensor(uninitializedShape: outShape)
        let d = out.storage.base
        withUnsafeBufferPointer { p in
            let s = p.baseAddress!
            if inner == 1 {
                Parallel.forEach(count: outer, grain: Swift.max(1, 65_536 / Swift.max(n, 1))) { r in
                    for o in r {
                        let row = s + o * n
                        var acc = SIMD8<Float>(repeating: 0)
                        var j = 0
                        while j + 8 <= n {
                            acc += UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
                            j += 8
                        }
                        var t = acc.sum()
                        while j < n { t += row[j]; j += 1 }
                        d[o] = t
                    }
                }
            } else {
                Parallel.forEach(count: outer, grain: Swift.max(1, 65_536 / Swift.max(n * inner, 1))) { r in
                    for o in r {
                        let dst = d + o * inner
                        dst.update(from: s + o * n * inner, count: inner)
                        for k in 1..<Swift.max(n, 1) {
                            let src = s + (o * n + k) * inner
                            for i in 0..<inner { dst[i] += src[i] }
                        }
                        if n == 0 { dst.update(repeating: 0, count: inner) }
                    }
                }
            }
        }
        return out
    }

    /// Sums broadcast dimensions away so the result has `target` shape (the adjoint of broadcasting).
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        precondition(lead >= 0, "summed(toShape:): \(shape) -> \(target)")
        var axes = Array(0..<lead)
        for (i, n) in target.enumerated() where n == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        let s = sum(alongAxes: axes, keepingDimensions: true)
        return s.reshaped(target)
    }

    /// A contiguous copy broadcast to `target` (NumPy rules).
    public func broadcasted(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Tensor.broadcastShape(shape, target) == target, "broadcasted: \(shape) -> \(target)")
        var v = contiguous()
        let lead = target.count - rank
        let st = v.strides
        v.shape = target
        v.strides = (0..<target.count).map { i in
            i < lead ? 0 : (shape[i - lead] == 1 ? 0 : st[i - lead])
        }
        return v.contiguous()
    }

    /// Maximum along `axis` with the index of the first maximum.
    public func max(alongAxis a: Int, keepingDimensions: Bool = false) -> (values: Tensor, indices: [Int32]) {
        let ax = axis(a)
        let (outer, n, inner) = split(at: ax)
        var outShape = shape
        outShape[ax] = 1
        var out = Tensor(uninitializedShape: outShape)
        var idx = [Int32](repeating: 0, count: outer * inner)
        let d = out.storage.base
        withUnsafeBufferPointer { p in
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = -Float.infinity, bi = 0
                    for k in 0..<n {
                        let v = p[(o * n + k) * inner + i]
                        if k == 0 || v > best { best = v; bi = k }
                    }
                    d[o * inner + i] = best
                    idx[o * inner + i] = Int32(bi)
                }
            }
        }
        if !keepingDimensions { out = out.reshaped(shape.enumerated().filter { $0.offset != ax }.map(\.element)) }
        return (out, idx)
    }

    /// Index of the maximum along the last axis, per row.
    public func argmaxLastAxis() -> [Int] {
        max(alongAxis: -1).indices.map { Int($0) }
    }
}
