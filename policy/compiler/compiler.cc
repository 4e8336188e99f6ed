#include "policy/compiler/compiler.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "flatbuffers/flatbuffers.h"
#include "policy/aligned.h"
#include "policy/catalog.h"
#include "policy/condition.h"
#include "policy/duration.h"
#include "policy/edict_generated.h"

namespace edict::compiler {
namespace {

using json::Location;
using json::Value;

// ---------------------------------------------------------------------------------------
// Names of the schema's enums and bit sets as written in policy JSON.

// Indexed by fb::IdentityKind (0 = Any has no name).
constexpr std::string_view kIdentityNames[] = {"", "managed", "unmanaged"};
// Bit i of the corresponding fb bit set.
constexpr std::string_view kPlanNames[] = {"enterprise", "small_business", "trial"};
constexpr std::string_view kRoleNames[] = {"user", "admin", "organiser", "participant"};
constexpr std::string_view kStateNames[] = {"tampered", "not_genuine"};
constexpr std::string_view kLevelNames[] = {"mandatory", "recommended"};  // by fb::Level
constexpr std::string_view kEffectNames[] = {"deny", "allow"};            // by fb::Effect

// absl::StrJoin does not take std::string_view here (Debian's Abseil has its own
// absl::string_view), so join by hand.
template <typename It>
std::string Join(It begin, It end, std::string_view sep) {
  std::string out;
  for (It it = begin; it != end; ++it) {
    if (it != begin) out.append(sep);
    out.append(it->data(), it->size());
  }
  return out;
}

template <size_t N>
int IndexOf(const std::string_view (&names)[N], std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (!names[i].empty() && names[i] == s) return static_cast<int>(i);
  }
  return -1;
}

template <size_t N>
std::string AllowedList(const std::string_view (&names)[N]) {
  std::vector<std::string_view> v;
  for (std::string_view n : names) {
    if (!n.empty()) v.push_back(n);
  }
  return Join(v.begin(), v.end(), ", ");
}

std::string AllowedSymbols(const SettingSpec& s) {
  return Join(s.values, s.values + s.value_count, ", ");
}

std::string ObligationList() {
  return Join(kObligationNames, kObligationNames + kObligationCount, ", ");
}

// Flags values are bit sets in an int64_t (SettingSpec::default_int).
constexpr int kMaxFlags = 63;
constexpr char kDurationHint[] = "(\"7d\", \"12h\", \"30m\", \"45s\" or integer seconds)";
constexpr char kTimeFormat[] = "%Y-%m-%d%ET%H:%M:%SZ";

// ---------------------------------------------------------------------------------------
// Intermediate form of a policy, shared by Compile (JSON -> IR -> payload) and Inspect
// (payload -> IR -> JSON). Enum fields keep raw numbers so Inspect can show anything the
// verifier lets through.

struct Cond {
  uint8_t identity = 0;
  uint8_t domain_joined = 0;
  uint8_t device_managed = 0;
  uint8_t plans = 0;
  int32_t os_min = 0;
  int32_t os_max = 0;
  uint32_t state_all = 0;
  uint32_t state_none = 0;
  std::vector<std::string> groups;
  uint8_t roles = 0;
  uint8_t account_creation = 0;
  std::vector<std::string> regions;

  bool empty() const {
    return identity == 0 && domain_joined == 0 && device_managed == 0 && plans == 0 &&
           os_min == 0 && os_max == 0 && state_all == 0 && state_none == 0 && groups.empty() &&
           roles == 0 && account_creation == 0 && regions.empty();
  }
};

struct RuleValue {
  fb::Value type = fb::Value_NONE;
  bool boolean = false;
  int64_t integer = 0;  // IntValue
  std::string text;     // EnumValue symbol, StringValue value
  std::vector<std::string> symbols;
};

struct SettingRuleIR {
  std::string setting;
  int level = 0;
  RuleValue value;
  Cond when;
  bool critical = false;
  std::string note;
};

struct DataUseRuleIR {
  std::string data_class;
  std::string purpose;
  int effect = 0;
  uint32_t obligations = 0;
  Cond when;
  bool critical = false;
  std::string note;
};

struct ScheduleRuleIR {
  std::string schedule;
  int64_t interval = 0;
  Cond when;
  bool critical = false;
  std::string note;
};

struct PolicyIR {
  uint64_t serial = 0;
  int64_t issued_at = 0;
  int64_t expires_at = 0;
  std::string description;
  std::string tenant;
  std::vector<std::string> devices;
  std::vector<std::string> groups;
  std::vector<std::string> compliance;
  std::vector<SettingRuleIR> settings;
  std::vector<DataUseRuleIR> data_use;
  std::vector<ScheduleRuleIR> schedules;
};

// ---------------------------------------------------------------------------------------
// IR -> FlatBuffer. Objects are always created in the same order, so the same IR gives
// the same bytes. Empty strings and vectors and all-default conditions are left out, so
// that the canonical JSON (which omits them) compiles back to identical bytes.

using StringVec =
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>>;

flatbuffers::Offset<flatbuffers::String> OptString(flatbuffers::FlatBufferBuilder& fbb,
                                                   const std::string& s) {
  return s.empty() ? 0 : fbb.CreateString(s);
}

StringVec OptStrings(flatbuffers::FlatBufferBuilder& fbb, const std::vector<std::string>& v) {
  return v.empty() ? 0 : fbb.CreateVectorOfStrings(v);
}

flatbuffers::Offset<fb::Condition> BuildCondition(flatbuffers::FlatBufferBuilder& fbb,
                                                  const Cond& c) {
  if (c.empty()) return 0;
  const StringVec groups = OptStrings(fbb, c.groups);
  const StringVec regions = OptStrings(fbb, c.regions);
  return fb::CreateCondition(
      fbb, static_cast<fb::IdentityKind>(c.identity), static_cast<fb::Tri>(c.domain_joined),
      static_cast<fb::Tri>(c.device_managed), static_cast<fb::Plan>(c.plans), c.os_min, c.os_max,
      static_cast<fb::DeviceState>(c.state_all), static_cast<fb::DeviceState>(c.state_none), groups,
      static_cast<fb::Role>(c.roles), static_cast<fb::Tri>(c.account_creation), regions);
}

flatbuffers::Offset<void> BuildValue(flatbuffers::FlatBufferBuilder& fbb, const RuleValue& v) {
  switch (v.type) {
    case fb::Value_BoolValue:
      return fb::CreateBoolValue(fbb, v.boolean).Union();
    case fb::Value_IntValue:
      return fb::CreateIntValue(fbb, v.integer).Union();
    case fb::Value_EnumValue:
      return fb::CreateEnumValue(fbb, fbb.CreateString(v.text)).Union();
    case fb::Value_FlagsValue:
      return fb::CreateFlagsValue(fbb, fbb.CreateVectorOfStrings(v.symbols)).Union();
    case fb::Value_StringValue:
      return fb::CreateStringValue(fbb, fbb.CreateString(v.text)).Union();
    default:
      return 0;
  }
}

std::string BuildPayload(const PolicyIR& p) {
  flatbuffers::FlatBufferBuilder fbb(1024);

  std::vector<flatbuffers::Offset<fb::SettingRule>> settings;
  for (const SettingRuleIR& r : p.settings) {
    const auto id = fbb.CreateString(r.setting);
    const auto value = BuildValue(fbb, r.value);
    const auto when = BuildCondition(fbb, r.when);
    const auto note = OptString(fbb, r.note);
    settings.push_back(fb::CreateSettingRule(fbb, id, static_cast<fb::Level>(r.level),
                                             value.IsNull() ? fb::Value_NONE : r.value.type, value,
                                             when, r.critical, note));
  }
  std::vector<flatbuffers::Offset<fb::DataUseRule>> data_use;
  for (const DataUseRuleIR& r : p.data_use) {
    const auto data_class = fbb.CreateString(r.data_class);
    const auto purpose = fbb.CreateString(r.purpose);
    const auto when = BuildCondition(fbb, r.when);
    const auto note = OptString(fbb, r.note);
    data_use.push_back(
        fb::CreateDataUseRule(fbb, data_class, purpose, static_cast<fb::Effect>(r.effect),
                              static_cast<fb::Obligation>(r.obligations), when, r.critical, note));
  }
  std::vector<flatbuffers::Offset<fb::ScheduleRule>> schedules;
  for (const ScheduleRuleIR& r : p.schedules) {
    const auto id = fbb.CreateString(r.schedule);
    const auto when = BuildCondition(fbb, r.when);
    const auto note = OptString(fbb, r.note);
    schedules.push_back(fb::CreateScheduleRule(fbb, id, r.interval, when, r.critical, note));
  }

  flatbuffers::Offset<fb::Target> target = 0;
  if (!p.tenant.empty() || !p.devices.empty() || !p.groups.empty()) {
    const auto tenant = OptString(fbb, p.tenant);
    const auto devices = OptStrings(fbb, p.devices);
    const auto groups = OptStrings(fbb, p.groups);
    target = fb::CreateTarget(fbb, tenant, devices, groups);
  }
  const auto compliance = OptStrings(fbb, p.compliance);
  const auto description = OptString(fbb, p.description);
  const auto header = fb::CreateHeader(fbb, /*format_version=*/1, catalog::kVersion, p.serial,
                                       p.issued_at, p.expires_at, target, compliance, description);
  const auto payload =
      fb::CreatePayload(fbb, header, settings.empty() ? 0 : fbb.CreateVector(settings),
                        data_use.empty() ? 0 : fbb.CreateVector(data_use),
                        schedules.empty() ? 0 : fbb.CreateVector(schedules));
  fb::FinishPayloadBuffer(fbb, payload);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// The specificity of a condition, computed by edict::Specificity itself (on a scratch
// FlatBuffer) so that it means exactly what it means to the kernel.
int SpecificityOf(const Cond& c) {
  flatbuffers::FlatBufferBuilder fbb(256);
  const auto off = BuildCondition(fbb, c);
  if (off.IsNull()) return 0;
  fbb.Finish(off);
  return Specificity(flatbuffers::GetRoot<fb::Condition>(fbb.GetBufferPointer()));
}

// Whether two conjunctions can both hold for one context. They cannot when some term is
// disjoint; groups never make rules disjoint (a context may be in several groups).
bool CanBothHold(const Cond& a, const Cond& b) {
  auto tri_disjoint = [](uint8_t x, uint8_t y) { return x != 0 && y != 0 && x != y; };
  if (tri_disjoint(a.identity, b.identity)) return false;
  if (tri_disjoint(a.domain_joined, b.domain_joined)) return false;
  if (tri_disjoint(a.device_managed, b.device_managed)) return false;
  if (tri_disjoint(a.account_creation, b.account_creation)) return false;
  if (a.plans != 0 && b.plans != 0 && (a.plans & b.plans) == 0) return false;
  if (a.roles != 0 && b.roles != 0 && (a.roles & b.roles) == 0) return false;
  const int64_t lo = std::max<int64_t>({1, a.os_min, b.os_min});
  const int64_t hi =
      std::min<int64_t>(a.os_max == 0 ? std::numeric_limits<int64_t>::max() : a.os_max,
                        b.os_max == 0 ? std::numeric_limits<int64_t>::max() : b.os_max);
  if (lo > hi) return false;
  if (((a.state_all | b.state_all) & (a.state_none | b.state_none)) != 0) return false;
  if (!a.regions.empty() && !b.regions.empty()) {
    bool common = false;
    for (const std::string& r : a.regions) {
      common = common || std::find(b.regions.begin(), b.regions.end(), r) != b.regions.end();
    }
    if (!common) return false;
  }
  return true;
}

// The catalogue encoding of a rule value (SettingSpec::default_int), for compliance checks.
std::optional<int64_t> EncodeValue(const SettingSpec& s, const RuleValue& v) {
  switch (v.type) {
    case fb::Value_BoolValue:
      return v.boolean ? 1 : 0;
    case fb::Value_IntValue:
      return v.integer;
    case fb::Value_EnumValue: {
      const int i = catalog::FindSymbol(s, v.text);
      if (i < 0) return std::nullopt;
      return i;
    }
    case fb::Value_FlagsValue: {
      int64_t bits = 0;
      for (const std::string& sym : v.symbols) {
        const int i = catalog::FindSymbol(s, sym);
        if (i < 0 || i >= kMaxFlags) return std::nullopt;
        bits |= int64_t{1} << i;
      }
      return bits;
    }
    default:
      return std::nullopt;
  }
}

// ---------------------------------------------------------------------------------------
// IR -> canonical JSON.

std::string Strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += json::Quote(v[i]);
  }
  return out + "]";
}

// A bit set as an array of names, or its number if it has bits without a name.
template <size_t N>
std::string Bits(uint32_t bits, const std::string_view (&names)[N]) {
  if (N < 32 && (bits >> N) != 0) return absl::StrCat(bits);
  std::vector<std::string> v;
  for (size_t i = 0; i < N; ++i) {
    if (bits & (1u << i)) v.emplace_back(names[i]);
  }
  return Strings(v);
}

// An enum value by name, or its number if it has none.
template <size_t N>
std::string Name(int value, const std::string_view (&names)[N]) {
  if (value >= 0 && static_cast<size_t>(value) < N && !names[value].empty()) {
    return json::Quote(names[value]);
  }
  return absl::StrCat(value);
}

std::string Tri(uint8_t t) {
  if (t == fb::Tri_Yes) return "true";
  if (t == fb::Tri_No) return "false";
  return absl::StrCat(t);
}

std::string FormatTimeUtc(int64_t t) {
  return json::Quote(absl::FormatTime(kTimeFormat, absl::FromUnixSeconds(t), absl::UTCTimeZone()));
}

// A duration in the syntax Compile reads back to the same number of seconds.
std::string DurationJson(int64_t seconds) {
  const std::string text = FormatDuration(seconds);
  int64_t back = 0;
  if (seconds <= 0 || !ParseDuration(text, &back) || back != seconds) {
    return absl::StrCat(seconds);
  }
  return json::Quote(text);
}

class Fields {
 public:
  void Add(std::string_view key, std::string value) {
    parts_.push_back(absl::StrCat(json::Quote(key), ": ", value));
  }
  std::string Inline() const { return absl::StrCat("{", absl::StrJoin(parts_, ", "), "}"); }
  bool empty() const { return parts_.empty(); }

 private:
  std::vector<std::string> parts_;
};

std::string CondJson(const Cond& c) {
  Fields f;
  if (c.identity) f.Add("identity", Name(c.identity, kIdentityNames));
  if (c.domain_joined) f.Add("domain_joined", Tri(c.domain_joined));
  if (c.device_managed) f.Add("device_managed", Tri(c.device_managed));
  if (c.plans) f.Add("plan", Bits(c.plans, kPlanNames));
  if (c.os_min || c.os_max) {
    Fields os;
    if (c.os_min) os.Add("min", absl::StrCat(c.os_min));
    if (c.os_max) os.Add("max", absl::StrCat(c.os_max));
    f.Add("os_generation", os.Inline());
  }
  if (c.state_all) f.Add("device_state", Bits(c.state_all, kStateNames));
  if (c.state_none) f.Add("device_state_not", Bits(c.state_none, kStateNames));
  if (!c.groups.empty()) f.Add("groups", Strings(c.groups));
  if (c.roles) f.Add("role", Bits(c.roles, kRoleNames));
  if (c.account_creation) f.Add("account_creation", Tri(c.account_creation));
  if (!c.regions.empty()) f.Add("region", Strings(c.regions));
  return f.Inline();
}

std::string ValueJson(const SettingRuleIR& r) {
  const int id = catalog::FindSetting(r.setting);
  const RuleValue& v = r.value;
  switch (v.type) {
    case fb::Value_BoolValue:
      return v.boolean ? "true" : "false";
    case fb::Value_IntValue:
      if (id >= 0 && catalog::kSettings[id].type == SettingType::kDuration) {
        return DurationJson(v.integer);
      }
      return absl::StrCat(v.integer);
    case fb::Value_EnumValue:
    case fb::Value_StringValue:
      return json::Quote(v.text);
    case fb::Value_FlagsValue:
      return Strings(v.symbols);
    default:
      return "";
  }
}

std::string PrintPolicy(const PolicyIR& p) {
  std::vector<std::string> top;
  auto add = [&](std::string_view key, const std::string& value) {
    top.push_back(absl::StrCat("  ", json::Quote(key), ": ", value));
  };
  auto rules = [](const std::vector<std::string>& lines) {
    return absl::StrCat("[\n    ", absl::StrJoin(lines, ",\n    "), "\n  ]");
  };
  add("serial", absl::StrCat(p.serial));
  if (p.issued_at) add("issued_at", FormatTimeUtc(p.issued_at));
  if (p.expires_at) add("expires_at", FormatTimeUtc(p.expires_at));
  if (!p.description.empty()) add("description", json::Quote(p.description));
  if (!p.tenant.empty() || !p.devices.empty() || !p.groups.empty()) {
    Fields t;
    if (!p.tenant.empty()) t.Add("tenant", json::Quote(p.tenant));
    if (!p.devices.empty()) t.Add("devices", Strings(p.devices));
    if (!p.groups.empty()) t.Add("groups", Strings(p.groups));
    add("target", t.Inline());
  }
  if (!p.compliance.empty()) add("compliance", Strings(p.compliance));
  if (!p.settings.empty()) {
    std::vector<std::string> lines;
    for (const SettingRuleIR& r : p.settings) {
      Fields f;
      f.Add("setting", json::Quote(r.setting));
      f.Add("level", Name(r.level, kLevelNames));
      if (r.value.type != fb::Value_NONE) f.Add("value", ValueJson(r));
      if (!r.when.empty()) f.Add("when", CondJson(r.when));
      if (r.critical) f.Add("critical", "true");
      if (!r.note.empty()) f.Add("note", json::Quote(r.note));
      lines.push_back(f.Inline());
    }
    add("settings", rules(lines));
  }
  if (!p.data_use.empty()) {
    std::vector<std::string> lines;
    for (const DataUseRuleIR& r : p.data_use) {
      Fields f;
      f.Add("class", json::Quote(r.data_class));
      f.Add("purpose", json::Quote(r.purpose));
      f.Add("effect", Name(r.effect, kEffectNames));
      if (r.obligations) f.Add("obligations", Bits(r.obligations, kObligationNames));
      if (!r.when.empty()) f.Add("when", CondJson(r.when));
      if (r.critical) f.Add("critical", "true");
      if (!r.note.empty()) f.Add("note", json::Quote(r.note));
      lines.push_back(f.Inline());
    }
    add("data_use", rules(lines));
  }
  if (!p.schedules.empty()) {
    std::vector<std::string> lines;
    for (const ScheduleRuleIR& r : p.schedules) {
      Fields f;
      f.Add("schedule", json::Quote(r.schedule));
      f.Add("interval", DurationJson(r.interval));
      if (!r.when.empty()) f.Add("when", CondJson(r.when));
      if (r.critical) f.Add("critical", "true");
      if (!r.note.empty()) f.Add("note", json::Quote(r.note));
      lines.push_back(f.Inline());
    }
    add("schedules", rules(lines));
  }
  return absl::StrCat("{\n", absl::StrJoin(top, ",\n"), "\n}\n");
}

// ---------------------------------------------------------------------------------------
// Payload -> IR.

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

std::vector<std::string> Strs(
    const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
  std::vector<std::string> out;
  if (v) {
    for (const flatbuffers::String* s : *v) out.push_back(Str(s));
  }
  return out;
}

Cond ReadCondition(const fb::Condition* c) {
  Cond out;
  if (c == nullptr) return out;
  out.identity = static_cast<uint8_t>(c->identity());
  out.domain_joined = static_cast<uint8_t>(c->domain_joined());
  out.device_managed = static_cast<uint8_t>(c->device_managed());
  out.plans = static_cast<uint8_t>(c->plans());
  out.os_min = c->os_min();
  out.os_max = c->os_max();
  out.state_all = static_cast<uint32_t>(c->state_all());
  out.state_none = static_cast<uint32_t>(c->state_none());
  out.groups = Strs(c->groups());
  out.roles = static_cast<uint8_t>(c->roles());
  out.account_creation = static_cast<uint8_t>(c->account_creation());
  out.regions = Strs(c->regions());
  return out;
}

PolicyIR ReadPayload(const fb::Payload* p) {
  PolicyIR out;
  const fb::Header* h = p->header();
  out.serial = h->serial();
  out.issued_at = h->issued_at();
  out.expires_at = h->expires_at();
  out.description = Str(h->description());
  if (const fb::Target* t = h->target()) {
    out.tenant = Str(t->tenant());
    out.devices = Strs(t->device_ids());
    out.groups = Strs(t->groups());
  }
  out.compliance = Strs(h->compliance());
  if (p->settings()) {
    for (const fb::SettingRule* r : *p->settings()) {
      SettingRuleIR s;
      s.setting = Str(r->setting());
      s.level = r->level();
      switch (r->value_type()) {
        case fb::Value_BoolValue:
          if (const auto* v = r->value_as_BoolValue()) {
            s.value.type = fb::Value_BoolValue;
            s.value.boolean = v->value();
          }
          break;
        case fb::Value_IntValue:
          if (const auto* v = r->value_as_IntValue()) {
            s.value.type = fb::Value_IntValue;
            s.value.integer = v->value();
          }
          break;
        case fb::Value_EnumValue:
          if (const auto* v = r->value_as_EnumValue()) {
            s.value.type = fb::Value_EnumValue;
            s.value.text = Str(v->symbol());
          }
          break;
        case fb::Value_FlagsValue:
          if (const auto* v = r->value_as_FlagsValue()) {
            s.value.type = fb::Value_FlagsValue;
            s.value.symbols = Strs(v->symbols());
          }
          break;
        case fb::Value_StringValue:
          if (const auto* v = r->value_as_StringValue()) {
            s.value.type = fb::Value_StringValue;
            s.value.text = Str(v->value());
          }
          break;
        default:
          break;
      }
      s.when = ReadCondition(r->when());
      s.critical = r->critical();
      s.note = Str(r->note());
      out.settings.push_back(std::move(s));
    }
  }
  if (p->data_use()) {
    for (const fb::DataUseRule* r : *p->data_use()) {
      DataUseRuleIR d;
      d.data_class = Str(r->data_class());
      d.purpose = Str(r->purpose());
      d.effect = r->effect();
      d.obligations = static_cast<uint32_t>(r->obligations());
      d.when = ReadCondition(r->when());
      d.critical = r->critical();
      d.note = Str(r->note());
      out.data_use.push_back(std::move(d));
    }
  }
  if (p->schedules()) {
    for (const fb::ScheduleRule* r : *p->schedules()) {
      ScheduleRuleIR s;
      s.schedule = Str(r->schedule());
      s.interval = r->interval_seconds();
      s.when = ReadCondition(r->when());
      s.critical = r->critical();
      s.note = Str(r->note());
      out.schedules.push_back(std::move(s));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// JSON -> IR, with validation.

// Where a rule is, for conflict detection; `comparable` is false when the rule has an
// error in its key or its condition (it is then left out of the conflict check).
struct RuleSite {
  Location location;
  bool comparable = false;
  std::string key;  // setting id + level, class + purpose, or schedule id
  Cond when;
};

class Checker {
 public:
  std::vector<Diagnostic> TakeErrors() { return std::move(errors_); }
  // Errors found beyond the first kMaxDiagnostics (not kept).
  size_t dropped() const { return error_count_ - std::min(error_count_, kMaxDiagnostics); }

  PolicyIR CheckPolicy(const Value& root) {
    PolicyIR p;
    if (!root.is_object()) {
      Error(root.location(), "a policy must be a JSON object");
      return p;
    }
    CheckKeys(root, "policy",
              {"format", "serial", "issued_at", "expires_at", "description", "target", "compliance",
               "settings", "data_use", "schedules"});
    if (const Value* v = root.Find("format")) {
      if (!v->is_integer() || v->integer() != 1) Error(v->location(), "\"format\" must be 1");
    }
    if (const Value* v = root.Find("serial")) {
      if (!v->is_integer() || v->integer() < 1) {
        Error(v->location(),
              absl::StrFormat("\"serial\" must be an integer from 1 to %d", kMaxSerial));
      } else {
        p.serial = static_cast<uint64_t>(v->integer());
      }
    } else {
      Error(root.location(), "policy is missing \"serial\"");
    }
    const Value* issued = root.Find("issued_at");
    const Value* expires = root.Find("expires_at");
    const bool issued_ok = issued && ReadTime(*issued, "issued_at", &p.issued_at);
    const bool expires_ok = expires && ReadTime(*expires, "expires_at", &p.expires_at);
    if (issued_ok && expires_ok && p.expires_at <= p.issued_at) {
      Error(expires->location(), "\"expires_at\" must be after \"issued_at\"");
    }
    if (const Value* v = root.Find("description")) ReadText(*v, "description", &p.description);
    if (const Value* v = root.Find("target")) CheckTarget(*v, &p);
    if (const Value* v = root.Find("compliance")) CheckCompliance(*v, &p);
    if (const Value* v = root.Find("settings")) {
      if (ExpectArray(*v, "settings")) {
        for (const Value& r : v->items()) CheckSettingRule(r, &p);
      }
    }
    if (const Value* v = root.Find("data_use")) {
      if (ExpectArray(*v, "data_use")) {
        for (const Value& r : v->items()) CheckDataUseRule(r, &p);
      }
    }
    if (const Value* v = root.Find("schedules")) {
      if (ExpectArray(*v, "schedules")) {
        for (const Value& r : v->items()) CheckScheduleRule(r, &p);
      }
    }
    CheckConflicts("settings", setting_sites_, "same setting, level and specificity");
    CheckConflicts("data_use", data_use_sites_, "same class, purpose and specificity");
    CheckConflicts("schedules", schedule_sites_, "same schedule and specificity");
    return p;
  }

 private:
  void Error(Location at, std::string message) {
    // Only the first kMaxDiagnostics are kept, so that a hostile policy cannot make the
    // diagnostics grow with its size; the others are counted.
    if (++error_count_ <= kMaxDiagnostics) errors_.push_back(Diagnostic{at, std::move(message)});
  }

  void CheckKeys(const Value& obj, std::string_view where,
                 std::initializer_list<std::string_view> allowed) {
    for (const Value::Member& m : obj.members()) {
      if (std::find(allowed.begin(), allowed.end(), m.key) == allowed.end()) {
        Error(m.key_location, absl::StrFormat("unknown key %s in %s", json::Quote(m.key), where));
      }
    }
  }

  bool ExpectArray(const Value& v, std::string_view key) {
    if (v.is_array()) return true;
    Error(v.location(), absl::StrFormat("\"%s\" must be an array", key));
    return false;
  }

  bool ExpectObject(const Value& v, std::string_view what) {
    if (v.is_object()) return true;
    Error(v.location(), absl::StrFormat("%s must be an object", what));
    return false;
  }

  // A required member; reports its absence at the object.
  const Value* Require(const Value& obj, std::string_view what, std::string_view key) {
    const Value* v = obj.Find(key);
    if (v == nullptr) {
      Error(obj.location(), absl::StrFormat("%s is missing \"%s\"", what, key));
    }
    return v;
  }

  bool ReadText(const Value& v, std::string_view key, std::string* out) {
    if (!v.is_string()) {
      Error(v.location(), absl::StrFormat("\"%s\" must be a string", key));
      return false;
    }
    *out = v.string();
    return true;
  }

  bool ReadBool(const Value& v, std::string_view key, bool* out) {
    if (!v.is_bool()) {
      Error(v.location(), absl::StrFormat("\"%s\" must be true or false", key));
      return false;
    }
    *out = v.boolean();
    return true;
  }

  // A string naming a catalogue entry; returns its index or -1 (with an error).
  int ReadId(const Value& v, std::string_view key, std::string_view what,
             int (*find)(std::string_view), std::string* out) {
    if (!v.is_string()) {
      Error(v.location(), absl::StrFormat("\"%s\" must be a string", key));
      return -1;
    }
    *out = v.string();
    const int id = find(v.string());
    if (id < 0)
      Error(v.location(), absl::StrFormat("unknown %s %s", what, json::Quote(v.string())));
    return id;
  }

  bool ReadTime(const Value& v, std::string_view key, int64_t* out) {
    absl::Time t;
    std::string err;
    if (!v.is_string() || !absl::ParseTime(absl::RFC3339_full, v.string(), &t, &err) ||
        t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
      Error(
          v.location(),
          absl::StrFormat("\"%s\" must be an RFC 3339 time such as \"2026-11-01T00:00:00Z\"", key));
      return false;
    }
    const int64_t s = absl::ToUnixSeconds(t);
    if (absl::FromUnixSeconds(s) != t) {
      Error(v.location(), absl::StrFormat("\"%s\" must be a whole number of seconds", key));
      return false;
    }
    if (s < kMinTime || s > kMaxTime) {
      Error(v.location(),
            absl::StrFormat("\"%s\" must be between 1970-01-01T00:00:01Z and 9999-12-31T23:59:59Z",
                            key));
      return false;
    }
    *out = s;
    return true;
  }

  // An array of distinct non-empty strings. `allow_empty`: whether [] is accepted.
  bool ReadStrings(const Value& v, std::string_view key, bool allow_empty,
                   std::vector<std::string>* out) {
    if (!v.is_array()) {
      Error(v.location(), absl::StrFormat("\"%s\" must be an array of strings", key));
      return false;
    }
    if (!allow_empty && v.items().empty()) {
      Error(v.location(), absl::StrFormat("\"%s\" must not be empty", key));
      return false;
    }
    bool ok = true;
    std::vector<std::string> result;
    for (const Value& item : v.items()) {
      if (!item.is_string() || item.string().empty()) {
        Error(item.location(), absl::StrFormat("\"%s\" entries must be non-empty strings", key));
        ok = false;
      } else if (std::find(result.begin(), result.end(), item.string()) != result.end()) {
        Error(item.location(),
              absl::StrFormat("duplicate entry %s in \"%s\"", json::Quote(item.string()), key));
        ok = false;
      } else {
        result.push_back(item.string());
      }
    }
    if (ok) *out = std::move(result);
    return ok;
  }

  // A non-empty array of distinct names from `names`, as bits.
  template <size_t N>
  bool ReadBits(const Value& v, std::string_view key, std::string_view what,
                const std::string_view (&names)[N], uint32_t* out) {
    if (!v.is_array()) {
      Error(v.location(),
            absl::StrFormat("\"%s\" must be an array of: %s", key, AllowedList(names)));
      return false;
    }
    if (v.items().empty()) {
      Error(v.location(), absl::StrFormat("\"%s\" must not be empty", key));
      return false;
    }
    bool ok = true;
    uint32_t bits = 0;
    for (const Value& item : v.items()) {
      const int i = item.is_string() ? IndexOf(names, item.string()) : -1;
      if (i < 0) {
        Error(item.location(),
              absl::StrFormat("unknown %s %s (allowed: %s)", what,
                              item.is_string() ? json::Quote(item.string()) : "value",
                              AllowedList(names)));
        ok = false;
      } else if (bits & (1u << i)) {
        Error(item.location(),
              absl::StrFormat("duplicate %s %s", what, json::Quote(item.string())));
        ok = false;
      } else {
        bits |= 1u << i;
      }
    }
    if (ok) *out = bits;
    return ok;
  }

  bool ReadTri(const Value& v, std::string_view key, uint8_t* out) {
    bool b;
    if (!ReadBool(v, key, &b)) return false;
    *out = b ? fb::Tri_Yes : fb::Tri_No;
    return true;
  }

  bool ReadOsBound(const Value& v, std::string_view key, int32_t* out) {
    if (!v.is_integer() || v.integer() < 1 || v.integer() > std::numeric_limits<int32_t>::max()) {
      Error(v.location(), absl::StrFormat("\"os_generation\" \"%s\" must be an integer >= 1", key));
      return false;
    }
    *out = static_cast<int32_t>(v.integer());
    return true;
  }

  // Returns false if the condition has an error.
  bool CheckWhen(const Value& v, Cond* c) {
    if (!ExpectObject(v, "\"when\"")) return false;
    const size_t errors_before = error_count_;
    CheckKeys(v, "\"when\"",
              {"identity", "domain_joined", "device_managed", "plan", "os_generation",
               "device_state", "device_state_not", "groups", "role", "account_creation", "region"});
    for (const Value::Member& m : v.members()) {
      const Value& x = m.value;
      uint32_t bits = 0;
      if (m.key == "identity") {
        const int i = x.is_string() ? IndexOf(kIdentityNames, x.string()) : -1;
        if (i < 0) {
          Error(x.location(), absl::StrFormat("unknown identity %s (allowed: %s)",
                                              x.is_string() ? json::Quote(x.string()) : "value",
                                              AllowedList(kIdentityNames)));
        } else {
          c->identity = static_cast<uint8_t>(i);
        }
      } else if (m.key == "domain_joined") {
        ReadTri(x, m.key, &c->domain_joined);
      } else if (m.key == "device_managed") {
        ReadTri(x, m.key, &c->device_managed);
      } else if (m.key == "account_creation") {
        ReadTri(x, m.key, &c->account_creation);
      } else if (m.key == "plan") {
        if (ReadBits(x, m.key, "plan", kPlanNames, &bits)) c->plans = static_cast<uint8_t>(bits);
      } else if (m.key == "role") {
        if (ReadBits(x, m.key, "role", kRoleNames, &bits)) c->roles = static_cast<uint8_t>(bits);
      } else if (m.key == "device_state") {
        if (ReadBits(x, m.key, "device state", kStateNames, &bits)) c->state_all = bits;
      } else if (m.key == "device_state_not") {
        if (ReadBits(x, m.key, "device state", kStateNames, &bits)) c->state_none = bits;
      } else if (m.key == "groups") {
        ReadStrings(x, m.key, /*allow_empty=*/false, &c->groups);
      } else if (m.key == "region") {
        ReadStrings(x, m.key, /*allow_empty=*/false, &c->regions);
      } else if (m.key == "os_generation") {
        if (!ExpectObject(x, "\"os_generation\"")) continue;
        CheckKeys(x, "\"os_generation\"", {"min", "max"});
        const Value* min = x.Find("min");
        const Value* max = x.Find("max");
        if (min == nullptr && max == nullptr) {
          Error(x.location(), "\"os_generation\" needs \"min\" or \"max\"");
        }
        const bool min_ok = min && ReadOsBound(*min, "min", &c->os_min);
        const bool max_ok = max && ReadOsBound(*max, "max", &c->os_max);
        if (min_ok && max_ok && c->os_min > c->os_max) {
          Error(max->location(), "\"os_generation\" \"max\" must not be below \"min\"");
        }
      }
    }
    return error_count_ == errors_before;
  }

  // Common optional keys of a rule: when, critical, note.
  bool CheckRuleCommon(const Value& r, Cond* when, bool* critical, std::string* note) {
    bool when_ok = true;
    if (const Value* v = r.Find("when")) when_ok = CheckWhen(*v, when);
    if (const Value* v = r.Find("critical")) ReadBool(*v, "critical", critical);
    if (const Value* v = r.Find("note")) ReadText(*v, "note", note);
    return when_ok;
  }

  void CheckTarget(const Value& v, PolicyIR* p) {
    if (!ExpectObject(v, "\"target\"")) return;
    CheckKeys(v, "\"target\"", {"tenant", "devices", "groups"});
    if (const Value* t = v.Find("tenant")) ReadText(*t, "tenant", &p->tenant);
    if (const Value* d = v.Find("devices")) ReadStrings(*d, "devices", true, &p->devices);
    if (const Value* g = v.Find("groups")) ReadStrings(*g, "groups", true, &p->groups);
  }

  void CheckCompliance(const Value& v, PolicyIR* p) {
    if (!v.is_array()) {
      Error(v.location(), "\"compliance\" must be an array of compliance tag ids");
      return;
    }
    for (const Value& item : v.items()) {
      std::string id;
      const int tag = ReadId(item, "compliance", "compliance tag", catalog::FindComplianceTag, &id);
      if (tag < 0) continue;
      if (std::find(tags_.begin(), tags_.end(), tag) != tags_.end()) {
        Error(item.location(), absl::StrFormat("duplicate compliance tag %s", json::Quote(id)));
        continue;
      }
      tags_.push_back(tag);
      p->compliance.push_back(id);
    }
  }

  // The value of a setting rule, checked against the setting's type.
  bool CheckSettingValue(const Value& v, const SettingSpec& s, RuleValue* out) {
    const std::string name = json::Quote(s.id);
    switch (s.type) {
      case SettingType::kBool:
        if (!v.is_bool()) break;
        out->type = fb::Value_BoolValue;
        out->boolean = v.boolean();
        return true;
      case SettingType::kInteger:
        if (!v.is_integer()) break;
        out->type = fb::Value_IntValue;
        out->integer = v.integer();
        return true;
      case SettingType::kDuration: {
        int64_t seconds = 0;
        if (v.is_integer() && v.integer() >= 0) {
          seconds = v.integer();
        } else if (!v.is_string() || !ParseDuration(v.string(), &seconds)) {
          break;
        }
        out->type = fb::Value_IntValue;
        out->integer = seconds;
        return true;
      }
      case SettingType::kString:
        if (!v.is_string()) break;
        out->type = fb::Value_StringValue;
        out->text = v.string();
        return true;
      case SettingType::kEnum:
        if (!v.is_string()) break;
        if (catalog::FindSymbol(s, v.string()) < 0) {
          Error(v.location(), absl::StrFormat("unknown value %s for %s (allowed: %s)",
                                              json::Quote(v.string()), name, AllowedSymbols(s)));
          return false;
        }
        out->type = fb::Value_EnumValue;
        out->text = v.string();
        return true;
      case SettingType::kFlags: {
        if (!v.is_array()) break;
        bool ok = true;
        uint64_t bits = 0;
        for (const Value& item : v.items()) {
          int i = item.is_string() ? catalog::FindSymbol(s, item.string()) : -1;
          if (i >= kMaxFlags) i = -1;  // not representable (SettingSpec::default_int)
          if (i < 0) {
            Error(item.location(),
                  absl::StrFormat("unknown value %s for %s (allowed: %s)",
                                  item.is_string() ? json::Quote(item.string()) : "value", name,
                                  AllowedSymbols(s)));
            ok = false;
          } else if (bits & (uint64_t{1} << i)) {
            Error(item.location(),
                  absl::StrFormat("duplicate value %s for %s", json::Quote(item.string()), name));
            ok = false;
          } else {
            bits |= uint64_t{1} << i;
          }
        }
        if (!ok) return false;
        // Canonical order: the catalogue's.
        out->type = fb::Value_FlagsValue;
        for (int i = 0; i < s.value_count && i < kMaxFlags; ++i) {
          if (bits & (uint64_t{1} << i)) out->symbols.emplace_back(s.values[i]);
        }
        return true;
      }
    }
    std::string expected;
    switch (s.type) {
      case SettingType::kBool:
        expected = "true or false";
        break;
      case SettingType::kInteger:
        expected = "an integer";
        break;
      case SettingType::kDuration:
        expected = absl::StrCat("a duration ", kDurationHint);
        break;
      case SettingType::kString:
        expected = "a string";
        break;
      case SettingType::kEnum:
        expected = absl::StrCat("one of: ", AllowedSymbols(s));
        break;
      case SettingType::kFlags:
        expected = absl::StrCat("an array of: ", AllowedSymbols(s));
        break;
    }
    Error(v.location(), absl::StrFormat("value of %s must be %s", name, expected));
    return false;
  }

  static std::string WhoMaySet(uint8_t setters) {
    std::vector<std::string_view> who;
    if (setters & kSetterUser) who.push_back("the user");
    if (setters & kSetterOrganiser) who.push_back("the meeting organiser");
    return Join(who.begin(), who.end(), " and ");
  }

  void CheckSettingRule(const Value& r, PolicyIR* p) {
    if (!ExpectObject(r, "a setting rule")) return;
    CheckKeys(r, "setting rule", {"setting", "level", "value", "when", "critical", "note"});
    SettingRuleIR rule;
    bool key_ok = false;
    int id = -1;
    if (const Value* v = Require(r, "setting rule", "setting")) {
      id = ReadId(*v, "setting", "setting", catalog::FindSetting, &rule.setting);
      if (id >= 0) {
        const SettingSpec& s = catalog::kSettings[id];
        if (s.fixed) {
          Error(v->location(),
                absl::StrFormat("setting %s is fixed: no policy may set it", json::Quote(s.id)));
        } else if (!(s.setters & kSetterAdmin)) {
          Error(v->location(), absl::StrFormat("an administrator may not set %s (only %s may)",
                                               json::Quote(s.id), WhoMaySet(s.setters)));
        } else {
          key_ok = true;
        }
      }
    }
    if (const Value* v = Require(r, "setting rule", "level")) {
      const int level = v->is_string() ? IndexOf(kLevelNames, v->string()) : -1;
      if (level < 0) {
        Error(v->location(), "\"level\" must be \"mandatory\" or \"recommended\"");
        key_ok = false;
      } else {
        rule.level = level;
      }
    }
    const Value* value = Require(r, "setting rule", "value");
    if (value && id >= 0) {
      const SettingSpec& s = catalog::kSettings[id];
      if (CheckSettingValue(*value, s, &rule.value)) CheckForbidden(*value, s, rule.value);
    }
    const bool when_ok = CheckRuleCommon(r, &rule.when, &rule.critical, &rule.note);
    setting_sites_.push_back(RuleSite{r.location(), key_ok && when_ok,
                                      absl::StrCat(rule.setting, "\n", rule.level), rule.when});
    p->settings.push_back(std::move(rule));
  }

  void CheckForbidden(const Value& v, const SettingSpec& s, const RuleValue& value) {
    const std::optional<int64_t> encoded = EncodeValue(s, value);
    if (!encoded) return;
    for (int tag : tags_) {
      const ComplianceTagSpec& t = catalog::kComplianceTags[tag];
      for (int i = 0; i < t.forbid_count; ++i) {
        const ForbidSpec& f = t.forbids[i];
        if (catalog::kSettings[f.setting].id == s.id && f.value_int == *encoded) {
          Error(v.location(), absl::StrFormat("value %s of %s is forbidden by compliance tag %s",
                                              JsonText(v), json::Quote(s.id), json::Quote(t.id)));
        }
      }
    }
  }

  // A short JSON rendering of a scalar or array value, for messages.
  static std::string JsonText(const Value& v) {
    switch (v.kind()) {
      case Value::Kind::kBool:
        return v.boolean() ? "true" : "false";
      case Value::Kind::kNumber:
        return v.string();
      case Value::Kind::kString:
        return json::Quote(v.string());
      case Value::Kind::kArray: {
        std::vector<std::string> parts;
        for (const Value& i : v.items()) parts.push_back(JsonText(i));
        return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
      }
      default:
        return "value";
    }
  }

  void CheckDataUseRule(const Value& r, PolicyIR* p) {
    if (!ExpectObject(r, "a data-use rule")) return;
    CheckKeys(r, "data-use rule",
              {"class", "purpose", "effect", "obligations", "when", "critical", "note"});
    DataUseRuleIR rule;
    int data_class = -1;
    int purpose = -1;
    const Value* class_value = Require(r, "data-use rule", "class");
    if (class_value) {
      data_class =
          ReadId(*class_value, "class", "data class", catalog::FindDataClass, &rule.data_class);
    }
    if (const Value* v = Require(r, "data-use rule", "purpose")) {
      purpose = ReadId(*v, "purpose", "purpose", catalog::FindPurpose, &rule.purpose);
    }
    bool key_ok = data_class >= 0 && purpose >= 0;
    if (key_ok) {
      for (const BuiltinDataUse& b : catalog::BuiltinRulesFor(data_class, purpose)) {
        if (b.fixed) {
          Error(class_value->location(),
                absl::StrFormat("data use of %s for %s is fixed: no policy may change it",
                                json::Quote(rule.data_class), json::Quote(rule.purpose)));
          key_ok = false;
          break;
        }
      }
    }
    if (const Value* v = Require(r, "data-use rule", "effect")) {
      const int effect = v->is_string() ? IndexOf(kEffectNames, v->string()) : -1;
      if (effect < 0) {
        Error(v->location(), "\"effect\" must be \"allow\" or \"deny\"");
      } else {
        rule.effect = effect;
      }
    }
    if (const Value* v = r.Find("obligations")) {
      if (!v->is_array()) {
        Error(v->location(),
              absl::StrFormat("\"obligations\" must be an array of: %s", ObligationList()));
      } else {
        for (const Value& item : v->items()) {
          int bit = -1;
          for (int i = 0; i < kObligationCount && item.is_string(); ++i) {
            if (kObligationNames[i] == item.string()) bit = i;
          }
          if (bit < 0) {
            Error(item.location(),
                  absl::StrFormat("unknown obligation %s (allowed: %s)",
                                  item.is_string() ? json::Quote(item.string()) : "value",
                                  ObligationList()));
          } else if (rule.obligations & (1u << bit)) {
            Error(item.location(),
                  absl::StrFormat("duplicate obligation %s", json::Quote(item.string())));
          } else {
            rule.obligations |= 1u << bit;
          }
        }
      }
    }
    const bool when_ok = CheckRuleCommon(r, &rule.when, &rule.critical, &rule.note);
    data_use_sites_.push_back(RuleSite{r.location(), key_ok && when_ok,
                                       absl::StrCat(rule.data_class, "\n", rule.purpose),
                                       rule.when});
    p->data_use.push_back(std::move(rule));
  }

  void CheckScheduleRule(const Value& r, PolicyIR* p) {
    if (!ExpectObject(r, "a schedule rule")) return;
    CheckKeys(r, "schedule rule", {"schedule", "interval", "when", "critical", "note"});
    ScheduleRuleIR rule;
    bool key_ok = false;
    if (const Value* v = Require(r, "schedule rule", "schedule")) {
      key_ok = ReadId(*v, "schedule", "schedule", catalog::FindSchedule, &rule.schedule) >= 0;
    }
    if (const Value* v = Require(r, "schedule rule", "interval")) {
      int64_t seconds = 0;
      if (v->is_integer()) {
        seconds = v->integer();
      } else if (!v->is_string() || !ParseDuration(v->string(), &seconds)) {
        seconds = 0;
      }
      if (seconds <= 0) {
        Error(v->location(),
              absl::StrFormat("\"interval\" must be a positive duration %s", kDurationHint));
      } else {
        rule.interval = seconds;
      }
    }
    const bool when_ok = CheckRuleCommon(r, &rule.when, &rule.critical, &rule.note);
    schedule_sites_.push_back(RuleSite{r.location(), key_ok && when_ok, rule.schedule, rule.when});
    p->schedules.push_back(std::move(rule));
  }

  // Two rules with the same key and specificity whose conditions can both hold: the error
  // is reported at the later rule and names the earlier one.
  void CheckConflicts(std::string_view vector_name, const std::vector<RuleSite>& sites,
                      std::string_view what) {
    std::map<std::pair<std::string, int>, std::vector<size_t>> groups;
    for (size_t i = 0; i < sites.size(); ++i) {
      if (!sites[i].comparable) continue;
      groups[{sites[i].key, SpecificityOf(sites[i].when)}].push_back(i);
    }
    // Report in rule order.
    std::vector<std::pair<size_t, size_t>> conflicts;  // (later, earlier)
    for (const auto& [key, members] : groups) {
      for (size_t j = 1; j < members.size(); ++j) {
        for (size_t i = 0; i < j; ++i) {
          if (CanBothHold(sites[members[i]].when, sites[members[j]].when)) {
            conflicts.emplace_back(members[j], members[i]);
            break;
          }
        }
      }
    }
    std::sort(conflicts.begin(), conflicts.end());
    for (const auto& [later, earlier] : conflicts) {
      Error(sites[later].location,
            absl::StrFormat("conflicts with %s[%d] (line %d): %s, and both conditions can hold",
                            vector_name, earlier, sites[earlier].location.line, what));
    }
  }

  std::vector<Diagnostic> errors_;
  size_t error_count_ = 0;
  std::vector<int> tags_;  // compliance tags listed, valid ones, in order
  std::vector<RuleSite> setting_sites_;
  std::vector<RuleSite> data_use_sites_;
  std::vector<RuleSite> schedule_sites_;
};

// "LINE:COL: message" from json::Parse.
Diagnostic FromParseError(const absl::Status& status) {
  Diagnostic d;
  const std::string text(status.message());
  std::string_view msg = text;
  const size_t c1 = msg.find(':');
  const size_t c2 = c1 == std::string_view::npos ? c1 : msg.find(':', c1 + 1);
  if (c2 != std::string_view::npos &&
      absl::SimpleAtoi(std::string(msg.substr(0, c1)), &d.location.line) &&
      absl::SimpleAtoi(std::string(msg.substr(c1 + 1, c2 - c1 - 1)), &d.location.col)) {
    msg.remove_prefix(c2 + 1);
    if (!msg.empty() && msg.front() == ' ') msg.remove_prefix(1);
  }
  d.message = std::string(msg);
  return d;
}

}  // namespace

std::string FormatDiagnostic(std::string_view filename, const Diagnostic& d) {
  return absl::StrFormat("%s:%d:%d: %s", filename, d.location.line, d.location.col, d.message);
}

std::vector<std::string> CompileResult::Rendered() const {
  std::vector<std::string> out;
  for (const Diagnostic& d : errors) out.push_back(FormatDiagnostic(filename, d));
  if (errors_not_shown > 0) {
    out.push_back(absl::StrFormat("%s: %d more errors not shown (at most %d are reported)",
                                  filename, errors_not_shown, kMaxDiagnostics));
  }
  return out;
}

CompileResult Compile(std::string_view json_text, std::string_view filename) {
  CompileResult result;
  result.filename = std::string(filename);
  absl::StatusOr<Value> root = json::Parse(json_text);
  if (!root.ok()) {
    result.errors.push_back(FromParseError(root.status()));
    return result;
  }
  Checker checker;
  const PolicyIR policy = checker.CheckPolicy(*root);
  result.errors = checker.TakeErrors();
  result.errors_not_shown = checker.dropped();
  if (!result.errors.empty()) {
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                       return std::tie(a.location.line, a.location.col) <
                              std::tie(b.location.line, b.location.col);
                     });
    return result;
  }
  result.payload = BuildPayload(policy);
  return result;
}

absl::StatusOr<PayloadSummary> VerifyPayload(std::string_view payload) {
  const auto* data = reinterpret_cast<const uint8_t*>(payload.data());
  if (payload.size() < 8 || !fb::PayloadBufferHasIdentifier(data)) {
    return absl::InvalidArgumentError("not an edict payload (file identifier is not EDP1)");
  }
  if (!IsFlatBufferAligned(data)) {
    return absl::InvalidArgumentError("payload does not start on an 8-byte boundary");
  }
  flatbuffers::Verifier verifier(data, payload.size());
  if (!fb::VerifyPayloadBuffer(verifier)) {
    return absl::InvalidArgumentError("malformed payload (FlatBuffers verification failed)");
  }
  const fb::Payload* p = fb::GetPayload(data);
  if (p->header()->format_version() != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "unsupported payload format version %d (expected 1)", p->header()->format_version()));
  }
  PayloadSummary s;
  s.serial = p->header()->serial();
  s.issued_at = p->header()->issued_at();
  s.expires_at = p->header()->expires_at();
  s.settings = p->settings() ? p->settings()->size() : 0;
  s.data_use = p->data_use() ? p->data_use()->size() : 0;
  s.schedules = p->schedules() ? p->schedules()->size() : 0;
  return s;
}

absl::StatusOr<std::string> Inspect(std::string_view payload) {
  const absl::StatusOr<PayloadSummary> summary = VerifyPayload(payload);
  if (!summary.ok()) return summary.status();
  return PrintPolicy(ReadPayload(fb::GetPayload(payload.data())));
}

bool ParseDuration(std::string_view text, int64_t* seconds) {
  return ParseDurationText(text, seconds);
}

std::string FormatDuration(int64_t seconds) {
  if (seconds > 0) {
    if (seconds % 86400 == 0) return absl::StrCat(seconds / 86400, "d");
    if (seconds % 3600 == 0) return absl::StrCat(seconds / 3600, "h");
    if (seconds % 60 == 0) return absl::StrCat(seconds / 60, "m");
  }
  return absl::StrCat(seconds, "s");
}

}  // namespace edict::compiler
