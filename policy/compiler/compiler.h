// The policy compiler: policy JSON (docs/policy-format.md) -> a validated, deterministic
// EDP1 payload (policy/edict.fbs), and back (Inspect: payload -> canonical policy JSON).
//
// The compiler is strict and validates against this build's catalogue (policy/catalog.h);
// it reports every error it finds, each with its source location, and produces no payload
// if there is any.
#ifndef EDICT_POLICY_COMPILER_COMPILER_H_
#define EDICT_POLICY_COMPILER_COMPILER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/compiler/json.h"

namespace edict::compiler {

// One error, at a place in the policy JSON.
struct Diagnostic {
  json::Location location;
  std::string message;
};

// "filename:line:col: message".
std::string FormatDiagnostic(std::string_view filename, const Diagnostic& d);

struct CompileResult {
  // The payload bytes (FlatBuffer with identifier "EDP1"); empty if there are errors.
  std::string payload;
  // Every error found, ordered by location (then by discovery); empty on success.
  std::vector<Diagnostic> errors;
  // The file name given to Compile, used by Rendered().
  std::string filename;

  bool ok() const { return errors.empty(); }
  // Each error as "filename:line:col: message", in order.
  std::vector<std::string> Rendered() const;
};

// Compiles policy JSON. `filename` is only used to render diagnostics.
// Deterministic: the same text always gives the same bytes.
CompileResult Compile(std::string_view json_text, std::string_view filename);

// Counts of a payload, for messages such as "wrote x (N bytes, serial S, ...)".
struct PayloadSummary {
  uint64_t serial = 0;
  size_t settings = 0;
  size_t data_use = 0;
  size_t schedules = 0;
};

// Checks that `payload` is a well-formed EDP1 payload of format version 1 (FlatBuffers
// verifier, file identifier, header) starting on an 8-byte boundary (policy/aligned.h);
// returns its counts. InvalidArgument otherwise.
absl::StatusOr<PayloadSummary> VerifyPayload(std::string_view payload);

// The canonical policy JSON of a payload (keys in the documented order, defaults
// omitted, rules in payload order, one rule per line, trailing newline). The payload is
// verified first (see VerifyPayload). For every payload Compile produced,
// Compile(Inspect(p)).payload == p.
absl::StatusOr<std::string> Inspect(std::string_view payload);

// Durations as written in policy JSON: "<n>d", "<n>h", "<n>m", "<n>s" (n decimal digits).
// Returns false if `text` is not one or overflows.
bool ParseDuration(std::string_view text, int64_t* seconds);
// The shortest exact form of `seconds` ("7d", "90m", "45s"); "0s" for 0.
std::string FormatDuration(int64_t seconds);

}  // namespace edict::compiler

#endif  // EDICT_POLICY_COMPILER_COMPILER_H_
