#include "ports/windows/registry_store.h"

#include <windows.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ports/io_status.h"
#include "ports/text.h"
#include "ports/windows/win_io.h"

namespace edict::ports {
namespace {

using win::Narrow;
using win::Widen;

constexpr char kValueSet[] = "value";            // built-in: "<level>/<value name>"
constexpr char kProductSet[] = "product-value";  // "<level>/<vendor>\\<display name>/<value name>"
constexpr REGSAM kView = KEY_WOW64_64KEY;

HKEY Root(bool local_machine) { return local_machine ? HKEY_LOCAL_MACHINE : HKEY_CURRENT_USER; }

std::string RootName(bool local_machine) { return local_machine ? "HKLM" : "HKCU"; }

absl::Status RegStatus(LSTATUS rc, absl::string_view what, absl::string_view path) {
  return win::Win32ErrorStatus(static_cast<unsigned long>(rc), what, path);
}

// The bytes and type RegSetValueExW gets for `value`.
struct Encoded {
  DWORD type = REG_NONE;
  std::string bytes;
  bool operator==(const Encoded& o) const { return type == o.type && bytes == o.bytes; }
};

void AppendWide(std::string* out, const std::wstring& w) {
  out->append(reinterpret_cast<const char*>(w.data()), w.size() * sizeof(wchar_t));
  out->append(sizeof(wchar_t), '\0');
}

Encoded Encode(const NativeValue& value) {
  Encoded e;
  if (const bool* b = std::get_if<bool>(&value)) {
    const DWORD d = *b ? 1 : 0;
    e.type = REG_DWORD;
    e.bytes.assign(reinterpret_cast<const char*>(&d), sizeof(d));
  } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
    if (*i >= 0 && *i <= 0xffffffffLL) {
      const DWORD d = static_cast<DWORD>(*i);
      e.type = REG_DWORD;
      e.bytes.assign(reinterpret_cast<const char*>(&d), sizeof(d));
    } else {
      const uint64_t q = static_cast<uint64_t>(*i);
      e.type = REG_QWORD;
      e.bytes.assign(reinterpret_cast<const char*>(&q), sizeof(q));
    }
  } else if (const std::string* s = std::get_if<std::string>(&value)) {
    e.type = REG_SZ;
    AppendWide(&e.bytes, Widen(*s));
  } else {
    e.type = REG_MULTI_SZ;
    for (const std::string& item : std::get<std::vector<std::string>>(value)) {
      AppendWide(&e.bytes, Widen(item));
    }
    e.bytes.append(sizeof(wchar_t), '\0');
  }
  return e;
}

// Reads the raw type and bytes of a value; nullopt if it does not exist.
absl::StatusOr<std::optional<Encoded>> ReadRaw(HKEY key, const std::wstring& name,
                                               const std::string& where) {
  DWORD type = 0, size = 0;
  LSTATUS rc = ::RegQueryValueExW(key, name.c_str(), nullptr, &type, nullptr, &size);
  if (rc == ERROR_FILE_NOT_FOUND) return std::optional<Encoded>();
  if (rc != ERROR_SUCCESS) return RegStatus(rc, "read", where);
  Encoded e;
  e.type = type;
  e.bytes.resize(size);
  rc = ::RegQueryValueExW(key, name.c_str(), nullptr, &type,
                          reinterpret_cast<BYTE*>(e.bytes.data()), &size);
  if (rc != ERROR_SUCCESS) return RegStatus(rc, "read", where);
  e.bytes.resize(size);
  e.type = type;
  return std::optional<Encoded>(std::move(e));
}

// An open key, closed on destruction.
class Key {
 public:
  Key() = default;
  explicit Key(HKEY h) : h_(h) {}
  ~Key() {
    if (h_ != nullptr) ::RegCloseKey(h_);
  }
  Key(Key&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Key& operator=(Key&& o) noexcept {
    if (this != &o) {
      if (h_ != nullptr) ::RegCloseKey(h_);
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  HKEY get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  HKEY h_ = nullptr;
};

// Opens `path` for `access`; an empty Key if it does not exist.
absl::StatusOr<Key> OpenKey(bool local_machine, const std::string& path, REGSAM access) {
  HKEY h = nullptr;
  const LSTATUS rc =
      ::RegOpenKeyExW(Root(local_machine), Widen(path).c_str(), 0, access | kView, &h);
  if (rc == ERROR_FILE_NOT_FOUND) return Key();
  if (rc != ERROR_SUCCESS) {
    return RegStatus(rc, "open key", absl::StrCat(RootName(local_machine), "\\", path));
  }
  return Key(h);
}

bool ValidName(absl::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
          c == '_' || c == '.' || c == '-')) {
      return false;
    }
  }
  return s != "." && s != "..";
}

// "<vendor>\<display name>" of a product setting (NativePolicyEntry::registry_key): two key
// names of 1..255 bytes of UTF-8 without control characters or '\', neither "." nor "..".
bool ValidProductKey(absl::string_view s) {
  if (!IsValidUtf8(s)) return false;
  const std::vector<absl::string_view> parts = absl::StrSplit(s, '\\');
  if (parts.size() != 2) return false;
  for (absl::string_view part : parts) {
    if (part.empty() || part.size() > 255 || part == "." || part == "..") return false;
    for (char c : part) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) return false;
    }
  }
  return true;
}

// A product setting's value name: 1..255 bytes of UTF-8 without control characters or '/'
// (the ownership record separates key and name with '/').
bool ValidProductValueName(absl::string_view s) {
  if (s.empty() || s.size() > 255 || !IsValidUtf8(s)) return false;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '/') return false;
  }
  return true;
}

// catalog.fbs RegistryType.
enum : uint8_t { kAuto = 0, kDWord = 1, kQWord = 2, kString = 3, kMultiString = 4 };

// `value` as the registry type a product mapping names (Auto: as Encode).
absl::StatusOr<Encoded> EncodeAs(const NativeValue& value, uint8_t type, absl::string_view key) {
  const bool* b = std::get_if<bool>(&value);
  const int64_t* i = std::get_if<int64_t>(&value);
  auto mismatch = [&](absl::string_view type_name) {
    return absl::InvalidArgumentError(
        absl::StrCat("value of \"", key, "\" does not fit its registry type ", type_name));
  };
  switch (type) {
    case kAuto:
      return Encode(value);
    case kDWord: {
      if (b == nullptr && i == nullptr) return mismatch("DWord");
      const int64_t n = b != nullptr ? (*b ? 1 : 0) : *i;
      // Negative values as 32-bit two's complement (a signed DWORD).
      if (n < -int64_t{0x80000000} || n > int64_t{0xffffffff}) return mismatch("DWord");
      const DWORD d = static_cast<DWORD>(static_cast<uint32_t>(n));
      Encoded e;
      e.type = REG_DWORD;
      e.bytes.assign(reinterpret_cast<const char*>(&d), sizeof(d));
      return e;
    }
    case kQWord: {
      if (b == nullptr && i == nullptr) return mismatch("QWord");
      const uint64_t q = b != nullptr ? (*b ? 1 : 0) : static_cast<uint64_t>(*i);
      Encoded e;
      e.type = REG_QWORD;
      e.bytes.assign(reinterpret_cast<const char*>(&q), sizeof(q));
      return e;
    }
    case kString:
      if (!std::holds_alternative<std::string>(value)) return mismatch("String");
      return Encode(value);
    case kMultiString:
      if (!std::holds_alternative<std::vector<std::string>>(value)) return mismatch("MultiString");
      return Encode(value);
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("\"", key, "\" has unknown registry type ", static_cast<int>(type)));
  }
}

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

class RegistryPolicyStore : public NativePolicyStore {
 public:
  explicit RegistryPolicyStore(RegistryPolicyOptions options)
      : options_(std::move(options)), io_(options_.faults) {
    mandatory_key_ = absl::StrCat(options_.base_key, "\\", options_.vendor, "\\", options_.product);
    recommended_key_ = absl::StrCat(mandatory_key_, "\\Recommended");
  }

  std::string Name() const override {
    return absl::StrCat("registry:", RootName(options_.local_machine), "\\", mandatory_key_);
  }

  absl::Status Apply(absl::Span<const NativePolicyEntry> entries) override {
    if (absl::Status s = ValidateNativeEntries(entries); !s.ok()) return s;
    Plan plan;
    OwnershipRecord wanted;
    for (const NativePolicyEntry& e : entries) {
      const bool product = !e.registry_key.empty();
      if (product && !options_.products) continue;
      if (!product) {
        if (!absl::StartsWith(e.key, options_.key_prefix)) continue;
        if (e.key.size() == options_.key_prefix.size()) continue;
      }
      if (!e.mandatory && !options_.recommended) continue;
      if (const auto* list = std::get_if<std::vector<std::string>>(&e.value)) {
        for (const std::string& item : *list) {
          if (item.empty()) {
            return absl::InvalidArgumentError(absl::StrCat(
                "value of \"", e.key, "\" has an empty list item (REG_MULTI_SZ cannot hold one)"));
          }
        }
      }
      const std::string level = Level(e.mandatory);
      std::string key, name;
      Encoded value;
      if (product) {
        if (!ValidProductKey(e.registry_key)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "\"", e.key, "\" has a bad registry key \"", EscapeForDisplay(e.registry_key), "\""));
        }
        name = e.registry_value.empty() ? e.key : e.registry_value;
        if (!ValidProductValueName(name)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "\"", e.key, "\" has a bad registry value name \"", EscapeForDisplay(name), "\""));
        }
        absl::StatusOr<Encoded> encoded = EncodeAs(e.value, e.registry_type, e.key);
        if (!encoded.ok()) return encoded.status();
        value = *std::move(encoded);
        key = ProductKey(e.registry_key, e.mandatory);
        wanted.sets[kProductSet].insert(absl::StrCat(level, "/", e.registry_key, "/", name));
      } else {
        name = e.key.substr(options_.key_prefix.size());
        value = Encode(e.value);
        key = KeyOf(level);
        wanted.sets[kValueSet].insert(absl::StrCat(level, "/", name));
      }
      KeyPlan& kp = plan[Lower(key)];
      if (kp.key.empty()) kp.key = key;
      auto [it, fresh] = kp.want.emplace(Lower(name), std::make_pair(name, std::move(value)));
      if (!fresh) {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", e.key, "\" and another setting both map to ", Where(kp.key, name),
                         " (registry names are case-insensitive)"));
      }
    }
    return Sync(std::move(plan), wanted);
  }

  absl::Status Clear() override {
    if (absl::Status s = Sync({}, {}); !s.ok()) return s;
    return options_.state->Remove(options_.record_name);
  }

  absl::StatusOr<std::vector<std::string>> OwnedKeys() override {
    absl::StatusOr<OwnershipRecord> owned = LoadRecord();
    if (!owned.ok()) return owned.status();
    std::vector<std::string> out;
    for (const char* set : {kValueSet, kProductSet}) {
      const auto& items = owned->Get(set);
      out.insert(out.end(), items.begin(), items.end());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  // One registry key's part of a change: the values edict wants there and those it owns.
  struct KeyPlan {
    std::string key;                                              // below the root
    std::map<std::string, std::pair<std::string, Encoded>> want;  // lower-case name -> value
    std::map<std::string, std::string> owned;                     // lower-case name -> name
  };
  // By lower-case key path (the registry compares key and value names case-insensitively);
  // a key sorts before its subkeys.
  using Plan = std::map<std::string, KeyPlan>;

  static std::string Level(bool mandatory) { return mandatory ? "mandatory" : "recommended"; }
  const std::string& KeyOf(const std::string& level) const {
    return level == "mandatory" ? mandatory_key_ : recommended_key_;
  }
  std::string ProductKey(absl::string_view registry_key, bool mandatory) const {
    return absl::StrCat(options_.base_key, "\\", registry_key, mandatory ? "" : "\\Recommended");
  }
  std::string Where(const std::string& key, absl::string_view name = "") const {
    std::string out = absl::StrCat(RootName(options_.local_machine), "\\", key);
    if (!name.empty()) absl::StrAppend(&out, "\\", name);
    return out;
  }

  absl::StatusOr<OwnershipRecord> LoadRecord() {
    absl::StatusOr<StateRead> read = options_.state->ReadWithFallback(options_.record_name);
    if (!read.ok()) {
      if (absl::IsNotFound(read.status())) return OwnershipRecord();
      return read.status();
    }
    return OwnershipRecord::Decode(read->bytes);
  }

  absl::Status SaveRecord(const OwnershipRecord& record, const OwnershipRecord& previous) {
    if (record == previous) return absl::OkStatus();
    absl::StatusOr<std::string> text = record.Encode();
    if (!text.ok()) return text.status();
    return options_.state->Write(options_.record_name, *text);
  }

  void AddOwned(Plan* plan, const std::string& key, const std::string& name) const {
    if (name.empty()) return;
    KeyPlan& kp = (*plan)[Lower(key)];
    if (kp.key.empty()) kp.key = key;
    kp.owned.emplace(Lower(name), name);
  }

  // Adds what `owned` records to the plan, and the store's own two keys (an empty one is
  // removed even when nothing is recorded there). Items that cannot be ours (a malformed or
  // forged record) name nothing: they are dropped when the record is narrowed.
  void AddOwned(Plan* plan, const OwnershipRecord& owned) const {
    for (const std::string& level : {std::string("mandatory"), std::string("recommended")}) {
      KeyPlan& kp = (*plan)[Lower(KeyOf(level))];
      if (kp.key.empty()) kp.key = KeyOf(level);
    }
    for (const std::string& item : owned.Get(kValueSet)) {
      for (const std::string& level : {std::string("mandatory"), std::string("recommended")}) {
        absl::string_view name = item;
        if (absl::ConsumePrefix(&name, absl::StrCat(level, "/"))) {
          AddOwned(plan, KeyOf(level), std::string(name));
        }
      }
    }
    for (const std::string& item : owned.Get(kProductSet)) {
      const size_t first = item.find('/');
      const size_t last = item.rfind('/');
      if (first == std::string::npos || last == first) continue;
      const std::string level = item.substr(0, first);
      const std::string registry_key = item.substr(first + 1, last - first - 1);
      const std::string name = item.substr(last + 1);
      if ((level != "mandatory" && level != "recommended") || !ValidProductKey(registry_key) ||
          !ValidProductValueName(name)) {
        continue;
      }
      AddOwned(plan, ProductKey(registry_key, level == "mandatory"), name);
    }
  }

  absl::Status Sync(Plan plan, const OwnershipRecord& wanted) {
    absl::StatusOr<OwnershipRecord> owned = LoadRecord();
    if (!owned.ok()) return owned.status();
    AddOwned(&plan, *owned);
    // Refuse to take over a value we did not write.
    for (const auto& [lower, kp] : plan) {
      if (kp.want.empty()) continue;
      absl::StatusOr<Key> key = OpenKey(options_.local_machine, kp.key, KEY_QUERY_VALUE);
      if (!key.ok()) return key.status();
      if (!*key) continue;
      for (const auto& [lname, want] : kp.want) {
        if (kp.owned.count(lname) > 0) continue;
        const std::string& name = want.first;
        absl::StatusOr<std::optional<Encoded>> raw =
            ReadRaw(key->get(), Widen(name), Where(kp.key, name));
        if (!raw.ok()) return raw.status();
        if (raw->has_value()) {
          return absl::FailedPreconditionError(
              absl::StrCat(Where(kp.key, name), " exists and was not written by edict"));
        }
      }
    }
    // Widen first: whatever is in the registry is always recorded.
    OwnershipRecord widened = *owned;
    widened.MergeFrom(wanted);
    if (absl::Status s = SaveRecord(widened, *owned); !s.ok()) return s;
    for (const auto& [lower, kp] : plan) {
      if (kp.want.empty()) continue;
      if (absl::Status s = WriteKey(kp); !s.ok()) return s;
    }
    if (absl::Status s = RemoveStale(plan); !s.ok()) return s;
    return SaveRecord(wanted, widened);
  }

  absl::Status WriteKey(const KeyPlan& kp) {
    const std::string where = Where(kp.key);
    if (absl::Status s = io_.Check(IoOp::kMkdir, where, "create key"); !s.ok()) return s;
    HKEY h = nullptr;
    LSTATUS rc = ::RegCreateKeyExW(Root(options_.local_machine), Widen(kp.key).c_str(), 0, nullptr,
                                   REG_OPTION_NON_VOLATILE, KEY_QUERY_VALUE | KEY_SET_VALUE | kView,
                                   nullptr, &h, nullptr);
    if (rc != ERROR_SUCCESS) return RegStatus(rc, "create key", where);
    Key key(h);
    bool changed = false;
    for (const auto& [lname, want] : kp.want) {
      const auto& [name, value] = want;
      const std::wstring wname = Widen(name);
      absl::StatusOr<std::optional<Encoded>> raw = ReadRaw(key.get(), wname, Where(kp.key, name));
      if (!raw.ok()) return raw.status();
      if (raw->has_value() && **raw == value) continue;
      if (absl::Status s = io_.Check(IoOp::kWrite, Where(kp.key, name), "set value"); !s.ok()) {
        return s;
      }
      rc = ::RegSetValueExW(key.get(), wname.c_str(), 0, value.type,
                            reinterpret_cast<const BYTE*>(value.bytes.data()),
                            static_cast<DWORD>(value.bytes.size()));
      if (rc != ERROR_SUCCESS) return RegStatus(rc, "set value", Where(kp.key, name));
      changed = true;
    }
    if (!changed) return absl::OkStatus();
    return Flush(key.get(), where);
  }

  absl::Status Flush(HKEY key, const std::string& where) {
    if (absl::Status s = io_.Check(IoOp::kFsync, where, "flush key"); !s.ok()) return s;
    const LSTATUS rc = ::RegFlushKey(key);
    if (rc != ERROR_SUCCESS) return RegStatus(rc, "flush key", where);
    return absl::OkStatus();
  }

  // Deletes owned values no longer wanted, then keys left without values and subkeys that
  // nothing is wanted in; subkeys (Recommended) before their parents.
  absl::Status RemoveStale(const Plan& plan) {
    for (auto it = plan.rbegin(); it != plan.rend(); ++it) {
      const KeyPlan& kp = it->second;
      absl::StatusOr<Key> key =
          OpenKey(options_.local_machine, kp.key, KEY_QUERY_VALUE | KEY_SET_VALUE);
      if (!key.ok()) return key.status();
      if (!*key) continue;
      bool changed = false;
      for (const auto& [lname, name] : kp.owned) {
        if (kp.want.count(lname) > 0) continue;
        const std::wstring wname = Widen(name);
        if (::RegQueryValueExW(key->get(), wname.c_str(), nullptr, nullptr, nullptr, nullptr) ==
            ERROR_FILE_NOT_FOUND) {
          continue;
        }
        if (absl::Status s = io_.Check(IoOp::kUnlink, Where(kp.key, name), "delete value");
            !s.ok()) {
          return s;
        }
        const LSTATUS rc = ::RegDeleteValueW(key->get(), wname.c_str());
        if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND) {
          return RegStatus(rc, "delete value", Where(kp.key, name));
        }
        changed = true;
      }
      if (changed) {
        if (absl::Status s = Flush(key->get(), Where(kp.key)); !s.ok()) return s;
      }
      // A key left empty is removed (a product key only once its Recommended is gone).
      DWORD subkeys = 0, values = 0;
      if (::RegQueryInfoKeyW(key->get(), nullptr, nullptr, nullptr, &subkeys, nullptr, nullptr,
                             &values, nullptr, nullptr, nullptr, nullptr) == ERROR_SUCCESS &&
          subkeys == 0 && values == 0 && kp.want.empty()) {
        *key = Key();
        if (absl::Status s = io_.Check(IoOp::kUnlink, Where(kp.key), "delete key"); !s.ok()) {
          return s;
        }
        const LSTATUS rc =
            ::RegDeleteKeyExW(Root(options_.local_machine), Widen(kp.key).c_str(), kView, 0);
        if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND) {
          return RegStatus(rc, "delete key", Where(kp.key));
        }
      }
    }
    return absl::OkStatus();
  }

  const RegistryPolicyOptions options_;
  win::WinIo io_;
  std::string mandatory_key_;
  std::string recommended_key_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<NativePolicyStore>> OpenRegistryPolicyStore(
    RegistryPolicyOptions options) {
  if (options.state == nullptr) {
    return absl::InvalidArgumentError("registry policy store needs a state store for ownership");
  }
  if (absl::Status s = ValidateStateBlobName(options.record_name); !s.ok()) return s;
  if (!ValidName(options.vendor) || !ValidName(options.product)) {
    return absl::InvalidArgumentError(absl::StrCat("bad registry vendor or product name: \"",
                                                   options.vendor, "\", \"", options.product,
                                                   "\""));
  }
  if (options.base_key.empty() || absl::StrContains(options.base_key, "\\\\") ||
      options.base_key.front() == '\\' || options.base_key.back() == '\\') {
    return absl::InvalidArgumentError(
        absl::StrCat("bad registry base key: \"", options.base_key, "\""));
  }
  return std::unique_ptr<NativePolicyStore>(new RegistryPolicyStore(std::move(options)));
}

absl::StatusOr<RegistryValue> ReadRegistryValue(bool local_machine, const std::string& key,
                                                const std::string& name) {
  const std::string where = absl::StrCat(RootName(local_machine), "\\", key, "\\", name);
  absl::StatusOr<Key> k = OpenKey(local_machine, key, KEY_QUERY_VALUE);
  if (!k.ok()) return k.status();
  if (!*k) return absl::NotFoundError(absl::StrCat(where, ": no such key"));
  absl::StatusOr<std::optional<Encoded>> raw = ReadRaw(k->get(), Widen(name), where);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return absl::NotFoundError(absl::StrCat(where, ": no such value"));
  const Encoded& e = **raw;
  RegistryValue out;
  out.type = e.type;
  if (e.type == REG_DWORD && e.bytes.size() == 4) {
    uint32_t d;
    std::memcpy(&d, e.bytes.data(), 4);
    out.number = d;
  } else if (e.type == REG_QWORD && e.bytes.size() == 8) {
    std::memcpy(&out.number, e.bytes.data(), 8);
  } else if (e.type == REG_SZ || e.type == REG_MULTI_SZ) {
    std::wstring w(e.bytes.size() / sizeof(wchar_t), L'\0');
    std::memcpy(w.data(), e.bytes.data(), w.size() * sizeof(wchar_t));
    size_t start = 0;
    while (start < w.size()) {
      size_t end = w.find(L'\0', start);
      if (end == std::wstring::npos) end = w.size();
      if (end == start) break;  // the terminating empty string
      const std::string item = Narrow(w.data() + start, end - start);
      if (e.type == REG_SZ) {
        out.text = item;
        break;
      }
      out.list.push_back(item);
      start = end + 1;
    }
  }
  return out;
}

std::vector<std::string> ListRegistryValues(bool local_machine, const std::string& key) {
  std::vector<std::string> out;
  absl::StatusOr<Key> k = OpenKey(local_machine, key, KEY_QUERY_VALUE);
  if (!k.ok() || !*k) return out;
  for (DWORD i = 0;; ++i) {
    wchar_t name[16384];
    DWORD len = 16384;
    if (::RegEnumValueW(k->get(), i, name, &len, nullptr, nullptr, nullptr, nullptr) !=
        ERROR_SUCCESS) {
      break;
    }
    out.push_back(Narrow(name, len));
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool RegistryKeyExists(bool local_machine, const std::string& key) {
  absl::StatusOr<Key> k = OpenKey(local_machine, key, KEY_QUERY_VALUE);
  return k.ok() && static_cast<bool>(*k);
}

}  // namespace edict::ports
