// SPDX-License-Identifier: Apache-2.0

public import Kernels

/// Element type of a ``Tensor``. Only `float32` is computed on today; the others describe loaded data.
public enum DType: Sendable, Equatable {
    case float32, float16, int32
}

/// A dense, strided n-dimensional array of `Float` values with value semantics (copy on write).
///
/// `Tensor` is the training stack's value type; the inference stack works on raw buffers and never
/// imports it. Views (``transposed(_:_:)``) share storage until written; every computing operation
/// reads a contiguous copy of a strided view and writes a fresh contiguous result. Buffers come from
/// ``BufferPool``, so a training loop whose shapes repeat reuses the same memory every step.
///
/// ```swift
/// let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let b = a.transposed(0, 1)            // [3, 2] view
/// let c = a.matmul(b)                   // [2, 2] through OpenBLAS
/// ```
public struct Tensor: @unchecked Sendable, Equatable {
    /// Dimensions, outermost first.
    public internal(set) var shape: [Int]
    /// Element strides for each dimension.
    public internal(set) var strides: [Int]
    /// Element type (always `.float32` for now).
    public let dtype: DType = .float32
    @usableFromInline var storage: TensorStorage
    @usableFromInline var offset: Int

    /// Creates a contiguous tensor from `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count, "Tensor: \(scalars.count) scalars for shape \(shape)")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// Creates a tensor filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(uninitializedShape: shape)
        storage.base.update(repeating: value, count: count)
    }

    /// Creates a contiguous tensor whose elements are not initialized; write every element
    /// through ``withUnsafeMutableBufferPointer(_:)`` before reading.
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        self.shape = shape
        self.strides = Tensor.contiguousStrides(shape)
        self.storage = TensorStorage(count: shape.reduce(1, *))
        self.offset = 0
    }

    /// A rank-0 tensor holding `value`.
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// True when elements are laid out row-major without gaps.
    public var isContiguous: Bool { strides == Tensor.contiguousStrides(shape) }

    /// Row-major strides of `shape`.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// The element at a multi-index.
    public subscript(_ index: Int...) -> Float {
        get { storage.base[linear(index)] }
        set {
            makeUnique()
            storage.base[linear(index)] = newValue
        }
    }

    private func linear(_ index: [Int]) -> Int {
        precondition(index.count == rank, "Tensor index \(index) for shape \(shape)")
        var o = offset
        for (i, (x, n)) in Swift.zip(index, shape).enumerated() {
            precondition(x >= 0 && x < n, "Tensor index \(index) out of range for shape \(shape)")
            o += x * strides[i]
        }
        return o
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage(count: storage.count)
            copy.base.update(from: storage.base, count: storage.count)
            storage = copy
        }
    }

    /// The only element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar: tensor has shape \(shape)")
        return storage.base[offset]
    }

    /// All elements in row-major order (a copy).
    public var scalars: [Float] {
        let c = contiguous()
        return Array(UnsafeBufferPointer(start: c.storage.base + c.offset, count: c.count))
    }

    /// A contiguous tensor with the same elements (`self` when already contiguous).
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        var out = Tensor(uninitializedShape: shape)
        let dst = out.storage.base
        let src = storage.base
        // Walk the strided view with an odometer over all but the last dimension.
        let last = rank - 1
        let n = shape[last], s = strides[last]
        var idx = [Int](repeating: 0, count: rank)
        var o = offset
        var w = 0
        let rows = count / Swift.max(n, 1)
        for _ in 0..<rows {
            if s == 1 { (dst + w).update(from: src + o, count: n) } else {
                for j in 0..<n { dst[w + j] = src[o + j * s] }
            }
            w += n
            var d = last - 1
            while d >= 0 {
                idx[d] += 1
                o += strides[d]
                if idx[d] < shape[d] { break }
                o -= strides[d] * shape[d]
                idx[d] = 0
                d -= 1
            }
        }
        out.offset = 0
        return out
    }

    /// Calls `body` with the contiguous elements (row-major).
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if isContiguous {
            return try body(UnsafeBufferPointer(start: storage.base + offset, count: count))
        }
        let c = contiguous()
        return try withExtendedLifetime(c) {
            try body(UnsafeBufferPointer(start: c.storage.base + c.offset, count: c.count))
        }
    }

    /// Calls `body` with mutable contiguous elements, copying first if the storage is shared or strided.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isContiguous || offset != 0 || storage.count != count {
            self = contiguousCopy()
        } else {
            makeUnique()
        }
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: count))
    }

    /// A fresh contiguous copy that shares nothing with `self`.
    public func contiguousCopy() -> Tensor {
        let c = contiguous()
        var out = Tensor(uninitializedShape: shape)
        out.storage.base.update(from: c.storage.base + c.offset, count: count)
        return out
    }

    /// The same elements with a new shape (a view when contiguous). One dimension may be `-1`.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let i = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            resolved[i] = known == 0 ? 0 : count / known
        }
        precondition(resolved.reduce(1, *) == count, "reshaped: \(shape) -> \(newShape)")
        var t = contiguous()
        t.shape = resolved
        t.strides = Tensor.contiguousStrides(resolved)
        return t
    }

    /// A view with dimensions `a` and `b` swapped.
    public func transposed(_ a: Int, _ b: Int) -> Tensor {
        var t = self
        t.shape.swapAt(a, b)
        t.strides.swapAt(a, b)
        return t
    }

    /// A view with dimensions reordered: result dimension `i` is dimension `order[i]` of `self`.
    public func permutedView(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permuted: \(order) for rank \(rank)")
        var t = self
        t.shape = order.map { shape[$0] }
        t.strides = order.map { strides[$0] }
        return t
    }

    /// A contiguous tensor with dimensions reordered (see ``permutedView(_:)``).
    public func permuted(_ order: [Int]) -> Tensor { permutedView(order).contiguous() }

    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
    }
}

/// Reference-counted element storage; its buffer goes back to ``BufferPool`` on deinit.
public final class TensorStorage: @unchecked Sendable {
    /// First element.
    @usableFromInline let base: UnsafeMutablePointer<Float>
    /// Number of elements.
    @usableFromInline let count: Int

    init(count: Int) {
        self.count = count
        self.base = BufferPool.acquire(count)
    }

    deinit { BufferPool.release(base, count) }
}
