// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The shape of one weight layer as a PIM compiler sees it: a convolution (or a fully connected
/// layer, a 1 × 1 convolution over a 1 × 1 map) applied to an input map of a given size.
///
/// ```swift
/// let conv = LayerShape(name: "conv3x3", inChannels: 256, outChannels: 256, kernel: 3, padding: 1,
///                       inputHeight: 14, inputWidth: 14)
/// conv.outputHeight   // 14
/// ```
public struct LayerShape: Sendable, Codable, Equatable {
    /// Convolution or fully connected.
    public enum Kind: String, Sendable, Codable { case conv, linear }

    public var name: String
    public var kind: Kind
    public var inChannels: Int
    public var outChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var stride: Int
    public var padding: Int
    public var groups: Int
    /// Spatial size of the layer's input map (1 × 1 for linear layers).
    public var inputHeight: Int
    public var inputWidth: Int

    /// A convolution with a square kernel.
    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, inputHeight: Int, inputWidth: Int) {
        self.name = name; kind = .conv
        self.inChannels = inChannels; self.outChannels = outChannels
        kernelHeight = kernel; kernelWidth = kernel
        self.stride = stride; self.padding = padding; self.groups = groups
        self.inputHeight = inputHeight; self.inputWidth = inputWidth
    }

    /// A fully connected layer `inFeatures → outFeatures`.
    public static func linear(name: String, inFeatures: Int, outFeatures: Int) -> LayerShape {
        var l = LayerShape(name: name, inChannels: inFeatures, outChannels: outFeatures, kernel: 1, inputHeight: 1, inputWidth: 1)
        l.kind = .linear
        return l
    }

    /// Output map height.
    public var outputHeight: Int { (inputHeight + 2 * padding - kernelHeight) / stride + 1 }
    /// Output map width.
    public var outputWidth: Int { (inputWidth + 2 * padding - kernelWidth) / stride + 1 }
    /// Output positions per image (one crossbar activation each in a plain mapping).
    public var outputPositions: Int { outputHeight * outputWidth }
    /// Weights (no bias).
    public var parameterCount: Int { outChannels * (inChannels / groups) * kernelHeight * kernelWidth }
    /// Multiply-accumulates per image.
    public var macs: Int { parameterCount * outputPositions }
    /// Rows of the unrolled weight matrix (`Ci/groups · kh · kw`).
    public var weightRows: Int { inChannels / groups * kernelHeight * kernelWidth }

    enum CodingKeys: String, CodingKey {
        case name, kind, inChannels, outChannels, kernel, kernelHeight, kernelWidth, stride, padding, groups, inputHeight, inputWidth
    }

    /// Decodes a layer; `kind` defaults to `conv`, `kernel` sets both kernel sizes, `stride` and
    /// `groups` default to 1, `padding` to 0, and linear layers need no input size.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? .conv
        inChannels = try c.decode(Int.self, forKey: .inChannels)
        outChannels = try c.decode(Int.self, forKey: .outChannels)
        let k = try c.decodeIfPresent(Int.self, forKey: .kernel) ?? 1
        kernelHeight = try c.decodeIfPresent(Int.self, forKey: .kernelHeight) ?? k
        kernelWidth = try c.decodeIfPresent(Int.self, forKey: .kernelWidth) ?? k
        stride = try c.decodeIfPresent(Int.self, forKey: .stride) ?? 1
        padding = try c.decodeIfPresent(Int.self, forKey: .padding) ?? 0
        groups = try c.decodeIfPresent(Int.self, forKey: .groups) ?? 1
        inputHeight = try c.decodeIfPresent(Int.self, forKey: .inputHeight) ?? 1
        inputWidth = try c.decodeIfPresent(Int.self, forKey: .inputWidth) ?? 1
        guard inChannels > 0, outChannels > 0, kernelHeight > 0, kernelWidth > 0, stride > 0, groups > 0,
              inChannels % groups == 0, outputHeight > 0, outputWidth > 0 else {
            throw PIMError.invalidLayer(name)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name); try c.encode(kind, forKey: .kind)
        try c.encode(inChannels, forKey: .inChannels); try c.encode(outChannels, forKey: .outChannels)
        try c.encode(kernelHeight, forKey: .kernelHeight); try c.encode(kernelWidth, forKey: .kernelWidth)
        try c.encode(stride, forKey: .stride); try c.encode(padding, forKey: .padding); try c.encode(groups, forKey: .groups)
        try c.encode(inputHeight, forKey: .inputHeight); try c.encode(inputWidth, forKey: .inputWidth)
    }
}

/// Errors of the PIM simulator.
public enum PIMError: Error, Equatable, CustomStringConvertible {
    /// A layer whose shape is inconsistent (non-positive sizes, channels not divisible by groups, empty output).
    case invalidLayer(String)
    /// A network name that is neither built in nor a readable JSON file.
    case unknownNetwork(String)

    public var description: String {
        switch self {
        case .invalidLayer(let n): "layer \(n) has an invalid shape"
        case .unknownNetwork(let n): "unknown network \(n): use resnet50, resnet18 or a JSON file {\"name\", \"layers\": [...]}"
        }
    }
}

/// A network as an ordered list of weight layers (activations, pooling and additions carry no
/// weights and are not mapped to crossbars).
///
/// Networks come built in (``resnet50()``, ``resnet18()``) or from JSON:
///
/// ```json
/// {"name": "tiny", "layers": [
///   {"name": "conv1", "inChannels": 1, "outChannels": 32, "kernel": 3, "padding": 1, "inputHeight": 28, "inputWidth": 28},
///   {"name": "fc", "kind": "linear", "inChannels": 32, "outChannels": 10}]}
/// ```
public struct Network: Sendable, Codable, Equatable {
    public var name: String
    public var layers: [LayerShape]

    public init(name: String, layers: [LayerShape]) {
        self.name = name
        self.layers = layers
    }

    /// Total weights.
    public var parameterCount: Int { layers.map(\.parameterCount).reduce(0, +) }

    /// A built-in network (`resnet50`, `resnet18`) or the JSON file at `nameOrPath`.
    public static func named(_ nameOrPath: String) throws -> Network {
        switch nameOrPath.lowercased() {
        case "resnet50", "resnet-50": return resnet50()
        case "resnet18", "resnet-18": return resnet18()
        default:
            guard let data = FileManager.default.contents(atPath: nameOrPath) else { throw PIMError.unknownNetwork(nameOrPath) }
            return try JSONDecoder().decode(Network.self, from: data)
        }
    }

    /// ResNet-50 for 224 × 224 ImageNet images (He et al. 2016, torchvision v1.5 layout: the
    /// stride sits on the 3 × 3 convolution of each bottleneck): conv1 7 × 7/2, max-pool, stages of
    /// [3, 4, 6, 3] bottlenecks (1 × 1, 3 × 3, 1 × 1; widths 64/128/256/512, expansion 4) with a
    /// 1 × 1 projection in each stage's first block, and fc 2048 → 1000. 53 convolutions plus fc,
    /// 25.5 M weights.
    public static func resnet50() -> Network {
        var layers = [LayerShape(name: "conv1", inChannels: 3, outChannels: 64, kernel: 7, stride: 2, padding: 3,
                                 inputHeight: 224, inputWidth: 224)]
        var inC = 64, size = 56  // after the 3 × 3/2 max-pool
        for (stage, (blocks, width)) in zip([3, 4, 6, 3], [64, 128, 256, 512]).enumerated() {
            for b in 0..<blocks {
                let stride = (b == 0 && stage > 0) ? 2 : 1
                let p = "layer\(stage + 1).\(b)"
                layers.append(LayerShape(name: "\(p).conv1", inChannels: inC, outChannels: width, kernel: 1,
                                         inputHeight: size, inputWidth: size))
                layers.append(LayerShape(name: "\(p).conv2", inChannels: width, outChannels: width, kernel: 3, stride: stride,
                                         padding: 1, inputHeight: size, inputWidth: size))
                let out = size / stride
                layers.append(LayerShape(name: "\(p).conv3", inChannels: width, outChannels: width * 4, kernel: 1,
                                         inputHeight: out, inputWidth: out))
                if b == 0 {
                    layers.append(LayerShape(name: "\(p).downsample", inChannels: inC, outChannels: width * 4, kernel: 1,
                                             stride: stride, inputHeight: size, inputWidth: size))
                }
                inC = width * 4
                size = out
            }
        }
        layers.append(.linear(name: "fc", inFeatures: 2048, outFeatures: 1000))
        return Network(name: "resnet50", layers: layers)
    }

    /// ResNet-18 for 224 × 224 images: conv1 7 × 7/2, stages of 2 basic blocks (two 3 × 3
    /// convolutions; widths 64/128/256/512) with 1 × 1 projections where the shape changes, and
    /// fc 512 → 1000. 20 convolutions plus fc, 11.7 M weights.
    public static func resnet18() -> Network {
        var layers = [LayerShape(name: "conv1", inChannels: 3, outChannels: 64, kernel: 7, stride: 2, padding: 3,
                                 inputHeight: 224, inputWidth: 224)]
        var inC = 64, size = 56
        for (stage, width) in [64, 128, 256, 512].enumerated() {
            for b in 0..<2 {
                let stride = (b == 0 && stage > 0) ? 2 : 1
                let p = "layer\(stage + 1).\(b)"
                let out = size / stride
                layers.append(LayerShape(name: "\(p).conv1", inChannels: inC, outChannels: width, kernel: 3, stride: stride,
                                         padding: 1, inputHeight: size, inputWidth: size))
                layers.append(LayerShape(name: "\(p).conv2", inChannels: width, outChannels: width, kernel: 3, padding: 1,
                                         inputHeight: out, inputWidth: out))
                if stride != 1 || inC != width {
                    layers.append(LayerShape(name: "\(p).downsample", inChannels: inC, outChannels: width, kernel: 1,
                                             stride: stride, inputHeight: size, inputWidth: size))
                }
                inC = width
                size = out
            }
        }
        layers.append(.linear(name: "fc", inFeatures: 512, outFeatures: 1000))
        return Network(name: "resnet18", layers: layers)
    }
}
