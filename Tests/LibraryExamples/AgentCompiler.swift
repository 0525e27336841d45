// SPDX-License-Identifier: Apache-2.0

import AgentCompiler
import OpenAIAPI

/// LLMCompiler: the model plans a task graph with a calculator tool, the task-fetching unit runs
/// independent calls in parallel, and a joiner answers. `client` is any OpenAI-compatible model:
/// Tern's in-process `ChatService`, `OpenAIHTTPClient` for a `tern serve`, or another server.
func compileAndAnswer(client: any ChatModelClient, model: String, question: String) async throws -> String {
    let agent = LLMCompiler(client: client, tools: ToolRegistry([CalculatorTool()]), options: AgentOptions(model: model))
    return try await agent.answer(question).answer
}
