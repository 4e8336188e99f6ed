// edictctl compile, inspect and catalog: the policy compiler's command line.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifdef _WIN32
#include <process.h>
#include <windows.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "policy/catalog.h"
#include "policy/compiler/compiler.h"
#include "policy/compiler/json.h"
#include "tools/edictctl/commands.h"
#include "transport/describe.h"

namespace edict::ctl {
namespace {

constexpr char kCompileHelp[] =
    "usage: edictctl compile POLICY.json [-o PAYLOAD.bin]\n"
    "\n"
    "Validates policy JSON (docs/policy-format.md) against this build's settings catalogue\n"
    "and compiles it into a deterministic EDP1 payload: the same input always gives the\n"
    "same bytes. Every error is reported on stderr, one per line, as file:line:col: message.\n"
    "\n"
    "  -o, --output FILE   write the payload to FILE (atomically: temp file + rename);\n"
    "                      without it the policy is only checked\n"
    "  -h, --help          show this help\n"
    "\n"
    "exit status: 0 compiled, 1 invalid policy or I/O error (no output written), 2 usage\n";

constexpr char kInspectHelp[] =
    "usage: edictctl inspect FILE\n"
    "\n"
    "Prints a payload as canonical policy JSON (keys in documented order, defaults omitted,\n"
    "one rule per line). The payload is verified first (FlatBuffers verifier, identifier\n"
    "EDP1, format version 1). If FILE starts with '{' it is read as policy JSON, compiled,\n"
    "and its canonical form printed. Compiling the printed JSON gives identical bytes.\n"
    "A signed bundle (EDB1) or trust document (EDT1) is described as JSON instead:\n"
    "describing is not verifying (use `edictctl verify`).\n"
    "\n"
    "  -h, --help   show this help\n"
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

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrFormat("cannot open %s: %s", path, std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrFormat("cannot read %s", path));
  return ss.str();
}

// Writes `data` to `path` atomically: a temporary file next to it, flushed to disk, then
// renamed over `path`. On failure the temporary file is removed and `path` is untouched.
absl::Status WriteFileAtomically(const std::string& path, const std::string& data) {
#ifdef _WIN32
  const std::string tmp = absl::StrCat(path, ".tmp.", _getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmp.c_str());
      return absl::InternalError(absl::StrFormat("cannot write %s", tmp));
    }
  }
  if (!MoveFileExA(tmp.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    std::remove(tmp.c_str());
    return absl::InternalError(
        absl::StrFormat("cannot rename %s to %s (error %lu)", tmp, path, GetLastError()));
  }
  return absl::OkStatus();
#else
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(absl::StrFormat("cannot create %s: %s", tmp, std::strerror(errno)));
  }
  auto fail = [&](const char* what) {
    const int err = errno;
    close(fd);
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrFormat("cannot %s %s: %s", what, tmp, std::strerror(err)));
  };
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return fail("sync");
  if (close(fd) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrFormat("cannot close %s: %s", tmp, std::strerror(err)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrFormat("cannot rename %s to %s: %s", tmp, path, std::strerror(err)));
  }
  // Make the rename durable too.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dfd = open(dir.c_str(), O_RDONLY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return absl::OkStatus();
#endif
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
bool CompileFile(const std::string& path, const std::string& text, std::string* payload) {
  compiler::CompileResult result = compiler::Compile(text, path);
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

std::string ConditionText(const ConditionSpec& c) {
  std::vector<std::string> terms;
  if (c.identity == 1) terms.push_back("managed identity");
  if (c.identity == 2) terms.push_back("unmanaged identity");
  if (c.domain_joined)
    terms.push_back(c.domain_joined == 1 ? "domain-joined" : "not domain-joined");
  if (c.device_managed)
    terms.push_back(c.device_managed == 1 ? "managed device" : "unmanaged device");
  static constexpr std::string_view kPlans[] = {"enterprise", "small_business", "trial"};
  static constexpr std::string_view kRoles[] = {"user", "admin", "organiser", "participant"};
  static constexpr std::string_view kStates[] = {"tampered", "not_genuine"};
  if (c.plans) terms.push_back(absl::StrCat("plan ", Join(BitNames(c.plans, kPlans, 3), "|")));
  if (c.roles) terms.push_back(absl::StrCat("role ", Join(BitNames(c.roles, kRoles, 4), "|")));
  if (c.os_min || c.os_max) {
    terms.push_back(absl::StrFormat("os %s..%s", c.os_min ? absl::StrCat(c.os_min) : "",
                                    c.os_max ? absl::StrCat(c.os_max) : ""));
  }
  if (c.state_all) terms.push_back(Join(BitNames(c.state_all, kStates, 2), "+"));
  if (c.state_none)
    terms.push_back(absl::StrCat("not ", Join(BitNames(c.state_none, kStates, 2), "|")));
  if (c.account_creation) {
    terms.push_back(c.account_creation == 1 ? "at account creation" : "after account creation");
  }
  if (!c.region.empty()) terms.push_back(absl::StrCat("region ", std::string(c.region)));
  return terms.empty() ? "always" : Join(terms, ", ");
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line = " ";
    for (size_t i = 0; i < row.size(); ++i) {
      line += " ";
      line += row[i];
      if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 1, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    std::printf("%s\n", line.c_str());
  }
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
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage("compile", "unknown option " + std::string(a), kCompileHelp);
    } else if (input.empty()) {
      input = std::string(a);
    } else {
      return Usage("compile", "unexpected argument " + std::string(a), kCompileHelp);
    }
  }
  if (input.empty()) return Usage("compile", "missing POLICY.json", kCompileHelp);

  const absl::StatusOr<std::string> text = ReadFile(input);
  if (!text.ok()) {
    std::fprintf(stderr, "edictctl compile: %s\n", std::string(text.status().message()).c_str());
    return kExitFailure;
  }
  std::string payload;
  if (!CompileFile(input, *text, &payload)) return kExitFailure;
  const absl::StatusOr<compiler::PayloadSummary> summary = compiler::VerifyPayload(payload);
  if (!summary.ok()) {  // cannot happen: the compiler's own output
    std::fprintf(stderr, "edictctl compile: internal error: %s\n",
                 std::string(summary.status().message()).c_str());
    return kExitFailure;
  }
  if (output.empty()) {
    std::printf("%s: ok (%s; not written, no -o)\n", input.c_str(),
                SummaryText(payload.size(), *summary).c_str());
    return kExitOk;
  }
  const absl::Status written = WriteFileAtomically(output, payload);
  if (!written.ok()) {
    std::fprintf(stderr, "edictctl compile: %s\n", std::string(written.message()).c_str());
    return kExitFailure;
  }
  std::printf("wrote %s (%s)\n", output.c_str(), SummaryText(payload.size(), *summary).c_str());
  return kExitOk;
}

int RunInspect(int argc, char** argv) {
  std::string input;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (IsHelp(a)) {
      std::fputs(kInspectHelp, stdout);
      return kExitOk;
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

  absl::StatusOr<std::string> bytes = ReadFile(input);
  if (!bytes.ok()) {
    std::fprintf(stderr, "edictctl inspect: %s\n", std::string(bytes.status().message()).c_str());
    return kExitFailure;
  }
  const size_t first = bytes->find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (*bytes)[first] == '{') {
    std::string payload;
    if (!CompileFile(input, *bytes, &payload)) return kExitFailure;
    *bytes = std::move(payload);
  }
  const transport::Bytes raw(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  const transport::DocumentKind kind = transport::DetectDocument(raw);
  if (kind == transport::DocumentKind::kBundle || kind == transport::DocumentKind::kTrust) {
    const absl::StatusOr<std::string> described = kind == transport::DocumentKind::kBundle
                                                      ? transport::DescribeBundle(raw)
                                                      : transport::DescribeTrust(raw);
    if (!described.ok()) {
      std::fprintf(stderr, "edictctl inspect: %s: %s\n", input.c_str(),
                   std::string(described.status().message()).c_str());
      return kExitFailure;
    }
    std::printf("%s\n", described->c_str());
    return kExitOk;
  }
  const absl::StatusOr<std::string> canonical = compiler::Inspect(*bytes);
  if (!canonical.ok()) {
    std::fprintf(stderr, "edictctl inspect: %s: %s\n", input.c_str(),
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
