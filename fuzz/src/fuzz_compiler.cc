// The JSON policy compiler: json::Parse, Compile and Inspect of what compiles, plus
// json::Quote and the duration syntax. Input: policy JSON text (any bytes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/src/common.h"
#include "policy/compiler/compiler.h"
#include "policy/compiler/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using edict::fuzz::Check;
  namespace compiler = edict::compiler;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  (void)edict::json::Parse(text);
  // Quote always gives one valid JSON string.
  const std::string quoted = edict::json::Quote(text);
  const auto requoted = edict::json::Parse(quoted);
  Check(requoted.ok() && requoted->is_string(), "Quote gave invalid JSON", quoted);

  const compiler::CompileResult r = compiler::Compile(text, "fuzz.json");
  Check(r.ok() == !r.payload.empty(), "payload and errors disagree");
  for (const compiler::Diagnostic& d : r.errors) {
    Check(d.location.line >= 1 && d.location.col >= 1, "diagnostic without a location");
    Check(!d.message.empty(), "diagnostic without a message");
  }
  (void)r.Rendered();
  if (r.ok()) {
    const auto summary = compiler::VerifyPayload(r.payload);
    Check(summary.ok(), "Compile wrote a payload VerifyPayload rejects");
    const auto inspected = compiler::Inspect(r.payload);
    Check(inspected.ok(), "Inspect rejects a compiled payload");
    const edict::fuzz::Activated a = edict::fuzz::Activate(absl::Span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(r.payload.data()), r.payload.size()));
    Check(a.snapshot != nullptr || !a.status.ok(), "activation neither failed nor succeeded");
    Check(a.snapshot != nullptr, "the kernel refuses a compiled payload", a.status.ToString());
    Check(a.snapshot->skipped_count() == 0, "the kernel skips a rule of a compiled payload");
  }

  // Durations: what parses formats back to the same number of seconds.
  int64_t seconds = 0;
  if (size <= 32 && compiler::ParseDuration(text, &seconds)) {
    const std::string canonical = compiler::FormatDuration(seconds);
    int64_t again = -1;
    Check(compiler::ParseDuration(canonical, &again) && again == seconds,
          "FormatDuration does not parse back", canonical);
  }
  return 0;
}
