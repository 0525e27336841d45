// SPDX-License-Identifier: Apache-2.0

import Support
import ArgumentParser
import Autograd
import Datasets
import Foundation
import Kernels
import NeuralNetworks
import Tensors

extension Tern {
    /// `tern train <model>`: trains a reference model on Fashion-MNIST with the training stack.
    struct Train: ParsableCommand, ReportsJSON {
        static let configuration = CommandConfiguration(
            abstract: "Train a model on Fashion-MNIST (data from scripts/fetch-data.sh).",
            discussion: "Models: mlp (784-512-256-10), mnist-cnn (two conv stages + 128-unit head), split-ensemble (see docs/split-ensemble.md).")

        enum Model: String, ExpressibleByArgument, CaseIterable { case mlp, mnistCNN = "mnist-cnn", splitEnsemble = "split-ensemble" }

        @Argument(help: "mlp, mnist-cnn or split-ensemble.")
        var model: Model

        @Option(help: "Training epochs.") var epochs = 3
        @Option(help: "Batch size.") var batchSize = 64
        @Option(help: "Learning rate (SGD with Nesterov momentum 0.9, cosine schedule).") var lr: Float = 0.05
        @Option(help: "Threads for kernels and OpenBLAS.") var threads = 2
        @Option(help: "Random seed (initialization, shuffling, augmentation).") var seed: UInt64 = 1
        @Option(help: "Use only the first N training images (0 = all).") var limit = 0
        @Option(help: "Fashion-MNIST directory (default $TERN_HOME/data/fashion-mnist).") var data: String?
        @Option(help: "Write the trained weights here as safetensors.") var save: String?
        @OptionGroup var format: JSONOption
        @OptionGroup(title: "Split-Ensemble (train split-ensemble only; the same knobs as `tern bench split-ensemble`)")
        var splitEnsemble: SplitEnsembleMethodOptions

        func run() throws {
            // One pool for the whole run; tensor kernels split their loops on it.
            try ThreadPool(threads: threads).withCurrent {
                if model == .splitEnsemble { return try trainSplitEnsemble() }
                try trainReference()
            }
        }

        func trainReference() throws {
            let dir = data ?? FashionMNIST.directory
            var train: ImageDataset, test: ImageDataset
            do {
                train = try FashionMNIST.load(train: true, directory: dir)
                test = try FashionMNIST.load(train: false, directory: dir)
            } catch {
                throw CLIError("cannot read Fashion-MNIST in \(dir) (\(error)); run scripts/fetch-data.sh")
            }
            if limit > 0 { train = train.prefix(limit) }
            // Fashion-MNIST training-set statistics.
            train = train.normalized(mean: 0.2860, std: 0.3530)
            test = test.normalized(mean: 0.2860, std: 0.3530)
            var gen = SeededRandom(seed: seed)
            let net: Module = model == .mlp ? ReferenceModels.mlp(generator: &gen) : ReferenceModels.smallCNN(generator: &gen)
            let optimizer = SGD(net.trainableParameters, learningRate: lr, momentum: 0.9, weightDecay: 5e-4, nesterov: true)
            var loader = DataLoader(train, batchSize: batchSize, shuffle: true, seed: seed &+ 1)
            let total = epochs * loader.batchCount
            let schedule = WarmupSchedule(warmupSteps: min(200, total / 10), then: CosineSchedule(base: lr, totalSteps: total))
            let progress = ProgressReporter(enabled: !json, logInterval: 5)
            var step = 0
            var testAccuracy: Float = 0
            var history: [[String: Any]] = []
            let start = Date()
            for epoch in 1...max(epochs, 1) {
                let epochStart = Date()
                var lossSum: Float = 0, accSum: Float = 0, seen = 0, batches = 0
                for (images, labels) in loader.epoch() {
                    optimizer.learningRate = schedule.rate(at: step)
                    let (loss, acc) = Training.classificationStep(net, optimizer, images: images, labels: labels)
                    step += 1; batches += 1
                    lossSum += loss; accSum += acc; seen += labels.count
                    let elapsed = Date().timeIntervalSince(epochStart)
                    progress.update(String(format: "epoch %d/%d | step %d/%d | loss %.4f | acc %.2f%% | lr %.4f | %.0f samples/s",
                                           epoch, epochs, step, total, lossSum / Float(batches), accSum / Float(batches) * 100,
                                           optimizer.learningRate, Double(seen) / max(elapsed, 1e-9)), force: batches == loader.batchCount)
                }
                testAccuracy = Training.evaluate(net, images: test.images, labels: test.labels)
                let secs = Date().timeIntervalSince(epochStart)
                let summary = String(format: "epoch %d: train loss %.4f, train acc %.2f%%, test acc %.2f%%, %.1f s, %.0f samples/s",
                                     epoch, lossSum / Float(batches), accSum / Float(batches) * 100, testAccuracy * 100, secs, Double(seen) / secs)
                progress.log(summary)
                history.append(["epoch": epoch, "train_loss": Double(lossSum / Float(batches)), "test_accuracy": Double(testAccuracy),
                                "seconds": secs, "samples_per_second": Double(seen) / secs])
            }
            if let save { try net.save(to: save, metadata: ["model": model.rawValue, "test_accuracy": "\(testAccuracy)"]) }
            let wall = Date().timeIntervalSince(start)
            if json {
                let obj: [String: Any] = ["model": model.rawValue, "epochs": epochs, "batch_size": batchSize, "threads": threads,
                                          "test_accuracy": Double(testAccuracy), "seconds": wall, "history": history]
                let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
                Stdout.write(String(decoding: data, as: UTF8.self) + "\n")
            } else {
                Stdout.write(String(format: "%@: test accuracy %.2f%% after %d epochs (%.1f s)\n", model.rawValue, testAccuracy * 100, epochs, wall))
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
