// Small text helpers shared by the ports (UTF-8 checks, JSON string escaping).

#ifndef EDICT_PORTS_TEXT_H_
#define EDICT_PORTS_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace edict::ports {

// Length of the well-formed UTF-8 sequence starting at s[i] (1..4), or 0 if it is not
// well-formed (overlong forms, surrogates and code points above U+10FFFF are rejected).
size_t Utf8SequenceLength(absl::string_view s, size_t i);

// True if `s` is well-formed UTF-8.
bool IsValidUtf8(absl::string_view s);

// Appends `s` escaped as the inside of a JSON string (no quotes): quote, backslash and control
// characters are escaped; ill-formed UTF-8 becomes \ufffd.
void AppendJsonEscaped(std::string* out, absl::string_view s);

}  // namespace edict::ports

#endif  // EDICT_PORTS_TEXT_H_
