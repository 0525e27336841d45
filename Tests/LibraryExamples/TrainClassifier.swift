// SPDX-License-Identifier: Apache-2.0

import Autograd
import Kernels
import NeuralNetworks
import Support
import Tensors

/// Trains a two-layer MLP on XOR with SGD, on a pool of two threads, and returns the final loss.
func trainXOR(steps: Int = 300) -> Float {
    var generator = SeededRandom(seed: 1)
    let net = Sequential([Linear(2, 16, generator: &generator), Activation.relu, Linear(16, 2, generator: &generator)])
    let optimizer = SGD(net.trainableParameters, learningRate: 0.2, momentum: 0.9)
    let x = Variable(Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1]))
    let labels: [Int32] = [0, 1, 1, 0]
    return ThreadPool(threads: 2).withCurrent {
        var loss: Float = 0
        for _ in 0..<steps {
            optimizer.zeroGradients()
            let l = Loss.crossEntropy(net(x), labels: labels)
            l.backward()
            optimizer.step()
            loss = l.value.scalars[0]
        }
        return loss
    }
}
