// SPDX-License-Identifier: Apache-2.0

import InferenceEngine
import Support

/// Converts request JSON schemas to the engine's ``JSONSchema`` subset.
enum JSONSchemaConversion {
    static func schema(_ v: JSONValue, path: String) throws(APIError) -> JSONSchema {
        guard let o = v.objectValue else { throw .badRequest("\(path) must be a JSON schema object", param: path) }
        if let e = o["enum"]?.arrayValue {
            let strings = e.compactMap(\.stringValue)
            guard strings.count == e.count, !strings.isEmpty else { throw .badRequest("\(path).enum: only string enums are supported", param: path) }
            return .string(values: strings)
        }
        if let c = o["const"]?.stringValue { return .string(values: [c]) }
        if let options = (o["anyOf"] ?? o["oneOf"])?.arrayValue {
            var alts: [JSONSchema] = []
            for (i, x) in options.enumerated() { alts.append(try schema(x, path: "\(path).anyOf[\(i)]")) }
            return .anyOf(alts)
        }
        let type: String?
        if let t = o["type"]?.stringValue {
            type = t
        } else if let ts = o["type"]?.arrayValue {
            var alts: [JSONSchema] = []
            for t in ts {
                var copy = o
                copy["type"] = t
                alts.append(try schema(.object(copy), path: path))
            }
            return .anyOf(alts)
        } else {
            type = o["properties"] != nil ? "object" : nil
        }
        switch type {
        case nil: return .any
        case "string": return .string(values: nil)
        case "integer": return .number(integer: true)
        case "number": return .number(integer: false)
        case "boolean": return .boolean
        case "null": return .null
        case "array":
            return .array(items: try o["items"].map { (x: JSONValue) throws(APIError) in try schema(x, path: "\(path).items") } ?? .any)
        case "object":
            let props = o["properties"]?.objectValue ?? [:]
            // Keep the author's order where the encoder preserved it; otherwise required first, then by name.
            let required = Set(o["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            let names = props.keys.sorted { (required.contains($0) ? 0 : 1, $0) < (required.contains($1) ? 0 : 1, $1) }
            var list: [(String, JSONSchema)] = []
            for n in names { list.append((n, try schema(props[n]!, path: "\(path).properties.\(n)"))) }
            if props.isEmpty { return o["additionalProperties"] == .bool(false) ? .object(properties: [], required: []) : .any }
            return .object(properties: list, required: required)
        default:
            throw .badRequest("\(path).type '\(type!)' is not supported", param: path)
        }
    }
}
