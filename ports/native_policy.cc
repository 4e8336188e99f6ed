#include "ports/native_policy.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ports/text.h"

namespace edict::ports {
namespace {

constexpr absl::string_view kRecordHeader = "edict-native-ownership 1";

bool IsSegmentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

absl::Status CheckKey(absl::string_view key) {
  if (key.empty() || key.size() > 255) {
    return absl::InvalidArgumentError(
        absl::StrCat("native policy key must be 1..255 characters: \"", key, "\""));
  }
  bool segment_empty = true;
  for (char c : key) {
    if (c == '.') {
      if (segment_empty) break;
      segment_empty = true;
    } else if (IsSegmentChar(c)) {
      segment_empty = false;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "native policy key \"", key, "\" may only contain [A-Za-z0-9_-] segments and dots"));
    }
  }
  if (segment_empty) {
    return absl::InvalidArgumentError(
        absl::StrCat("native policy key \"", key, "\" has an empty segment"));
  }
  return absl::OkStatus();
}

absl::Status CheckString(absl::string_view key, absl::string_view s) {
  if (s.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("value of \"", key, "\" contains NUL"));
  }
  if (!IsValidUtf8(s)) {
    return absl::InvalidArgumentError(absl::StrCat("value of \"", key, "\" is not valid UTF-8"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateNativeEntries(absl::Span<const NativePolicyEntry> entries) {
  std::set<absl::string_view> seen;
  for (const NativePolicyEntry& e : entries) {
    if (absl::Status s = CheckKey(e.key); !s.ok()) return s;
    if (!seen.insert(e.key).second) {
      return absl::InvalidArgumentError(absl::StrCat("native policy key listed twice: ", e.key));
    }
    if (const auto* s = std::get_if<std::string>(&e.value)) {
      if (absl::Status st = CheckString(e.key, *s); !st.ok()) return st;
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&e.value)) {
      for (const std::string& item : *list) {
        if (absl::Status st = CheckString(e.key, item); !st.ok()) return st;
      }
    }
  }
  return absl::OkStatus();
}

std::string CompositeNativePolicyStore::Name() const {
  std::vector<std::string> names;
  for (const auto& s : stores_) names.push_back(s->Name());
  return absl::StrCat("composite(", absl::StrJoin(names, ","), ")");
}

absl::Status CompositeNativePolicyStore::Apply(absl::Span<const NativePolicyEntry> entries) {
  absl::Status first;
  for (const auto& store : stores_) {
    absl::Status s = store->Apply(entries);
    if (first.ok() && !s.ok()) {
      first = absl::Status(s.code(), absl::StrCat(store->Name(), ": ", s.message()));
    }
  }
  return first;
}

absl::Status CompositeNativePolicyStore::Clear() {
  absl::Status first;
  for (const auto& store : stores_) {
    absl::Status s = store->Clear();
    if (first.ok() && !s.ok()) {
      first = absl::Status(s.code(), absl::StrCat(store->Name(), ": ", s.message()));
    }
  }
  return first;
}

absl::StatusOr<std::vector<std::string>> CompositeNativePolicyStore::OwnedKeys() {
  std::set<std::string> all;
  for (const auto& store : stores_) {
    absl::StatusOr<std::vector<std::string>> keys = store->OwnedKeys();
    if (!keys.ok()) return keys.status();
    for (std::string& k : *keys) all.insert(absl::StrCat(store->Name(), ":", k));
  }
  return std::vector<std::string>(all.begin(), all.end());
}

const std::set<std::string>& OwnershipRecord::Get(const std::string& set) const {
  static const std::set<std::string>* const kEmpty = new std::set<std::string>();
  auto it = sets.find(set);
  return it == sets.end() ? *kEmpty : it->second;
}

bool OwnershipRecord::Has(const std::string& set, const std::string& item) const {
  return Get(set).count(item) > 0;
}

void OwnershipRecord::MergeFrom(const OwnershipRecord& other) {
  for (const auto& [name, items] : other.sets) sets[name].insert(items.begin(), items.end());
}

absl::StatusOr<std::string> OwnershipRecord::Encode() const {
  std::string out = absl::StrCat(kRecordHeader, "\n");
  for (const auto& [name, items] : sets) {
    if (name.empty()) return absl::InvalidArgumentError("ownership set name is empty");
    for (char c : name) {
      if (!((c >= 'a' && c <= 'z') || c == '-')) {
        return absl::InvalidArgumentError(absl::StrCat("bad ownership set name: ", name));
      }
    }
    for (const std::string& item : items) {
      if (item.empty() || item.find_first_of("\t\n") != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("ownership item may not be empty or contain tab/newline: ", item));
      }
      absl::StrAppend(&out, name, "\t", item, "\n");
    }
  }
  return out;
}

absl::StatusOr<OwnershipRecord> OwnershipRecord::Decode(absl::string_view text) {
  if (!absl::ConsumePrefix(&text, kRecordHeader) || !absl::ConsumePrefix(&text, "\n")) {
    return absl::DataLossError("ownership record has no valid header");
  }
  OwnershipRecord record;
  if (text.empty()) return record;
  if (text.back() != '\n') return absl::DataLossError("ownership record ends mid-line");
  text.remove_suffix(1);
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(line, '\t');
    if (parts.first.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") != absl::string_view::npos ||
        parts.first.empty() || parts.second.empty() ||
        parts.second.find('\t') != absl::string_view::npos) {
      return absl::DataLossError(absl::StrCat("malformed ownership record line: ", line));
    }
    record.sets[std::string(parts.first)].insert(std::string(parts.second));
  }
  return record;
}

}  // namespace edict::ports
