// SPDX-License-Identifier: Apache-2.0

import OpenAIAPI
import OpenAIClient

/// The HTTP chat client for `--base-url` (and a shutdown hook: the shared pool needs none).
func makeHTTPChatClient(baseURL: String, apiKey: String?) throws -> (any ChatModelClient, () -> Void) {
    guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
        throw CLIError("--base-url must start with http:// or https:// (e.g. http://127.0.0.1:8080/v1)")
    }
    return (OpenAIHTTPClient(baseURL: baseURL, apiKey: apiKey), {})
}
