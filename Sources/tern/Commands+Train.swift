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
            var loader = DataLoader(train, batchSize: batchSize, shuffle: true, seed: seed &+ 1)
            let report = ClassifierTraining(epochs: epochs, learningRate: lr)
                .run(net, batchesPerEpoch: loader.batchCount, nextEpoch: { loader.epoch() }, test: (test.images, test.labels),
                     progress: ProgressReporter(enabled: !json, logInterval: 5))
            if let save { try net.save(to: save, metadata: ["model": model.rawValue, "test_accuracy": "\(report.testAccuracy)"]) }
            if json {
                struct Output: Encodable {
                    var model: String, epochs: Int, batchSize: Int, threads: Int
                    var testAccuracy: Double, seconds: Double, history: [ClassifierTraining.Epoch]
                }
                let encoder = JSONEncoder()
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.outputFormatting = [.sortedKeys]
                let data = try encoder.encode(Output(model: model.rawValue, epochs: epochs, batchSize: batchSize, threads: threads,
                                                        testAccuracy: report.testAccuracy, seconds: report.seconds, history: report.history))
                Stdout.write(String(decoding: data, as: UTF8.self) + "\n")
            } else {
                Stdout.write(String(format: "%@: test accuracy %.2f%% after %d epochs (%.1f s)\n", model.rawValue, report.testAccuracy * 100, epochs, report.seconds))
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
