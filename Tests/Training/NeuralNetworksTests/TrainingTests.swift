// SPDX-License-Identifier: Apache-2.0

import Support
import Autograd
import Datasets
import Foundation
import NeuralNetworks
import Tensors
import Testing

@Suite("Training runs")
struct TrainingTests {
    @Test func mlpLearnsSpirals() {
        let (x, y) = Synthetic.spirals(count: 256, seed: 1)
        var g = SeededRandom(seed: 2)
        let net = Sequential([Linear(2, 64, generator: &g), Activation.tanh, Linear(64, 64, generator: &g), Activation.tanh, Linear(64, 2, generator: &g)])
        let opt = Adam(net.trainableParameters, learningRate: 0.01)
        var loss: Float = 0
        for _ in 0..<400 { loss = Training.classificationStep(net, opt, images: x, labels: y).loss }
        #expect(loss < 0.15, "final loss \(loss)")
        #expect(Training.evaluate(net, images: x, labels: y) > 0.95)
    }

    @Test func cnnLearnsShapesDeterministically() {
        func run() -> (Float, Float) {
            let data = Synthetic.shapes(count: 192, size: 12, seed: 3)
            var g = SeededRandom(seed: 4)
            let net = Sequential([
                Conv2d(1, 8, kernelSize: 3, padding: 1, generator: &g), BatchNorm(8), Activation.relu, Activation.maxPool(2),
                Conv2d(8, 8, kernelSize: 3, padding: 1, generator: &g), Activation.relu, Activation.flatten,
                Linear(8 * 6 * 6, 3, generator: &g),
            ])
            let opt = Adam(net.trainableParameters, learningRate: 0.003)
            var loader = DataLoader(data, batchSize: 32, shuffle: true, augmentation: Augmentation(flipProbability: 0.5), seed: 5)
            var loss: Float = 0
            for _ in 0..<15 {
                loss = 0
                for (images, labels) in loader.epoch() { loss += Training.classificationStep(net, opt, images: images, labels: labels).loss / 6 }
            }
            return (loss, Training.evaluate(net, images: data.images, labels: data.labels))
        }
        let (loss, acc) = run()
        #expect(acc > 0.9 && loss < 0.3, "accuracy \(acc), last-epoch loss \(loss)")
        #expect(run() == (loss, acc), "same seed, same result")
    }

    @Test func stepsReleaseTheirGraphAndReuseBuffers() {
        var g = SeededRandom(seed: 6)
        let net = ReferenceModels.smallCNN(generator: &g)
        let opt = SGD(net.trainableParameters, learningRate: 0.01, momentum: 0.9)
        let x = Tensor.normal([8, 1, 28, 28], generator: &g)
        let labels: [Int32] = [0, 1, 2, 3, 4, 5, 6, 7]
        weak var loss: Variable?
        weak var hidden: Variable?
        do {
            let h = net.layers[0](Variable(x))
            let l = Loss.crossEntropy(Sequential(Array(net.layers[1...]))(h), labels: labels)
            l.backward()
            loss = l
            hidden = h
            #expect(loss != nil && hidden != nil)
        }
        // No reference cycle keeps a step's graph (and its activations) alive: nothing leaks per step.
        #expect(loss == nil && hidden == nil)
        let before = BufferPool.statistics.hits
        for _ in 0..<20 { Training.classificationStep(net, opt, images: x, labels: labels) }
        #expect(BufferPool.statistics.hits - before > 20 * 30, "activations and gradients come from the buffer cache")
    }
}

func resident() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = Double(s.split(separator: " ")[1]) else { return 0 }
    return pages * 4096 / 1_048_576
}
