// The conformance vector reader (`edictctl conformance`): one vector file's text, run
// against the kernel. Malformed vectors must fail with a reason, never crash.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string_view>

#include "fuzz/src/common.h"
#include "tools/cli/conformance.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using edict::fuzz::Check;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::ostringstream out;
  edict::cli::ConformanceResult counts;
  const bool passed = edict::cli::RunVector(text, "fuzz.json", out, &counts);
  Check(counts.queries_failed <= counts.queries, "more failed queries than queries");
  if (!passed) Check(!out.str().empty(), "a failing vector without a reason");
  if (passed) Check(counts.queries_failed == 0, "a passing vector with failed queries");
  // ToJson of what parses parses again, to an equal value.
  const auto v = edict::json::Parse(text);
  if (v.ok()) {
    for (bool indent : {false, true}) {
      const std::string j = edict::cli::ToJson(*v, indent);
      const auto w = edict::json::Parse(j);
      Check(w.ok(), "ToJson wrote invalid JSON", j);
      Check(edict::cli::JsonEqual(*v, *w), "ToJson changed the value", j);
    }
  }
  return 0;
}
