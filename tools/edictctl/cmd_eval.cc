// edictctl eval, explain and conformance: the command-line contract of issue 4
// (docs/policy-format.md, "Queries and answers"; tests/conformance/README.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/kernel.h"
#include "tools/cli/args.h"
#include "tools/cli/conformance.h"
#include "tools/cli/files.h"
#include "tools/cli/policy.h"
#include "tools/cli/query.h"
#include "tools/cli/strings.h"
#include "tools/edictctl/commands.h"
#include "tools/edictctl/util.h"

namespace edict::ctl {
namespace {

constexpr char kQueryHelp[] =
    "Queries:\n"
    "  setting ID             resolve a setting (e.g. communicator.ceip)\n"
    "  data-use CLASS PURPOSE may data CLASS be used for PURPOSE (e.g. usage_data improve)\n"
    "  schedule ID            the interval of a schedule (genuine.validation_interval)\n"
    "  --batch FILE           one JSON query per line (docs/policy-format.md), '-' = stdin;\n"
    "                         empty lines are skipped; a regular file or stdin, read as a\n"
    "                         stream; a line longer than 64 KiB stops it (exit 1)\n"
    "\n"
    "Options:\n"
    "  --policy FILE          policy JSON (*.json, compiled first) or payload bytes (any\n"
    "                         other name), a regular file of at most 4 MiB; without it,\n"
    "                         the catalogue defaults (serial 0)\n"
    "  --catalog FILE         a product catalogue (.edcat, `edictctl catalog build`),\n"
    "                         repeatable: the policy is compiled and activated against the\n"
    "                         built-in catalogue plus these, and queries and --ctx may name\n"
    "                         their settings, data classes, purposes, schedules, attributes\n"
    "  --ctx KEY=VALUE        context, repeatable: identity=managed|unmanaged,\n"
    "                         domain_joined=true|false, device_managed=true|false,\n"
    "                         plan=enterprise|small_business|trial, os_generation=N,\n"
    "                         device_state=tampered,not_genuine, groups=a,b,\n"
    "                         role=user|admin|organiser|participant,\n"
    "                         account_creation=true|false, region=US; a context\n"
    "                         attribute of a --catalog by name: PRODUCT.NAME=true|false\n"
    "                         (bool), =VALUE (enum), =N (integer range), =a,b (string set;\n"
    "                         empty: none), e.g. acmevpn.network_trust=trusted\n"
    "  --user-choice JSON     the user's own choice, in the setting's JSON syntax: true,\n"
    "                         30, '\"name_only\"', '[\"status\",\"note\"]' (setting only)\n"
    "  --user-choice-at-creation\n"
    "                         the choice was made when the account was created\n";

constexpr char kEvalHelp[] =
    "usage: edictctl eval [--policy FILE] [--catalog FILE]... setting ID [--ctx KEY=VALUE]...\n"
    "                     [--user-choice V] [--user-choice-at-creation]\n"
    "       edictctl eval [--policy FILE] data-use CLASS PURPOSE [--ctx KEY=VALUE]...\n"
    "       edictctl eval [--policy FILE] schedule ID [--ctx KEY=VALUE]...\n"
    "       edictctl eval [--policy FILE] --batch FILE\n"
    "\n"
    "Prints the answer as one JSON object per line:\n"
    "  "
    "{\"setting\",\"value\",\"source\",\"locked\",\"rule\",\"serial\",\"obligations\"[,\"notes\"]}"
    "\n"
    "  {\"allowed\",\"obligations\",\"rule\",\"source\"}\n"
    "  {\"schedule\",\"interval_seconds\",\"source\",\"rule\",\"serial\"}\n"
    "With --batch, a line that cannot be answered gives {\"error\":\"...\"}, and the rate\n"
    "\"N queries, X queries/s\" goes to stderr.\n"
    "\n";

constexpr char kExplainHelp[] =
    "usage: edictctl explain [--candidates] <same arguments as edictctl eval>\n"
    "\n"
    "Prints the kernel's explanation of the answer: one sentence (value, source, lock, rule,\n"
    "bundle, why); with --candidates, also every other candidate and why it lost. With\n"
    "--batch, one explanation per query.\n"
    "\n";

constexpr char kExitHelp[] =
    "\n"
    "Exit status: 0 ok; 1 the policy did not load, the --batch input could not be read\n"
    "(not a regular file or stdin, or a line over 64 KiB) or a --batch line was not answered;\n"
    "2 usage error (unknown option, unknown id, bad context value).\n";

constexpr char kConformanceHelp[] =
    "usage: edictctl conformance DIR\n"
    "\n"
    "Runs every *.json conformance vector of DIR, in file-name order (format:\n"
    "tests/conformance/README.md). For each failing query prints the vector file, the query\n"
    "index, the query, and the expected and actual answers with the keys that differ. A\n"
    "malformed vector fails with the reason. One file is one vector; the last line is\n"
    "\"N passed, M failed\", counting vectors.\n"
    "\n"
    "Exit status: 0 every vector passed; 1 a vector failed or DIR has no vectors; 2 usage.\n";

std::vector<std::string_view> Args(int argc, char** argv) {
  std::vector<std::string_view> out;
  for (int i = 1; i < argc; ++i) out.emplace_back(argv[i]);
  return out;
}

// Prints the rules activation skipped, so that an admin sees them.
void ReportSkipped(const Snapshot& s, std::string_view cmd) {
  static constexpr std::string_view kKinds[] = {"settings", "data_use", "schedules"};
  for (const SkippedRule& r : s.skipped()) {
    std::fprintf(stderr, "edictctl %.*s: warning: %s[%u] '%.*s' skipped: %.*s\n",
                 static_cast<int>(cmd.size()), cmd.data(),
                 std::string(kKinds[static_cast<int>(r.kind) % 3]).c_str(), r.index,
                 static_cast<int>(r.name.size()), r.name.data(),
                 static_cast<int>(SkipReasonName(r.reason).size()),
                 SkipReasonName(r.reason).data());
  }
  if (s.skipped_count() > s.skipped().size()) {
    std::fprintf(stderr, "edictctl %.*s: warning: %zu more rules skipped\n",
                 static_cast<int>(cmd.size()), cmd.data(), s.skipped_count() - s.skipped().size());
  }
}

// One answer (eval) or explanation (explain) per line of `path` ("-": standard input),
// streamed: memory stays bounded by the line cap whatever the length of the stream.
int RunBatch(const Snapshot& snapshot, const CatalogSet& catalogs, const std::string& path,
             bool explain, ExplainDetail detail) {
  const char* cmd = explain ? "explain" : "eval";
  std::string out;
  out.reserve(1 << 16);
  size_t queries = 0;
  size_t errors = 0;
  const auto start = std::chrono::steady_clock::now();
  const absl::Status read = cli::ForEachInputLine(
      path, cli::kMaxBatchLineBytes, [&](size_t line_no, std::string_view line) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) return;
        ++queries;
        absl::StatusOr<cli::Query> q = cli::ParseQueryText(line, catalogs);
        if (!q.ok()) {
          ++errors;
          out += cli::RenderError(cli::Cat("line ", line_no, ": ", q.status().message()));
        } else {
          const cli::Answer a = cli::Evaluate(snapshot, *q);
          out += explain ? cli::Explain(snapshot, *q, a, detail) : cli::RenderAnswer(a, catalogs);
        }
        out += '\n';
        if (out.size() >= (1 << 16)) {
          std::fwrite(out.data(), 1, out.size(), stdout);
          out.clear();
        }
      });
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (!read.ok()) {
    std::fprintf(stderr, "edictctl %s: %s\n", cmd, std::string(read.message()).c_str());
    return kExitFailure;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "%zu queries, %.0f queries/s\n", queries,
               seconds > 0 ? static_cast<double>(queries) / seconds : 0.0);
  if (errors > 0) {
    std::fprintf(stderr, "edictctl %s: %zu of %zu queries could not be answered\n", cmd, errors,
                 queries);
    return kExitFailure;
  }
  return kExitOk;
}

int RunEvalOrExplain(int argc, char** argv, bool explain) {
  const char* cmd = explain ? "explain" : "eval";
  const std::vector<std::string_view> all_args = Args(argc, argv);
  // --catalog first: ids and --ctx attributes are looked up in the set it makes.
  std::vector<std::string_view> args;
  absl::StatusOr<std::vector<std::string>> catalog_files = cli::ExtractCatalogArgs(all_args, &args);
  if (!catalog_files.ok()) {
    std::fprintf(stderr, "edictctl %s: %s\n(see edictctl %s --help)\n", cmd,
                 std::string(catalog_files.status().message()).c_str(), cmd);
    return kExitUsage;
  }
  const bool wants_help = std::find_if(args.begin(), args.end(), [](std::string_view a) {
                            return a == "--help" || a == "-h";
                          }) != args.end();
  std::shared_ptr<const CatalogSet> catalogs =
      std::shared_ptr<const CatalogSet>(&CatalogSet::Builtin(), [](const CatalogSet*) {});
  if (!wants_help) {
    absl::StatusOr<std::shared_ptr<const CatalogSet>> set = LoadCatalogSet(*catalog_files);
    if (!set.ok()) {
      std::fprintf(stderr, "edictctl %s: cannot load catalogue: %s\n", cmd,
                   std::string(set.status().message()).c_str());
      return kExitFailure;
    }
    catalogs = *std::move(set);
  }
  absl::StatusOr<cli::EvalArgs> parsed = cli::ParseEvalArgs(args, explain, *catalogs);
  if (!parsed.ok()) {
    std::fprintf(stderr, "edictctl %s: %s\n(see edictctl %s --help)\n", cmd,
                 std::string(parsed.status().message()).c_str(), cmd);
    return kExitUsage;
  }
  if (parsed->help) {
    std::fputs(explain ? kExplainHelp : kEvalHelp, stdout);
    std::fputs(kQueryHelp, stdout);
    if (explain) std::fputs("  --candidates           also list every losing candidate\n", stdout);
    std::fputs(kExitHelp, stdout);
    return kExitOk;
  }
  std::unique_ptr<cli::LoadedPolicy> policy;
  if (!parsed->policy.empty()) {
    absl::StatusOr<std::unique_ptr<cli::LoadedPolicy>> p =
        cli::LoadedPolicy::FromFile(parsed->policy, *catalogs);
    if (!p.ok()) {
      std::fprintf(stderr, "edictctl %s: cannot load policy '%s':\n%s\n", cmd,
                   parsed->policy.c_str(), std::string(p.status().message()).c_str());
      return kExitFailure;
    }
    policy = *std::move(p);
  } else if (!catalog_files->empty()) {
    absl::StatusOr<std::unique_ptr<cli::LoadedPolicy>> p = cli::LoadedPolicy::Defaults(*catalogs);
    if (!p.ok()) {
      std::fprintf(stderr, "edictctl %s: cannot activate the catalogue defaults: %s\n", cmd,
                   std::string(p.status().message()).c_str());
      return kExitFailure;
    }
    policy = *std::move(p);
  }
  const Snapshot& snapshot = policy ? policy->snapshot() : Snapshot::Defaults();
  ReportSkipped(snapshot, cmd);
  const ExplainDetail detail =
      parsed->candidates ? ExplainDetail::kWithCandidates : ExplainDetail::kSentence;

  if (!parsed->batch.empty()) {
    return RunBatch(snapshot, *catalogs, parsed->batch, explain, detail);
  }
  const cli::Answer a = cli::Evaluate(snapshot, parsed->query);
  const std::string line =
      explain ? cli::Explain(snapshot, parsed->query, a, detail) : cli::RenderAnswer(a, *catalogs);
  std::printf("%s\n", line.c_str());
  return kExitOk;
}

}  // namespace

int RunEval(int argc, char** argv) { return RunEvalOrExplain(argc, argv, false); }

int RunExplain(int argc, char** argv) { return RunEvalOrExplain(argc, argv, true); }

int RunConformance(int argc, char** argv) {
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kConformanceHelp, stdout);
      return kExitOk;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      std::fprintf(stderr, "edictctl conformance: unknown option '%s'\n", argv[i]);
      return kExitUsage;
    }
    if (!dir.empty()) {
      std::fprintf(stderr, "edictctl conformance: unexpected argument '%s'\n", argv[i]);
      return kExitUsage;
    }
    dir = argv[i];
  }
  if (dir.empty()) {
    std::fputs("edictctl conformance: missing DIR\n(see edictctl conformance --help)\n", stderr);
    return kExitUsage;
  }
  const cli::ConformanceResult r = cli::RunConformanceDir(dir, std::cout);
  std::cout.flush();
  return r.failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace edict::ctl
