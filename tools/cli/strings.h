// Small string helpers for tools/cli. Debian's Abseil has its own absl::string_view
// (not std::string_view), so absl::StrCat and friends do not take the std::string_view
// the catalogue and kernel use; these do.
#ifndef EDICT_TOOLS_CLI_STRINGS_H_
#define EDICT_TOOLS_CLI_STRINGS_H_

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace edict::cli {

namespace strings_internal {
inline void Append(std::string* out, std::string_view s) { out->append(s.data(), s.size()); }
inline void Append(std::string* out, const char* s) { out->append(s); }
inline void Append(std::string* out, const std::string& s) { out->append(s); }
inline void Append(std::string* out, char c) { out->push_back(c); }
#ifndef ABSL_USES_STD_STRING_VIEW
inline void Append(std::string* out, absl::string_view s) { out->append(s.data(), s.size()); }
#endif
template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
void Append(std::string* out, T n) {
  out->append(std::to_string(n));
}
}  // namespace strings_internal

// Appends every argument (strings, characters, integers) to `out`.
template <typename... Args>
void AppendTo(std::string* out, const Args&... args) {
  (strings_internal::Append(out, args), ...);
}

// The concatenation of every argument.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  AppendTo(&out, args...);
  return out;
}

// `s` split at every `sep` (empty pieces kept; an empty `s` gives one empty piece).
inline std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

inline bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
inline bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// Decimal digits only (no sign, no spaces), without overflow.
inline bool ParseDecimal(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// A status message as std::string_view.
inline std::string_view MessageOf(const absl::Status& s) {
  return std::string_view(s.message().data(), s.message().size());
}

}  // namespace edict::cli

#endif  // EDICT_TOOLS_CLI_STRINGS_H_
