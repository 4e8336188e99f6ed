// The conformance runner behind `edictctl conformance DIR`: runs every `*.json` vector of
// a directory (sorted by file name) against the kernel and reports each failing query
// with a readable diff. The vector format is specified in tests/conformance/README.md.
//
// Counting: one file is one vector. A vector passes when its policy loads as expected and
// every one of its queries matches; a malformed vector file fails, with the reason.
#ifndef EDICT_TOOLS_CLI_CONFORMANCE_H_
#define EDICT_TOOLS_CLI_CONFORMANCE_H_

#include <ostream>
#include <string>
#include <string_view>

#include "policy/compiler/json.h"

namespace edict::cli {

struct ConformanceResult {
  int passed = 0;          // vectors
  int failed = 0;          // vectors (malformed ones included)
  int queries = 0;         // queries checked
  int queries_failed = 0;  // queries that did not match
};

// Runs one vector, given its file text. `label` names it in messages (the file name).
// Writes a report of each failure to `out`; returns true if the vector passed.
bool RunVector(std::string_view text, std::string_view label, std::ostream& out,
               ConformanceResult* counts);

// Runs every `*.json` file of `dir`, sorted by name, writing failures to `out`, then one
// line "checked Q queries of V vectors (F queries failed)" and, as the last line,
// "N passed, M failed". A directory that cannot be read or holds no vectors counts as
// one failure.
ConformanceResult RunConformanceDir(const std::string& dir, std::ostream& out);

// `value` as JSON text: compact (single line) or indented by two spaces per level.
// Numbers are written as they were in the input.
std::string ToJson(const json::Value& value, bool indent = false);

// Structural equality of two JSON values: same kind, numbers equal as integers (or as
// doubles when either is not an integer), arrays element by element, objects by key
// regardless of member order.
bool JsonEqual(const json::Value& a, const json::Value& b);

}  // namespace edict::cli

#endif  // EDICT_TOOLS_CLI_CONFORMANCE_H_
