// SPDX-License-Identifier: Apache-2.0

import Support
import Autograd
import Tensors
import Testing

/// Random test input away from kinks (|x| ≥ 0.1), so ReLU/abs/max are differentiable there.
func input(_ shape: [Int], seed: UInt64, awayFromZero: Bool = true) -> Tensor {
    var g = SeededRandom(seed: seed)
    var t = Tensor.normal(shape, generator: &g)
    if awayFromZero {
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = p[i] >= 0 ? p[i] + 0.1 : p[i] - 0.1 }
        }
    }
    return t
}

func positive(_ shape: [Int], seed: UInt64) -> Tensor {
    input(shape, seed: seed).map(.abs) + 0.5
}

func check(_ name: String, _ inputs: [Tensor], epsilon: Float = 1e-2, _ f: @escaping ([Variable]) -> Variable,
           sourceLocation: SourceLocation = #_sourceLocation) {
    let r = GradientCheck.compare(f, at: inputs, epsilon: epsilon)
    #expect(r.worstRatio <= 1, "\(name): \(r)", sourceLocation: sourceLocation)
    #expect(r.checked == inputs.map(\.count).reduce(0, +), sourceLocation: sourceLocation)
}

@Suite("Gradient rules match finite differences")
struct GradientRuleTests {
    @Test func broadcastArithmetic() {
        let a = input([2, 3, 4], seed: 1), b = input([3, 1], seed: 2), c = positive([4], seed: 3)
        check("add", [a, b]) { $0[0] + $0[1] }
        check("subtract", [a, b]) { $0[0] - $0[1] }
        check("multiply", [a, b]) { $0[0] * $0[1] }
        check("divide", [a, c]) { $0[0] / $0[1] }
        check("affine", [a]) { $0[0] * 3 - 1 }
        check("rsub", [a]) { 2 - $0[0] }
        check("broadcast", [b]) { $0[0].broadcasted(to: [2, 3, 4]) }
        check("sumToShape", [a]) { $0[0].summed(toShape: [3, 1]) }
        check("multiplyConstant", [a]) { $0[0].multiplied(byConstant: b.map(.sign)) }
    }

    @Test(arguments: UnaryCase.allCases)
    func pointwise(_ f: UnaryCase) {
        let x = f.positiveOnly ? positive([3, 5], seed: 4) : input([3, 5], seed: 4)
        check("\(f)", [x], epsilon: 1e-3) { f.apply($0[0]) }
    }

    @Test func reductions() {
        let x = input([2, 3, 4], seed: 5)
        check("sum", [x]) { $0[0].sum() }
        check("mean", [x]) { $0[0].mean() }
        check("sumAxes", [x]) { $0[0].sum(alongAxes: [0, 2]) }
        check("sumAxesKeep", [x]) { $0[0].sum(alongAxes: [1], keepingDimensions: true) }
        check("meanAxes", [x]) { $0[0].mean(alongAxes: [-1]) }
        check("max", [x]) { $0[0].max(alongAxis: 1) }
    }

    @Test func matrixProducts() {
        let a = input([3, 4], seed: 6), b = input([4, 5], seed: 7)
        check("mm", [a, b]) { Variable.matmul($0[0], $0[1]) }
        check("mm Aᵀ", [a.transposed(0, 1).contiguous(), b]) { Variable.matmul($0[0], $0[1], transposeA: true) }
        check("mm Bᵀ", [a, b.transposed(0, 1).contiguous()]) { Variable.matmul($0[0], $0[1], transposeB: true) }
        check("mm AᵀBᵀ", [a.transposed(0, 1).contiguous(), b.transposed(0, 1).contiguous()]) {
            Variable.matmul($0[0], $0[1], transposeA: true, transposeB: true)
        }
        let ba = input([2, 3, 4], seed: 8), bb = input([2, 4, 2], seed: 9)
        check("bmm", [ba, bb]) { Variable.matmul($0[0], $0[1]) }
        check("bmm Bᵀ", [ba, input([2, 5, 4], seed: 10)]) { Variable.matmul($0[0], $0[1], transposeB: true) }
        check("shared", [ba, b]) { Variable.matmul($0[0], $0[1]) }
    }

    @Test func shapeAndIndexing() {
        let x = input([2, 3, 4], seed: 11)
        check("reshape", [x]) { $0[0].reshaped([6, -1]) }
        check("permute", [x]) { $0[0].permuted([2, 0, 1]) }
        check("transpose", [x]) { $0[0].transposed(0, 2) }
        check("slice", [x]) { $0[0].sliced(alongAxis: 1, 1..<3) }
        check("embed", [x]) { $0[0].embedded(alongAxis: 2, offset: 1, size: 6) }
        check("concat", [x, input([2, 2, 4], seed: 12)]) { Variable.concatenated([$0[0], $0[1]], alongAxis: 1) }
        let idx: [Int32] = [2, 0, 0, 1, 1, 1, 0, 2]  // [2, 1, 4]
        check("gather", [x]) { $0[0].gathered(alongAxis: 1, idx, k: 1) }
        check("scatterAdd", [input([2, 1, 4], seed: 13)]) { $0[0].scatterAdded(alongAxis: 1, idx, size: 3) }
        check("indexSelect", [x]) { $0[0].indexSelected(alongAxis: 1, [2, 2, 0]) }
        check("indexAdd", [input([2, 3, 4], seed: 14)]) { $0[0].indexAdded(alongAxis: 1, [1, 1, 0], size: 5) }
    }

    @Test func softmaxFamily() {
        let x = input([3, 5], seed: 15)
        check("softmax", [x], epsilon: 1e-3) { $0[0].softmax() }
        check("logSoftmax", [x], epsilon: 1e-3) { $0[0].logSoftmax() }
        check("topKMasked", [x]) { $0[0].topKMasked(2, fill: 0) }
        check("topKSoftmax", [x], epsilon: 1e-3) { $0[0].topKMasked(2).softmax() }
        check("masked", [x]) { $0[0].masked(by: x.map(.step), fill: 3) }
    }

    @Test(arguments: [
        ConvCase(n: 2, c: 3, h: 5, w: 6, oc: 4, k: 3, options: Conv2DOptions()),
        ConvCase(n: 1, c: 2, h: 7, w: 7, oc: 2, k: 3, options: Conv2DOptions(stride: 2, padding: 1)),
        ConvCase(n: 2, c: 4, h: 6, w: 5, oc: 6, k: 3, options: Conv2DOptions(stride: 1, padding: 2, dilation: 2, groups: 2)),
        ConvCase(n: 1, c: 3, h: 4, w: 4, oc: 5, k: 1, options: Conv2DOptions()),
    ])
    func convolution(_ t: ConvCase) {
        let x = input([t.n, t.c, t.h, t.w], seed: 16)
        let w = input([t.oc, t.c / t.options.groups, t.k, t.k], seed: 17)
        let b = input([t.oc], seed: 18)
        check("conv2d", [x, w, b]) { Variable.conv2d($0[0], $0[1], bias: $0[2], t.options) }
        let y = Tensor.conv2d(x, w, t.options)
        check("conv2dWeightGradient", [x, y]) { Variable.conv2dWeightGradient($0[0], $0[1], weightShape: w.shape, t.options) }
    }

    @Test func transposedConvolution() {
        let x = input([2, 3, 4, 4], seed: 19)
        let w = input([3, 2, 3, 3], seed: 20)
        check("convTranspose2d", [x, w]) {
            Variable.convTranspose2d($0[0], $0[1], Conv2DOptions(stride: 2, padding: 1), outputPadding: 1)
        }
        let y = Variable.convTranspose2d(Variable(x), Variable(w), Conv2DOptions(stride: 2, padding: 1), outputPadding: 1)
        #expect(y.shape == [2, 2, 8, 8])
    }

    @Test func poolingAndUpsampling() {
        let x = input([2, 2, 6, 6], seed: 21)
        // Distinct values 0.05 apart, so no finite-difference step crosses a tie.
        var g = SeededRandom(seed: 5)
        let distinct = Tensor(shape: [2, 2, 6, 6], scalars: (0..<144).map { Float($0) * 0.05 - 3.6 }.shuffled(using: &g))
        check("maxPool", [distinct]) { $0[0].maxPooled2d(kernel: 2) }
        check("maxPoolOverlap", [distinct]) { $0[0].maxPooled2d(kernel: 3, stride: 2, padding: 1) }
        check("avgPool", [x]) { $0[0].avgPooled2d(kernel: 3, stride: 2, padding: 1) }
        check("globalAvg", [x]) { $0[0].globalAvgPooled() }
        check("upsample", [x]) { $0[0].upsampledNearest(factor: 2) }
    }

    @Test func normalization() {
        let x = input([3, 4, 6], seed: 22), g = input([6], seed: 23), b = input([6], seed: 24)
        check("layerNorm", [x, g, b], epsilon: 1e-3) { Variable.layerNorm($0[0], gamma: $0[1], beta: $0[2]) }
        check("layerNormPlain", [x], epsilon: 1e-3) { Variable.layerNorm($0[0], gamma: nil, beta: nil) }
        let xb = input([4, 3, 2, 2], seed: 25), gb = input([3], seed: 26), bb = input([3], seed: 27)
        check("batchNorm", [xb, gb, bb], epsilon: 1e-3) { Variable.batchNorm($0[0], gamma: $0[1], beta: $0[2]).output }
        let rm = input([3], seed: 28), rv = positive([3], seed: 29)
        check("batchNormEval", [xb, gb, bb]) {
            Variable.batchNormInference($0[0], gamma: $0[1], beta: $0[2], runningMean: rm, runningVariance: rv)
        }
    }

    @Test func dropoutAndStraightThrough() {
        let x = input([4, 5], seed: 30)
        check("dropout", [x]) { v in
            var gen = SeededRandom(seed: 99)
            return v[0].dropout(0.5, generator: &gen)
        }
        // STE: forward is rounding, gradient is the identity.
        let v = Variable(x * 3, requiresGradient: true)
        let y = v.roundedStraightThrough()
        #expect(y.value.scalars == (x * 3).scalars.map { $0.rounded() })
        (y * y).sum().backward()
        #expect(v.gradient!.scalars == y.value.scalars.map { 2 * $0 })
        // stop-gradient blocks flow.
        let w = Variable(x, requiresGradient: true)
        (w * w.stoppingGradient()).sum().backward()
        #expect(w.gradient!.scalars == x.scalars)
    }
}

enum UnaryCase: CaseIterable, Sendable {
    case exp, log, sqrt, square, power, abs, relu, sigmoid, tanh, softplus, silu, gelu, erf, neg
    var positiveOnly: Bool { self == .log || self == .sqrt || self == .power }
    func apply(_ x: Variable) -> Variable {
        switch self {
        case .exp: x.exp()
        case .log: x.log()
        case .sqrt: x.sqrt()
        case .square: x.square()
        case .power: x.power(1.5)
        case .abs: x.abs()
        case .relu: x.relu()
        case .sigmoid: x.sigmoid()
        case .tanh: x.tanh()
        case .softplus: x.softplus()
        case .silu: x.silu()
        case .gelu: x.gelu()
        case .erf: x.erf()
        case .neg: -x
        }
    }
}

struct ConvCase: Sendable, CustomStringConvertible {
    var n, c, h, w, oc, k: Int
    var options: Conv2DOptions
    var description: String { "conv n\(n) c\(c) \(h)x\(w) oc\(oc) k\(k) s\(options.stride.0) p\(options.padding.0) d\(options.dilation.0) g\(options.groups)" }
}
