// SPDX-License-Identifier: Apache-2.0

public import Kernels

/// Element type of a ``Tensor``. Only `float32` is computed on today; the others describe loaded data.
public enum DType: Sendable, Equatable {
    case float32, float16, int32
}

/// A dense, strided n-dimensional array of `Float` values with value semantics (copy on write).
///
/// `Tensor` is the training stack's value type; the inference stack works on raw buffers and never
/// imports it. Views (``transposed(_:_:)``, ``reshaped(_:)``) share storage until written.
///
/// ```swift
/// let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let b = a.transposed(0, 1)            // [3, 2] view
/// let c = a.matmul(b)                   // [2, 2] through OpenBLAS
/// ```
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first.
    public private(set) var shape: [Int]
    /// Element strides for each dimension.
    public private(set) var strides: [Int]
    /// Element type (always `.float32` for now).
    public let dtype: DType = .float32
    private var storage: Storage
    private var offset: Int

    final class Storage: @unchecked Sendable {
        var scalars: [Float]
        init(_ s: [Float]) { scalars = s }
    }

    /// Creates a contiguous tensor from `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count, "Tensor: \(scalars.count) scalars for shape \(shape)")
        self.shape = shape
        self.strides = Tensor.contiguousStrides(shape)
        self.storage = Storage(scalars)
        self.offset = 0
    }

    /// Creates a tensor filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// True when elements are laid out row-major without gaps.
    public var isContiguous: Bool { strides == Tensor.contiguousStrides(shape) }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
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
        get { storage.scalars[linear(index)] }
        set {
            makeUnique()
            storage.scalars[linear(index)] = newValue
        }
    }

    private func linear(_ index: [Int]) -> Int {
        precondition(index.count == rank, "Tensor index \(index) for shape \(shape)")
        var o = offset
        for (i, (x, n)) in zip(index, shape).enumerated() {
            precondition(x >= 0 && x < n, "Tensor index \(index) out of range for shape \(shape)")
            o += x * strides[i]
        }
        return o
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.scalars) }
    }

    /// All elements in row-major order (a copy).
    public var scalars: [Float] {
        if isContiguous && offset == 0 && storage.scalars.count == count { return storage.scalars }
        var out = [Float]()
        out.reserveCapacity(count)
        var idx = [Int](repeating: 0, count: rank)
        for _ in 0..<count {
            var o = offset
            for d in 0..<rank { o += idx[d] * strides[d] }
            out.append(storage.scalars[o])
            var d = rank - 1
            while d >= 0 {
                idx[d] += 1
                if idx[d] < shape[d] { break }
                idx[d] = 0
                d -= 1
            }
        }
        return out
    }

    /// The same elements with a new shape (copies only if not contiguous).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "reshaped: \(shape) -> \(newShape)")
        return Tensor(shape: newShape, scalars: scalars)
    }

    /// A view with dimensions `a` and `b` swapped.
    public func transposed(_ a: Int, _ b: Int) -> Tensor {
        var t = self
        t.shape.swapAt(a, b)
        t.strides.swapAt(a, b)
        return t
    }

    /// Matrix product of two rank-2 tensors: `[m, k] × [k, n] -> [m, n]` (OpenBLAS).
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank == 2 && other.rank == 2 && shape[1] == other.shape[0], "matmul: \(shape) × \(other.shape)")
        let m = shape[0], k = shape[1], n = other.shape[1]
        let a = scalars, b = other.scalars
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    GEMM.sgemm(m: m, n: n, k: k, a: pa.baseAddress!, b: pb.baseAddress!, transposeB: false, c: pc.baseAddress!)
                }
            }
        }
        return Tensor(shape: [m, n], scalars: c)
    }

    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
    }
}
