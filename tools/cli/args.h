// Command-line arguments of `edictctl eval` and `edictctl explain`.
#ifndef EDICT_TOOLS_CLI_ARGS_H_
#define EDICT_TOOLS_CLI_ARGS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tools/cli/query.h"

namespace edict::cli {

struct EvalArgs {
  bool help = false;
  std::string policy;       // --policy FILE; empty: the catalogue defaults
  std::string batch;        // --batch FILE ("-" = standard input); empty: one query
  bool candidates = false;  // --candidates (explain only)
  Query query;              // the query given by positional arguments (no --batch)
};

// Parses the arguments after the subcommand name:
//   [--policy FILE] setting ID [--ctx K=V]... [--user-choice JSON] [--user-choice-at-creation]
//   [--policy FILE] data-use CLASS PURPOSE [--ctx K=V]...
//   [--policy FILE] schedule ID [--ctx K=V]...
//   [--policy FILE] --batch FILE
// plus `--candidates` when `explain` is true. Options may come in any order, as
// `--name VALUE` or `--name=VALUE`. Every error (unknown option, missing or extra
// argument, unknown id, bad context) is InvalidArgument: a usage error.
// Ids and `--ctx` attributes are looked up in `catalogs`.
absl::StatusOr<EvalArgs> ParseEvalArgs(absl::Span<const std::string_view> args, bool explain,
                                       const CatalogSet& catalogs = CatalogSet::Builtin());

// Takes every `--catalog FILE` / `--catalog=FILE` out of `args` (before ParseEvalArgs, which
// needs the catalogue set they make): returns the files in order, and `rest`, the other
// arguments. The value of an option that takes one is never mistaken for --catalog.
// InvalidArgument if --catalog has no value or an empty one.
absl::StatusOr<std::vector<std::string>> ExtractCatalogArgs(absl::Span<const std::string_view> args,
                                                            std::vector<std::string_view>* rest);

}  // namespace edict::cli

#endif  // EDICT_TOOLS_CLI_ARGS_H_
