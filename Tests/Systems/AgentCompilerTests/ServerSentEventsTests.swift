// SPDX-License-Identifier: Apache-2.0

import OpenAIClient
import Testing

@Suite("Server-sent events splitter (HTTP client)")
struct ServerSentEventsTests {
    @Test("events split at blank lines wherever the bytes are cut; CRLF, comments and multi-line data")
    func split() {
        let stream = ": comment\r\ndata: {\"a\":1}\r\n\r\ndata: line1\ndata: line2\n\nevent: x\ndata: [DONE]\n\n"
        let expected = ["{\"a\":1}", "line1\nline2", "[DONE]"]
        for cut in [1, 2, 5, 13, 1000] {
            var p = ServerSentEvents()
            var out: [String] = []
            var bytes = Array(stream.utf8)[...]
            while !bytes.isEmpty {
                out += p.feed(Array(bytes.prefix(cut)))
                bytes = bytes.dropFirst(cut)
            }
            #expect(out == expected, "cut \(cut)")
        }
    }
}
