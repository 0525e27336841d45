// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for the safetensors reader behind PEFT LoRA adapters (which arrive via
// POST /v1/load_lora_adapter). Built by fuzz/run.sh together with Sources/Core/Support/SafeTensors.swift.
// Any input must either parse or throw SafeTensorsError; parsed tensors must hold shape-product floats.

import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let file = try? SafeTensors.read(Data(bytes: data, count: size)) else { return 0 }
    for (_, t) in file.tensors {
        precondition(t.floats.count == t.shape.reduce(1, *), "tensor size disagrees with its shape")
    }
    return 0
}
