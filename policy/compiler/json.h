// A small strict JSON reader that keeps the source location of every value, so the policy
// compiler can report each error as `file:line:col` and keep going after it.
// (FlatBuffers' JSON parser stops at the first error and gives no per-node columns.)
#ifndef EDICT_POLICY_COMPILER_JSON_H_
#define EDICT_POLICY_COMPILER_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace edict::json {

// 1-based; `col` counts bytes from the start of the line.
struct Location {
  int line = 1;
  int col = 1;
};

// Maximum nesting of arrays and objects accepted by Parse.
inline constexpr int kMaxDepth = 64;

class Value {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  struct Member;  // defined below: {key, key_location, value}

  Value() = default;

  Kind kind() const { return kind_; }
  Location location() const { return location_; }

  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // false unless a bool.
  bool boolean() const { return boolean_; }
  // The decoded text of a string; for a number, its literal as written; else empty.
  const std::string& string() const { return text_; }

  // Numbers keep their literal. is_integer(): the literal has no fraction or exponent and
  // fits in int64_t; integer() is then its value (0 otherwise). number() is the nearest
  // double (0 if not a number).
  bool is_integer() const { return kind_ == Kind::kNumber && is_integer_; }
  int64_t integer() const { return is_integer() ? integer_ : 0; }
  double number() const { return kind_ == Kind::kNumber ? number_ : 0; }

  // Elements of an array (empty otherwise).
  const std::vector<Value>& items() const { return items_; }
  // Members of an object in input order (empty otherwise).
  const std::vector<Member>& members() const { return members_; }
  // The member named `key` of an object, or nullptr.
  const Value* Find(std::string_view key) const;

 private:
  friend class Parser;

  Kind kind_ = Kind::kNull;
  Location location_;
  bool boolean_ = false;
  bool is_integer_ = false;
  int64_t integer_ = 0;
  double number_ = 0;
  std::string text_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

struct Value::Member {
  std::string key;
  Location key_location;
  Value value;
};

// Strict RFC 8259 JSON (UTF-8); rejects duplicate keys, trailing commas, comments, NaN and
// Infinity, lone surrogates, invalid UTF-8, control characters in strings, nesting deeper
// than kMaxDepth and trailing data. Never crashes; recursion is bounded by kMaxDepth.
// Error: InvalidArgument with message "LINE:COL: message".
absl::StatusOr<Value> Parse(std::string_view text);

// `s` as a JSON string literal (with the quotes), escaping '"', '\\' and control
// characters; valid UTF-8 is copied as it is, and each byte that is not part of valid
// UTF-8 becomes \ufffd, so the result is always valid JSON.
std::string Quote(std::string_view s);

}  // namespace edict::json

#endif  // EDICT_POLICY_COMPILER_JSON_H_
