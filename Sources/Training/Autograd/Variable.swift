// SPDX-License-Identifier: Apache-2.0

public import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// A node of the differentiation graph: a ``Tensor`` value plus, for values computed by a
/// recorded operation, the ``Operation`` that made it.
///
/// Leaves created with `requiresGradient: true` (parameters) receive gradients in ``gradient``
/// when ``backward(seed:)`` runs on a scalar that depends on them. Operations are recorded only
/// while ``GradientMode/isEnabled`` and when some input requires a gradient, so evaluation code
/// pays nothing for the tape.
///
/// ```swift
/// let w = Variable(Tensor(shape: [2], scalars: [1, 2]), requiresGradient: true)
/// let loss = (w * w).sum()
/// loss.backward()
/// w.gradient!.scalars   // [2, 4]
/// ```
public final class Variable {
    /// The current value. Optimizers update parameters in place through this property.
    public var value: Tensor
    /// Accumulated gradient of a leaf (`nil` until a backward pass reaches it).
    public var gradient: Tensor?
    /// Whether gradients flow to (or through) this variable.
    public var requiresGradient: Bool
    /// The operation that produced this value, when recorded.
    let creator: Operation?
    /// Optional label used in error messages and checkpoints.
    public var name: String?

    /// Creates a leaf.
    public init(_ value: Tensor, requiresGradient: Bool = false, name: String? = nil) {
        self.value = value
        self.requiresGradient = requiresGradient
        self.creator = nil
        self.name = name
    }

    init(_ value: Tensor, creator: Operation) {
        self.value = value
        self.requiresGradient = true
        self.creator = creator
    }

    /// Dimensions of ``value``.
    public var shape: [Int] { value.shape }
    /// Rank of ``value``.
    public var rank: Int { value.rank }
    /// True for variables made by the user rather than by an operation.
    public var isLeaf: Bool { creator == nil }
    /// The value without the graph: gradients do not flow through the result.
    public func detached() -> Variable { Variable(value) }
}

/// One recorded primitive: its inputs and its gradient rule.
///
/// `rule(g)` maps the gradient of the output to one gradient per input (`nil` for inputs that
/// need none). Rules are written with ``Variable`` operations, so running them with the graph on
/// (`createGraph: true`) makes the gradients differentiable again: double backward.
final class Operation {
    let name: String
    let inputs: [Variable]
    let rule: (Variable) -> [Variable?]

    init(name: String, inputs: [Variable], rule: @escaping (Variable) -> [Variable?]) {
        self.name = name
        self.inputs = inputs
        self.rule = rule
    }
}

/// Whether operations are recorded for differentiation (on by default; per thread, as in PyTorch).
public enum GradientMode {
    // A thread-specific flag: a non-nil value means recording is off on this thread.
    nonisolated(unsafe) private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// True when operations on this thread are recorded.
    public static var isEnabled: Bool { pthread_getspecific(key) == nil }

    /// Runs `body` with recording set to `enabled` on this thread, restoring the previous mode after.
    public static func with<R>(enabled: Bool, _ body: () throws -> R) rethrows -> R {
        let old = pthread_getspecific(key)
        pthread_setspecific(key, enabled ? nil : UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, old) }
        return try body()
    }
}

/// Runs `body` without recording operations (evaluation, optimizer updates).
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.with(enabled: false, body)
}

extension Variable {
    /// Records a primitive: returns its output, with a graph edge when any input requires a gradient.
    public static func record(_ value: Tensor, _ name: String, inputs: [Variable],
                              rule: @escaping (Variable) -> [Variable?]) -> Variable {
        if GradientMode.isEnabled && inputs.contains(where: { $0.requiresGradient }) {
            return Variable(value, creator: Operation(name: name, inputs: inputs, rule: rule))
        }
        return Variable(value)
    }

    /// Variables in an order where each comes after every variable computed from it
    /// (reverse topological order from `self`).
    func reverseTopologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (v, expanded) = stack.popLast() {
            if expanded { order.append(v); continue }
            if !visited.insert(ObjectIdentifier(v)).inserted { continue }
            stack.append((v, true))
            if let op = v.creator {
                for input in op.inputs where input.requiresGradient && !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }
        return order.reversed()
    }

    /// Propagates `seed` (default 1 for a scalar) from `self` and returns gradients of every
    /// variable reached, keyed by identity.
    func propagate(seed: Variable, order: [Variable], keep: Set<ObjectIdentifier>?, createGraph: Bool) -> [ObjectIdentifier: Variable] {
        var grads: [ObjectIdentifier: Variable] = [ObjectIdentifier(self): seed]
        var results: [ObjectIdentifier: Variable] = [:]
        GradientMode.with(enabled: createGraph) {
            for v in order {
                let id = ObjectIdentifier(v)
                guard let g = grads[id] else { continue }
                if keep == nil || keep!.contains(id) { results[id] = g }
                guard let op = v.creator else { continue }
                grads[id] = nil
                let inputGrads = op.rule(g)
                precondition(inputGrads.count == op.inputs.count, "\(op.name): rule returned \(inputGrads.count) gradients for \(op.inputs.count) inputs")
                for (input, gi) in zip(op.inputs, inputGrads) {
                    guard input.requiresGradient, let gi else { continue }
                    precondition(gi.shape == input.shape, "\(op.name): gradient \(gi.shape) for input \(input.shape)")
                    let iid = ObjectIdentifier(input)
                    if let existing = grads[iid] { grads[iid] = existing + gi } else { grads[iid] = gi }
                }
            }
        }
        return results
    }

    /// Reverse-mode differentiation from this scalar: adds d self / d leaf into every reachable
    /// leaf's ``gradient``.
    public func backward(seed: Tensor? = nil) {
        precondition(seed != nil || value.count == 1, "backward: output has shape \(shape); pass a seed")
        let s = Variable(seed ?? Tensor(shape: shape, repeating: 1))
        let order = reverseTopologicalOrder()
        let leaves = order.filter(\.isLeaf)
        let grads = propagate(seed: s, order: order, keep: Set(leaves.map { ObjectIdentifier($0) }), createGraph: false)
        for v in leaves {
            guard let g = grads[ObjectIdentifier(v)] else { continue }
            if v.gradient == nil { v.gradient = g.value } else { v.gradient!.addScaled(g.value, 1) }
        }
    }
}

/// Gradients of `output` with respect to `inputs` (PyTorch's `autograd.grad`).
///
/// With `createGraph`, the returned gradients are themselves recorded, so they can be
/// differentiated again (Hessian-vector products, gradient penalties).
public func gradients(of output: Variable, withRespectTo inputs: [Variable], seed: Tensor? = nil,
                      createGraph: Bool = false) -> [Variable] {
    precondition(seed != nil || output.value.count == 1, "gradients: output has shape \(output.shape); pass a seed")
    let s = Variable(seed ?? Tensor(shape: output.shape, repeating: 1))
    let keep = Set(inputs.map { ObjectIdentifier($0) })
    let grads = output.propagate(seed: s, order: output.reverseTopologicalOrder(), keep: keep, createGraph: createGraph)
    return inputs.map { grads[ObjectIdentifier($0)] ?? Variable(Tensor(shape: $0.shape, repeating: 0)) }
}

/// Hessian-vector product `H·v` of a scalar function of `parameters`, by double backward (exact):
/// `H·v = ∇(∇f · v)`.
///
/// `loss` builds the scalar from the parameters; it is evaluated once with the graph recorded.
public func hessianVectorProduct(of loss: () -> Variable, parameters: [Variable], vector: [Tensor]) -> [Tensor] {
    precondition(parameters.count == vector.count, "hessianVectorProduct: \(parameters.count) parameters, \(vector.count) vectors")
    let f = GradientMode.with(enabled: true) { loss() }
    let g = gradients(of: f, withRespectTo: parameters, createGraph: true)
    let dot = GradientMode.with(enabled: true) { () -> Variable in
        var acc: Variable?
        for (gi, vi) in zip(g, vector) {
            let t = (gi * Variable(vi)).sum()
            acc = acc.map { $0 + t } ?? t
        }
        return acc!
    }
    return gradients(of: dot, withRespectTo: parameters).map(\.value)
}
