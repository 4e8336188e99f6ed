#include "ports/linux/dconf_store.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ports/linux/owned_files.h"
#include "ports/linux/posix_io.h"
#include "ports/linux/process.h"
#include "ports/text.h"

namespace edict::ports {
namespace {

using posix::JoinPath;
using posix::PosixIo;

constexpr char kProfileCreatedSet[] = "profile-created";
constexpr char kProfileAddedSet[] = "profile-added";
constexpr char kHeader[] = "# Written by edict; every change here is overwritten. Do not edit.\n";

bool IsNameChars(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

absl::Status CheckGSettingsKeyName(absl::string_view full, absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 1024 && name[0] >= 'a' && name[0] <= 'z' &&
            name.back() != '-' && !absl::StrContains(name, "--");
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) ok = false;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", full, "\" does not map to a valid dconf key name: \"", name,
        "\" must be lower-case letters, digits and single dashes, starting with a letter"));
  }
  return absl::OkStatus();
}

// Text for the profile we create.
std::string CreatedProfile(absl::string_view db) {
  return absl::StrCat("user-db:user\nsystem-db:", db, "\n");
}

bool HasLine(absl::string_view text, absl::string_view line) {
  for (absl::string_view l : absl::StrSplit(text, '\n')) {
    if (absl::StripAsciiWhitespace(l) == line) return true;
  }
  return false;
}

class DconfStore : public NativePolicyStore {
 public:
  explicit DconfStore(DconfOptions options)
      : options_(std::move(options)),
        io_(options_.faults),
        db_dir_(JoinPath(options_.root, "etc/dconf/db")),
        keyfile_dir_(JoinPath(db_dir_, absl::StrCat(options_.db, ".d"))),
        locks_dir_(JoinPath(keyfile_dir_, "locks")),
        file_name_(absl::StrCat(options_.priority, "-edict")),
        profile_path_(JoinPath(JoinPath(options_.root, "etc/dconf/profile"), options_.profile)),
        profile_line_(absl::StrCat("system-db:", options_.db)) {}

  std::string Name() const override { return absl::StrCat("dconf:", options_.db); }

  absl::Status Apply(absl::Span<const NativePolicyEntry> entries) override {
    if (absl::Status s = ValidateNativeEntries(entries); !s.ok()) return s;
    // group -> key -> value text; full key paths of locked keys.
    std::map<std::string, std::map<std::string, std::string>> groups;
    std::set<std::string> locks;
    OwnershipRecord desired;
    for (const NativePolicyEntry& e : entries) {
      std::string dir;
      absl::string_view name;
      if (!e.dconf_path.empty()) {
        // A product setting: its catalogue's dconf key, whole (not below path_prefix).
        const size_t slash = e.dconf_path.rfind('/');
        name = absl::string_view(e.dconf_path).substr(slash + 1);
        dir = e.dconf_path.substr(0, slash + 1);
        bool ok = e.dconf_path.front() == '/' && slash > 0;
        if (ok) {
          for (absl::string_view seg : absl::StrSplit(dir.substr(1, dir.size() - 2), '/')) {
            if (!IsNameChars(seg)) ok = false;
          }
        }
        if (!ok) {
          return absl::InvalidArgumentError(absl::StrCat("\"", e.key, "\": bad dconf key \"",
                                                         e.dconf_path, "\" (want /dir/.../name)"));
        }
        if (absl::Status s = CheckGSettingsKeyName(e.dconf_path, name); !s.ok()) return s;
      } else {
        absl::string_view key = e.key;
        if (!absl::ConsumePrefix(&key, options_.key_prefix) || key.empty()) continue;
        if (key.front() == '.') key.remove_prefix(1);
        const size_t dot = key.rfind('.');
        name = dot == absl::string_view::npos ? key : key.substr(dot + 1);
        if (absl::Status s = CheckGSettingsKeyName(e.key, name); !s.ok()) return s;
        dir = options_.path_prefix;
        if (dot != absl::string_view::npos) {
          absl::StrAppend(&dir, absl::StrReplaceAll(key.substr(0, dot), {{".", "/"}}), "/");
        }
      }
      const std::string full = absl::StrCat(dir, name);
      if (desired.Has(posix::kKeySet, full)) {
        return absl::InvalidArgumentError(absl::StrCat("two entries map to dconf key ", full));
      }
      // Group name: the directory without its leading and trailing slash ("/" for the root).
      std::string group = dir.size() > 1 ? dir.substr(1, dir.size() - 2) : "/";
      groups[group][std::string(name)] = GVariantText(e.value);
      if (e.mandatory) locks.insert(full);
      desired.sets[posix::kKeySet].insert(full);
    }

    std::map<std::string, std::string> files;
    if (!groups.empty()) {
      std::string keyfile = kHeader;
      for (const auto& [group, keys] : groups) {
        absl::StrAppend(&keyfile, "\n[", group, "]\n");
        for (const auto& [name, text] : keys) absl::StrAppend(&keyfile, name, "=", text, "\n");
      }
      files[JoinPath(keyfile_dir_, file_name_)] = std::move(keyfile);
    }
    if (!locks.empty()) {
      std::string lockfile = kHeader;
      for (const std::string& full : locks) absl::StrAppend(&lockfile, full, "\n");
      files[JoinPath(locks_dir_, file_name_)] = std::move(lockfile);
    }
    for (const auto& [path, content] : files) desired.sets[posix::kFileSet].insert(path);

    absl::StatusOr<OwnershipRecord> owned = LoadRecord();
    if (!owned.ok()) return owned.status();
    if (absl::Status s = posix::CheckNotForeign(files, *owned); !s.ok()) return s;

    // Profile ownership carries over; note what we are about to create or add.
    for (const char* set : {kProfileCreatedSet, kProfileAddedSet}) {
      if (owned->sets.count(set) > 0) desired.sets[set] = owned->Get(set);
    }
    absl::StatusOr<std::string> profile = PosixIo::ReadFile(profile_path_, 1 << 20);
    if (!profile.ok() && !absl::IsNotFound(profile.status())) return profile.status();
    const bool create_profile = !profile.ok();
    const bool add_line = profile.ok() && !HasLine(*profile, profile_line_);
    if (create_profile) desired.sets[kProfileCreatedSet].insert(profile_path_);
    if (add_line) desired.sets[kProfileAddedSet].insert(profile_path_);

    OwnershipRecord widened = *owned;
    widened.MergeFrom(desired);
    if (absl::Status s = SaveRecord(widened, *owned); !s.ok()) return s;
    if (absl::Status s = RemoveProfileTemporary(); !s.ok()) return s;

    if (create_profile || add_line) {
      std::string text = create_profile ? CreatedProfile(options_.db) : *profile;
      if (add_line) {
        if (!text.empty() && text.back() != '\n') text.push_back('\n');
        absl::StrAppend(&text, profile_line_, "\n");
      }
      if (absl::Status s = io_.MakeDirs(posix::DirName(profile_path_), 0755); !s.ok()) return s;
      if (absl::Status s = io_.WriteFileAtomically(profile_path_, text, 0644); !s.ok()) return s;
    }
    if (absl::Status s = io_.MakeDirs(locks_dir_, 0755); !s.ok()) return s;
    bool changed = false;
    if (absl::Status s = posix::WriteFiles(io_, files, &changed); !s.ok()) return s;
    if (absl::Status s = posix::RemoveStaleFiles(io_, widened, files, &changed); !s.ok()) {
      return s;
    }
    // Always make the database directories newer than the compiled file and update: a
    // previous run may have written the files and died before `dconf update`.
    if (absl::Status s = UpdateDatabase(); !s.ok()) return s;
    return SaveRecord(desired, widened);
  }

  absl::Status Clear() override {
    absl::StatusOr<OwnershipRecord> owned = LoadRecord();
    if (!owned.ok()) return owned.status();
    bool changed = false;
    if (absl::Status s = posix::RemoveStaleFiles(io_, *owned, {}, &changed); !s.ok()) return s;
    if (absl::Status s = RemoveProfileTemporary(); !s.ok()) return s;
    if (absl::Status s = RestoreProfile(*owned); !s.ok()) return s;
    if (PosixIo::Exists(keyfile_dir_)) {
      if (absl::Status s = UpdateDatabase(); !s.ok()) return s;
    }
    return options_.state->Remove(options_.record_name);
  }

  absl::StatusOr<std::vector<std::string>> OwnedKeys() override {
    absl::StatusOr<OwnershipRecord> owned = LoadRecord();
    if (!owned.ok()) return owned.status();
    const auto& keys = owned->Get(posix::kKeySet);
    return std::vector<std::string>(keys.begin(), keys.end());
  }

 private:
  absl::StatusOr<OwnershipRecord> LoadRecord() {
    return posix::LoadOwnershipRecord(options_.state, options_.record_name);
  }
  absl::Status SaveRecord(const OwnershipRecord& record, const OwnershipRecord& previous) {
    return posix::SaveOwnershipRecord(options_.state, options_.record_name, record, previous);
  }

  // A crash while rewriting the profile leaves its temporary (named by us) behind.
  absl::Status RemoveProfileTemporary() {
    return io_.Unlink(absl::StrCat(profile_path_, posix::kTempSuffix), /*missing_ok=*/true);
  }

  // Undoes what we did to the profile: a profile we created (and nobody changed) is removed;
  // a line we added is removed; nothing else is touched.
  absl::Status RestoreProfile(const OwnershipRecord& owned) {
    const bool created = owned.Has(kProfileCreatedSet, profile_path_);
    const bool added = owned.Has(kProfileAddedSet, profile_path_);
    if (!created && !added) return absl::OkStatus();
    absl::StatusOr<std::string> text = PosixIo::ReadFile(profile_path_, 1 << 20);
    if (absl::IsNotFound(text.status())) return absl::OkStatus();
    if (!text.ok()) return text.status();
    if (created && *text == CreatedProfile(options_.db)) {
      if (absl::Status s = io_.Unlink(profile_path_, /*missing_ok=*/true); !s.ok()) return s;
      return io_.FsyncDir(posix::DirName(profile_path_));
    }
    // Remove our line only (a created profile someone extended keeps their lines).
    std::string kept;
    bool removed = false;
    std::vector<absl::string_view> lines = absl::StrSplit(*text, '\n');
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    for (absl::string_view l : lines) {
      if (!removed && absl::StripAsciiWhitespace(l) == profile_line_) {
        removed = true;
        continue;
      }
      absl::StrAppend(&kept, l, "\n");
    }
    if (!removed) return absl::OkStatus();
    return io_.WriteFileAtomically(profile_path_, kept, 0644);
  }

  absl::Status UpdateDatabase() {
    // dconf compares whole seconds: go at least one second past the compiled database.
    absl::Time stamp = absl::Now();
    if (std::optional<absl::Time> compiled =
            PosixIo::ModificationTime(JoinPath(db_dir_, options_.db))) {
      stamp = std::max(stamp, absl::FromUnixSeconds(absl::ToUnixSeconds(*compiled) + 1));
    }
    for (const std::string* dir : {&locks_dir_, &keyfile_dir_}) {
      if (!PosixIo::Exists(*dir)) continue;
      if (absl::Status s = io_.Touch(*dir, stamp); !s.ok()) return s;
    }
    if (options_.update_command.empty()) return absl::OkStatus();
    std::vector<std::string> argv = options_.update_command;
    argv.push_back(db_dir_);
    return RunCommand(argv);
  }

  const DconfOptions options_;
  PosixIo io_;
  const std::string db_dir_;
  const std::string keyfile_dir_;
  const std::string locks_dir_;
  const std::string file_name_;
  const std::string profile_path_;
  const std::string profile_line_;
};

}  // namespace

std::string GVariantQuote(absl::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "'";
  return out;
}

std::string GVariantText(const NativeValue& value) {
  if (const bool* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const int64_t* i = std::get_if<int64_t>(&value)) {
    if (*i >= std::numeric_limits<int32_t>::min() && *i <= std::numeric_limits<int32_t>::max()) {
      return absl::StrCat(*i);
    }
    return absl::StrCat("int64 ", *i);
  }
  if (const std::string* s = std::get_if<std::string>(&value)) return GVariantQuote(*s);
  const auto& list = std::get<std::vector<std::string>>(value);
  if (list.empty()) return "@as []";
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ", ";
    out += GVariantQuote(list[i]);
  }
  out += "]";
  return out;
}

absl::StatusOr<std::unique_ptr<NativePolicyStore>> OpenDconfStore(DconfOptions options) {
  if (options.state == nullptr) {
    return absl::InvalidArgumentError("dconf store needs a state store for ownership");
  }
  if (absl::Status s = ValidateStateBlobName(options.record_name); !s.ok()) return s;
  if (options.root.empty()) return absl::InvalidArgumentError("dconf root is empty");
  if (!IsNameChars(options.db)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad dconf database name: \"", options.db, "\""));
  }
  if (!IsNameChars(options.profile)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad dconf profile name: \"", options.profile, "\""));
  }
  if (options.priority.empty() || !std::all_of(options.priority.begin(), options.priority.end(),
                                               [](char c) { return c >= '0' && c <= '9'; })) {
    return absl::InvalidArgumentError(
        absl::StrCat("dconf priority must be digits: \"", options.priority, "\""));
  }
  const std::string& prefix = options.path_prefix;
  bool prefix_ok = prefix.size() >= 1 && prefix.front() == '/' && prefix.back() == '/';
  if (prefix_ok && prefix.size() > 1) {
    for (absl::string_view seg : absl::StrSplit(prefix.substr(1, prefix.size() - 2), '/')) {
      if (!IsNameChars(seg)) prefix_ok = false;
    }
  }
  if (!prefix_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dconf path prefix must be /segment/.../ with [A-Za-z0-9_-] segments: \"", prefix, "\""));
  }
  return std::unique_ptr<NativePolicyStore>(new DconfStore(std::move(options)));
}

}  // namespace edict::ports
