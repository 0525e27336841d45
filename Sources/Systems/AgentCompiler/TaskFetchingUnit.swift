// SPDX-License-Identifier: Apache-2.0

import Foundation

/// What happened to one task: when it ran (seconds from the start of execution) and its result.
public struct TaskRecord: Sendable, Equatable, Codable {
    /// The task.
    public let task: PlanTask
    /// The arguments after substitution.
    public let arguments: [TaskArgument]
    /// The result (`join` has an empty text).
    public let observation: Observation
    /// When it was handed to the executor.
    public let start: Double
    /// When it finished.
    public let end: Double
    /// When its plan line arrived from the planner.
    public let arrival: Double
}

/// The outcome of executing one plan.
public struct Execution: Sendable, Codable {
    /// One record per executed task, by index.
    public var records: [Int: TaskRecord]
    /// Tasks that never ran (their inputs never resolved), by index.
    public var unresolved: [PlanTask]
    /// Seconds from the start until the last task finished.
    public var makespan: Double
    /// Sum of the tools' own run times (the sequential cost of the same calls).
    public var toolSeconds: Double

    /// Records in index order.
    public var ordered: [TaskRecord] { records.keys.sorted().map { records[$0]! } }
}

/// The Task Fetching Unit: takes tasks as the planner emits them and launches every task whose
/// dependencies are done, each as a concurrent child task.
///
/// It is event driven: one loop waits on a single stream of events that carries both new tasks
/// (from the planner) and completions (from running tools), so a completion that unblocks a task
/// launches it at once even while the planner is still writing (the reference implementation only
/// looks again when the next planner line arrives).
public struct TaskFetchingUnit: Sendable {
    /// The tools.
    public let tools: ToolRegistry
    /// Called on the loop when a task starts and when it ends (for live timelines).
    public let onEvent: (@Sendable (TimelineEvent) -> Void)?

    /// A timeline event.
    public enum TimelineEvent: Sendable {
        case arrived(PlanTask, at: Double)
        case started(PlanTask, arguments: [TaskArgument], at: Double)
        case finished(TaskRecord)
    }

    /// Creates a TFU over `tools`.
    public init(tools: ToolRegistry, onEvent: (@Sendable (TimelineEvent) -> Void)? = nil) {
        self.tools = tools
        self.onEvent = onEvent
    }

    enum Event: Sendable {
        case arrived(PlanTask)
        case planEnded
        case completed(TaskRecord)
    }

    /// Executes a whole plan given up front.
    public func execute(_ tasks: [PlanTask], prior: [Int: Observation] = [:]) async -> Execution {
        let (stream, c) = AsyncThrowingStream<PlanTask, any Error>.makeStream()
        for t in tasks { c.yield(t) }
        c.finish()
        return await execute(stream, prior: prior)
    }

    /// Executes tasks as they arrive on `plan`, until the plan ends (the stream finishes or yields
    /// `join`) and every task that can run has run. A planner error ends the plan early.
    /// `prior` holds results of earlier rounds (replanning), which count as done.
    public func execute(_ plan: AsyncThrowingStream<PlanTask, any Error>, prior: [Int: Observation] = [:]) async -> Execution {
        let clock = ContinuousClock()
        let t0 = clock.now
        @Sendable func now() -> Double {
            let d = clock.now - t0
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        let (events, sink) = AsyncStream<Event>.makeStream()
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await t in plan {
                        sink.yield(.arrived(t))
                        if t.isJoin { break }
                    }
                } catch {}
                sink.yield(.planEnded)
            }
            var waiting: [PlanTask] = []  // arrived, not launched, in index order
            var arrival: [Int: Double] = [:]
            var done: [Int: TaskRecord] = [:]
            var running = 0
            var planEnded = false
            var observations = prior
            var toolSeconds = 0.0

            func launchReady() {
                var still: [PlanTask] = []
                for t in waiting {
                    guard t.dependencies.allSatisfy({ done[$0] != nil || prior[$0] != nil }) else {
                        still.append(t)
                        continue
                    }
                    let args = t.arguments.map { $0.substituted(observations) }
                    let start = now()
                    onEvent?(.started(t, arguments: args, at: start))
                    let arrived = arrival[t.index] ?? start
                    if t.isJoin {
                        let r = TaskRecord(task: t, arguments: [], observation: .text(""), start: start, end: start, arrival: arrived)
                        done[t.index] = r
                        onEvent?(.finished(r))
                        continue
                    }
                    running += 1
                    let tool = tools[t.name]
                    group.addTask {
                        let obs: Observation
                        if let tool {
                            do { obs = try await tool.call(args) } catch { obs = .failure("\(error)") }
                        } else {
                            obs = .failure("\(AgentError.unknownTool(t.name))")
                        }
                        sink.yield(.completed(TaskRecord(task: t, arguments: args, observation: obs, start: start, end: now(), arrival: arrived)))
                    }
                }
                waiting = still
            }

            for await e in events {
                switch e {
                case .arrived(let t):
                    arrival[t.index] = now()
                    onEvent?(.arrived(t, at: arrival[t.index]!))
                    waiting.append(t)
                case .planEnded:
                    planEnded = true
                case .completed(let r):
                    running -= 1
                    done[r.task.index] = r
                    observations[r.task.index] = r.observation
                    toolSeconds += r.end - r.start
                    onEvent?(.finished(r))
                }
                launchReady()
                if planEnded && running == 0 { break }
            }
            sink.finish()
            let makespan = done.values.map(\.end).max() ?? 0
            return Execution(records: done, unresolved: waiting, makespan: makespan, toolSeconds: toolSeconds)
        }
    }
}
