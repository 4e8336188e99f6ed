// The policy compiler: policy JSON (docs/policy-format.md) -> a validated, deterministic
// EDP1 payload (policy/edict.fbs), and back (Inspect: payload -> canonical policy JSON).
//
// The compiler is strict and validates against a catalogue set (policy/catalog/catalog_set.h:
// the built-in catalogue, policy/catalog.h, plus any product catalogues); it reports every error it
// finds (the first kMaxDiagnostics), each with its source location, and produces no payload if
// there is any.
#ifndef EDICT_POLICY_COMPILER_COMPILER_H_
#define EDICT_POLICY_COMPILER_COMPILER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/catalog/catalog_set.h"
#include "policy/compiler/json.h"

namespace edict::compiler {

// At most this many errors are kept and reported per compilation (a hostile policy cannot
// make the diagnostics grow with its size).
inline constexpr size_t kMaxDiagnostics = 100;

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
  // The errors found (the first kMaxDiagnostics discovered), ordered by location (then by
  // discovery); empty on success.
  std::vector<Diagnostic> errors;
  // How many more errors were found but not kept.
  size_t errors_not_shown = 0;
  // The file name given to Compile, used by Rendered().
  std::string filename;

  bool ok() const { return errors.empty(); }
  // Each error as "filename:line:col: message", in order; then, if errors_not_shown,
  // "filename: N more errors not shown (at most 100 are reported)".
  std::vector<std::string> Rendered() const;
};

// Compiles policy JSON against `catalogs`: every setting, data class, purpose, schedule,
// compliance tag and context attribute (a `when` key containing '.') it names must be in
// the set. Header.catalogs lists each product catalogue the policy names anything of
// (id, version, hash), sorted by product id; Header.catalog_version is the built-in
// catalogue's. `filename` is only used to render diagnostics. Deterministic: the same text
// and set always give the same bytes.
CompileResult Compile(std::string_view json_text, std::string_view filename,
                      const CatalogSet& catalogs);
// Against the built-in catalogue alone (CatalogSet::Builtin()).
CompileResult Compile(std::string_view json_text, std::string_view filename);

// The range of every time in policy JSON (issued_at, expires_at), in seconds since the Unix
// epoch: 1970-01-01T00:00:01Z to 9999-12-31T23:59:59Z. edictctl applies the same range to
// the times it is given (trust --now/--expires/--valid-days, verify --now/--time-floor).
inline constexpr int64_t kMinTime = 1;
inline constexpr int64_t kMaxTime = 253402300799;
// The range of "serial": 1 to 2^63 - 1 (JSON integers are read as int64_t).
inline constexpr int64_t kMaxSerial = INT64_MAX;

// Counts of a payload, for messages such as "wrote x (N bytes, serial S, ...)".
struct PayloadSummary {
  uint64_t serial = 0;
  int64_t issued_at = 0;   // 0: not set
  int64_t expires_at = 0;  // 0: never expires
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
// verified first (see VerifyPayload). Header.catalogs is not printed (Compile derives it
// from the names the rules use). `catalogs` only tells which settings are durations (printed
// as "30m"); a setting it does not know prints as its number. For every payload `p` that
// Compile(..., set) produced, Compile(Inspect(p, set), name, set).payload == p.
absl::StatusOr<std::string> Inspect(std::string_view payload, const CatalogSet& catalogs);
// Inspect(payload, CatalogSet::Builtin()).
absl::StatusOr<std::string> Inspect(std::string_view payload);

// A condition in the words of policy JSON: its canonical `when` object, one line, keys
// from the attribute table of `catalogs` ("{}" for none, e.g. a null `w`).
std::string WhenJson(const fb::Condition* w, const CatalogSet& catalogs = CatalogSet::Builtin());
// The same for a catalogue default's condition.
std::string WhenJson(const ConditionSpec& w, const CatalogSet& catalogs = CatalogSet::Builtin());

// Durations as written in policy JSON: "<n>d", "<n>h", "<n>m", "<n>s" (n decimal digits).
// Returns false if `text` is not one or overflows.
bool ParseDuration(std::string_view text, int64_t* seconds);
// The shortest exact form of `seconds` ("7d", "90m", "45s"); "0s" for 0.
std::string FormatDuration(int64_t seconds);

}  // namespace edict::compiler

#endif  // EDICT_POLICY_COMPILER_COMPILER_H_
