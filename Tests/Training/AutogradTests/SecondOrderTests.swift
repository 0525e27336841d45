// SPDX-License-Identifier: Apache-2.0

import Support
import Autograd
import Tensors
import Testing

@Suite("Double backward and Hessian-vector products")
struct SecondOrderTests {
    /// `H·v` by double backward against central differences of the gradient.
    func checkHVP(_ name: String, _ params: [Tensor], _ f: @escaping ([Variable]) -> Variable,
                  sourceLocation: SourceLocation = #_sourceLocation) {
        var gen = SeededRandom(seed: 3)
        let v = params.map { Tensor.uniform($0.shape, low: -1, high: 1, generator: &gen) }
        let leaves = params.map { Variable($0, requiresGradient: true) }
        let hv = hessianVectorProduct(of: { f(leaves) }, parameters: leaves, vector: v)
        let eps: Float = 1e-2
        func grad(_ shift: Float) -> [[Float]] {
            let xs = zip(params, v).map { Variable($0 + $1 * shift, requiresGradient: true) }
            let y = f(xs)
            return gradients(of: y, withRespectTo: xs).map { $0.value.scalars }
        }
        // Central differences at eps and eps/2 combined by Richardson extrapolation: the O(eps²)
        // truncation error cancels, leaving O(eps⁴) plus Float rounding.
        let gp = grad(eps), gm = grad(-eps), hp = grad(eps / 2), hm = grad(-eps / 2)
        var worst = 0.0
        for i in 0..<params.count {
            for j in 0..<params[i].count {
                let wide = Double(gp[i][j] - gm[i][j]) / Double(2 * eps)
                let narrow = Double(hp[i][j] - hm[i][j]) / Double(eps)
                let numeric = (4 * narrow - wide) / 3
                let a = Double(hv[i].scalars[j])
                worst = max(worst, abs(a - numeric) / (5e-3 + 3e-2 * max(abs(a), abs(numeric))))
            }
        }
        #expect(worst <= 1, "\(name): worst ratio \(worst)", sourceLocation: sourceLocation)
    }

    @Test func quadraticHasExactHessian() {
        // f = ½ xᵀAx with symmetric A: H·v = A·v.
        let a = Tensor(shape: [2, 2], scalars: [2, 1, 1, 3])
        let x = Variable(Tensor(shape: [2, 1], scalars: [0.5, -1]), requiresGradient: true)
        let hv = hessianVectorProduct(of: {
            (Variable.matmul(Variable.matmul(x, Variable(a), transposeA: true), x) * 0.5).sum()
        }, parameters: [x], vector: [Tensor(shape: [2, 1], scalars: [1, 2])])
        #expect(hv[0].scalars == [4, 7])
    }

    @Test func mlpWithSmoothActivations() {
        let x = input([4, 3], seed: 40)
        let labels: [Int32] = [0, 2, 1, 2]
        checkHVP("mlp", [input([3, 5], seed: 41), input([5], seed: 42), input([5, 3], seed: 43)]) { p in
            let h = (Variable.matmul(Variable(x), p[0]) + p[1]).gelu()
            let z = Variable.layerNorm(Variable.matmul(h, p[2]).tanh() + h.sliced(alongAxis: 1, 0..<3).silu().sigmoid(), gamma: nil, beta: nil)
            return -z.logSoftmax().gathered(alongAxis: 1, labels, k: 1).mean() + z.softmax().square().sum() + z.softplus().mean()
        }
    }

    @Test func convolutionNetwork() {
        let x = input([2, 2, 5, 5], seed: 44)
        checkHVP("conv", [input([3, 2, 3, 3], seed: 45), input([3], seed: 46), input([3], seed: 47)]) { p in
            let y = Variable.conv2d(Variable(x), p[0], Conv2DOptions(padding: 1))
            let bn = Variable.batchNorm(y, gamma: p[1], beta: p[2]).output
            return bn.tanh().maxPooled2d(kernel: 2).exp().mean() + bn.avgPooled2d(kernel: 2).square().sum()
        }
    }
}
