// SPDX-License-Identifier: Apache-2.0

public import Support
public import Autograd
public import Tensors

/// The fixed architectures used by `tern train` and by the training-speed benchmark; the PyTorch
/// side of `bench/train-speed` builds the same layers in the same order.
public enum ReferenceModels {
    /// MLP for 28×28 images: flatten → 784-512-ReLU-256-ReLU-10.
    public static func mlp(generator: inout SeededRandom) -> Sequential {
        Sequential([
            Activation.flatten,
            Linear(784, 512, generator: &generator), Activation.relu,
            Linear(512, 256, generator: &generator), Activation.relu,
            Linear(256, 10, generator: &generator),
        ])
    }

    /// Small CNN for 28×28 grey images: two conv3×3(pad 1)-ReLU-maxpool2 stages (32, 64 channels),
    /// then 3136-128-ReLU-10.
    public static func smallCNN(generator: inout SeededRandom) -> Sequential {
        Sequential([
            Conv2d(1, 32, kernelSize: 3, padding: 1, generator: &generator), Activation.relu, Activation.maxPool(2),
            Conv2d(32, 64, kernelSize: 3, padding: 1, generator: &generator), Activation.relu, Activation.maxPool(2),
            Activation.flatten,
            Linear(64 * 7 * 7, 128, generator: &generator), Activation.relu,
            Linear(128, 10, generator: &generator),
        ])
    }

    /// ResNet-8 (CIFAR-style, widths 16-32-64) for `[N, 3, 32, 32]`.
    public static func resnet8(generator: inout SeededRandom) -> Sequential {
        ResNet.make(inChannels: 3, classes: 10, generator: &generator)
    }

    /// One pre-norm transformer block (D = 128, 4 heads, MLP 512) for `[N, 64, 128]`.
    public static func transformerBlock(generator: inout SeededRandom) -> TransformerBlock {
        TransformerBlock(dimension: 128, heads: 4, generator: &generator)
    }
}

/// One supervised training step and evaluation helpers.
public enum Training {
    /// Forward, cross-entropy, backward and optimizer step on one batch; returns the loss and the
    /// batch accuracy.
    @discardableResult
    public static func classificationStep(_ model: Module, _ optimizer: any Optimizer, images: Tensor, labels: [Int32],
                                          labelSmoothing: Float = 0) -> (loss: Float, accuracy: Float) {
        optimizer.zeroGradients()
        let logits = model(Variable(images))
        let loss = Loss.crossEntropy(logits, labels: labels, labelSmoothing: labelSmoothing)
        loss.backward()
        optimizer.step()
        return (loss.value.scalar, accuracy(logits.value, labels: labels))
    }

    /// Accuracy of `model` (in eval mode, no graph) over `images [N, ...]`, in batches.
    public static func evaluate(_ model: Module, images: Tensor, labels: [Int32], batchSize: Int = 500) -> Float {
        model.eval()
        defer { model.train() }
        var correct = 0
        withoutGradient {
            var start = 0
            while start < labels.count {
                let end = Swift.min(start + batchSize, labels.count)
                let logits = model(Variable(images.sliced(alongAxis: 0, start..<end))).value
                correct += zip(logits.argmaxLastAxis(), labels[start..<end]).filter { $0 == Int($1) }.count
                start = end
            }
        }
        return Float(correct) / Float(Swift.max(labels.count, 1))
    }
}
