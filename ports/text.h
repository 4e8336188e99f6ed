// Small text helpers shared by the ports (UTF-8 checks, JSON string escaping, escaping for
// human-readable lines).

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
// characters are escaped; ill-formed UTF-8 becomes \ufffd. The inside of json::Quote
// (policy/compiler/json.h), the tree's one JSON string escaper.
void AppendJsonEscaped(std::string* out, absl::string_view s);

// `s` made safe for one human-readable line (an agent's output line, an error message): kept
// are printable ASCII and well-formed UTF-8; a backslash becomes "\\", newline, return and
// tab "\n", "\r", "\t", other control bytes (NUL included), DEL and ill-formed bytes
// "\xNN", C1 controls, U+2028/U+2029 and bidirectional overrides "\uNNNN". The result holds
// no line break and no NUL, so a file name or value cannot forge or cut a line.
std::string EscapeForDisplay(absl::string_view s);

}  // namespace edict::ports

#endif  // EDICT_PORTS_TEXT_H_
