// SPDX-License-Identifier: Apache-2.0

import Support
import Autograd
import NeuralNetworks
import Tensors
import Testing

func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    var g = SeededRandom(seed: seed)
    return Tensor.normal(shape, std: std, generator: &g)
}

/// Checks input and parameter gradients of `f` (which uses `module`) against central differences
/// of `L = Σ f(x) ⊙ R`, on up to `perTensor` elements of each tensor.
func checkModule(_ module: Module, input: Tensor, perTensor: Int = 12, epsilon: Float = 1e-2,
                 sourceLocation: SourceLocation = #_sourceLocation, _ f: @escaping (Variable) -> Variable = { $0 }) {
    let probe = withoutGradient { f(Variable(input)) }
    let weights = randomTensor(probe.shape, seed: 77)
    func loss(_ x: Tensor) -> Double {
        let y = withoutGradient { f(Variable(x)) }.value.scalars
        return zip(y, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    module.zeroGradients()
    let x = Variable(input, requiresGradient: true)
    (f(x) * Variable(weights)).sum().backward()
    var targets: [(String, Variable)] = [("input", x)] + module.namedParameters()
    targets = targets.filter { $0.1.requiresGradient }
    var worst = 0.0, worstName = ""
    for (name, v) in targets {
        let analytic = (v.gradient ?? Tensor(shape: v.shape, repeating: 0)).scalars
        let n = v.value.count
        for k in 0..<min(perTensor, n) {
            let j = (k * 7919) % n
            let original = v.value
            var plus = original.contiguousCopy(), minus = original.contiguousCopy()
            plus.withUnsafeMutableBufferPointer { $0[j] += epsilon }
            minus.withUnsafeMutableBufferPointer { $0[j] -= epsilon }
            let lp: Double, lm: Double
            if name == "input" {
                lp = loss(plus); lm = loss(minus)
            } else {
                v.value = plus; lp = loss(input)
                v.value = minus; lm = loss(input)
                v.value = original
            }
            let numeric = (lp - lm) / (2 * Double(epsilon))
            let a = Double(analytic[j])
            let ratio = abs(a - numeric) / (3e-3 + 3e-2 * max(abs(a), abs(numeric)))
            if ratio > worst { worst = ratio; worstName = "\(name)[\(j)] analytic \(a) numeric \(numeric)" }
        }
    }
    #expect(worst <= 1, "\(type(of: module)): worst ratio \(worst) at \(worstName)", sourceLocation: sourceLocation)
}

@Suite("Layers: gradients match finite differences")
struct LayerGradientTests {
    @Test func linearAndConvolution() {
        var g = SeededRandom(seed: 1)
        let linear = Linear(5, 3, generator: &g)
        checkModule(linear, input: randomTensor([2, 4, 5], seed: 2)) { linear($0) }
        let conv = Conv2d(4, 6, kernelSize: 3, stride: 2, padding: 1, groups: 2, generator: &g)
        checkModule(conv, input: randomTensor([2, 4, 5, 5], seed: 3)) { conv($0) }
        let deconv = ConvTranspose2d(3, 2, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, generator: &g)
        checkModule(deconv, input: randomTensor([1, 3, 3, 3], seed: 4)) { deconv($0) }
    }

    @Test func norms() {
        let ln = LayerNorm(6)
        ln.weight.value = randomTensor([6], seed: 5)
        checkModule(ln, input: randomTensor([3, 6], seed: 6), epsilon: 1e-3) { ln($0) }
        let bn = BatchNorm(3)
        checkModule(bn, input: randomTensor([4, 3, 2, 2], seed: 7), epsilon: 1e-3) { bn($0) }
        bn.eval()
        checkModule(bn, input: randomTensor([4, 3, 2, 2], seed: 8)) { bn($0) }
    }

    @Test func embedding() {
        var g = SeededRandom(seed: 9)
        let e = Embedding(7, 4, generator: &g)
        checkModule(e, input: randomTensor([1], seed: 10)) { x in e([3, 1, 3], shape: [3]) * x }
    }

    @Test func attentionAndTransformer() {
        var g = SeededRandom(seed: 11)
        let mha = MultiHeadAttention(dimension: 8, heads: 2, generator: &g)
        checkModule(mha, input: randomTensor([2, 3, 8], seed: 12), epsilon: 1e-3) { mha.attend(query: $0, key: $0, value: $0, causal: true) }
        let block = TransformerBlock(dimension: 8, heads: 2, mlpRatio: 2, generator: &g)
        checkModule(block, input: randomTensor([2, 3, 8], seed: 13), epsilon: 1e-3) { block($0) }
    }

    @Test func residualNetwork() {
        var g = SeededRandom(seed: 14)
        let block = ResidualBlock(2, 4, stride: 2, generator: &g)
        checkModule(block, input: randomTensor([3, 2, 4, 4], seed: 15), epsilon: 1e-3) { block($0) }
        let net = ResNet.make(inChannels: 1, classes: 3, widths: [2, 4, 4], generator: &g)
        #expect(withoutGradient { net(Variable(randomTensor([2, 1, 8, 8], seed: 16))) }.shape == [2, 3])
        #expect(net.namedParameters().map(\.0).contains("layers.3.conv1.weight"))
    }
}

@Suite("Losses")
struct LossTests {
    @Test func crossEntropyValues() {
        // logits [[1, 2, 3]]: log-softmax = x − logsumexp, lse = 3.40760596.
        let z = Variable(Tensor(shape: [1, 3], scalars: [1, 2, 3]))
        let lse = 3.40760596
        #expect(abs(Double(Loss.crossEntropy(z, labels: [0]).value.scalar) - (lse - 1)) < 1e-5)
        // Label smoothing 0.1: 0.9·nll + 0.1·mean(−logp).
        let smooth = 0.9 * (lse - 1) + 0.1 * ((lse - 1) + (lse - 2) + (lse - 3)) / 3
        #expect(abs(Double(Loss.crossEntropy(z, labels: [0], labelSmoothing: 0.1).value.scalar) - smooth) < 1e-5)
        let soft = Tensor(shape: [1, 3], scalars: [0.5, 0.5, 0])
        #expect(abs(Double(Loss.crossEntropy(z, softTargets: soft).value.scalar) - (0.5 * (lse - 1) + 0.5 * (lse - 2))) < 1e-5)
        // BCE on logit 0 is log 2 for any target.
        #expect(abs(Loss.binaryCrossEntropy(logits: Variable(Tensor(shape: [2], repeating: 0)), targets: Tensor(shape: [2], scalars: [0, 1])).value.scalar - 0.6931472) < 1e-6)
        let d = Loss.smoothL1(Variable(Tensor(shape: [2], scalars: [0.5, 3])), Variable(Tensor(shape: [2], repeating: 0)), reduction: .sum)
        #expect(abs(d.value.scalar - (0.125 + 2.5)) < 1e-6)
        #expect(Loss.meanSquaredError(Variable(Tensor(shape: [2], scalars: [1, 3])), Variable(Tensor(shape: [2], repeating: 0))).value.scalar == 5)
    }

    @Test func lossGradients() {
        let z = randomTensor([4, 5], seed: 20)
        let labels: [Int32] = [1, 0, 4, 4]
        let check = { (name: String, f: @escaping ([Variable]) -> Variable) in
            let r = GradientCheck.compare(f, at: [z], epsilon: 1e-3)
            #expect(r.worstRatio <= 1, "\(name): \(r)")
        }
        check("ce") { Loss.crossEntropy($0[0], labels: labels) }
        check("ce smoothing") { Loss.crossEntropy($0[0], labels: labels, labelSmoothing: 0.2, reduction: .sum) }
        check("ce none") { Loss.crossEntropy($0[0], labels: labels, reduction: .none) }
        let soft = randomTensor([4, 5], seed: 21).softmaxLastAxis()
        check("soft ce") { Loss.crossEntropy($0[0], softTargets: soft) }
        let t = randomTensor([4, 5], seed: 22).map(.sigmoid)
        check("bce") { Loss.binaryCrossEntropy(logits: $0[0], targets: t, weights: t + 0.5) }
        let y = randomTensor([4, 5], seed: 23)
        check("mse") { Loss.meanSquaredError($0[0], Variable(y)) }
        check("smoothL1") { Loss.smoothL1($0[0], Variable(y), beta: 0.5) }
        check("infoNCE") { Loss.infoNCE(queries: $0[0], keys: Variable(y), temperature: 0.5) }
    }
}
