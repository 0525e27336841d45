// SPDX-License-Identifier: Apache-2.0

public import Tensors

// One gradient rule per primitive, each next to its forward computation. Rules use Variable
// operations, so they are differentiable again when the backward pass records (createGraph).

// MARK: - Arithmetic with broadcasting

extension Variable {
    /// Sums broadcast dimensions away to `shape` (adjoint of ``broadcasted(to:)``).
    public func summed(toShape target: [Int]) -> Variable {
        if shape == target { return self }
        let source = shape
        return .record(value.summed(toShape: target), "sumToShape", inputs: [self]) { g in
            [g.broadcasted(to: source)]
        }
    }

    /// Materializes a broadcast to `target` (adjoint of ``summed(toShape:)``).
    public func broadcasted(to target: [Int]) -> Variable {
        if shape == target { return self }
        let source = shape
        return .record(value.broadcasted(to: target), "broadcast", inputs: [self]) { g in
            [g.summed(toShape: source)]
        }
    }

    public static func + (a: Variable, b: Variable) -> Variable {
        .record(a.value + b.value, "add", inputs: [a, b]) { g in
            [g.summed(toShape: a.shape), g.summed(toShape: b.shape)]
        }
    }

    public static func - (a: Variable, b: Variable) -> Variable {
        .record(a.value - b.value, "subtract", inputs: [a, b]) { g in
            [g.summed(toShape: a.shape), (-g).summed(toShape: b.shape)]
        }
    }

    public static func * (a: Variable, b: Variable) -> Variable {
        .record(a.value * b.value, "multiply", inputs: [a, b]) { g in
            [a.requiresGradient ? (g * b).summed(toShape: a.shape) : nil,
             b.requiresGradient ? (g * a).summed(toShape: b.shape) : nil]
        }
    }

    public static func / (a: Variable, b: Variable) -> Variable {
        .record(a.value / b.value, "divide", inputs: [a, b]) { g in
            [a.requiresGradient ? (g / b).summed(toShape: a.shape) : nil,
             b.requiresGradient ? (-(g * a) / (b * b)).summed(toShape: b.shape) : nil]
        }
    }

    /// `self · scale + shift` with constants.
    public func affine(scale: Float, shift: Float = 0) -> Variable {
        .record(value.affine(scale: scale, shift: shift), "affine", inputs: [self]) { g in
            [g.affine(scale: scale)]
        }
    }

    public static prefix func - (a: Variable) -> Variable { a.affine(scale: -1) }
    public static func + (a: Variable, b: Float) -> Variable { a.affine(scale: 1, shift: b) }
    public static func - (a: Variable, b: Float) -> Variable { a.affine(scale: 1, shift: -b) }
    public static func * (a: Variable, b: Float) -> Variable { a.affine(scale: b) }
    public static func * (a: Float, b: Variable) -> Variable { b.affine(scale: a) }
    public static func / (a: Variable, b: Float) -> Variable { a.affine(scale: 1 / b) }
    public static func - (a: Float, b: Variable) -> Variable { b.affine(scale: -1, shift: a) }

    /// Multiplies by a constant tensor (broadcast), e.g. a mask. No gradient flows to `mask`.
    public func multiplied(byConstant mask: Tensor) -> Variable {
        .record(value * mask, "multiplyConstant", inputs: [self]) { [shape] g in
            [g.multiplied(byConstant: mask).summed(toShape: shape)]
        }
    }
}

// MARK: - Pointwise functions

extension Variable {
    public func exp() -> Variable {
        let y = value.map(.exp)
        return .record(y, "exp", inputs: [self]) { g in
            [GradientMode.isEnabled ? g * self.exp() : g.multiplied(byConstant: y)]
        }
    }

    public func log() -> Variable {
        .record(value.map(.log), "log", inputs: [self]) { g in [g / self] }
    }

    public func sqrt() -> Variable {
        .record(value.map(.sqrt), "sqrt", inputs: [self]) { g in [g / self.sqrt() * 0.5] }
    }

    public func square() -> Variable {
        .record(value.map(.square), "square", inputs: [self]) { g in [g * self * 2] }
    }

    /// `self^p` for a constant exponent.
    public func power(_ p: Float) -> Variable {
        .record(value.power(p), "power", inputs: [self]) { g in [g * self.power(p - 1) * p] }
    }

    public func abs() -> Variable {
        .record(value.map(.abs), "abs", inputs: [self]) { g in [g.multiplied(byConstant: self.value.map(.sign))] }
    }

    public func relu() -> Variable {
        .record(value.map(.relu), "relu", inputs: [self]) { g in [g.multiplied(byConstant: self.value.map(.step))] }
    }

    public func sigmoid() -> Variable {
        let y = value.map(.sigmoid)
        return .record(y, "sigmoid", inputs: [self]) { g in
            if !GradientMode.isEnabled { return [g.multiplied(byConstant: y * (1 - y))] }
            let s = self.sigmoid()
            return [g * s * (1 - s)]
        }
    }

    public func tanh() -> Variable {
        let y = value.map(.tanh)
        return .record(y, "tanh", inputs: [self]) { g in
            if !GradientMode.isEnabled { return [g.multiplied(byConstant: 1 - y * y)] }
            return [g * (1 - self.tanh().square())]
        }
    }

    /// `log(1 + eˣ)`.
    public func softplus() -> Variable {
        .record(value.map(.softplus), "softplus", inputs: [self]) { g in [g * self.sigmoid()] }
    }

    /// `x · σ(x)`.
    public func silu() -> Variable {
        .record(value.map(.silu), "silu", inputs: [self]) { g in
            let s = self.sigmoid()
            return [g * (s + self * s * (1 - s))]
        }
    }

    /// GELU, exact erf form (PyTorch's default).
    public func gelu() -> Variable {
        .record(value.map(.gelu), "gelu", inputs: [self]) { g in [g * self.geluDerivative()] }
    }

    /// `d gelu / dx`, itself differentiable once more (enough for Hessian-vector products).
    public func geluDerivative() -> Variable {
        .record(value.map(.geluDerivative), "geluDerivative", inputs: [self]) { g in
            [g.multiplied(byConstant: self.value.map(.geluSecondDerivative))]
        }
    }

    public func erf() -> Variable {
        .record(value.map(.erf), "erf", inputs: [self]) { g in
            [g * (self.square() * -1).exp() * Float(2 / Double.pi.squareRoot())]
        }
    }
}

// MARK: - Reductions

extension Variable {
    /// Sum of all elements (rank 0).
    public func sum() -> Variable {
        .record(value.sum(), "sum", inputs: [self]) { [shape] g in [g.broadcasted(to: shape)] }
    }

    /// Mean of all elements (rank 0).
    public func mean() -> Variable { sum() / Float(Swift.max(value.count, 1)) }

    /// Sums over `axes`.
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Variable {
        let ax = axes.map { value.axis($0) }
        var kept = shape
        for a in ax { kept[a] = 1 }
        return .record(value.sum(alongAxes: ax, keepingDimensions: keepingDimensions), "sumAxes", inputs: [self]) { [shape] g in
            [g.reshaped(kept).broadcasted(to: shape)]
        }
    }

    /// Mean over `axes`.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Variable {
        let n = Set(axes.map { value.axis($0) }).map { shape[$0] }.reduce(1, *)
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) / Float(n)
    }

    /// Maximum along one axis (gradient to the first maximum).
    public func max(alongAxis a: Int, keepingDimensions: Bool = false) -> Variable {
        let ax = value.axis(a)
        let (_, indices) = value.max(alongAxis: ax, keepingDimensions: true)
        let m = gathered(alongAxis: ax, indices, k: 1)
        if keepingDimensions { return m }
        var s = shape
        s.remove(at: ax)
        return m.reshaped(s)
    }
}

// MARK: - Matrix products

extension Variable {
    /// `op(a) · op(b)` over the last two dimensions; batch dimensions must match, or `b` may be
    /// rank 2 and shared by every batch entry.
    public static func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
        if b.rank == 2 && a.rank > 2 && !transposeA {
            // Fold the batch into rows so the shared matrix gets one GEMM in both directions.
            let lead = Array(a.shape.dropLast())
            let flat = a.reshaped([-1, a.shape[a.rank - 1]])
            let y = matmul(flat, b, transposeB: transposeB)
            return y.reshaped(lead.dropLast() + [lead.last!, y.shape[1]])
        }
        precondition(b.rank == a.rank, "matmul: \(a.shape) × \(b.shape)")
        let ta = transposeA, tb = transposeB
        return .record(Tensor.matmul(a.value, b.value, transposeA: ta, transposeB: tb), "matmul", inputs: [a, b]) { g in
            let ga: Variable? = !a.requiresGradient ? nil :
                (ta ? matmul(b, g, transposeA: tb, transposeB: true) : matmul(g, b, transposeB: !tb))
            let gb: Variable? = !b.requiresGradient ? nil :
                (tb ? matmul(g, a, transposeA: true, transposeB: ta) : matmul(a, g, transposeA: !ta))
            return [ga, gb]
        }
    }

    /// `self · other` (see ``matmul(_:_:transposeA:transposeB:)``).
    public func matmul(_ other: Variable) -> Variable { Variable.matmul(self, other) }
}

// MARK: - Shape and indexing

extension Variable {
    /// Same elements, new shape (one dimension may be −1).
    public func reshaped(_ newShape: [Int]) -> Variable {
        let source = shape
        return .record(value.reshaped(newShape), "reshape", inputs: [self]) { g in [g.reshaped(source)] }
    }

    /// Flattens all dimensions after the first.
    public func flattened() -> Variable { reshaped([shape[0], -1]) }

    /// Dimensions reordered: result dimension `i` is dimension `order[i]` of `self`.
    public func permuted(_ order: [Int]) -> Variable {
        var inverse = order
        for (i, o) in order.enumerated() { inverse[o] = i }
        return .record(value.permuted(order), "permute", inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two dimensions (a contiguous copy).
    public func transposed(_ a: Int, _ b: Int) -> Variable {
        var order = Array(0..<rank)
        order.swapAt(value.axis(a), value.axis(b))
        return permuted(order)
    }

    /// Elements `range` along `axis`.
    public func sliced(alongAxis a: Int, _ range: Range<Int>) -> Variable {
        let ax = value.axis(a), size = shape[ax]
        return .record(value.sliced(alongAxis: ax, range), "slice", inputs: [self]) { g in
            [g.embedded(alongAxis: ax, offset: range.lowerBound, size: size)]
        }
    }

    /// Placed into zeros of size `size` along `axis` at `offset` (adjoint of slicing; also zero padding).
    public func embedded(alongAxis a: Int, offset: Int, size: Int) -> Variable {
        let ax = value.axis(a), n = shape[ax]
        return .record(value.embedded(alongAxis: ax, offset: offset, size: size), "embed", inputs: [self]) { g in
            [g.sliced(alongAxis: ax, offset..<(offset + n))]
        }
    }

    /// Concatenation along `axis`.
    public static func concatenated(_ parts: [Variable], alongAxis a: Int) -> Variable {
        let ax = parts[0].value.axis(a)
        let sizes = parts.map { $0.shape[ax] }
        return .record(Tensor.concatenated(parts.map(\.value), alongAxis: ax), "concat", inputs: parts) { g in
            var at = 0
            return sizes.map { n in
                defer { at += n }
                return g.sliced(alongAxis: ax, at..<(at + n))
            }
        }
    }

    /// PyTorch `gather` along `axis` with `k` indices per slot (see ``Tensor/gathered(alongAxis:_:k:)``).
    public func gathered(alongAxis a: Int, _ indices: [Int32], k: Int) -> Variable {
        let ax = value.axis(a), size = shape[ax]
        return .record(value.gathered(alongAxis: ax, indices, k: k), "gather", inputs: [self]) { g in
            [g.scatterAdded(alongAxis: ax, indices, size: size)]
        }
    }

    /// PyTorch `scatter_add` into zeros with `size` entries along `axis`.
    public func scatterAdded(alongAxis a: Int, _ indices: [Int32], size: Int) -> Variable {
        let ax = value.axis(a), k = shape[ax]
        return .record(value.scatterAdded(alongAxis: ax, indices, size: size), "scatterAdd", inputs: [self]) { g in
            [g.gathered(alongAxis: ax, indices, k: k)]
        }
    }

    /// Rows `indices` along `axis` (PyTorch `index_select`; embeddings use it on axis 0).
    public func indexSelected(alongAxis a: Int, _ indices: [Int32]) -> Variable {
        let ax = value.axis(a), size = shape[ax]
        return .record(value.indexSelected(alongAxis: ax, indices), "indexSelect", inputs: [self]) { g in
            [g.indexAdded(alongAxis: ax, indices, size: size)]
        }
    }

    /// Rows added into zeros at `indices` along `axis` (PyTorch `index_add`).
    public func indexAdded(alongAxis a: Int, _ indices: [Int32], size: Int) -> Variable {
        let ax = value.axis(a)
        return .record(value.indexAdded(alongAxis: ax, indices, size: size), "indexAdd", inputs: [self]) { g in
            [g.indexSelected(alongAxis: ax, indices)]
        }
    }
}

// MARK: - Gradient control

extension Variable {
    /// The value with gradients blocked (PyTorch `detach`, JAX `stop_gradient`).
    public func stoppingGradient() -> Variable { detached() }

    /// Straight-through estimator: the forward value of `forward`, the gradient of `self`
    /// (`self + stop(forward − self)`).
    public func straightThrough(_ forward: Variable) -> Variable {
        precondition(forward.shape == shape, "straightThrough: \(forward.shape) vs \(shape)")
        return .record(forward.value, "straightThrough", inputs: [self]) { g in [g] }
    }

    /// Rounds to the nearest integer in the forward pass; identity gradient (quantization STE).
    public func roundedStraightThrough() -> Variable {
        var r = value
        r.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = p[i].rounded() } }
        return straightThrough(Variable(r))
    }

    /// Keeps the `k` largest entries of each row (last axis) and sets the rest to `fill`
    /// (−∞ by default, as a router does before softmax). Gradients flow to kept entries only.
    public func topKMasked(_ k: Int, fill: Float = -.infinity) -> Variable {
        let mask = value.topKMask(k)
        return .record(value.masked(by: mask, fill: fill), "topKMask", inputs: [self]) { g in
            [g.multiplied(byConstant: mask)]
        }
    }

    /// Replaces entries where `mask` is 0 with `fill`; gradients flow where `mask` is 1.
    public func masked(by mask: Tensor, fill: Float) -> Variable {
        .record(value.masked(by: mask, fill: fill), "masked", inputs: [self]) { [shape] g in
            [g.multiplied(byConstant: mask).summed(toShape: shape)]
        }
    }
}
