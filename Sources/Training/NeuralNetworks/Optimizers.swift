// SPDX-License-Identifier: Apache-2.0

public import Autograd
public import Tensors

/// Updates parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    /// The parameters being optimized.
    var parameters: [Variable] { get }
    /// The step size; schedules set it before each ``step()``.
    var learningRate: Float { get set }
    /// Applies one update to every parameter that has a gradient.
    func step()
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGradients() { for p in parameters { p.gradient = nil } }
}

/// Stochastic gradient descent with PyTorch semantics: L2 `weightDecay` added to the gradient,
/// momentum buffer `b = μ·b + (1 − dampening)·g` (initialized to `g`), optional Nesterov
/// (`g + μ·b`), then `p −= lr · update`.
public final class SGD: Optimizer {
    public let parameters: [Variable]
    public var learningRate: Float
    public var momentum: Float, dampening: Float, weightDecay: Float
    public var nesterov: Bool
    private var buffers: [Tensor?]

    public init(_ parameters: [Variable], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum and no dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum; self.dampening = dampening; self.weightDecay = weightDecay
        self.nesterov = nesterov
        buffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        for (i, p) in parameters.enumerated() {
            guard let grad = p.gradient else { continue }
            let lr = learningRate, mu = momentum, wd = weightDecay, damp = dampening, nest = nesterov
            if mu == 0 {
                grad.withUnsafeBufferPointer { g in
                    p.value.withUnsafeMutableBufferPointer { w in
                        for j in 0..<w.count { w[j] -= lr * (g[j] + wd * w[j]) }
                    }
                }
                continue
            }
            let first = buffers[i] == nil
            var buf = buffers[i] ?? Tensor(uninitializedShape: p.shape)
            buffers[i] = nil
            grad.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { w in
                    buf.withUnsafeMutableBufferPointer { b in
                        for j in 0..<w.count {
                            let d = g[j] + wd * w[j]
                            let m = first ? d : mu * b[j] + (1 - damp) * d
                            b[j] = m
                            w[j] -= lr * (nest ? d + mu * m : m)
                        }
                    }
                }
            }
            buffers[i] = buf
        }
    }
}

/// Adam (Kingma & Ba) with bias correction; `weightDecay` is L2 added to the gradient. With
/// `decoupled: true` it is AdamW (Loshchilov & Hutter): `p ← p·(1 − lr·wd)` before the Adam step.
public final class Adam: Optimizer {
    public let parameters: [Variable]
    public var learningRate: Float
    public var beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public let decoupled: Bool
    private var m: [Tensor], v: [Tensor]
    /// Steps taken so far.
    public private(set) var stepCount = 0

    public init(_ parameters: [Variable], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
        self.decoupled = decoupled
        m = parameters.map { Tensor(shape: $0.shape, repeating: 0) }
        v = parameters.map { Tensor(shape: $0.shape, repeating: 0) }
    }

    public func step() {
        stepCount += 1
        let b1 = beta1, b2 = beta2, eps = epsilon, lr = learningRate, wd = weightDecay, dec = decoupled
        let c1 = 1 - powf(b1, Float(stepCount)), c2 = 1 - powf(b2, Float(stepCount))
        let stepSize = lr / c1, rc2 = 1 / c2.squareRoot()
        for (i, p) in parameters.enumerated() {
            guard let grad = p.gradient else { continue }
            grad.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { w in
                    m[i].withUnsafeMutableBufferPointer { mm in
                        v[i].withUnsafeMutableBufferPointer { vv in
                            for j in 0..<w.count {
                                var d = g[j]
                                if dec { w[j] *= 1 - lr * wd } else { d += wd * w[j] }
                                mm[j] = b1 * mm[j] + (1 - b1) * d
                                vv[j] = b2 * vv[j] + (1 - b2) * d * d
                                w[j] -= stepSize * mm[j] / (vv[j].squareRoot() * rc2 + eps)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// AdamW: Adam with decoupled weight decay (default 0.01, as PyTorch).
public func AdamW(_ parameters: [Variable], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                  epsilon: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
    Adam(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, decoupled: true)
}

/// A learning rate as a function of the step (0-based).
public protocol LearningRateSchedule: Sendable {
    func rate(at step: Int) -> Float
}

/// A constant rate.
public struct ConstantSchedule: LearningRateSchedule {
    public var rate: Float
    public init(_ rate: Float) { self.rate = rate }
    public func rate(at step: Int) -> Float { rate }
}

/// Cosine annealing from `base` to `minimum` over `totalSteps` (then stays at `minimum`).
public struct CosineSchedule: LearningRateSchedule {
    public var base: Float, minimum: Float, totalSteps: Int
    public init(base: Float, totalSteps: Int, minimum: Float = 0) {
        self.base = base; self.totalSteps = totalSteps; self.minimum = minimum
    }
    public func rate(at step: Int) -> Float {
        let t = Float(min(step, totalSteps)) / Float(max(totalSteps, 1))
        return minimum + (base - minimum) * 0.5 * (1 + cosf(.pi * t))
    }
}

/// Multiplies the rate by `gamma` every `stepSize` steps.
public struct StepSchedule: LearningRateSchedule {
    public var base: Float, stepSize: Int, gamma: Float
    public init(base: Float, stepSize: Int, gamma: Float = 0.1) {
        self.base = base; self.stepSize = stepSize; self.gamma = gamma
    }
    public func rate(at step: Int) -> Float { base * powf(gamma, Float(step / max(stepSize, 1))) }
}

/// Linear warm-up from `base/warmupSteps` to the wrapped schedule's rate over `warmupSteps`,
/// then the wrapped schedule (shifted so it starts after the warm-up).
public struct WarmupSchedule<Inner: LearningRateSchedule>: LearningRateSchedule {
    public var warmupSteps: Int
    public var inner: Inner
    public init(warmupSteps: Int, then inner: Inner) {
        self.warmupSteps = warmupSteps; self.inner = inner
    }
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return inner.rate(at: 0) * Float(step + 1) / Float(warmupSteps) }
        return inner.rate(at: step - warmupSteps)
    }
}

/// Gradient clipping.
public enum GradientClipping {
    /// Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
    @discardableResult
    public static func clipNorm(_ parameters: [Variable], maxNorm: Float) -> Float {
        var total = 0.0
        for p in parameters { if let g = p.gradient { g.withUnsafeBufferPointer { b in for x in b { total += Double(x * x) } } } }
        let norm = Float(total.squareRoot())
        let scale = maxNorm / (norm + 1e-6)
        if scale < 1 { for p in parameters where p.gradient != nil { p.gradient!.scale(by: scale) } }
        return norm
    }

    /// Clamps every gradient element into `[−limit, limit]`.
    public static func clipValue(_ parameters: [Variable], limit: Float) {
        for p in parameters where p.gradient != nil { p.gradient = p.gradient!.clamped(-limit, limit) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
