// Policy JSON -> policy IR: the policy header and its rules, validated against a catalogue
// set. Conditions (`when`) are checked in conditions.cc.
#include "policy/compiler/checker.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "policy/compiler/compiler.h"
#include "policy/compiler/internal.h"
#include "policy/compiler/json.h"
#include "policy/edict_generated.h"

namespace edict::compiler::internal {

using json::Location;
using json::Value;

namespace {

constexpr char kDurationHint[] = "(\"7d\", \"12h\", \"30m\", \"45s\" or integer seconds)";

std::string AllowedSymbols(const SettingSpec& s) {
  return Join(s.values, s.values + s.value_count, ", ");
}

std::string ObligationList() {
  return Join(kObligationNames, kObligationNames + kObligationCount, ", ");
}

std::string WhoMaySet(uint8_t setters) {
  std::vector<std::string_view> who;
  if (setters & kSetterUser) who.push_back("the user");
  if (setters & kSetterOrganiser) who.push_back("the meeting organiser");
  return Join(who.begin(), who.end(), " and ");
}

// A short JSON rendering of a scalar or array value, for messages.
std::string JsonText(const Value& v) {
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

}  // namespace

std::string Checker::MissingProductHint(std::string_view id) const {
  const size_t dot = id.find('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  const std::string_view product = id.substr(0, dot);
  if (catalogs_.FindProduct(product) >= 0) return "";
  const std::string prefix = absl::StrCat(std::string(product), ".");
  for (const SettingSpec& s : catalogs_.settings()) {
    if (s.id.substr(0, prefix.size()) == prefix) return "";  // a built-in product
  }
  return absl::StrFormat(" (no catalogue of product %s is loaded)", json::Quote(product));
}

void Checker::UseProduct(int product) {
  if (product >= 0) products_used_.insert(product);
}

int ProductOfId(const CatalogSet& catalogs, std::string_view id) {
  const size_t dot = id.find('.');
  if (dot == std::string_view::npos) return -1;
  return catalogs.FindProduct(id.substr(0, dot));
}

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

PolicyIR Checker::CheckPolicy(const Value& root) {
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
  p.catalog_version = catalogs_.builtin_version();
  for (int product : products_used_) {  // std::set: in index order, i.e. product id order
    const ProductSpec& spec = catalogs_.products()[product];
    p.catalogs.push_back(CatalogRefIR{std::string(spec.id), spec.version, spec.hash});
  }
  std::sort(p.catalogs.begin(), p.catalogs.end(),
            [](const CatalogRefIR& a, const CatalogRefIR& b) { return a.product < b.product; });
  return p;
}

void Checker::Error(Location at, std::string message) {
  // Only the first kMaxDiagnostics are kept, so that a hostile policy cannot make the
  // diagnostics grow with its size; the others are counted.
  if (++error_count_ <= kMaxDiagnostics) errors_.push_back(Diagnostic{at, std::move(message)});
}

void Checker::CheckKeys(const Value& obj, std::string_view where,
                        std::initializer_list<std::string_view> allowed) {
  for (const Value::Member& m : obj.members()) {
    if (std::find(allowed.begin(), allowed.end(), m.key) == allowed.end()) {
      Error(m.key_location, absl::StrFormat("unknown key %s in %s", json::Quote(m.key), where));
    }
  }
}

bool Checker::ExpectArray(const Value& v, std::string_view key) {
  if (v.is_array()) return true;
  Error(v.location(), absl::StrFormat("\"%s\" must be an array", key));
  return false;
}

bool Checker::ExpectObject(const Value& v, std::string_view what) {
  if (v.is_object()) return true;
  Error(v.location(), absl::StrFormat("%s must be an object", what));
  return false;
}

// A required member; reports its absence at the object.
const Value* Checker::Require(const Value& obj, std::string_view what, std::string_view key) {
  const Value* v = obj.Find(key);
  if (v == nullptr) {
    Error(obj.location(), absl::StrFormat("%s is missing \"%s\"", what, key));
  }
  return v;
}

bool Checker::ReadText(const Value& v, std::string_view key, std::string* out) {
  if (!v.is_string()) {
    Error(v.location(), absl::StrFormat("\"%s\" must be a string", key));
    return false;
  }
  *out = v.string();
  return true;
}

bool Checker::ReadBool(const Value& v, std::string_view key, bool* out) {
  if (!v.is_bool()) {
    Error(v.location(), absl::StrFormat("\"%s\" must be true or false", key));
    return false;
  }
  *out = v.boolean();
  return true;
}

// A string naming a catalogue entry; returns its index or -1 (with an error).
int Checker::ReadId(const Value& v, std::string_view key, std::string_view what, FindFn find,
                    std::string* out) {
  if (!v.is_string()) {
    Error(v.location(), absl::StrFormat("\"%s\" must be a string", key));
    return -1;
  }
  *out = v.string();
  const int id = (catalogs_.*find)(v.string());
  if (id < 0) {
    Error(v.location(), absl::StrFormat("unknown %s %s%s", what, json::Quote(v.string()),
                                        MissingProductHint(v.string())));
  } else {
    UseProduct(ProductOfId(catalogs_, v.string()));
  }
  return id;
}

bool Checker::ReadTime(const Value& v, std::string_view key, int64_t* out) {
  absl::Time t;
  std::string err;
  if (!v.is_string() || !absl::ParseTime(absl::RFC3339_full, v.string(), &t, &err) ||
      t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    Error(v.location(),
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
bool Checker::ReadStrings(const Value& v, std::string_view key, bool allow_empty,
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

// Common optional keys of a rule: when, critical, note.
bool Checker::CheckRuleCommon(const Value& r, Cond* when, bool* critical, std::string* note) {
  bool when_ok = true;
  if (const Value* v = r.Find("when")) when_ok = CheckWhen(*v, when);
  if (const Value* v = r.Find("critical")) ReadBool(*v, "critical", critical);
  if (const Value* v = r.Find("note")) ReadText(*v, "note", note);
  return when_ok;
}

void Checker::CheckTarget(const Value& v, PolicyIR* p) {
  if (!ExpectObject(v, "\"target\"")) return;
  CheckKeys(v, "\"target\"", {"tenant", "devices", "groups"});
  if (const Value* t = v.Find("tenant")) ReadText(*t, "tenant", &p->tenant);
  if (const Value* d = v.Find("devices")) ReadStrings(*d, "devices", true, &p->devices);
  if (const Value* g = v.Find("groups")) ReadStrings(*g, "groups", true, &p->groups);
}

void Checker::CheckCompliance(const Value& v, PolicyIR* p) {
  if (!v.is_array()) {
    Error(v.location(), "\"compliance\" must be an array of compliance tag ids");
    return;
  }
  for (const Value& item : v.items()) {
    std::string id;
    const int tag =
        ReadId(item, "compliance", "compliance tag", &CatalogSet::FindComplianceTag, &id);
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
bool Checker::CheckSettingValue(const Value& v, const SettingSpec& s, RuleValue* out) {
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

void Checker::CheckSettingRule(const Value& r, PolicyIR* p) {
  if (!ExpectObject(r, "a setting rule")) return;
  CheckKeys(r, "setting rule", {"setting", "level", "value", "when", "critical", "note"});
  SettingRuleIR rule;
  bool key_ok = false;
  int id = -1;
  if (const Value* v = Require(r, "setting rule", "setting")) {
    id = ReadId(*v, "setting", "setting", &CatalogSet::FindSetting, &rule.setting);
    if (id >= 0) {
      const SettingSpec& s = catalogs_.settings()[id];
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
    const SettingSpec& s = catalogs_.settings()[id];
    if (CheckSettingValue(*value, s, &rule.value)) CheckForbidden(*value, s, rule.value);
  }
  const bool when_ok = CheckRuleCommon(r, &rule.when, &rule.critical, &rule.note);
  setting_sites_.push_back(RuleSite{r.location(), key_ok && when_ok,
                                    absl::StrCat(rule.setting, "\n", rule.level), rule.when});
  p->settings.push_back(std::move(rule));
}

void Checker::CheckForbidden(const Value& v, const SettingSpec& s, const RuleValue& value) {
  const std::optional<int64_t> encoded = EncodeValue(s, value);
  if (!encoded) return;
  for (int tag : tags_) {
    const ComplianceTagSpec& t = catalogs_.compliance_tags()[tag];
    for (int i = 0; i < t.forbid_count; ++i) {
      const ForbidSpec& f = t.forbids[i];
      if (catalogs_.settings()[f.setting].id == s.id && f.value_int == *encoded) {
        Error(v.location(), absl::StrFormat("value %s of %s is forbidden by compliance tag %s",
                                            JsonText(v), json::Quote(s.id), json::Quote(t.id)));
      }
    }
  }
}

void Checker::CheckDataUseRule(const Value& r, PolicyIR* p) {
  if (!ExpectObject(r, "a data-use rule")) return;
  CheckKeys(r, "data-use rule",
            {"class", "purpose", "effect", "obligations", "when", "critical", "note"});
  DataUseRuleIR rule;
  int data_class = -1;
  int purpose = -1;
  const Value* class_value = Require(r, "data-use rule", "class");
  if (class_value) {
    data_class =
        ReadId(*class_value, "class", "data class", &CatalogSet::FindDataClass, &rule.data_class);
  }
  if (const Value* v = Require(r, "data-use rule", "purpose")) {
    purpose = ReadId(*v, "purpose", "purpose", &CatalogSet::FindPurpose, &rule.purpose);
  }
  bool key_ok = data_class >= 0 && purpose >= 0;
  if (key_ok) {
    for (const BuiltinDataUse& b : catalogs_.BuiltinRulesFor(data_class, purpose)) {
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
                                     absl::StrCat(rule.data_class, "\n", rule.purpose), rule.when});
  p->data_use.push_back(std::move(rule));
}

void Checker::CheckScheduleRule(const Value& r, PolicyIR* p) {
  if (!ExpectObject(r, "a schedule rule")) return;
  CheckKeys(r, "schedule rule", {"schedule", "interval", "when", "critical", "note"});
  ScheduleRuleIR rule;
  bool key_ok = false;
  if (const Value* v = Require(r, "schedule rule", "schedule")) {
    key_ok = ReadId(*v, "schedule", "schedule", &CatalogSet::FindSchedule, &rule.schedule) >= 0;
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
void Checker::CheckConflicts(std::string_view vector_name, const std::vector<RuleSite>& sites,
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

}  // namespace edict::compiler::internal
