// The policy IR to canonical policy JSON (Inspect), and durations.
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "policy/compiler/compiler.h"
#include "policy/compiler/internal.h"
#include "policy/compiler/json.h"
#include "policy/duration.h"
#include "policy/edict_generated.h"

namespace edict::compiler {
namespace internal {
namespace {

constexpr char kTimeFormat[] = "%Y-%m-%d%ET%H:%M:%SZ";

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

// A term on a catalogue attribute, in the syntax of its type: Bool true/false; Enum and
// StringSet one value or a list; IntRange {"min", "max"}. A payload carries no type, so
// the fields tell: `is` (Bool), `values` (Enum, StringSet), else the bounds.
std::string AttributeJson(const AttrTerm& t) {
  if (t.is != 0) return Tri(t.is);
  if (t.values.size() == 1) return json::Quote(t.values[0]);
  if (!t.values.empty()) return Strings(t.values);
  Fields range;
  range.Add("min", absl::StrCat(t.min));
  range.Add("max", absl::StrCat(t.max));
  return range.Inline();
}

// A built-in term on its row: IntRange bounds only where narrower than the row's.
std::string BuiltinJson(const AttributeSpec& a, const AttrTerm& t) {
  if (a.type != AttributeType::kIntRange) {
    if (a.type == AttributeType::kBool) return Tri(t.is);
    if (a.term == BuiltinTerm::kIdentity) return json::Quote(t.values[0]);
    return Strings(t.values);
  }
  Fields range;
  if (t.min != a.min || t.max == a.max) range.Add("min", absl::StrCat(t.min));
  if (t.max != a.max) range.Add("max", absl::StrCat(t.max));
  return range.Inline();
}

std::string CondJson(const Cond& c, const CatalogSet& catalogs) {
  Fields f;
  for (const auto& [row, term] : BuiltinTermsOf(catalogs, c)) {
    f.Add(row->name, BuiltinJson(*row, term));
  }
  for (const AttrTerm& t : c.attributes) f.Add(t.name, AttributeJson(t));
  return f.Inline();
}

std::string ValueJson(const SettingRuleIR& r, const CatalogSet& catalogs) {
  const int id = catalogs.FindSetting(r.setting);
  const RuleValue& v = r.value;
  switch (v.type) {
    case fb::Value_BoolValue:
      return v.boolean ? "true" : "false";
    case fb::Value_IntValue:
      if (id >= 0 && catalogs.settings()[id].type == SettingType::kDuration) {
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

}  // namespace

std::string PrintPolicy(const PolicyIR& p, const CatalogSet& catalogs) {
  std::vector<std::string> top;
  auto add = [&](std::string_view key, const std::string& value) {
    top.push_back(absl::StrCat("  ", json::Quote(key), ": ", value));
  };
  auto rules = [](const std::vector<std::string>& lines) {
    return absl::StrCat("[\n    ", absl::StrJoin(lines, ",\n    "), "\n  ]");
  };
  // Header.catalogs is not printed: Compile derives it from what the rules name.
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
      if (r.value.type != fb::Value_NONE) f.Add("value", ValueJson(r, catalogs));
      if (!r.when.empty()) f.Add("when", CondJson(r.when, catalogs));
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
      if (!r.when.empty()) f.Add("when", CondJson(r.when, catalogs));
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
      if (!r.when.empty()) f.Add("when", CondJson(r.when, catalogs));
      if (r.critical) f.Add("critical", "true");
      if (!r.note.empty()) f.Add("note", json::Quote(r.note));
      lines.push_back(f.Inline());
    }
    add("schedules", rules(lines));
  }
  return absl::StrCat("{\n", absl::StrJoin(top, ",\n"), "\n}\n");
}

}  // namespace internal

absl::StatusOr<std::string> Inspect(std::string_view payload, const CatalogSet& catalogs) {
  const absl::StatusOr<PayloadSummary> summary = VerifyPayload(payload);
  if (!summary.ok()) return summary.status();
  return internal::PrintPolicy(internal::ReadPayload(fb::GetPayload(payload.data())), catalogs);
}

absl::StatusOr<std::string> Inspect(std::string_view payload) {
  return Inspect(payload, CatalogSet::Builtin());
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

std::string WhenJson(const fb::Condition* w, const CatalogSet& catalogs) {
  return internal::CondJson(internal::ReadCondition(w), catalogs);
}

std::string WhenJson(const ConditionSpec& w, const CatalogSet& catalogs) {
  internal::Cond c;
  c.identity = w.identity;
  c.domain_joined = w.domain_joined;
  c.device_managed = w.device_managed;
  c.plans = w.plans;
  c.os_min = w.os_min;
  c.os_max = w.os_max;
  c.state_all = w.state_all;
  c.state_none = w.state_none;
  c.roles = w.roles;
  c.account_creation = w.account_creation;
  if (!w.region.empty()) c.regions.emplace_back(w.region);
  return internal::CondJson(c, catalogs);
}

}  // namespace edict::compiler
