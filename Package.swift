// swift-tools-version: 6.1
// SPDX-License-Identifier: Apache-2.0
//
// Tern: ten efficient-AI systems on one shared Swift engine.
// The layering (lowest first) is documented in docs/architecture.md and enforced by
// `swift build --explicit-target-dependency-import-check error`.

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Hot numeric code is compiled for an x86-64 baseline with AVX2 + FMA (Haswell and newer).
// Without it Swift emits SSE2 only. `tern` checks the CPU at startup and says so clearly.
#if arch(x86_64)
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let cpuFlags: [SwiftSetting] = []
#endif

// The innermost quantized dot-product kernels (C intrinsics; see docs/performance.md). AVX-512 VNNI
// variants are compiled per function and chosen at run time. No FMA contraction: every fused
// multiply-add is explicit so results stay bit-identical to the Swift references.
#if arch(x86_64)
let cKernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-mavx2", "-mfma", "-mf16c", "-ffp-contract=off"])]
#else
let cKernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-ffp-contract=off"])]
#endif

let package = Package(
    name: "Tern",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tern", targets: ["TernCLI"]),
        .library(name: "Support", targets: ["Support"]),
        .library(name: "ImageIO", targets: ["ImageIO"]),
        .library(name: "Benchmarks", targets: ["Benchmarks"]),
        .library(name: "Kernels", targets: ["Kernels"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "GGUF", targets: ["GGUF"]),
        .library(name: "Tokenization", targets: ["Tokenization"]),
        .library(name: "TransformerModels", targets: ["TransformerModels"]),
        .library(name: "InferenceEngine", targets: ["InferenceEngine"]),
        .library(name: "OpenAIAPI", targets: ["OpenAIAPI"]),
        .library(name: "OpenAIClient", targets: ["OpenAIClient"]),
        .library(name: "OpenAIServer", targets: ["OpenAIServer"]),
        .library(name: "Autograd", targets: ["Autograd"]),
        .library(name: "NeuralNetworks", targets: ["NeuralNetworks"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "AgentCompiler", targets: ["AgentCompiler"]),
        .library(name: "BestEffortServing", targets: ["BestEffortServing"]),
        .library(name: "BestEffortTraining", targets: ["BestEffortTraining"]),
        .library(name: "MultiAgentGames", targets: ["MultiAgentGames"]),
        .library(name: "MultiLoRA", targets: ["MultiLoRA"]),
        .library(name: "SplitEnsemble", targets: ["SplitEnsemble"]),
        .library(name: "PIMSimulator", targets: ["PIMSimulator"]),
        .library(name: "EpitomePIM", targets: ["EpitomePIM"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.60.0"),
    ],
    targets: [
        // L0
        .systemLibrary(
            name: "CBLAS", path: "Sources/Core/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // One seeded RNG, safetensors, statistics, log-softmax, stop strings, progress reporting.
        .target(name: "Support", path: "Sources/Core/Support", swiftSettings: swiftSettings + cpuFlags),
        .target(name: "GGUF", path: "Sources/Core/GGUF", swiftSettings: swiftSettings + cpuFlags),
        // PNG and JPEG over Debian's libpng and libjpeg. CImageCodecs is C because libjpeg reports
        // errors by longjmp; ImageIO is the Swift API.
        .systemLibrary(
            name: "CImageLibraries", path: "Sources/Core/CImageLibraries", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev", "libjpeg-dev"])]),
        .target(
            name: "CImageCodecs", dependencies: ["CImageLibraries"], path: "Sources/Core/CImageCodecs",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),
        .target(name: "ImageIO", dependencies: ["CImageCodecs"], path: "Sources/Core/ImageIO", swiftSettings: swiftSettings),
        // The one reproduction-report shape, its renderers, alternating runs and resumable pieces.
        .target(name: "Benchmarks", dependencies: ["Support", "OpenAIAPI"], path: "Sources/Core/Benchmarks", swiftSettings: swiftSettings),
        .target(name: "CKernels", path: "Sources/Core/CKernels", cSettings: cKernelFlags),
        // L1
        .target(
            name: "Kernels", dependencies: ["CBLAS", "CKernels", "GGUF"], path: "Sources/Core/Kernels",
            swiftSettings: swiftSettings + cpuFlags),
        // L2
        .target(name: "Tensors", dependencies: ["Kernels", "Support"], path: "Sources/Training/Tensors", swiftSettings: swiftSettings + cpuFlags),
        .target(name: "Tokenization", dependencies: ["GGUF"], path: "Sources/Inference/Tokenization", swiftSettings: swiftSettings),
        // L3
        .target(
            name: "TransformerModels", dependencies: ["Benchmarks", "GGUF", "Kernels", "Support", "Tokenization"], path: "Sources/Inference/TransformerModels",
            swiftSettings: swiftSettings + cpuFlags),
        // L0: OpenAI wire types and the client protocol every LLM-using system speaks.
        .target(name: "OpenAIAPI", dependencies: ["Support"], path: "Sources/Core/OpenAIAPI", swiftSettings: swiftSettings),
        // L4: the serving engine.
        .target(
            name: "InferenceEngine", dependencies: ["TransformerModels", "Tokenization", "Kernels", "GGUF", "Support", .product(name: "CoreMetrics", package: "swift-metrics")], path: "Sources/Inference/InferenceEngine",
            swiftSettings: swiftSettings + cpuFlags),
        // L6: the OpenAI-compatible HTTP server.
        .target(
            name: "OpenAIServer",
            dependencies: ["Support", 
                "InferenceEngine", "OpenAIAPI", "Tokenization", "TransformerModels",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ], path: "Sources/Inference/OpenAIServer",
            swiftSettings: swiftSettings),
        // Composition root
        .executableTarget(
            name: "TernCLI",
            dependencies: [
                "GGUF", "Kernels", "Support", "Benchmarks", "Tokenization", "TransformerModels", "InferenceEngine", "OpenAIServer",
                "Autograd", "NeuralNetworks", "Datasets", "Tensors", "AgentCompiler", "OpenAIAPI", "OpenAIClient",
                "PIMSimulator", "EpitomePIM",  // EPIM
                "SplitEnsemble",  // Split-Ensemble
                "BestEffortServing", "BestEffortTraining",
                "MultiLoRA",  // S-LoRA: tern bench slora, tern lora train
                "MultiAgentGames",  // MAgIC
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ], path: "Sources/tern",
            swiftSettings: swiftSettings),
        // Test-only helpers: tiny GGUF models, corrupt files, tolerances.
        .target(
            name: "TestSupport",
            dependencies: ["GGUF", "Kernels", "Support", "Tokenization", "TransformerModels", "InferenceEngine", "OpenAIServer",
                           .product(name: "Hummingbird", package: "hummingbird")], path: "Sources/TestSupport",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "KernelsTests", dependencies: ["Support", "Kernels", "GGUF", "Tensors", "TestSupport"], path: "Tests/Core/KernelsTests",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ImageIOTests", dependencies: ["ImageIO"], path: "Tests/Core/ImageIOTests", exclude: ["Fixtures"],
            swiftSettings: swiftSettings),
        .testTarget(name: "SupportTests", dependencies: ["Support"], path: "Tests/Core/SupportTests", swiftSettings: swiftSettings),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Support"], path: "Tests/Core/BenchmarksTests", swiftSettings: swiftSettings),
        .testTarget(
            name: "GGUFTests", dependencies: ["Support", "GGUF", "TestSupport"], path: "Tests/Core/GGUFTests",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TokenizationTests", dependencies: ["Support", "Tokenization", "GGUF", "TestSupport"], path: "Tests/Inference/TokenizationTests",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TransformerModelsTests",
            dependencies: ["Support", "TransformerModels", "Tokenization", "GGUF", "Kernels", "TestSupport"], path: "Tests/Inference/TransformerModelsTests",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "InferenceEngineTests",
            dependencies: ["Support", "InferenceEngine", "TransformerModels", "Tokenization", "GGUF", "Kernels", "TestSupport"], path: "Tests/Inference/InferenceEngineTests",
            swiftSettings: swiftSettings),
        // The examples of docs/library.md, compiled and run with the tests.
        .testTarget(
            name: "LibraryExamples",
            dependencies: [
                "AgentCompiler", "Autograd", "BestEffortServing", "BestEffortTraining", "Datasets", "GGUF", "InferenceEngine", "Kernels",
                "MultiAgentGames", "MultiLoRA", "NeuralNetworks", "OpenAIAPI", "OpenAIServer", "SplitEnsemble",
                "PIMSimulator", "Support", "Tensors", "TestSupport", "Tokenization", "TransformerModels",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ], path: "Tests/LibraryExamples",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OpenAIServerTests",
            dependencies: [
                "OpenAIServer", "OpenAIAPI", "InferenceEngine", "TransformerModels", "Tokenization", "GGUF", "TestSupport", "BestEffortServing", "Support",
                .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ], path: "Tests/Inference/OpenAIServerTests",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TernCLITests", dependencies: ["Benchmarks", "Support", "TestSupport", "GGUF"], path: "Tests/tern/TernCLITests",
            swiftSettings: swiftSettings),

        // MARK: training stack
        // L3: reverse-mode autograd over Tensors; L4: layers, losses, optimizers; datasets.
        .target(name: "Autograd", dependencies: ["Support", "Tensors"], path: "Sources/Training/Autograd", swiftSettings: swiftSettings + cpuFlags),
        .target(
            name: "NeuralNetworks", dependencies: ["Benchmarks", "Support", "Kernels", "Autograd", "Tensors"], path: "Sources/Training/NeuralNetworks",
            swiftSettings: swiftSettings + cpuFlags),
        .target(name: "Datasets", dependencies: ["ImageIO", "Support", "Tensors"], path: "Sources/Training/Datasets", swiftSettings: swiftSettings + cpuFlags),
        .testTarget(
            name: "TensorsTests", dependencies: ["Support", "Tensors", "Kernels"], path: "Tests/Training/TensorsTests",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AutogradTests", dependencies: ["Support", "Autograd", "Tensors"], path: "Tests/Training/AutogradTests",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "NeuralNetworksTests", dependencies: ["Support", "NeuralNetworks", "Autograd", "Tensors", "Datasets"], path: "Tests/Training/NeuralNetworksTests",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "DatasetsTests", dependencies: ["Datasets", "Tensors"], path: "Tests/Training/DatasetsTests", exclude: ["Fixtures"],
            swiftSettings: swiftSettings),
        // MARK: end training stack

        // MARK: EPIM
        // L0: analytical crossbar PIM cost model; systems layer: epitome operators on the training stack.
        .target(name: "PIMSimulator", path: "Sources/Systems/PIMSimulator", swiftSettings: swiftSettings),
        .target(
            name: "EpitomePIM", dependencies: ["Benchmarks", "Datasets", "Support", "Kernels", "PIMSimulator", "NeuralNetworks", "Autograd", "Tensors"], path: "Sources/Systems/EpitomePIM",
            swiftSettings: swiftSettings + cpuFlags),
        .testTarget(name: "PIMSimulatorTests", dependencies: ["PIMSimulator"], path: "Tests/Systems/PIMSimulatorTests", swiftSettings: swiftSettings),
        .testTarget(
            name: "EpitomePIMTests", dependencies: ["Support", "EpitomePIM", "PIMSimulator", "NeuralNetworks", "Autograd", "Tensors"], path: "Tests/Systems/EpitomePIMTests",
            swiftSettings: swiftSettings),
        // MARK: end EPIM
        // MARK: Split-Ensemble
        // Systems layer: subtask splitting with OOD-aware targets, tree branching, Hessian pruning, OOD metrics.
        .target(
            name: "SplitEnsemble", dependencies: ["Benchmarks", "Support", "Kernels", "NeuralNetworks", "Autograd", "Tensors", "Datasets"], path: "Sources/Systems/SplitEnsemble",
            swiftSettings: swiftSettings + cpuFlags),
        .testTarget(
            name: "SplitEnsembleTests", dependencies: ["Support", "SplitEnsemble", "NeuralNetworks", "Autograd", "Tensors", "Datasets"], path: "Tests/Systems/SplitEnsembleTests",
            swiftSettings: swiftSettings),
        // MARK: end Split-Ensemble
        // MARK: LLMCompiler
        // Systems layer: planner, streaming plan parser, Task Fetching Unit, joiner, tools, baselines.
        // Speaks only to `ChatModelClient`; ZIPFoundation inflates the FOLDOC dictzip file.
        .target(
            name: "AgentCompiler",
            dependencies: ["Benchmarks", "Support", "OpenAIAPI", .product(name: "ZIPFoundation", package: "ZIPFoundation")], path: "Sources/Systems/AgentCompiler",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AgentCompilerTests",
            dependencies: ["AgentCompiler", "OpenAIAPI", "OpenAIClient", "OpenAIServer", "InferenceEngine", "TransformerModels", "Tokenization", "GGUF", "TestSupport"], path: "Tests/Systems/AgentCompilerTests",
            swiftSettings: swiftSettings),
        // L5: ChatModelClient over HTTP (any OpenAI-compatible server).
        .target(
            name: "OpenAIClient",
            dependencies: ["OpenAIAPI", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")], path: "Sources/Inference/OpenAIClient",
            swiftSettings: swiftSettings),
        // MARK: end LLMCompiler
        // MARK: best-effort serving
        // L5 (inference stack): tiers, profiles, simulator, baselines, Q-network forward.
        .target(
            name: "BestEffortServing", dependencies: ["Benchmarks", "Support", "TransformerModels", "InferenceEngine", "Tokenization", "GGUF", .product(name: "CoreMetrics", package: "swift-metrics")], path: "Sources/Systems/BestEffortServing",
            swiftSettings: swiftSettings + cpuFlags),
        // Systems layer: Double-DQN training of the router (imports the training stack).
        .target(
            name: "BestEffortTraining", dependencies: ["Benchmarks", "Support", "BestEffortServing", "NeuralNetworks", "Autograd", "Tensors", "OpenAIAPI", "OpenAIClient"], path: "Sources/Systems/BestEffortTraining",
            swiftSettings: swiftSettings + cpuFlags),
        .testTarget(
            name: "BestEffortServingTests",
            dependencies: ["BestEffortServing", "BestEffortTraining", "TransformerModels", "Tokenization", "GGUF", "TestSupport"], path: "Tests/Systems/BestEffortServingTests",
            swiftSettings: swiftSettings),
        // MARK: end best-effort serving
        // MARK: LoRA training (systems layer: trains adapters the inference engine serves)
        .target(
            name: "MultiLoRA",
            dependencies: ["Benchmarks", "Support", "Kernels", "InferenceEngine", "TransformerModels", "GGUF", "Tokenization", "Autograd", "NeuralNetworks", "Tensors",
                           "OpenAIAPI", "OpenAIServer", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "CoreMetrics", package: "swift-metrics")], path: "Sources/Systems/MultiLoRA",
            swiftSettings: swiftSettings + cpuFlags),
        .testTarget(
            name: "MultiLoRATests",
            dependencies: ["Support", "MultiLoRA", "Benchmarks", "InferenceEngine", "TransformerModels", "GGUF", "Tokenization", "Autograd", "NeuralNetworks", "Tensors", "TestSupport",
                           "OpenAIAPI", "OpenAIServer", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/Systems/MultiLoRATests",
            swiftSettings: swiftSettings),
        // MARK: MAgIC
        // Systems layer: five games, metrics, PGM-aware agent; speaks only to `ChatModelClient`.
        .target(name: "MultiAgentGames", dependencies: ["Benchmarks", "Support", "OpenAIAPI"], path: "Sources/Systems/MultiAgentGames", swiftSettings: swiftSettings),
        .testTarget(
            name: "MultiAgentGamesTests",
            dependencies: ["MultiAgentGames", "OpenAIAPI", "OpenAIServer", "InferenceEngine", "TransformerModels", "Tokenization", "GGUF", "TestSupport"], path: "Tests/Systems/MultiAgentGamesTests",
            swiftSettings: swiftSettings),
        // MARK: end MAgIC
    ]
)
