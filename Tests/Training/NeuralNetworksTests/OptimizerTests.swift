// SPDX-License-Identifier: Apache-2.0

import Support
import Autograd
import Foundation
import NeuralNetworks
import Tensors
import Testing

func param(_ values: [Float], grad: [Float]) -> Variable {
    let p = Variable(Tensor(shape: [values.count], scalars: values), requiresGradient: true)
    p.gradient = Tensor(shape: [grad.count], scalars: grad)
    return p
}

func close(_ a: [Float], _ b: [Double], _ tol: Double = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= tol * max(1, abs($1)) }
}

@Suite("Optimizers match hand-computed steps")
struct OptimizerTests {
    @Test func plainSGDWithWeightDecay() {
        let p = param([1, -2], grad: [0.5, 0.25])
        SGD([p], learningRate: 0.1, weightDecay: 0.01).step()
        // p − 0.1·(g + 0.01·p)
        #expect(close(p.value.scalars, [1 - 0.1 * (0.5 + 0.01), -2 - 0.1 * (0.25 - 0.02)]))
    }

    @Test func momentumAndNesterov() {
        let p = param([1], grad: [1])
        let opt = SGD([p], learningRate: 0.1, momentum: 0.9)
        opt.step()              // b = 1, p = 0.9
        p.gradient = Tensor(shape: [1], scalars: [2])
        opt.step()              // b = 0.9 + 2 = 2.9, p = 0.9 − 0.29
        #expect(close(p.value.scalars, [0.61]))
        let q = param([1], grad: [1])
        let nest = SGD([q], learningRate: 0.1, momentum: 0.9, nesterov: true)
        nest.step()             // b = 1, update = g + 0.9·b = 1.9
        #expect(close(q.value.scalars, [0.81]))
        q.gradient = Tensor(shape: [1], scalars: [2])
        nest.step()             // b = 2.9, update = 2 + 2.61 = 4.61
        #expect(close(q.value.scalars, [0.81 - 0.461]))
    }

    @Test func adamAndAdamW() {
        let p = param([1, -1], grad: [0.1, -0.3])
        let adam = Adam([p], learningRate: 0.01)
        adam.step()  // first step: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) ≈ lr·sign(g)
        #expect(close(p.value.scalars, [1 - 0.01 * 0.1 / (0.1 + 1e-8), -1 + 0.01 * 0.3 / (0.3 + 1e-8)], 1e-6))
        p.gradient = Tensor(shape: [2], scalars: [0.2, 0.1])
        adam.step()
        // Step 2 for element 0: m = 0.9·0.01 + 0.1·0.2 = 0.029 → m̂ = 0.029/0.19;
        // v = 0.999·0.001·0.01 + 0.001·0.04 → v̂ = v/(1 − 0.999²).
        let m = 0.9 * 0.1 * 0.1 + 0.1 * 0.2, v = 0.999 * 0.001 * 0.01 + 0.001 * 0.04
        let expected0 = (1 - 0.01 * 0.1 / (0.1 + 1e-8)) - 0.01 * (m / 0.19) / ((v / (1 - 0.999 * 0.999)).squareRoot() + 1e-8)
        #expect(close([p.value.scalars[0]], [expected0], 1e-5))

        let w = param([2], grad: [0.5])
        AdamW([w], learningRate: 0.1, weightDecay: 0.1).step()
        // Decoupled: 2·(1 − 0.01) − 0.1·sign(0.5)
        #expect(close(w.value.scalars, [2 * 0.99 - 0.1 * 0.5 / (0.5 + 1e-8)], 1e-6))
        let l2 = param([2], grad: [0.5])
        Adam([l2], learningRate: 0.1, weightDecay: 0.1).step()
        #expect(close(l2.value.scalars, [2 - 0.1 * 0.7 / (0.7 + 1e-8)], 1e-6))
    }

    @Test func schedulesAndClipping() {
        let cos = CosineSchedule(base: 1, totalSteps: 10, minimum: 0.1)
        #expect(cos.rate(at: 0) == 1)
        #expect(abs(cos.rate(at: 5) - 0.55) < 1e-6)
        #expect(abs(cos.rate(at: 10) - 0.1) < 1e-6)
        let warm = WarmupSchedule(warmupSteps: 4, then: ConstantSchedule(0.8))
        #expect(warm.rate(at: 0) == 0.2 && warm.rate(at: 3) == 0.8 && warm.rate(at: 100) == 0.8)
        let step = StepSchedule(base: 1, stepSize: 3, gamma: 0.5)
        #expect(step.rate(at: 2) == 1 && step.rate(at: 3) == 0.5 && step.rate(at: 7) == 0.25)
        let a = param([0, 0], grad: [3, 0]), b = param([0], grad: [4])
        let norm = GradientClipping.clipNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(close(a.gradient!.scalars + b.gradient!.scalars, [0.6, 0, 0.8], 1e-5))
        GradientClipping.clipValue([a, b], limit: 0.7)
        #expect(close(b.gradient!.scalars, [0.7]))
    }
}

@Suite("Parameter trees and checkpoints")
struct ParameterTreeTests {
    final class Net: Module {
        let body: Sequential
        let head: Linear
        let norm = BatchNorm(3)
        init(generator: inout SeededRandom) {
            body = Sequential([Linear(4, 3, generator: &generator), Activation.relu])
            head = Linear(3, 2, bias: false, generator: &generator)
        }
        override func callAsFunction(_ x: Variable) -> Variable { head(norm(body(x))) }
    }

    @Test func namesFreezingAndCheckpoints() throws {
        var g = SeededRandom(seed: 1)
        let net = Net(generator: &g)
        let names = net.namedParameters().map(\.0)
        #expect(names == ["body.layers.0.weight", "body.layers.0.bias", "head.weight", "norm.weight", "norm.bias"])
        #expect(net.namedBuffers().map(\.0) == ["norm.runningMean", "norm.runningVar"])
        #expect(net.parameterCount == 12 + 3 + 6 + 3 + 3)
        net.body.freeze()
        #expect(net.trainableParameters.count == 3)
        let x = Variable(randomTensor([5, 4], seed: 2))
        net(x).sum().backward()
        #expect(net.body.namedParameters().allSatisfy { $0.1.gradient == nil })
        #expect(net.head.weight.gradient != nil)

        let path = NSTemporaryDirectory() + "tern-ckpt-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try net.save(to: path, metadata: ["note": "test"])
        // safetensors layout: u64 header size, JSON header, then F32 data.
        let data = try #require(FileManager.default.contents(atPath: path))
        let n = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        let header = String(decoding: data[8..<(8 + n)], as: UTF8.self)
        #expect(header.contains("\"head.weight\":{\"data_offsets\":") && header.contains("\"dtype\":\"F32\""))
        #expect(data.count == 8 + n + 4 * (net.parameterCount + 6))
        var g2 = SeededRandom(seed: 99)
        let other = Net(generator: &g2)
        try other.load(from: path)
        other.eval(); net.eval()
        #expect(withoutGradient { other(x).value == net(x).value })
        #expect(throws: CheckpointError.self) { try Linear(5, 5, generator: &g2).load(from: path) }
    }
}
