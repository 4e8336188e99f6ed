#include "ports/linux/managed_json_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ports/linux/owned_files.h"
#include "ports/linux/posix_io.h"
#include "ports/text.h"

namespace edict::ports {
namespace {

using posix::JoinPath;
using posix::PosixIo;

void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  AppendJsonEscaped(out, s);
  out->push_back('"');
}

void AppendJsonValue(std::string* out, const NativeValue& value) {
  if (const bool* b = std::get_if<bool>(&value)) {
    out->append(*b ? "true" : "false");
  } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
    absl::StrAppend(out, *i);
  } else if (const std::string* s = std::get_if<std::string>(&value)) {
    AppendJsonString(out, *s);
  } else {
    const auto& list = std::get<std::vector<std::string>>(value);
    out->push_back('[');
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) out->append(", ");
      AppendJsonString(out, list[i]);
    }
    out->push_back(']');
  }
}

bool ValidTargetName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

class ManagedJsonStore : public NativePolicyStore {
 public:
  explicit ManagedJsonStore(ManagedJsonOptions options)
      : options_(std::move(options)), io_(options_.faults) {}

  std::string Name() const override { return "managed-json"; }

  absl::Status Apply(absl::Span<const NativePolicyEntry> entries) override {
    if (absl::Status s = ValidateNativeEntries(entries); !s.ok()) return s;
    std::map<std::string, std::string> files;
    OwnershipRecord desired;
    for (const ManagedJsonTarget& target : options_.targets) {
      for (bool mandatory : {true, false}) {
        if (!mandatory && !target.recommended) continue;
        std::vector<const NativePolicyEntry*> selected;
        for (const NativePolicyEntry& e : entries) {
          if (e.mandatory != mandatory || !absl::StartsWith(e.key, target.key_prefix)) continue;
          if (e.key.size() == target.key_prefix.size()) continue;  // nothing left of the key
          selected.push_back(&e);
        }
        if (selected.empty()) continue;
        const char* level = mandatory ? "managed" : "recommended";
        files[FilePath(target, level)] = RenderPolicyJson(selected, target.key_prefix);
        for (const NativePolicyEntry* e : selected) {
          desired.sets[posix::kKeySet].insert(
              absl::StrCat(target.name, "/", level, "/", e->key.substr(target.key_prefix.size())));
        }
      }
    }
    for (const auto& [path, content] : files) desired.sets[posix::kFileSet].insert(path);
    return Sync(files, desired);
  }

  absl::Status Clear() override {
    if (absl::Status s = Sync({}, OwnershipRecord()); !s.ok()) return s;
    return options_.state->Remove(options_.record_name);
  }

  absl::StatusOr<std::vector<std::string>> OwnedKeys() override {
    absl::StatusOr<OwnershipRecord> owned =
        posix::LoadOwnershipRecord(options_.state, options_.record_name);
    if (!owned.ok()) return owned.status();
    const auto& keys = owned->Get(posix::kKeySet);
    return std::vector<std::string>(keys.begin(), keys.end());
  }

 private:
  std::string FilePath(const ManagedJsonTarget& target, absl::string_view level) const {
    return JoinPath(JoinPath(JoinPath(options_.root, target.policy_dir), level),
                    options_.file_name);
  }

  absl::Status Sync(const std::map<std::string, std::string>& files,
                    const OwnershipRecord& desired) {
    absl::StatusOr<OwnershipRecord> owned =
        posix::LoadOwnershipRecord(options_.state, options_.record_name);
    if (!owned.ok()) return owned.status();
    if (absl::Status s = posix::CheckNotForeign(files, *owned); !s.ok()) return s;
    // Widen first: whatever is on disk is always recorded.
    OwnershipRecord widened = *owned;
    widened.MergeFrom(desired);
    if (absl::Status s =
            posix::SaveOwnershipRecord(options_.state, options_.record_name, widened, *owned);
        !s.ok()) {
      return s;
    }
    bool changed = false;
    if (absl::Status s = posix::WriteFiles(io_, files, &changed); !s.ok()) return s;
    if (absl::Status s = posix::RemoveStaleFiles(io_, widened, files, &changed); !s.ok()) {
      return s;
    }
    return posix::SaveOwnershipRecord(options_.state, options_.record_name, desired, widened);
  }

  const ManagedJsonOptions options_;
  PosixIo io_;
};

}  // namespace

std::string RenderPolicyJson(const std::vector<const NativePolicyEntry*>& entries,
                             absl::string_view strip_prefix) {
  std::vector<const NativePolicyEntry*> sorted = entries;
  std::sort(sorted.begin(), sorted.end(),
            [](const NativePolicyEntry* a, const NativePolicyEntry* b) { return a->key < b->key; });
  std::string out = "{\n";
  for (size_t i = 0; i < sorted.size(); ++i) {
    out.append("  ");
    absl::string_view key = sorted[i]->key;
    absl::ConsumePrefix(&key, strip_prefix);
    AppendJsonString(&out, key);
    out.append(": ");
    AppendJsonValue(&out, sorted[i]->value);
    out.append(i + 1 < sorted.size() ? ",\n" : "\n");
  }
  out.append("}\n");
  return out;
}

absl::StatusOr<std::unique_ptr<NativePolicyStore>> OpenManagedJsonStore(
    ManagedJsonOptions options) {
  if (options.state == nullptr) {
    return absl::InvalidArgumentError("managed JSON store needs a state store for ownership");
  }
  if (absl::Status s = ValidateStateBlobName(options.record_name); !s.ok()) return s;
  if (options.root.empty()) return absl::InvalidArgumentError("managed JSON root is empty");
  if (options.file_name.empty() || options.file_name.find('/') != std::string::npos ||
      options.file_name[0] == '.' || !absl::EndsWith(options.file_name, ".json")) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad managed JSON file name: \"", options.file_name, "\""));
  }
  if (options.targets.empty()) {
    options.targets = {{"chromium", "etc/chromium/policies", "", true},
                       {"chrome", "etc/opt/chrome/policies", "", true}};
  }
  std::set<std::string> names, dirs;
  for (ManagedJsonTarget& t : options.targets) {
    if (!ValidTargetName(t.name) || !names.insert(t.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("managed JSON target name must be unique [A-Za-z0-9_-]+: \"", t.name, "\""));
    }
    if (t.policy_dir.empty()) t.policy_dir = absl::StrCat("etc/", t.name, "/policies");
    if (absl::StrContains(t.policy_dir, "..") || t.policy_dir.find('\n') != std::string::npos ||
        t.policy_dir.find('\t') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad policy directory for target ", t.name, ": \"", t.policy_dir, "\""));
    }
    if (!dirs.insert(t.policy_dir).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("two managed JSON targets share ", t.policy_dir));
    }
  }
  return std::unique_ptr<NativePolicyStore>(new ManagedJsonStore(std::move(options)));
}

}  // namespace edict::ports
