// SPDX-License-Identifier: Apache-2.0

extension Tensor {
    /// Elements `range` of dimension `axis` (a contiguous copy).
    public func sliced(alongAxis a: Int, _ range: Range<Int>) -> Tensor {
        let ax = axis(a)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax], "sliced: \(range) of \(shape) axis \(ax)")
        let (outer, n, inner) = split(at: ax)
        var out = resized(axis: ax, to: range.count, zeroed: false)
        let d = out.storage.base
        let len = range.count * inner
        withUnsafeBufferPointer { p in
            for o in 0..<outer {
                (d + o * len).update(from: p.baseAddress! + (o * n + range.lowerBound) * inner, count: len)
            }
        }
        return out
    }

    /// The adjoint of ``sliced(alongAxis:_:)``: `self` placed at `offset` along `axis` of a zero
    /// tensor whose size along that axis is `size`.
    public func embedded(alongAxis a: Int, offset: Int, size: Int) -> Tensor {
        let ax = axis(a)
        let (outer, n, inner) = split(at: ax)
        precondition(offset >= 0 && offset + n <= size, "embedded: \(n) at \(offset) into \(size)")
        var out = resized(axis: ax, to: size, zeroed: true)
        let d = out.storage.base
        withUnsafeBufferPointer { p in
            for o in 0..<outer {
                (d + (o * size + offset) * inner).update(from: p.baseAddress! + o * n * inner, count: n * inner)
            }
        }
        return out
    }

    /// Concatenates tensors along `axis`; all other dimensions must agree.
    public static func concatenated(_ parts: [Tensor], alongAxis a: Int) -> Tensor {
        precondition(!parts.isEmpty, "concatenated: no tensors")
        let ax = parts[0].axis(a)
        var outShape = parts[0].shape
        outShape[ax] = parts.map { $0.shape[ax] }.reduce(0, +)
        for p in parts {
            var s = p.shape
            s[ax] = outShape[ax]
            precondition(s == outShape, "concatenated: \(p.shape) does not fit \(outShape) along \(ax)")
        }
        var out = Tensor(uninitializedShape: outShape)
        let d = out.storage.base
        let (outer, total, inner) = out.split(at: ax)
        var at = 0
        for p in parts {
            let n = p.shape[ax]
            p.withUnsafeBufferPointer { s in
                for o in 0..<outer {
                    (d + (o * total + at) * inner).update(from: s.baseAddress! + o * n * inner, count: n * inner)
                }
            }
            at += n
        }
        return out
    }

    /// Rows `indices` of dimension `axis` (PyTorch `index_select`).
    public func indexSelected(alongAxis a: Int, _ indices: [Int32]) -> Tensor {
        let ax = axis(a)
        let (outer, n, inner) = split(at: ax)
        var out = resized(axis: ax, to: indices.count, zeroed: false)
        let d = out.storage.base
        let k = indices.count
        withUnsafeBufferPointer { p in
            for o in 0..<outer {
                for (j, i) in indices.enumerated() {
                    precondition(i >= 0 && Int(i) < n, "indexSelected: index \(i) out of 0..<\(n)")
                    (d + (o * k + j) * inner).update(from: p.baseAddress! + (o * n + Int(i)) * inner, count: inner)
                }
            }
        }
        return out
    }

    /// The adjoint of ``indexSelected(alongAxis:_:)``: rows of `self` added into a zero tensor of
    /// size `size` along `axis` at `indices` (repeated indices accumulate).
    public func indexAdded(alongAxis a: Int, _ indices: [Int32], size: Int) -> Tensor {
        let ax = axis(a)
        let (outer, k, inner) = split(at: ax)
        precondition(k == indices.count, "indexAdded: \(k) rows for \(indices.count) indices")
        var out = resized(axis: ax, to: size, zeroed: true)
        let d = out.storage.base
        withUnsafeBufferPointer { p in
            for o in 0..<outer {
                for (j, i) in indices.enumerated() {
                    let dst = d + (o * size + Int(i)) * inner
                    let src = p.baseAddress! + (o * k + j) * inner
                    for t in 0..<inner { dst[t] += src[t] }
                }
            }
        }
        return out
    }

    /// PyTorch `gather`: `out[o, j, i] = self[o, indices[o, j, i], i]` where `indices` has the shape
    /// of `self` except `k` entries along `axis` (flattened row-major).
    public func gathered(alongAxis a: Int, _ indices: [Int32], k: Int) -> Tensor {
        let ax = axis(a)
        let (outer, n, inner) = split(at: ax)
        precondition(indices.count == outer * k * inner, "gathered: \(indices.count) indices for \(shape), k \(k)")
        var out = resized(axis: ax, to: k, zeroed: false)
        let d = out.storage.base
        withUnsafeBufferPointer { p in
            Self.forEachIndexed(outer: outer, k: k, inner: inner, size: n, indices, "gathered") { t, target in d[t] = p[target] }
        }
        return out
    }

    /// For every entry `t = (o·k + j)·inner + i` of an index tensor `[outer, k, inner]`, the offset
    /// `(o·size + indices[t])·inner + i` it names in a tensor `[outer, size, inner]` (gather reads
    /// there, scatter-add writes there). An index outside `0..<size` stops the program, naming `op`.
    @inline(__always)
    static func forEachIndexed(outer: Int, k: Int, inner: Int, size: Int, _ indices: [Int32], _ op: StaticString,
                               _ body: (_ t: Int, _ target: Int) -> Void) {
        for o in 0..<outer {
            for j in 0..<k {
                for i in 0..<inner {
                    let t = (o * k + j) * inner + i
                    let idx = Int(indices[t])
                    precondition(idx >= 0 && idx < size, "\(op): index \(idx) out of 0..<\(size)")
                    body(t, (o * size + idx) * inner + i)
                }
            }
        }
    }

    /// PyTorch `scatter_add` into zeros: the adjoint of ``gathered(alongAxis:_:k:)``, with `size`
    /// entries along `axis` in the result.
    public func scatterAdded(alongAxis a: Int, _ indices: [Int32], size: Int) -> Tensor {
        let ax = axis(a)
        let (outer, k, inner) = split(at: ax)
        precondition(indices.count == count, "scatterAdded: \(indices.count) indices for \(shape)")
        var out = resized(axis: ax, to: size, zeroed: true)
        let d = out.storage.base
        withUnsafeBufferPointer { p in
            Self.forEachIndexed(outer: outer, k: k, inner: inner, size: size, indices, "scatterAdded") { t, target in d[target] += p[t] }
        }
        return out
    }

    /// A 0/1 mask with ones at the `k` largest entries of each slice along the last axis
    /// (ties broken by lower index).
    public func topKMask(_ k: Int) -> Tensor {
        let n = shape[rank - 1]
        precondition(k >= 0 && k <= n, "topKMask: k \(k) for last dimension \(n)")
        var out = Tensor(shape: shape, repeating: 0)
        let d = out.storage.base
        withUnsafeBufferPointer { p in
            var order = Array(0..<n)
            for row in 0..<(count / Swift.max(n, 1)) {
                let base = p.baseAddress! + row * n
                order = Array(0..<n)
                order.sort { base[$0] > base[$1] || (base[$0] == base[$1] && $0 < $1) }
                for j in 0..<k { d[row * n + order[j]] = 1 }
            }
        }
        return out
    }
}

extension Tensor {
    /// A tensor of this shape with axis `ax` resized to `size`: zeros, or uninitialized (every
    /// element is written by the caller) when `zeroed` is false.
    func resized(axis ax: Int, to size: Int, zeroed: Bool) -> Tensor {
        var s = shape
        s[ax] = size
        return zeroed ? Tensor(shape: s, repeating: 0) : Tensor(uninitializedShape: s)
    }
}
