// SPDX-License-Identifier: Apache-2.0

public import Support
public import Tensors
import Foundation

/// The reference classifier recipe (`tern train mlp|mnist-cnn`): SGD with Nesterov momentum 0.9
/// and weight decay 5e-4, a linear warm-up (a tenth of the steps, at most 200) into a cosine decay,
/// cross-entropy, and one test-set evaluation per epoch.
///
/// ```swift
/// var loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 2)
/// let report = ClassifierTraining(epochs: 3, learningRate: 0.05)
///     .run(net, batchesPerEpoch: loader.batchCount, nextEpoch: { loader.epoch() }, test: (test.images, test.labels))
/// ```
public struct ClassifierTraining: Sendable {
    /// Passes over the training set.
    public var epochs: Int
    /// Peak learning rate.
    public var learningRate: Float

    /// One epoch's figures.
    public struct Epoch: Codable, Sendable, Equatable {
        public var epoch: Int
        public var trainLoss: Double, trainAccuracy: Double, testAccuracy: Double
        public var seconds: Double, samplesPerSecond: Double
    }

    /// What a run measured.
    public struct Report: Codable, Sendable, Equatable {
        /// Test accuracy after the last epoch.
        public var testAccuracy: Double
        /// Wall time of the whole run.
        public var seconds: Double
        public var history: [Epoch]
    }

    /// Creates the recipe.
    public init(epochs: Int, learningRate: Float) { self.epochs = epochs; self.learningRate = learningRate }

    /// Trains `net` for ``epochs`` epochs: `nextEpoch` gives each epoch's batches (`images [B, ...]`,
    /// labels), `batchesPerEpoch` of them; `test` is evaluated after every epoch. `progress` draws a
    /// line per step and logs a summary per epoch.
    public func run(_ net: Module, batchesPerEpoch: Int, nextEpoch: () -> [(images: Tensor, labels: [Int32])],
                    test: (images: Tensor, labels: [Int32]), progress: ProgressReporter? = nil) -> Report {
        let optimizer = SGD(net.trainableParameters, learningRate: learningRate, momentum: 0.9, weightDecay: 5e-4, nesterov: true)
        let total = epochs * batchesPerEpoch
        let schedule = WarmupSchedule(warmupSteps: min(200, total / 10), then: CosineSchedule(base: learningRate, totalSteps: total))
        var step = 0
        var report = Report(testAccuracy: 0, seconds: 0, history: [])
        let start = Date()
        for epoch in 1...max(epochs, 1) {
            let epochStart = Date()
            var lossSum: Float = 0, accSum: Float = 0, seen = 0, batches = 0
            for (images, labels) in nextEpoch() {
                optimizer.learningRate = schedule.rate(at: step)
                let (loss, acc) = Training.classificationStep(net, optimizer, images: images, labels: labels)
                step += 1; batches += 1
                lossSum += loss; accSum += acc; seen += labels.count
                let elapsed = Date().timeIntervalSince(epochStart)
                progress?.update(String(format: "epoch %d/%d | step %d/%d | loss %.4f | acc %.2f%% | lr %.4f | %.0f samples/s",
                                        epoch, epochs, step, total, lossSum / Float(batches), accSum / Float(batches) * 100,
                                        optimizer.learningRate, Double(seen) / max(elapsed, 1e-9)), force: batches == batchesPerEpoch)
            }
            let testAccuracy = Training.evaluate(net, images: test.images, labels: test.labels)
            let seconds = Date().timeIntervalSince(epochStart)
            let e = Epoch(epoch: epoch, trainLoss: Double(lossSum / Float(max(batches, 1))), trainAccuracy: Double(accSum / Float(max(batches, 1))),
                          testAccuracy: Double(testAccuracy), seconds: seconds, samplesPerSecond: Double(seen) / seconds)
            progress?.log(String(format: "epoch %d: train loss %.4f, train acc %.2f%%, test acc %.2f%%, %.1f s, %.0f samples/s",
                                 epoch, e.trainLoss, e.trainAccuracy * 100, e.testAccuracy * 100, e.seconds, e.samplesPerSecond))
            report.history.append(e)
            report.testAccuracy = e.testAccuracy
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }
}
