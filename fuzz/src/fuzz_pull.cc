// The pull client's parsers: everything a network peer (or whoever controls the index URL)
// hands the agent before any signature is checked. The input is one raw HTTP response
// (transport/pull/fuzz_entry.h: head, chunked / Content-Length / close-delimited body,
// Location resolution, the body as a pull index) and is also parsed whole as an index and
// as a saved per-source status record.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "fuzz/src/common.h"
#include "transport/pull/fuzz_entry.h"
#include "transport/pull/index.h"
#include "transport/pull/source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace pull = edict::transport::pull;
  using edict::fuzz::Check;
  pull::FuzzHttpResponse(data, size);
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  // An index that parses serialises to text that parses to the same index (the publisher
  // and the client agree on the format).
  const auto index = pull::ParseIndex(text);
  if (index.ok()) {
    const std::string once = pull::SerializeIndex(*index);
    const auto again = pull::ParseIndex(once);
    Check(again.ok(), "SerializeIndex output does not parse", once);
    Check(pull::SerializeIndex(*again) == once, "index does not round-trip", once);
  }

  // A status record that loads saves to JSON that loads to the same record.
  const auto status = pull::SourceStatus::FromJson(text);
  if (status.ok()) {
    const std::string once = status->ToJson();
    const auto again = pull::SourceStatus::FromJson(once);
    Check(again.ok(), "SourceStatus::ToJson output does not load", once);
    Check(again->ToJson() == once, "source status does not round-trip", once);
  }
  return 0;
}
