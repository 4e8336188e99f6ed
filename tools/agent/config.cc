#include "tools/agent/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ports/text.h"
#include "tools/cli/query.h"

namespace edict::agent {
namespace {

std::string Trim(absl::string_view s) { return std::string(absl::StripAsciiWhitespace(s)); }

absl::Status Bad(absl::string_view label, int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(label, ":", line, ": ", message));
}

bool ParseBool(absl::string_view v, bool* out) {
  if (v == "true" || v == "yes" || v == "on" || v == "1") {
    *out = true;
    return true;
  }
  if (v == "false" || v == "no" || v == "off" || v == "0") {
    *out = false;
    return true;
  }
  return false;
}

template <typename T>
bool ParseNumber(absl::string_view v, T min, T max, T* out) {
  int64_t n = 0;
  if (!absl::SimpleAtoi(v, &n) || n < static_cast<int64_t>(min) || n > static_cast<int64_t>(max)) {
    return false;
  }
  *out = static_cast<T>(n);
  return true;
}

#ifdef _WIN32
// C:\dir, C:/dir or \\server\share (a path without a drive is relative to the current drive).
bool AbsolutePath(absl::string_view v) {
  if (v.size() >= 3 && absl::ascii_isalpha(static_cast<unsigned char>(v[0])) && v[1] == ':' &&
      (v[2] == '\\' || v[2] == '/')) {
    return true;
  }
  return absl::StartsWith(v, "\\\\");
}

// A mutex name, optionally in a namespace: [Global\|Local\]name (no other backslash).
bool MutexName(absl::string_view v) {
  if (absl::StartsWith(v, "Global\\")) v.remove_prefix(7);
  if (absl::StartsWith(v, "Local\\")) v.remove_prefix(6);
  return !v.empty() && v.size() < 200 && v.find('\\') == absl::string_view::npos;
}

std::string ProgramDataEdict() {
  const char* pd = std::getenv("ProgramData");
  return absl::StrCat(pd && *pd ? pd : "C:\\ProgramData", "\\edict");
}
#else
bool AbsolutePath(absl::string_view v) { return !v.empty() && v[0] == '/'; }
#endif

// HKLM\<key> or HKCU\<key> (or the long hive names); <key> not empty.
bool ParseRegistryRoot(absl::string_view v, bool* local_machine, std::string* key) {
  const size_t sep = v.find('\\');
  if (sep == absl::string_view::npos || sep + 1 >= v.size()) return false;
  const std::string hive = absl::AsciiStrToUpper(v.substr(0, sep));
  if (hive == "HKLM" || hive == "HKEY_LOCAL_MACHINE") {
    *local_machine = true;
  } else if (hive == "HKCU" || hive == "HKEY_CURRENT_USER") {
    *local_machine = false;
  } else {
    return false;
  }
  const absl::string_view rest = v.substr(sep + 1);
  if (absl::StartsWith(rest, "\\") || absl::EndsWith(rest, "\\") ||
      rest.find("\\\\") != absl::string_view::npos) {
    return false;
  }
  *key = std::string(rest);
  return true;
}

// Vendor and product key names, as the registry store accepts them.
bool RegistryName(absl::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != ' ' && c != '_' && c != '.' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

bool SimpleName(absl::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

// <product>.<name>[.<more>]: at least two non-empty SimpleName parts.
bool DottedName(absl::string_view v) {
  const std::vector<absl::string_view> parts = absl::StrSplit(v, '.');
  if (parts.size() < 2) return false;
  return std::all_of(parts.begin(), parts.end(), [](absl::string_view p) { return SimpleName(p); });
}

// NAME[:DIR[:PREFIX[:managed-only]]]
bool ParseJsonTarget(absl::string_view v, JsonTarget* t) {
  std::vector<std::string> parts = absl::StrSplit(v, ':');
  if (parts.empty() || parts.size() > 4) return false;
  t->name = Trim(parts[0]);
  if (!SimpleName(t->name)) return false;
  if (parts.size() > 1) t->dir = Trim(parts[1]);
  if (!t->dir.empty() && t->dir[0] == '/') return false;
  if (t->dir.find("..") != std::string::npos) return false;
  if (parts.size() > 2) t->prefix = Trim(parts[2]);
  if (parts.size() > 3) {
    const std::string mode = Trim(parts[3]);
    if (mode == "managed-only") {
      t->recommended = false;
    } else if (mode != "recommended") {
      return false;
    }
  }
  return true;
}

// Source NAME from `source.NAME.FIELD`, created on first mention (config order kept).
PullSourceSpec* SourceNamed(AgentConfig* c, const std::string& name) {
  for (PullSourceSpec& s : c->sources) {
    if (s.name == name) return &s;
  }
  PullSourceSpec spec;
  spec.name = name;
  c->sources.push_back(std::move(spec));
  return &c->sources.back();
}

// Refuses what a text editor would not show faithfully: control characters (tab is
// whitespace) and ill-formed UTF-8.
absl::Status CheckLineText(absl::string_view raw, absl::string_view label, int line_no) {
  for (char ch : raw) {
    const auto u = static_cast<unsigned char>(ch);
    if ((u < 0x20 && ch != '\t') || u == 0x7f) {
      return Bad(label, line_no,
                 absl::StrFormat("control character 0x%02X (only printable text is allowed)", u));
    }
  }
  if (!ports::IsValidUtf8(raw)) return Bad(label, line_no, "not valid UTF-8");
  return absl::OkStatus();
}

// Quoting (docs/agent.md "Configuration"): a value wholly wrapped in matching double or
// single quotes is the text between them (no escapes; it cannot contain its quote character);
// a quote anywhere else, an inline comment and an unquoted empty value are errors, so `tenant =
// "contoso"` means contoso and nothing parses into a value the admin did not mean.
absl::Status Unquote(const std::string& v, absl::string_view label, int line_no,
                     const std::string& key, std::string* out) {
  if (v.empty()) {
    return Bad(label, line_no,
               absl::StrCat("empty value for ", key,
                            " (remove the line for the default; \"\" means empty on purpose)"));
  }
  const bool wrapped =
      v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front();
  const std::string inner = wrapped ? v.substr(1, v.size() - 2) : v;
  if (inner.find_first_of(wrapped ? std::string(1, v.front()) : std::string("\"'")) !=
      std::string::npos) {
    return Bad(label, line_no,
               absl::StrCat("bad value for ", key,
                            ": a quote must wrap the whole value (`key = \"value\"`, no escapes) "
                            "or not appear at all"));
  }
  if (!wrapped) {
    for (size_t i = 1; i < inner.size(); ++i) {
      if (inner[i] == '#' && (inner[i - 1] == ' ' || inner[i - 1] == '\t')) {
        return Bad(label, line_no,
                   absl::StrCat("bad value for ", key,
                                ": comments go on their own line (a '#' after a space is not "
                                "part of any value; quote the value if it is meant)"));
      }
    }
  }
  *out = inner;
  return absl::OkStatus();
}

}  // namespace

bool ParsePin(absl::string_view text, std::array<uint8_t, 32>* out) {
  std::string raw;
  if (absl::StartsWith(text, "sha256/")) {
    if (!absl::Base64Unescape(text.substr(7), &raw)) return false;
  } else {
    if (text.size() != 64) return false;
    for (char ch : text) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(ch))) return false;
    }
    raw = absl::HexStringToBytes(text);
  }
  if (raw.size() != out->size()) return false;
  std::copy(raw.begin(), raw.end(), out->begin());
  return true;
}

std::string DefaultConfigPath() {
#ifdef _WIN32
  return ProgramDataEdict() + "\\agent.conf";
#else
  return "/etc/edict/agent.conf";
#endif
}

AgentConfig DefaultConfig() {
  AgentConfig c;
#ifdef _WIN32
  const std::string base = ProgramDataEdict();
  c.state_dir = base + "\\state";
  c.spool_dir = base + "\\spool";
  c.lock_file = "Global\\edict-agent";
  c.trust_pinned = base + "\\trust.edt";
  c.audit_file = base + "\\log\\audit.jsonl";
  c.machine_id_file.clear();  // MachineGuid
  c.native_root.clear();
  c.managed_json = false;
  c.dconf = false;
  c.dconf_update = false;
  c.registry = true;
  const char* pf = std::getenv("ProgramFiles");
  c.catalog_dirs = {absl::StrCat(pf && *pf ? pf : "C:\\Program Files", "\\edict\\catalogs")};
#endif
  return c;
}

absl::StatusOr<AgentConfig> ParseConfig(absl::string_view text, absl::string_view label) {
  AgentConfig c = DefaultConfig();
  cli::OwnedContext ctx;
  if (text.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": larger than ", kMaxConfigBytes, " bytes, the configuration cap"));
  }
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");  // a UTF-8 byte order mark (Windows editors)
  std::map<std::string, int> seen;             // key -> line of its first setting
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::ConsumeSuffix(&raw, "\r");  // CRLF line ends
    if (raw.size() > kMaxConfigLineBytes) {
      return Bad(label, line_no, absl::StrCat("line longer than ", kMaxConfigLineBytes, " bytes"));
    }
    if (absl::Status s = CheckLineText(raw, label, line_no); !s.ok()) return s;
    const std::string line = Trim(raw);
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return Bad(label, line_no, "expected 'key = value'");
    const std::string key = Trim(absl::string_view(line).substr(0, eq));
    if (key.empty()) return Bad(label, line_no, "expected 'key = value' (the key is missing)");
    std::string v;
    if (absl::Status s =
            Unquote(Trim(absl::string_view(line).substr(eq + 1)), label, line_no, key, &v);
        !s.ok()) {
      return s;
    }
    const bool repeatable = key == "managed_json_target" ||
                            (absl::StartsWith(key, "source.") && absl::EndsWith(key, ".pin"));
    if (!repeatable) {
      auto [it, first] = seen.emplace(key, line_no);
      if (!first) {
        return Bad(label, line_no,
                   absl::StrCat("duplicate key '", key, "' (first set on line ", it->second,
                                "; only managed_json_target and source.NAME.pin repeat)"));
      }
    }
    auto bad_value = [&](absl::string_view want) {
      return Bad(label, line_no, absl::StrCat("bad value '", v, "' for ", key, ": ", want));
    };
    auto path = [&](std::string* out) -> absl::Status {
      if (!AbsolutePath(v)) return bad_value("an absolute path");
      *out = v;
      return absl::OkStatus();
    };
    auto boolean = [&](bool* out) -> absl::Status {
      if (!ParseBool(v, out)) return bad_value("true or false");
      return absl::OkStatus();
    };
    absl::Status s;
    if (key == "state_dir") {
      s = path(&c.state_dir);
    } else if (key == "spool_dir") {
      s = path(&c.spool_dir);
    } else if (key == "lock_file") {
#ifdef _WIN32
      if (!MutexName(v)) {
        s = bad_value("a mutex name, [Global\\|Local\\]name");
      } else {
        c.lock_file = v;
      }
#else
      s = path(&c.lock_file);
#endif
    } else if (key == "trust_pinned") {
      s = path(&c.trust_pinned);
    } else if (key == "audit_file") {
      s = path(&c.audit_file);
    } else if (key == "audit_max_bytes") {
      if (!ParseNumber<size_t>(v, 4096, size_t{1} << 34, &c.audit_max_bytes)) {
        s = bad_value("a number of bytes >= 4096");
      }
    } else if (key == "audit_keep_files") {
      if (!ParseNumber<int>(v, 1, 1000, &c.audit_keep_files)) s = bad_value("1..1000");
    } else if (key == "audit_sync") {
      s = boolean(&c.audit_sync);
    } else if (key == "audit_syslog") {
      s = boolean(&c.audit_syslog);
    } else if (key == "tenant") {
      c.tenant = v;
    } else if (key == "groups") {
      c.groups.clear();
      for (absl::string_view g : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
        const std::string name = Trim(g);
        if (name.empty()) return bad_value("a comma-separated list of group names");
        c.groups.push_back(name);
      }
    } else if (key == "catalog_dirs") {
      c.catalog_dirs.clear();
      for (absl::string_view d : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
        const std::string dir = Trim(d);
        if (!AbsolutePath(dir)) return bad_value("a comma-separated list of absolute paths");
        c.catalog_dirs.push_back(dir);
      }
    } else if (key == "catalog_poll_seconds") {
      if (!ParseNumber<int>(v, 1, 3600, &c.catalog_poll_seconds)) s = bad_value("1..3600");
    } else if (key == "device_id") {
      c.device_id = v;
    } else if (key == "machine_id_file") {
      s = path(&c.machine_id_file);
    } else if (key.rfind("context.", 0) == 0) {
      const std::string k = key.substr(8);
      if (k == "groups") return bad_value("device groups are set with 'groups'");
      if (k == "account_creation") return bad_value("not a device attribute");
      if (k.find('.') != std::string::npos) {
        // A product attribute: only its spelling is checked here; its catalogue decides
        // the rest each time a set is loaded (ResolveProductContext).
        if (!DottedName(k)) {
          return Bad(label, line_no,
                     absl::StrCat("bad key '", key,
                                  "': product attributes are context.<product>.<name>, each "
                                  "part [A-Za-z0-9_-]+"));
        }
        c.product_context.push_back({k, v, line_no});
      } else if (s = ctx.SetFromText(k, v); !s.ok()) {
        return Bad(label, line_no, s.message());
      }
    } else if (key == "native_root") {
      s = path(&c.native_root);
    } else if (key == "managed_json") {
      s = boolean(&c.managed_json);
    } else if (key == "managed_json_target") {
      JsonTarget t;
      if (!ParseJsonTarget(v, &t)) {
        s = bad_value("NAME[:DIR[:PREFIX[:recommended|managed-only]]], DIR relative");
      } else {
        for (const JsonTarget& o : c.managed_json_targets) {
          if (o.name == t.name) return bad_value("target names must be unique");
        }
        c.managed_json_targets.push_back(std::move(t));
      }
    } else if (key == "managed_json_file") {
      if (v.empty() || v.find_first_of("/\\") != std::string::npos) {
        s = bad_value("a file name");
      } else {
        c.managed_json_file = v;
      }
    } else if (key == "dconf") {
      s = boolean(&c.dconf);
    } else if (key == "dconf_db") {
      if (!SimpleName(v)) s = bad_value("[A-Za-z0-9_-]+");
      c.dconf_db = v;
    } else if (key == "dconf_profile") {
      if (!SimpleName(v)) s = bad_value("[A-Za-z0-9_-]+");
      c.dconf_profile = v;
    } else if (key == "dconf_priority") {
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
        s = bad_value("digits");
      }
      c.dconf_priority = v;
    } else if (key == "dconf_path_prefix") {
      if (v.size() < 2 || v.front() != '/' || v.back() != '/') s = bad_value("/a/path/");
      c.dconf_path_prefix = v;
    } else if (key == "dconf_update") {
      s = boolean(&c.dconf_update);
    } else if (key == "registry") {
      s = boolean(&c.registry);
    } else if (key == "registry_root") {
      if (!ParseRegistryRoot(v, &c.registry_local_machine, &c.registry_key)) {
        s = bad_value("HKLM\\KEY or HKCU\\KEY");
      }
    } else if (key == "registry_vendor") {
      if (!RegistryName(v)) s = bad_value("[A-Za-z0-9 _.-]+");
      c.registry_vendor = v;
    } else if (key == "registry_product") {
      if (!RegistryName(v)) s = bad_value("[A-Za-z0-9 _.-]+");
      c.registry_product = v;
    } else if (key == "max_bundle_bytes") {
      if (!ParseNumber<size_t>(v, 1024, size_t{64} << 20, &c.max_bundle_bytes)) {
        s = bad_value("1024..67108864");
      }
    } else if (key == "max_trust_bytes") {
      if (!ParseNumber<size_t>(v, 1024, size_t{16} << 20, &c.max_trust_bytes)) {
        s = bad_value("1024..16777216");
      }
    } else if (key == "freeze_skew_seconds") {
      if (!ParseNumber<int64_t>(v, 0, 7 * 86400, &c.freeze_skew_seconds)) {
        s = bad_value("0..604800");
      }
    } else if (key == "settle_ms") {
      if (!ParseNumber<int>(v, 0, 600000, &c.settle_ms)) s = bad_value("0..600000");
    } else if (key == "incomplete_grace_seconds") {
      if (!ParseNumber<int>(v, 0, 86400, &c.incomplete_grace_seconds)) s = bad_value("0..86400");
    } else if (key == "retry_seconds") {
      if (!ParseNumber<int>(v, 1, 86400, &c.retry_seconds)) s = bad_value("1..86400");
    } else if (key == "processed_keep") {
      if (!ParseNumber<int>(v, 0, 100000, &c.processed_keep)) s = bad_value("0..100000");
    } else if (key == "rejected_keep") {
      if (!ParseNumber<int>(v, 0, 100000, &c.rejected_keep)) s = bad_value("0..100000");
    } else if (key == "spool_max_files") {
      if (!ParseNumber<size_t>(v, 1, 1000000, &c.spool_max_files)) s = bad_value("1..1000000");
    } else if (key == "poll_interval") {
      if (!ParseNumber<int64_t>(v, 10, 7 * 86400, &c.poll_interval_seconds)) {
        s = bad_value("seconds, 10..604800");
      }
    } else if (key == "poll_jitter") {
      if (!ParseNumber<int64_t>(v, 0, 86400, &c.poll_jitter_seconds)) s = bad_value("0..86400");
    } else if (key == "poll_splay") {
      if (!ParseNumber<int64_t>(v, 0, 86400, &c.poll_splay_seconds)) s = bad_value("0..86400");
    } else if (key.rfind("source.", 0) == 0) {
      const size_t dot = key.rfind('.');
      const std::string name = dot > 7 ? key.substr(7, dot - 7) : "";
      const std::string field = key.substr(dot + 1);
      if (!SimpleName(name)) {
        return Bad(label, line_no, "source keys are source.NAME.FIELD, NAME [A-Za-z0-9_-]+");
      }
      PullSourceSpec* src = SourceNamed(&c, name);
      if (field == "url") {
        if (!absl::StartsWith(v, "https://") && !absl::StartsWith(v, "http://")) {
          s = bad_value("an https:// URL");
        }
        src->url = v;
      } else if (field == "ca_file") {
        s = path(&src->ca_file);
      } else if (field == "pin") {
        std::array<uint8_t, 32> pin{};
        if (!ParsePin(v, &pin)) {
          s = bad_value("64 hex digits or sha256/BASE64 (SHA-256 of the SubjectPublicKeyInfo)");
        } else {
          src->pins.push_back(pin);
        }
      } else if (field == "pins_only") {
        s = boolean(&src->pins_only);
      } else if (field == "allow_http") {
        s = boolean(&src->allow_http);
      } else {
        return Bad(label, line_no,
                   absl::StrCat("unknown source field '", field,
                                "' (url, ca_file, pin, pins_only, allow_http)"));
      }
    } else {
      return Bad(label, line_no, absl::StrCat("unknown key '", key, "' (see docs/agent.md)"));
    }
    if (!s.ok()) return s;
  }
  const Context& x = ctx.get();
  c.device_context.identity = x.identity;
  c.device_context.domain_joined = x.domain_joined;
  c.device_context.device_managed = x.device_managed;
  c.device_context.plan = x.plan;
  c.device_context.os_generation = x.os_generation;
  c.device_context.device_state = x.device_state;
  c.device_context.role = x.role;
  c.device_context.region = std::string(x.region);
  for (const PullSourceSpec& src : c.sources) {
    if (src.url.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": source.", src.name, " has no source.", src.name, ".url"));
    }
    if (src.pins_only && src.pins.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          label, ": source.", src.name, ".pins_only needs a source.", src.name, ".pin"));
    }
  }
  if (c.managed_json_targets.empty()) {
    c.managed_json_targets.push_back({"edict", "etc/edict/policies", "", true});
  }
  c.path = std::string(label);
  return c;
}

absl::StatusOr<AgentConfig> LoadConfig(const std::string& path) {
  auto not_regular = [&](bool directory) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a regular file (", directory ? "a directory" : "a FIFO, socket or device",
        "); the configuration must be a file"));
  };
  // Only a regular file is read (a symbolic link to one is fine), at most kMaxConfigBytes.
  // What stat says is not one is not even opened (opening a device can have effects); the
  // open is non-blocking, so a FIFO swapped in meanwhile cannot hang the agent, and the
  // descriptor's fstat decides.
#ifdef _WIN32
  struct _stat64 pre;
  if (::_stat64(path.c_str(), &pre) == 0 && (pre.st_mode & _S_IFMT) != _S_IFREG) {
    return not_regular((pre.st_mode & _S_IFMT) == _S_IFDIR);
  }
#else
  struct stat pre;
  if (::stat(path.c_str(), &pre) == 0 && !S_ISREG(pre.st_mode)) {
    return not_regular(S_ISDIR(pre.st_mode));
  }
#endif
#ifdef _WIN32
  const int fd = ::_open(path.c_str(), _O_RDONLY | _O_BINARY | _O_NOINHERIT);
#else
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
#endif
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open: ", std::strerror(e)));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() {
#ifdef _WIN32
      ::_close(fd);
#else
      ::close(fd);
#endif
    }
  } closer{fd};
#ifdef _WIN32
  struct _stat64 st;
  const bool stat_ok = ::_fstat64(fd, &st) == 0;
  const bool regular = stat_ok && (st.st_mode & _S_IFMT) == _S_IFREG;
  const bool directory = stat_ok && (st.st_mode & _S_IFMT) == _S_IFDIR;
#else
  struct stat st;
  const bool stat_ok = ::fstat(fd, &st) == 0;
  const bool regular = stat_ok && S_ISREG(st.st_mode);
  const bool directory = stat_ok && S_ISDIR(st.st_mode);
#endif
  if (!stat_ok) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot stat: ", std::strerror(errno)));
  }
  if (!regular) return not_regular(directory);
  if (static_cast<uint64_t>(st.st_size) > kMaxConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than ", kMaxConfigBytes,
                                                   " bytes, the configuration cap (", st.st_size,
                                                   " bytes)"));
  }
  std::string text;
  char buf[16384];
  for (;;) {
#ifdef _WIN32
    const int n = ::_read(fd, buf, sizeof(buf));
#else
    const ssize_t n = ::read(fd, buf, sizeof(buf));
#endif
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::PermissionDeniedError(
          absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxConfigBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": larger than ", kMaxConfigBytes, " bytes, the configuration cap"));
    }
  }
  return ParseConfig(text, path);
}

}  // namespace edict::agent
