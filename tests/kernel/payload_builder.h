// Test helper: builds edict payloads directly with flatbuffers::FlatBufferBuilder and
// activates them into an owned arena.
#ifndef EDICT_TESTS_KERNEL_PAYLOAD_BUILDER_H_
#define EDICT_TESTS_KERNEL_PAYLOAD_BUILDER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "flatbuffers/flatbuffers.h"
#include "kernel/kernel.h"
#include "policy/edict_generated.h"

namespace edict::testing {

// A term on a catalogue attribute (fb::AttributeTerm).
struct Attr {
  std::string name;
  int is = 0;  // fb::Tri
  std::vector<std::string> values;
  int64_t min = 0, max = 0;
};

struct Cond {
  int identity = 0, domain_joined = 0, device_managed = 0, account_creation = 0;
  uint8_t plans = 0, roles = 0;
  int32_t os_min = 0, os_max = 0;
  uint32_t state_all = 0, state_none = 0;
  std::vector<std::string> groups, regions;
  std::vector<Attr> attributes;
};

enum class VK { kNone, kBool, kInt, kEnum, kFlags, kString };

struct SRule {
  std::string setting;
  int level = 0;  // 0 mandatory, 1 recommended
  VK kind = VK::kBool;
  bool b = false;
  int64_t i = 0;
  std::string sym;
  std::vector<std::string> syms;
  std::optional<Cond> when;
  bool critical = false;
  std::string note;
};

struct DRule {
  std::string data_class, purpose;
  bool allow = false;
  uint32_t obligations = 0;
  std::optional<Cond> when;
  bool critical = false;
  std::string note;
};

struct KRule {
  std::string schedule;
  int64_t interval = 0;
  std::optional<Cond> when;
  bool critical = false;
  std::string note;
};

struct Policy {
  uint32_t format = 1;
  uint64_t serial = 1;
  std::vector<SRule> settings;
  std::vector<DRule> data_use;
  std::vector<KRule> schedules;
  bool omit_vectors = false;

  std::vector<uint8_t> Build() const {
    flatbuffers::FlatBufferBuilder b;
    auto cond = [&](const std::optional<Cond>& c) -> flatbuffers::Offset<fb::Condition> {
      if (!c) return 0;
      auto strs = [&](const std::vector<std::string>& v)
          -> flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>> {
        if (v.empty()) return 0;
        return b.CreateVectorOfStrings(v);
      };
      auto g = strs(c->groups);
      auto r = strs(c->regions);
      std::vector<flatbuffers::Offset<fb::AttributeTerm>> terms;
      for (const Attr& a : c->attributes) {
        auto name = b.CreateString(a.name);
        auto values = strs(a.values);
        terms.push_back(
            fb::CreateAttributeTerm(b, name, static_cast<fb::Tri>(a.is), values, a.min, a.max));
      }
      auto t = terms.empty() ? 0 : b.CreateVector(terms);
      return fb::CreateCondition(
          b, static_cast<fb::IdentityKind>(c->identity), static_cast<fb::Tri>(c->domain_joined),
          static_cast<fb::Tri>(c->device_managed), static_cast<fb::Plan>(c->plans), c->os_min,
          c->os_max, static_cast<fb::DeviceState>(c->state_all),
          static_cast<fb::DeviceState>(c->state_none), g, static_cast<fb::Role>(c->roles),
          static_cast<fb::Tri>(c->account_creation), r, t);
    };
    auto note = [&](const std::string& n) -> flatbuffers::Offset<flatbuffers::String> {
      return n.empty() ? 0 : b.CreateString(n);
    };
    std::vector<flatbuffers::Offset<fb::SettingRule>> srules;
    for (const SRule& r : settings) {
      auto id = b.CreateString(r.setting);
      fb::Value vt = fb::Value_NONE;
      flatbuffers::Offset<void> v = 0;
      switch (r.kind) {
        case VK::kNone:
          break;
        case VK::kBool:
          vt = fb::Value_BoolValue;
          v = fb::CreateBoolValue(b, r.b).Union();
          break;
        case VK::kInt:
          vt = fb::Value_IntValue;
          v = fb::CreateIntValue(b, r.i).Union();
          break;
        case VK::kEnum:
          vt = fb::Value_EnumValue;
          v = fb::CreateEnumValue(b, b.CreateString(r.sym)).Union();
          break;
        case VK::kFlags:
          vt = fb::Value_FlagsValue;
          v = fb::CreateFlagsValue(b, b.CreateVectorOfStrings(r.syms)).Union();
          break;
        case VK::kString:
          vt = fb::Value_StringValue;
          v = fb::CreateStringValue(b, b.CreateString(r.sym)).Union();
          break;
      }
      auto w = cond(r.when);
      auto n = note(r.note);
      srules.push_back(
          fb::CreateSettingRule(b, id, static_cast<fb::Level>(r.level), vt, v, w, r.critical, n));
    }
    std::vector<flatbuffers::Offset<fb::DataUseRule>> drules;
    for (const DRule& r : data_use) {
      auto c = b.CreateString(r.data_class);
      auto p = b.CreateString(r.purpose);
      auto w = cond(r.when);
      auto n = note(r.note);
      drules.push_back(fb::CreateDataUseRule(b, c, p, r.allow ? fb::Effect_Allow : fb::Effect_Deny,
                                             static_cast<fb::Obligation>(r.obligations), w,
                                             r.critical, n));
    }
    std::vector<flatbuffers::Offset<fb::ScheduleRule>> krules;
    for (const KRule& r : schedules) {
      auto k = b.CreateString(r.schedule);
      auto w = cond(r.when);
      auto n = note(r.note);
      krules.push_back(fb::CreateScheduleRule(b, k, r.interval, w, r.critical, n));
    }
    auto header = fb::CreateHeader(b, format, 1, serial);
    auto sv = omit_vectors ? 0 : b.CreateVector(srules);
    auto dv = omit_vectors ? 0 : b.CreateVector(drules);
    auto kv = omit_vectors ? 0 : b.CreateVector(krules);
    b.Finish(fb::CreatePayload(b, header, sv, dv, kv), fb::PayloadIdentifier());
    return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  }
};

// A payload activated into an arena this object owns.
struct Activated {
  std::vector<uint8_t> payload;
  std::unique_ptr<std::max_align_t[]> arena;
  size_t arena_size = 0;
  const Snapshot* snapshot = nullptr;
  absl::Status status;

  explicit Activated(std::vector<uint8_t> bytes, const CatalogSet& catalogs = CatalogSet::Builtin())
      : payload(std::move(bytes)) {
    absl::StatusOr<size_t> n = Snapshot::ArenaSize(payload, catalogs);
    if (!n.ok()) {
      status = n.status();
      return;
    }
    arena_size = *n;
    arena.reset(new std::max_align_t[arena_size / sizeof(std::max_align_t) + 1]);
    absl::StatusOr<const Snapshot*> s = Snapshot::Activate(
        payload, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(arena.get()), arena_size),
        catalogs);
    status = s.status();
    if (s.ok()) snapshot = *s;
  }
  const Snapshot& operator*() const { return *snapshot; }
  const Snapshot* operator->() const { return snapshot; }
};

inline SRule BoolRule(std::string id, int level, bool v, std::optional<Cond> when = {}) {
  SRule r;
  r.setting = std::move(id);
  r.level = level;
  r.kind = VK::kBool;
  r.b = v;
  r.when = std::move(when);
  return r;
}

}  // namespace edict::testing

#endif  // EDICT_TESTS_KERNEL_PAYLOAD_BUILDER_H_
