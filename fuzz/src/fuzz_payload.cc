// Payload verify + kernel activation + a burst of queries on whatever activates.
// Input: an EDP1 payload (the bytes `edictctl compile` writes), as an endpoint receives
// it inside a verified bundle.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/types/span.h"
#include "fuzz/src/common.h"
#include "kernel/kernel.h"
#include "policy/compiler/compiler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using edict::fuzz::Check;
  const absl::Span<const uint8_t> payload(data, size);
  const edict::fuzz::Activated a = edict::fuzz::Activate(payload);
  // The compiler's verifier and the kernel's must agree on what is a well-formed payload
  // (the kernel may still refuse one: critical rules, format version).
  const auto summary =
      edict::compiler::VerifyPayload(std::string_view(reinterpret_cast<const char*>(data), size));
  // Finding F1: the same bytes off an 8-byte boundary are refused before anything is read.
  std::vector<uint8_t> shifted(size + 1);
  if (size > 0) std::memcpy(shifted.data() + 1, data, size);
  Check(edict::Snapshot::ArenaSize({shifted.data() + 1, size}).status().code() ==
                absl::StatusCode::kInvalidArgument &&
            !edict::compiler::VerifyPayload(
                 std::string_view(reinterpret_cast<const char*>(shifted.data() + 1), size))
                 .ok(),
        "a payload at a misaligned address was not refused");
  if (a.snapshot == nullptr) return 0;
  const edict::Snapshot& snap = *a.snapshot;
  Check(snap.payload().data() == data && snap.payload().size() == size,
        "snapshot does not borrow the payload");
  Check(snap.skipped().size() <= edict::Snapshot::kMaxReportedSkips &&
            snap.skipped().size() <= snap.skipped_count(),
        "skipped() larger than reported");
  for (const edict::SkippedRule& s : snap.skipped()) {
    Check(s.name.empty() ||
              (s.name.data() >= reinterpret_cast<const char*>(data) &&
               s.name.data() + s.name.size() <= reinterpret_cast<const char*>(data) + size),
          "SkippedRule::name does not point into the payload");
  }
  if (summary.ok())
    Check(summary->serial == snap.serial(), "VerifyPayload serial != kernel serial");
  uint64_t seed = size;
  for (size_t i = 0; i < size && i < 64; ++i) seed = seed * 131 + data[i];
  edict::fuzz::QueryBurst(snap, seed);
  return 0;
}
