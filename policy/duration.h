// Durations as written in policy JSON and in catalogues: "<n>d", "<n>h", "<n>m", "<n>s"
// (n decimal digits). Catalogues also accept bare seconds ("3600"). The one parser of this
// syntax: the compiler, the catalogue validator and the build-time table generator use it.
#ifndef EDICT_POLICY_DURATION_H_
#define EDICT_POLICY_DURATION_H_

#include <cstdint>
#include <limits>
#include <string_view>

namespace edict {

enum class BareSeconds { kRefuse, kAccept };

// Parses `text` into `*seconds`; false (and `*seconds` untouched) if it is not a duration,
// has more than 15 digits or overflows int64.
inline bool ParseDurationText(std::string_view text, int64_t* seconds,
                              BareSeconds bare = BareSeconds::kRefuse) {
  if (text.empty()) return false;
  int64_t unit = 0;
  switch (text.back()) {
    case 'd':
      unit = 86400;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'm':
      unit = 60;
      break;
    case 's':
      unit = 1;
      break;
    default:
      break;
  }
  std::string_view digits = text;
  if (unit != 0) {
    digits.remove_suffix(1);
  } else if (bare == BareSeconds::kAccept) {
    unit = 1;
  } else {
    return false;
  }
  if (digits.empty() || digits.size() > 15) return false;
  int64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n > std::numeric_limits<int64_t>::max() / unit) return false;
  *seconds = n * unit;
  return true;
}

}  // namespace edict

#endif  // EDICT_POLICY_DURATION_H_
