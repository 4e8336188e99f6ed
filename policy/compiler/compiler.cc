// Compile: policy JSON -> checked IR (checker.cc, conditions.cc) -> payload (payload.cc);
// diagnostics. Inspect and durations are in inspect.cc.
#include "policy/compiler/compiler.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "policy/compiler/checker.h"
#include "policy/compiler/internal.h"

namespace edict::compiler {
namespace {

// "LINE:COL: message" from json::Parse.
Diagnostic FromParseError(const absl::Status& status) {
  Diagnostic d;
  const std::string text(status.message());
  std::string_view msg = text;
  const size_t c1 = msg.find(':');
  const size_t c2 = c1 == std::string_view::npos ? c1 : msg.find(':', c1 + 1);
  if (c2 != std::string_view::npos &&
      absl::SimpleAtoi(std::string(msg.substr(0, c1)), &d.location.line) &&
      absl::SimpleAtoi(std::string(msg.substr(c1 + 1, c2 - c1 - 1)), &d.location.col)) {
    msg.remove_prefix(c2 + 1);
    if (!msg.empty() && msg.front() == ' ') msg.remove_prefix(1);
  }
  d.message = std::string(msg);
  return d;
}

}  // namespace

std::string FormatDiagnostic(std::string_view filename, const Diagnostic& d) {
  return absl::StrFormat("%s:%d:%d: %s", filename, d.location.line, d.location.col, d.message);
}

std::vector<std::string> CompileResult::Rendered() const {
  std::vector<std::string> out;
  for (const Diagnostic& d : errors) out.push_back(FormatDiagnostic(filename, d));
  if (errors_not_shown > 0) {
    out.push_back(absl::StrFormat("%s: %d more errors not shown (at most %d are reported)",
                                  filename, errors_not_shown, kMaxDiagnostics));
  }
  return out;
}

CompileResult Compile(std::string_view json_text, std::string_view filename,
                      const CatalogSet& catalogs) {
  CompileResult result;
  result.filename = std::string(filename);
  absl::StatusOr<json::Value> root = json::Parse(json_text);
  if (!root.ok()) {
    result.errors.push_back(FromParseError(root.status()));
    return result;
  }
  internal::Checker checker(catalogs);
  const internal::PolicyIR policy = checker.CheckPolicy(*root);
  result.errors = checker.TakeErrors();
  result.errors_not_shown = checker.dropped();
  if (!result.errors.empty()) {
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                       return std::tie(a.location.line, a.location.col) <
                              std::tie(b.location.line, b.location.col);
                     });
    return result;
  }
  result.payload = internal::BuildPayload(policy);
  return result;
}

CompileResult Compile(std::string_view json_text, std::string_view filename) {
  return Compile(json_text, filename, CatalogSet::Builtin());
}

}  // namespace edict::compiler
