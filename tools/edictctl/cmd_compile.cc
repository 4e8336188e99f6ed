// edictctl compile, inspect and catalog: the policy compiler's command line.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "policy/catalog.h"
#include "policy/compiler/compiler.h"
#include "policy/compiler/json.h"
#include "tools/cli/files.h"
#include "tools/edictctl/commands.h"
#include "tools/edictctl/util.h"
#include "transport/describe.h"
#include "transport/errors.h"

namespace edict::ctl {
namespace {

constexpr char kCompileHelp[] =
    "usage: edictctl compile POLICY.json [--catalog FILE]... [-o PAYLOAD.bin]\n"
    "\n"
    "Validates policy JSON (docs/policy-format.md) against this build's settings catalogue\n"
    "plus any product catalogues given, and compiles it into a deterministic EDP1 payload:\n"
    "the same input and catalogues always give the same bytes. Every error is reported on stderr, "
    "one per line, as file:line:col: message.\n"
    "POLICY.json is a regular file of at most 4 MiB, or - for standard input. A payload\n"
    "larger than a signed bundle can carry (4092 KiB: the 4 MiB bundle limit less 4 KiB for\n"
    "signatures) is an error; a policy whose expires_at has passed compiles with a warning\n"
    "on stderr (endpoints refuse it).\n"
    "\n"
    "  -o, --output FILE   write the payload to FILE (atomically: temp file + rename; FILE\n"
    "                      must be a regular file or absent, never a FIFO, device,\n"
    "                      directory or symbolic link); - writes it to standard output (not\n"
    "                      a terminal) and the summary to stderr; without -o the policy is\n"
    "                      only checked\n"
    "  --catalog FILE      a product catalogue (.edcat, from `edictctl catalog build`),\n"
    "                      repeatable: the policy may use its settings, data classes,\n"
    "                      purposes, schedules, compliance tags and context attributes; the\n"
    "                      payload header records each one used (product, version, hash)\n"
    "  -h, --help          show this help\n"
    "\n"
    "exit status: 0 compiled, 1 invalid policy or catalogue, or I/O error (no output\n"
    "written), 2 usage\n";

constexpr char kInspectHelp[] =
    "usage: edictctl inspect [--catalog FILE]... FILE\n"
    "\n"
    "Prints a payload as canonical policy JSON (keys in documented order, defaults omitted,\n"
    "one rule per line). The payload is verified first (FlatBuffers verifier, identifier\n"
    "EDP1, format version 1). If FILE starts with '{' it is read as policy JSON, compiled,\n"
    "and its canonical form printed. Compiling the printed JSON gives identical bytes.\n"
    "A signed bundle (EDB1) or trust document (EDT1) is described as JSON instead:\n"
    "describing is not verifying (use `edictctl verify`).\n"
    "FILE is a regular file of at most 4 MiB, or - for standard input.\n"
    "\n"
    "  --catalog FILE   a product catalogue (.edcat), repeatable: policy JSON is compiled\n"
    "                   against it, and its duration settings print as durations\n"
    "  -h, --help       show this help\n"
    "\n"
    "exit status: 0 printed, 1 unreadable, malformed or invalid input, 2 usage\n";

constexpr char kCatalogHelp[] =
    "usage: edictctl catalog [--json]\n"
    "\n"
    "Lists this build's settings catalogue: every setting with its type, default, who may\n"
    "set it and its scope; then data classes, purposes, schedules and compliance tags.\n"
    "\n"
    "  --json       print the catalogue as one JSON object instead of tables\n"
    "  -h, --help   show this help\n"
    "\n"
    "exit status: 0, or 2 on a usage error\n";

bool IsHelp(std::string_view a) { return a == "-h" || a == "--help"; }

int Usage(const char* command, const std::string& problem, const char* help) {
  std::fprintf(stderr, "edictctl %s: %s\n\n%s", command, problem.c_str(), help);
  return kExitUsage;
}

int Fail(const char* command, const absl::Status& s) {
  std::fprintf(stderr, "edictctl %s: %s\n", command, std::string(s.message()).c_str());
  return kExitFailure;
}

// The name diagnostics give an input: "<stdin>" for -.
std::string DisplayName(const std::string& path) { return path == "-" ? "<stdin>" : path; }

// Policy JSON: a regular file of at most cli::kMaxPolicyJsonBytes, or standard input.
absl::StatusOr<std::string> ReadPolicyInput(const std::string& path) {
  cli::ReadOptions options;
  options.what = "policy JSON";
  options.allow_stdin = true;
  return cli::ReadInputFile(path, cli::kMaxPolicyJsonBytes, options);
}

std::string Plural(size_t n, const char* one, const char* many) {
  return absl::StrFormat("%d %s", n, n == 1 ? one : many);
}

std::string SummaryText(size_t bytes, const compiler::PayloadSummary& s) {
  return absl::StrFormat("%s, serial %d, %s, %s, %s", Plural(bytes, "byte", "bytes"), s.serial,
                         Plural(s.settings, "setting rule", "setting rules"),
                         Plural(s.data_use, "data-use rule", "data-use rules"),
                         Plural(s.schedules, "schedule rule", "schedule rules"));
}

// Compiles `path`; prints its errors to stderr. Returns the payload or nothing.
bool CompileFile(const std::string& path, const std::string& text, const CatalogSet& catalogs,
                 std::string* payload) {
  compiler::CompileResult result = compiler::Compile(text, path, catalogs);
  if (!result.ok()) {
    for (const std::string& line : result.Rendered()) std::fprintf(stderr, "%s\n", line.c_str());
    return false;
  }
  *payload = std::move(result.payload);
  return true;
}

// ---- catalog -----------------------------------------------------------------------

std::string_view TypeName(SettingType t) {
  switch (t) {
    case SettingType::kBool:
      return "bool";
    case SettingType::kEnum:
      return "enum";
    case SettingType::kFlags:
      return "flags";
    case SettingType::kInteger:
      return "integer";
    case SettingType::kDuration:
      return "duration";
    case SettingType::kString:
      return "string";
  }
  return "?";
}

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kDevice:
      return "device";
    case Scope::kIdentity:
      return "identity";
    case Scope::kMeeting:
      return "meeting";
  }
  return "?";
}

std::vector<std::string> SetterNames(const SettingSpec& s) {
  if (s.fixed) return {"nobody (fixed)"};
  std::vector<std::string> v;
  if (s.setters & kSetterUser) v.push_back("user");
  if (s.setters & kSetterAdmin) v.push_back("admin");
  if (s.setters & kSetterOrganiser) v.push_back("organiser");
  return v;
}

std::vector<std::string> BitNames(uint32_t bits, const std::string_view* names, int count) {
  std::vector<std::string> v;
  for (int i = 0; i < count; ++i) {
    if (bits & (1u << i)) v.emplace_back(names[i]);
  }
  return v;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.append(sep);
    out += v[i];
  }
  return out;
}

std::string JsonStrings(const std::vector<std::string>& v) {
  std::vector<std::string> q;
  for (const std::string& s : v) q.push_back(json::Quote(s));
  return absl::StrCat("[", Join(q, ", "), "]");
}

// A setting's default in policy-JSON syntax.
std::string DefaultJson(const SettingSpec& s) {
  switch (s.type) {
    case SettingType::kBool:
      return s.default_int ? "true" : "false";
    case SettingType::kEnum:
      if (s.default_int >= 0 && s.default_int < s.value_count) {
        return json::Quote(s.values[s.default_int]);
      }
      return "null";
    case SettingType::kFlags: {
      std::vector<std::string> v;
      for (int i = 0; i < s.value_count; ++i) {
        if (s.default_int & (int64_t{1} << i)) v.emplace_back(s.values[i]);
      }
      return JsonStrings(v);
    }
    case SettingType::kInteger:
      return absl::StrCat(s.default_int);
    case SettingType::kDuration:
      return json::Quote(compiler::FormatDuration(s.default_int));
    case SettingType::kString:
      return json::Quote(s.default_string);
  }
  return "null";
}

// A catalogue default's condition in the words of policy JSON's "when".
std::string ConditionText(const ConditionSpec& c) {
  const std::string when = compiler::WhenJson(c);
  return when == "{}" ? "always" : when;
}

void PrintCatalogText() {
  std::printf("edict settings catalogue, version %u\n\n", catalog::kVersion);
  std::printf("settings (%zu):\n", catalog::kSettings.size());
  std::vector<std::vector<std::string>> rows = {
      {"id", "type", "default", "set by", "scope", "notes"}};
  for (const SettingSpec& s : catalog::kSettings) {
    std::vector<std::string> notes;
    if (s.value_count) {
      std::vector<std::string> values(s.values, s.values + s.value_count);
      notes.push_back(absl::StrCat("values: ", Join(values, "|")));
    }
    if (s.at_account_creation) notes.push_back("only at account creation");
    if (s.atomic_group >= 0) {
      notes.push_back(
          absl::StrCat("atomic group ", std::string(catalog::kAtomicGroups[s.atomic_group].id)));
    }
    if (s.obligations_if_enabled) {
      notes.push_back(absl::StrCat(
          "if enabled: ",
          Join(BitNames(s.obligations_if_enabled, kObligationNames, kObligationCount), "+")));
    }
    rows.push_back({std::string(s.id), std::string(TypeName(s.type)), DefaultJson(s),
                    Join(SetterNames(s), ", "), std::string(ScopeName(s.scope)),
                    Join(notes, "; ")});
  }
  PrintTable(rows);

  std::printf("\ndata classes (%zu):\n", catalog::kDataClasses.size());
  rows = {{"id", "obligations", "description"}};
  for (const DataClassSpec& d : catalog::kDataClasses) {
    const std::string ob = Join(BitNames(d.obligations, kObligationNames, kObligationCount), "+");
    rows.push_back({std::string(d.id), ob.empty() ? "-" : ob, std::string(d.description)});
  }
  PrintTable(rows);

  std::printf("\npurposes (%zu):\n", catalog::kPurposes.size());
  rows = {{"id", "description"}};
  for (const PurposeSpec& p : catalog::kPurposes) {
    rows.push_back({std::string(p.id), std::string(p.description)});
  }
  PrintTable(rows);

  std::printf("\nschedules (%zu):\n", catalog::kSchedules.size());
  rows = {{"id", "built-in interval", "when"}};
  for (size_t k = 0; k < catalog::kSchedules.size(); ++k) {
    rows.push_back({std::string(catalog::kSchedules[k].id), "", ""});
    for (const BuiltinSchedule& b : catalog::BuiltinRulesFor(static_cast<int>(k))) {
      rows.push_back({"", compiler::FormatDuration(b.interval_seconds), ConditionText(b.when)});
    }
  }
  PrintTable(rows);

  std::printf("\ncompliance tags (%zu):\n", catalog::kComplianceTags.size());
  rows = {{"id", "forbids", "description"}};
  for (const ComplianceTagSpec& t : catalog::kComplianceTags) {
    std::vector<std::string> forbids;
    for (int i = 0; i < t.forbid_count; ++i) {
      const SettingSpec& s = catalog::kSettings[t.forbids[i].setting];
      SettingSpec v = s;
      v.default_int = t.forbids[i].value_int;
      forbids.push_back(absl::StrCat(std::string(s.id), "=", DefaultJson(v)));
    }
    rows.push_back({std::string(t.id), Join(forbids, ", "), std::string(t.description)});
  }
  PrintTable(rows);
}

void PrintCatalogJson() {
  auto q = [](std::string_view s) { return json::Quote(s); };
  std::vector<std::string> settings;
  for (const SettingSpec& s : catalog::kSettings) {
    std::vector<std::string> f = {
        absl::StrCat("\"id\": ", q(s.id)),
        absl::StrCat("\"type\": ", q(TypeName(s.type))),
        absl::StrCat("\"default\": ", DefaultJson(s)),
    };
    if (s.value_count) {
      f.push_back(absl::StrCat("\"values\": ", JsonStrings(std::vector<std::string>(
                                                   s.values, s.values + s.value_count))));
    }
    std::vector<std::string> setters;
    if (s.setters & kSetterUser) setters.push_back("user");
    if (s.setters & kSetterAdmin) setters.push_back("admin");
    if (s.setters & kSetterOrganiser) setters.push_back("organiser");
    f.push_back(absl::StrCat("\"setters\": ", JsonStrings(setters)));
    f.push_back(absl::StrCat("\"scope\": ", q(ScopeName(s.scope))));
    f.push_back(absl::StrCat("\"fixed\": ", s.fixed ? "true" : "false"));
    f.push_back(
        absl::StrCat("\"at_account_creation\": ", s.at_account_creation ? "true" : "false"));
    if (s.atomic_group >= 0) {
      f.push_back(absl::StrCat("\"atomic_group\": ", q(catalog::kAtomicGroups[s.atomic_group].id)));
    }
    f.push_back(absl::StrCat(
        "\"obligations_if_enabled\": ",
        JsonStrings(BitNames(s.obligations_if_enabled, kObligationNames, kObligationCount))));
    f.push_back(absl::StrCat("\"description\": ", q(s.description)));
    if (!s.caveat.empty()) f.push_back(absl::StrCat("\"caveat\": ", q(s.caveat)));
    settings.push_back(absl::StrCat("{", Join(f, ", "), "}"));
  }
  std::vector<std::string> classes;
  for (const DataClassSpec& d : catalog::kDataClasses) {
    classes.push_back(
        absl::StrFormat("{\"id\": %s, \"obligations\": %s, \"description\": %s}", q(d.id),
                        JsonStrings(BitNames(d.obligations, kObligationNames, kObligationCount)),
                        q(d.description)));
  }
  std::vector<std::string> purposes;
  for (const PurposeSpec& p : catalog::kPurposes) {
    purposes.push_back(
        absl::StrFormat("{\"id\": %s, \"description\": %s}", q(p.id), q(p.description)));
  }
  std::vector<std::string> schedules;
  for (size_t k = 0; k < catalog::kSchedules.size(); ++k) {
    std::vector<std::string> builtin;
    for (const BuiltinSchedule& b : catalog::BuiltinRulesFor(static_cast<int>(k))) {
      builtin.push_back(absl::StrFormat("{\"interval\": %s, \"when\": %s, \"note\": %s}",
                                        q(compiler::FormatDuration(b.interval_seconds)),
                                        q(ConditionText(b.when)), q(b.note)));
    }
    schedules.push_back(absl::StrFormat(
        "{\"id\": %s, \"description\": %s, \"builtin\": [%s]}", q(catalog::kSchedules[k].id),
        q(catalog::kSchedules[k].description), Join(builtin, ", ")));
  }
  std::vector<std::string> tags;
  for (const ComplianceTagSpec& t : catalog::kComplianceTags) {
    std::vector<std::string> forbids;
    for (int i = 0; i < t.forbid_count; ++i) {
      SettingSpec v = catalog::kSettings[t.forbids[i].setting];
      v.default_int = t.forbids[i].value_int;
      forbids.push_back(
          absl::StrFormat("{\"setting\": %s, \"value\": %s}", q(v.id), DefaultJson(v)));
    }
    tags.push_back(absl::StrFormat("{\"id\": %s, \"description\": %s, \"forbids\": [%s]}", q(t.id),
                                   q(t.description), Join(forbids, ", ")));
  }
  auto list = [](const std::vector<std::string>& v) {
    return absl::StrCat("[\n    ", Join(v, ",\n    "), "\n  ]");
  };
  std::printf(
      "{\n  \"version\": %u,\n  \"settings\": %s,\n  \"data_classes\": %s,\n  \"purposes\": %s,\n"
      "  \"schedules\": %s,\n  \"compliance_tags\": %s\n}\n",
      catalog::kVersion, list(settings).c_str(), list(classes).c_str(), list(purposes).c_str(),
      list(schedules).c_str(), list(tags).c_str());
}

}  // namespace

int RunCompile(int argc, char** argv) {
  std::string input;
  std::string output;
  std::vector<std::string> catalog_files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (IsHelp(a)) {
      std::fputs(kCompileHelp, stdout);
      return kExitOk;
    }
    if (a == "-o" || a == "--output") {
      if (i + 1 >= argc)
        return Usage("compile", std::string(a) + " needs a file name", kCompileHelp);
      if (!output.empty()) return Usage("compile", "more than one output", kCompileHelp);
      output = argv[++i];
      if (output.empty()) return Usage("compile", "empty output file name", kCompileHelp);
    } else if (a == "--catalog") {
      if (i + 1 >= argc) return Usage("compile", "--catalog needs a file name", kCompileHelp);
      catalog_files.emplace_back(argv[++i]);
      if (catalog_files.back().empty()) {
        return Usage("compile", "empty catalogue file name", kCompileHelp);
      }
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage("compile", "unknown option " + std::string(a), kCompileHelp);
    } else if (input.empty()) {
      input = std::string(a);
    } else {
      return Usage("compile", "unexpected argument " + std::string(a), kCompileHelp);
    }
  }
  if (input.empty()) return Usage("compile", "missing POLICY.json", kCompileHelp);

  cli::WriteOptions out_options;
  out_options.allow_stdout = true;
  out_options.binary = true;
  // Refuse an output path that is not a regular file before doing any work.
  if (!output.empty()) {
    if (absl::Status s = cli::CheckOutputPath(output, out_options); !s.ok()) {
      return Fail("compile", s);
    }
  }
  absl::StatusOr<std::shared_ptr<const CatalogSet>> catalogs = LoadCatalogSet(catalog_files);
  if (!catalogs.ok()) return Fail("compile", catalogs.status());
  const std::string name = DisplayName(input);
  absl::StatusOr<std::string> text = ReadPolicyInput(input);
  if (!text.ok()) return Fail("compile", text.status());
  std::string payload;
  if (!CompileFile(name, *text, **catalogs, &payload)) return kExitFailure;
  const absl::StatusOr<compiler::PayloadSummary> summary = compiler::VerifyPayload(payload);
  if (!summary.ok()) {  // cannot happen: the compiler's own output
    std::fprintf(stderr, "edictctl compile: internal error: %s\n",
                 std::string(summary.status().message()).c_str());
    return kExitFailure;
  }
  if (payload.size() > kMaxSignablePayloadBytes) {
    std::fprintf(stderr,
                 "edictctl compile: %s: the payload is %s, larger than a signed bundle can carry "
                 "(%s: the %s bundle limit less %s for signatures); nothing written\n",
                 name.c_str(), cli::HumanBytes(payload.size()).c_str(),
                 cli::HumanBytes(kMaxSignablePayloadBytes).c_str(),
                 cli::HumanBytes(transport::Limits{}.max_bundle_bytes).c_str(),
                 cli::HumanBytes(kSignatureReserveBytes).c_str());
    return kExitFailure;
  }
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (summary->expires_at != 0 && summary->expires_at <= now) {
    std::fprintf(stderr,
                 "edictctl compile: warning: %s: \"expires_at\" %s has passed (now is %s): "
                 "endpoints refuse this policy (ERR_EXPIRED)\n",
                 name.c_str(), transport::Rfc3339(summary->expires_at).c_str(),
                 transport::Rfc3339(now).c_str());
  }
  if (output.empty()) {
    std::printf("%s: ok (%s; not written, no -o)\n", name.c_str(),
                SummaryText(payload.size(), *summary).c_str());
    return kExitOk;
  }
  if (absl::Status s = cli::WriteOutputFile(output, payload, out_options); !s.ok()) {
    return Fail("compile", s);
  }
  const bool to_stdout = cli::IsStdout(output, out_options);
  std::fprintf(to_stdout ? stderr : stdout, "wrote %s (%s)\n",
               to_stdout ? "standard output" : output.c_str(),
               SummaryText(payload.size(), *summary).c_str());
  return kExitOk;
}

int RunInspect(int argc, char** argv) {
  std::string input;
  std::vector<std::string> catalog_files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (IsHelp(a)) {
      std::fputs(kInspectHelp, stdout);
      return kExitOk;
    }
    if (a == "--catalog") {
      if (i + 1 >= argc) return Usage("inspect", "--catalog needs a file name", kInspectHelp);
      catalog_files.emplace_back(argv[++i]);
      if (catalog_files.back().empty()) {
        return Usage("inspect", "empty catalogue file name", kInspectHelp);
      }
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      return Usage("inspect", "unknown option " + std::string(a), kInspectHelp);
    }
    if (!input.empty()) {
      return Usage("inspect", "unexpected argument " + std::string(a), kInspectHelp);
    }
    input = std::string(a);
  }
  if (input.empty()) return Usage("inspect", "missing FILE", kInspectHelp);

  absl::StatusOr<std::shared_ptr<const CatalogSet>> catalogs = LoadCatalogSet(catalog_files);
  if (!catalogs.ok()) return Fail("inspect", catalogs.status());
  const std::string name = DisplayName(input);
  cli::ReadOptions options;
  options.what = "a policy, payload, bundle or trust document";
  options.allow_stdin = true;
  absl::StatusOr<std::string> bytes =
      cli::ReadInputFile(input, std::max(cli::kMaxPolicyJsonBytes, cli::kMaxPayloadBytes), options);
  if (!bytes.ok()) return Fail("inspect", bytes.status());
  const size_t first = bytes->find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (*bytes)[first] == '{') {
    std::string payload;
    if (!CompileFile(name, *bytes, **catalogs, &payload)) return kExitFailure;
    *bytes = std::move(payload);
  }
  const transport::Bytes raw(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  const transport::DocumentKind kind = transport::DetectDocument(raw);
  if (kind == transport::DocumentKind::kBundle || kind == transport::DocumentKind::kTrust) {
    const absl::StatusOr<std::string> described = kind == transport::DocumentKind::kBundle
                                                      ? transport::DescribeBundle(raw)
                                                      : transport::DescribeTrust(raw);
    if (!described.ok()) {
      std::fprintf(stderr, "edictctl inspect: %s: %s\n", name.c_str(),
                   std::string(described.status().message()).c_str());
      return kExitFailure;
    }
    std::printf("%s\n", described->c_str());
    return kExitOk;
  }
  const absl::StatusOr<std::string> canonical = compiler::Inspect(*bytes, **catalogs);
  if (!canonical.ok()) {
    std::fprintf(stderr, "edictctl inspect: %s: %s\n", name.c_str(),
                 std::string(canonical.status().message()).c_str());
    return kExitFailure;
  }
  std::fputs(canonical->c_str(), stdout);
  return kExitOk;
}

int RunCatalog(int argc, char** argv) {
  bool as_json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (IsHelp(a)) {
      std::fputs(kCatalogHelp, stdout);
      return kExitOk;
    }
    if (a == "--json") {
      as_json = true;
    } else {
      return Usage("catalog", "unexpected argument " + std::string(a), kCatalogHelp);
    }
  }
  if (as_json) {
    PrintCatalogJson();
  } else {
    PrintCatalogText();
  }
  return kExitOk;
}

}  // namespace edict::ctl
