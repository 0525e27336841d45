// SPDX-License-Identifier: Apache-2.0

public import Support
public import Autograd
public import Tensors

/// A non-trainable tensor that belongs to a module's state (batch-norm running statistics):
/// saved in checkpoints, never given gradients.
public final class Buffer {
    /// The current value.
    public var value: Tensor
    public init(_ value: Tensor) { self.value = value }
}

/// Base class of every layer: a tree of parameters, buffers and child modules.
///
/// Parameters are discovered by reflection over stored properties (``Variable``s that require
/// gradients, ``Buffer``s, child ``Module``s, and arrays or optionals of them), named by property
/// path (`blocks.0.conv1.weight`), the way PyTorch's `state_dict` names them, so checkpoints are
/// interchangeable by name.
///
/// ```swift
/// final class TwoLayer: Module {
///     let fc1: Linear, fc2: Linear
///     init(generator: inout SeededRandom) {
///         fc1 = Linear(4, 8, generator: &generator)
///         fc2 = Linear(8, 2, generator: &generator)
///     }
///     override func callAsFunction(_ x: Variable) -> Variable { fc2(fc1(x).relu()) }
/// }
/// ```
open class Module {
    /// Training mode (dropout active, batch norm uses batch statistics).
    public private(set) var isTraining = true

    public init() {}

    /// The module's function of one input. Subclasses override it.
    open func callAsFunction(_ x: Variable) -> Variable {
        preconditionFailure("\(type(of: self)) does not implement callAsFunction(_:)")
    }

    /// Children with their property names.
    public var namedChildren: [(String, Module)] {
        var out: [(String, Module)] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror {
            for child in m.children {
                guard let label = child.label.map(Module.cleanLabel) else { continue }
                Module.collect(child.value, label) { name, value in
                    if let module = value as? Module { out.append((name, module)) }
                }
            }
            mirror = m.superclassMirror
        }
        return out
    }

    /// All trainable parameters (including frozen ones) with dotted names, depth first.
    public func namedParameters() -> [(String, Variable)] {
        var out: [(String, Variable)] = []
        walk(prefix: "") { name, value in
            if let v = value as? Variable { out.append((name, v)) }
        }
        return out
    }

    /// All buffers with dotted names.
    public func namedBuffers() -> [(String, Buffer)] {
        var out: [(String, Buffer)] = []
        walk(prefix: "") { name, value in
            if let b = value as? Buffer { out.append((name, b)) }
        }
        return out
    }

    /// Parameters that currently require gradients (what an optimizer updates).
    public var trainableParameters: [Variable] { namedParameters().map(\.1).filter(\.requiresGradient) }

    /// Number of scalar parameters.
    public var parameterCount: Int { namedParameters().map { $0.1.value.count }.reduce(0, +) }

    /// Switches this module and every descendant to training (`true`) or evaluation mode.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, c) in namedChildren { c.train(on) }
    }

    /// Evaluation mode (see ``train(_:)``).
    public func eval() { train(false) }

    /// Stops (or restarts) gradient flow into every parameter of this subtree.
    public func freeze(_ frozen: Bool = true) {
        for (_, p) in namedParameters() { p.requiresGradient = !frozen }
    }

    /// Clears accumulated gradients.
    public func zeroGradients() {
        for (_, p) in namedParameters() { p.gradient = nil }
    }

    private func walk(prefix: String, _ visit: (String, Any) -> Void) {
        var mirror: Mirror? = Mirror(reflecting: self)
        var local: [(String, Any)] = []
        while let m = mirror {
            for child in m.children {
                guard let label = child.label.map(Module.cleanLabel) else { continue }
                Module.collect(child.value, label) { local.append(($0, $1)) }
            }
            mirror = m.superclassMirror
        }
        for (name, value) in local {
            let full = prefix.isEmpty ? name : prefix + "." + name
            if let module = value as? Module { module.walk(prefix: full, visit) } else { visit(full, value) }
        }
    }

    private static func cleanLabel(_ l: String) -> String {
        l.hasPrefix("_") ? String(l.dropFirst()) : l
    }

    private static func collect(_ value: Any, _ name: String, _ emit: (String, Any) -> Void) {
        switch value {
        case let v as Variable: if v.requiresGradient || v.isLeaf { emit(name, v) }
        case let b as Buffer: emit(name, b)
        case let m as Module: emit(name, m)
        case let list as [Module]: for (i, m) in list.enumerated() { emit("\(name).\(i)", m) }
        case let list as [Variable]: for (i, v) in list.enumerated() { emit("\(name).\(i)", v) }
        default:
            let m = Mirror(reflecting: value)
            if m.displayStyle == .optional, let inner = m.children.first { collect(inner.value, name, emit) }
        }
    }
}

/// Modules applied in order.
public final class Sequential: Module {
    public let layers: [Module]
    public init(_ layers: [Module]) { self.layers = layers }
    public override func callAsFunction(_ x: Variable) -> Variable {
        layers.reduce(x) { $1($0) }
    }
}

/// A stateless function as a module (activations, flatten).
public final class Lambda: Module {
    let body: (Variable) -> Variable
    public init(_ body: @escaping (Variable) -> Variable) { self.body = body }
    public override func callAsFunction(_ x: Variable) -> Variable { body(x) }
}

/// Parameter initializers (PyTorch's defaults, drawn from a seeded generator).
public enum Initializer {
    /// `U(−1/√fanIn, 1/√fanIn)`: PyTorch's default for `Linear` and `Conv2d` weights and biases
    /// (its Kaiming-uniform with `a = √5` reduces to this bound).
    public static func fanInUniform(_ shape: [Int], fanIn: Int, generator: inout SeededRandom) -> Tensor {
        let bound = 1 / Float(fanIn).squareRoot()
        return Tensor.uniform(shape, low: -bound, high: bound, generator: &generator)
    }

    /// Kaiming-normal for ReLU networks: `N(0, 2/fanIn)`.
    public static func kaimingNormal(_ shape: [Int], fanIn: Int, generator: inout SeededRandom) -> Tensor {
        Tensor.normal(shape, std: (2 / Float(fanIn)).squareRoot(), generator: &generator)
    }

    /// Xavier-uniform: `U(±√(6 / (fanIn + fanOut)))`.
    public static func xavierUniform(_ shape: [Int], fanIn: Int, fanOut: Int, generator: inout SeededRandom) -> Tensor {
        let bound = (6 / Float(fanIn + fanOut)).squareRoot()
        return Tensor.uniform(shape, low: -bound, high: bound, generator: &generator)
    }
}
