// SPDX-License-Identifier: Apache-2.0

public import Tensors

// Convolution, its input gradient (= transposed convolution) and its weight gradient form a
// closed family: each one's gradient rule is written with the other two, so conv nets support
// double backward exactly.

extension Variable {
    /// 2-D convolution: `x [N, C, H, W]`, `weight [OC, C/groups, kH, kW]`, optional `bias [OC]`.
    public static func conv2d(_ x: Variable, _ weight: Variable, bias: Variable? = nil, _ options: Conv2DOptions = .init()) -> Variable {
        // The bias is added inside the kernel; its gradient is the sum over batch and space.
        // The forward pass keeps its im2col columns for the weight gradient when one will be needed.
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let keep = GradientMode.isEnabled && weight.requiresGradient
        let (y, columns) = Tensor.conv2dKeepingColumns(x.value, weight.value, bias: bias?.value, options, keepColumns: keep)
        return record(y, "conv2d", inputs: inputs) { g in
            let gw: Variable? = !weight.requiresGradient ? nil :
                (!GradientMode.isEnabled && columns != nil
                    ? Variable(Tensor.conv2dWeightGradient(x.value, g.value, weightShape: weight.shape, options, columns: columns))
                    : conv2dWeightGradient(x, g, weightShape: weight.shape, options))
            var grads: [Variable?] = [
                x.requiresGradient ? conv2dInputGradient(g, weight, inputShape: x.shape, options) : nil,
                gw,
            ]
            if let bias { grads.append(bias.requiresGradient ? g.sum(alongAxes: [0, 2, 3]) : nil) }
            return grads
        }
    }

    /// Gradient of ``conv2d(_:_:bias:_:)`` with respect to the input (a transposed convolution):
    /// `gy [N, OC, OH, OW]`, `weight [OC, C/groups, kH, kW]` → `inputShape`.
    public static func conv2dInputGradient(_ gy: Variable, _ weight: Variable, inputShape: [Int], _ options: Conv2DOptions) -> Variable {
        record(Tensor.conv2dInputGradient(gy.value, weight.value, inputShape: inputShape, options), "conv2dInputGradient",
               inputs: [gy, weight]) { g in
            [gy.requiresGradient ? conv2d(g, weight, options) : nil,
             weight.requiresGradient ? conv2dWeightGradient(g, gy, weightShape: weight.shape, options) : nil]
        }
    }

    /// Gradient of ``conv2d(_:_:bias:_:)`` with respect to the weight.
    public static func conv2dWeightGradient(_ x: Variable, _ gy: Variable, weightShape: [Int], _ options: Conv2DOptions) -> Variable {
        record(Tensor.conv2dWeightGradient(x.value, gy.value, weightShape: weightShape, options), "conv2dWeightGradient",
               inputs: [x, gy]) { g in
            [x.requiresGradient ? conv2dInputGradient(gy, g, inputShape: x.shape, options) : nil,
             gy.requiresGradient ? conv2d(x, g, options) : nil]
        }
    }

    /// Transposed 2-D convolution (PyTorch `conv_transpose2d`): `x [N, Cin, H, W]`,
    /// `weight [Cin, Cout/groups, kH, kW]` → `[N, Cout, OH, OW]` with
    /// `OH = (H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1`.
    public static func convTranspose2d(_ x: Variable, _ weight: Variable, bias: Variable? = nil,
                                       _ options: Conv2DOptions = .init(), outputPadding: Int = 0) -> Variable {
        let oh = Tensor.convTransposeOutputSize(input: x.shape[2], kernel: weight.shape[2], stride: options.stride.0,
                                                padding: options.padding.0, dilation: options.dilation.0, outputPadding: outputPadding)
        let ow = Tensor.convTransposeOutputSize(input: x.shape[3], kernel: weight.shape[3], stride: options.stride.1,
                                                padding: options.padding.1, dilation: options.dilation.1, outputPadding: outputPadding)
        let y = conv2dInputGradient(x, weight, inputShape: [x.shape[0], weight.shape[1] * options.groups, oh, ow], options)
        guard let bias else { return y }
        return y + bias.reshaped([1, bias.shape[0], 1, 1])
    }

    /// Max pooling over `[N, C, H, W]`.
    public func maxPooled2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
        let (y, indices) = Tensor.maxPool2d(value, kernel: kernel, stride: stride ?? kernel, padding: padding)
        let inputShape = shape
        return .record(y, "maxPool2d", inputs: [self]) { g in [g.maxPoolScattered(indices, inputShape: inputShape)] }
    }

    /// Routes a pooled gradient back to the recorded maxima (adjoint of gathering them).
    func maxPoolScattered(_ indices: [Int32], inputShape: [Int]) -> Variable {
        let outputShape = shape
        return .record(Tensor.maxPool2dBackward(value, indices: indices, inputShape: inputShape), "maxPoolScatter",
                       inputs: [self]) { g in [g.maxPoolGathered(indices, outputShape: outputShape)] }
    }

    func maxPoolGathered(_ indices: [Int32], outputShape: [Int]) -> Variable {
        let inputShape = shape
        return .record(Tensor.maxPool2dGather(value, indices: indices, outputShape: outputShape), "maxPoolGather",
                       inputs: [self]) { g in [g.maxPoolScattered(indices, inputShape: inputShape)] }
    }

    /// Average pooling over `[N, C, H, W]` (zero padding counted).
    public func avgPooled2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
        let s = stride ?? kernel
        let inputShape = shape
        return .record(Tensor.avgPool2d(value, kernel: kernel, stride: s, padding: padding), "avgPool2d", inputs: [self]) { g in
            [g.avgPoolAdjoint(inputShape: inputShape, kernel: kernel, stride: s, padding: padding)]
        }
    }

    func avgPoolAdjoint(inputShape: [Int], kernel: Int, stride: Int, padding: Int) -> Variable {
        .record(Tensor.avgPool2dBackward(value, inputShape: inputShape, kernel: kernel, stride: stride, padding: padding),
                "avgPool2dBackward", inputs: [self]) { g in
            [g.avgPooled2d(kernel: kernel, stride: stride, padding: padding)]
        }
    }

    /// Mean over the spatial dimensions of `[N, C, H, W]` → `[N, C]` (global average pooling).
    public func globalAvgPooled() -> Variable { mean(alongAxes: [2, 3]) }

    /// Nearest-neighbour upsampling by an integer factor.
    public func upsampledNearest(factor: Int) -> Variable {
        .record(Tensor.upsampleNearest(value, factor: factor), "upsampleNearest", inputs: [self]) { g in
            [g.upsampleAdjoint(factor: factor)]
        }
    }

    func upsampleAdjoint(factor: Int) -> Variable {
        .record(Tensor.upsampleNearestBackward(value, factor: factor), "upsampleNearestBackward", inputs: [self]) { g in
            [g.upsampledNearest(factor: factor)]
        }
    }
}
