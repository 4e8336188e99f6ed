// A small, strict, bounded JSON reader for the pull index and the per-source status record
// (internal to edict_pull). Supports objects, arrays, strings (\uXXXX escapes decoded to
// UTF-8, surrogate pairs checked), non-negative and negative integers (no fractions or
// exponents: nothing here needs them), true, false, null. Refuses duplicate keys, depth
// over 8, more than 256 members/elements per container, strings over 4096 bytes, raw
// control characters and trailing garbage.
#ifndef EDICT_TRANSPORT_PULL_JSON_H_
#define EDICT_TRANSPORT_PULL_JSON_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edict::transport::pull::json {

struct Value {
  enum class Type { kNull, kBool, kInt, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  int64_t integer = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;

  // Member of an object, or nullptr.
  const Value* Get(absl::string_view key) const;
};

// InvalidArgument with a short reason (and byte offset) on anything malformed.
absl::StatusOr<Value> Parse(absl::string_view text);

// JSON string literal for `s` (quotes included); bytes >= 0x80 are passed through,
// controls \u-escaped.
std::string Quote(absl::string_view s);

}  // namespace edict::transport::pull::json

#endif  // EDICT_TRANSPORT_PULL_JSON_H_
