// Differential: compile -> inspect -> compile gives identical bytes, and the canonical
// JSON is a fixed point (inspect(compile(inspect(p))) == inspect(p)).
// Input: one mode byte, then bytes.
//   even mode: policy JSON; what compiles must round-trip exactly.
//   odd mode:  a payload; what Inspect prints, if it compiles, must inspect to an equal
//              JSON value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/src/common.h"
#include "policy/compiler/compiler.h"
#include "policy/compiler/json.h"
#include "tools/cli/conformance.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using edict::fuzz::Check;
  namespace compiler = edict::compiler;
  if (size == 0) return 0;
  const std::vector<uint8_t> copy = edict::fuzz::AlignedCopy({data + 1, size - 1});
  const std::string_view bytes(reinterpret_cast<const char*>(copy.data()), copy.size());
  if ((data[0] & 1) == 0) {
    const compiler::CompileResult first = compiler::Compile(bytes, "fuzz.json");
    if (!first.ok()) return 0;
    const absl::StatusOr<std::string> json = compiler::Inspect(first.payload);
    Check(json.ok(), "Inspect rejects a compiled payload");
    const compiler::CompileResult second = compiler::Compile(*json, "inspected.json");
    Check(second.ok(), "the inspected JSON does not compile", *json);
    Check(second.payload == first.payload, "compile(inspect(compile(x))) != compile(x)", *json);
    const absl::StatusOr<std::string> json2 = compiler::Inspect(second.payload);
    Check(json2.ok() && *json2 == *json, "inspect is not a fixed point", *json);
    return 0;
  }
  const absl::StatusOr<std::string> json = compiler::Inspect(bytes);
  if (!json.ok()) return 0;
  const compiler::CompileResult again = compiler::Compile(*json, "inspected.json");
  if (!again.ok()) return 0;  // payloads the compiler would refuse to write (newer catalogue)
  const absl::StatusOr<std::string> json2 = compiler::Inspect(again.payload);
  Check(json2.ok(), "Inspect rejects a compiled payload");
  // Byte equality is not promised here (invalid UTF-8 in p is printed as the escape
  // \ufffd, the recompiled U+FFFD as itself); the JSON values must be equal.
  const auto v1 = edict::json::Parse(*json);
  const auto v2 = edict::json::Parse(*json2);
  Check(v1.ok() && v2.ok() && edict::cli::JsonEqual(*v1, *v2),
        "inspect(compile(inspect(p))) != inspect(p)", *json + "\n---\n" + *json2);
  return 0;
}
