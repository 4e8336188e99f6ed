#include "tests/reference/random_policy.h"

#include <algorithm>
#include <cstddef>
#include <limits>

#include "flatbuffers/flatbuffers.h"
#include "policy/catalog.h"
#include "policy/edict_generated.h"

namespace edict::random_policy {
namespace {

// Small value domains, so that conditions match often. Rules and contexts share them.
constexpr std::string_view kGroupPool[] = {
    "g0", "g1", "g2", "G0", "g3", "", std::string_view("g0\0", 3)};
constexpr std::string_view kContextGroups[] = {"g0", "g1", "g2",
                                               "G0", "",   std::string_view("g0\0", 3)};
constexpr std::string_view kRegionPool[] = {"US", "SE", "us", "", std::string_view("US\0", 3)};
constexpr std::string_view kContextRegions[] = {"", "US", "SE", "us", std::string_view("US\0", 3)};
constexpr int32_t kOsPool[] = {59, 60, 61, 62, 60, 61, -1};
constexpr int32_t kContextOs[] = {0, 59, 60, 61, 62};
constexpr std::string_view kTextPool[] = {"", "a", "proxy.example", "x y"};
// Includes ids with an embedded NUL: equal to a real id only to a C-string comparison.
constexpr std::string_view kUnknownSettings[] = {"future.setting", "", "communicator.CEIP",
                                                 "groove.proxy_auth ",
                                                 std::string_view("communicator.ceip\0x", 19)};
constexpr std::string_view kUnknownNames[] = {"future", "", "Usage_Data",
                                              std::string_view("usage_data\0", 11)};
// Product-looking ids no catalogue of the sample set defines (only drawn with products).
constexpr std::string_view kUnknownProductSettings[] = {
    "acmevpn.future_setting", "acmevpn.Always_on", "acmevpn.", "otherproduct.always_on",
    std::string_view("acmevpn.mtu\0", 12)};
// Attribute names no catalogue declares (compare: acmevpn.network_trust, acmevpn.on_battery).
constexpr std::string_view kUnknownAttributes[] = {"acmevpn.network",
                                                   "acmevpn.Network_trust",
                                                   "future.attribute",
                                                   "",
                                                   "acmevpn.on_battery ",
                                                   "network_trust",
                                                   std::string_view("acmevpn.on_battery\0", 19)};
// Enum values a catalogue's attribute lacks (mixed with its real values in terms).
constexpr std::string_view kUnknownEnumValues[] = {"bogus", "Trusted", "", "trusted "};
// Members of string-set attributes: terms and contexts share them.
constexpr std::string_view kAttributeStrings[] = {"EU", "US",   "eu",
                                                  "",   "APAC", std::string_view("EU\0", 3)};

bool Chance(Rng& rng, double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }

int Uniform(Rng& rng, int lo, int hi) {  // inclusive
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

template <typename T, size_t N>
const T& Pick(Rng& rng, const T (&a)[N]) {
  return a[Uniform(rng, 0, N - 1)];
}

template <typename T>
const T& Pick(Rng& rng, const std::vector<T>& v) {
  return v[Uniform(rng, 0, static_cast<int>(v.size()) - 1)];
}

std::vector<std::string> NamesFrom(Rng& rng, const std::string_view* pool, size_t n, int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.emplace_back(pool[Uniform(rng, 0, static_cast<int>(n) - 1)]);
  return out;
}

// The product attributes of `set` (built-in rows, if any, are left to the built-in terms).
std::vector<const AttributeSpec*> ProductAttributes(const CatalogSet& set) {
  std::vector<const AttributeSpec*> out;
  for (const AttributeSpec& a : set.attributes()) {
    if (a.product >= 0) out.push_back(&a);
  }
  return out;
}

// A term on attribute `a`: usually one its type allows, sometimes one activation must
// reject (no `is`, no values, min > max), sometimes with fields its type ignores.
AttrTermSpec RandomTerm(Rng& rng, const Options& o, const AttributeSpec& a) {
  AttrTermSpec t;
  t.name = std::string(a.name);
  const bool bad = Chance(rng, 0.04);
  auto some_values = [&](auto&& pick_real, double unknown_rate) {
    std::vector<std::string> v;
    for (int n = Uniform(rng, 1, 3); n > 0; --n) {
      v.push_back(Chance(rng, unknown_rate) ? std::string(Pick(rng, kUnknownEnumValues))
                                            : std::string(pick_real()));
    }
    return v;
  };
  switch (a.type) {
    case AttributeType::kBool:
      t.is = bad ? 0 : static_cast<int8_t>(Uniform(rng, 1, 2));
      if (o.out_of_range_enums && Chance(rng, 0.05)) t.is = 3;
      break;
    case AttributeType::kEnum:
      if (bad) {
        if (Chance(rng, 0.5)) t.values.emplace();  // present but empty
      } else {
        t.values = some_values(
            [&] { return a.values[Uniform(rng, 0, static_cast<int>(a.values.size()) - 1)]; }, 0.12);
      }
      break;
    case AttributeType::kIntRange: {
      const int64_t pool[] = {a.min - 1,           a.min,     a.min + 1, 2,        3,
                              (a.min + a.max) / 2, a.max - 1, a.max,     a.max + 1};
      t.min = Pick(rng, pool);
      t.max = Pick(rng, pool);
      if (t.min > t.max) std::swap(t.min, t.max);
      if (Chance(rng, 0.03)) {
        t.min = std::numeric_limits<int64_t>::min();
        t.max = std::numeric_limits<int64_t>::max();
      }
      if (bad) {
        t.min = t.max == std::numeric_limits<int64_t>::max() ? t.max : t.max + 1;
        t.max = t.min - 1;
      }
      break;
    }
    case AttributeType::kStringSet:
      if (bad) {
        if (Chance(rng, 0.5)) t.values.emplace();
      } else {
        // An empty member: docs/policy-format.md lets a policy list only non-empty
        // strings, and docs/semantics.md does not say whether "" in a hand-made payload
        // matches a context's "" (the kernel never matches an empty context string), so
        // only the hostile mode writes one.
        t.values = some_values(
            [&] {
              std::string_view m = Pick(rng, kAttributeStrings);
              while (m.empty() && !o.out_of_range_enums) m = Pick(rng, kAttributeStrings);
              return m;
            },
            0.0);
      }
      break;
  }
  if (Chance(rng, 0.08)) {  // fields the type ignores
    if (a.type != AttributeType::kBool) t.is = static_cast<int8_t>(Uniform(rng, 1, 2));
    if (a.type != AttributeType::kEnum && a.type != AttributeType::kStringSet) {
      t.values = std::vector<std::string>{"trusted", "EU"};
    }
    if (a.type != AttributeType::kIntRange) {
      t.min = 5;
      t.max = Chance(rng, 0.5) ? 1 : 9;
    }
  }
  return t;
}

AttrTermSpec UnknownTerm(Rng& rng) {
  AttrTermSpec t;
  t.name = std::string(Pick(rng, kUnknownAttributes));
  t.is = static_cast<int8_t>(Uniform(rng, 0, 2));
  if (Chance(rng, 0.5)) t.values = std::vector<std::string>{"trusted", "EU"};
  t.min = 0;
  t.max = Uniform(rng, 0, 16);
  return t;
}

void RandomAttributeTerms(Rng& rng, const Options& o, CondSpec* c) {
  std::vector<const AttributeSpec*> pool = ProductAttributes(CatalogsOf(o));
  if (pool.empty()) return;
  if (!Chance(rng, o.attribute_rate)) {
    if (Chance(rng, 0.05)) c->attributes.emplace();  // present, empty: does not constrain
    return;
  }
  std::shuffle(pool.begin(), pool.end(), rng);
  c->attributes.emplace();
  const int n = Chance(rng, 0.1) ? static_cast<int>(pool.size()) : Uniform(rng, 1, 2);
  for (int i = 0; i < n && static_cast<size_t>(i) < pool.size(); ++i) {
    c->attributes->push_back(RandomTerm(rng, o, *pool[i]));
  }
  if (Chance(rng, 0.04)) {  // a second term on one attribute: both must hold
    c->attributes->push_back(RandomTerm(rng, o, *pool[0]));
  }
  if (Chance(rng, o.unknown_attribute_rate)) {
    const int at = Uniform(rng, 0, static_cast<int>(c->attributes->size()));
    c->attributes->insert(c->attributes->begin() + at, UnknownTerm(rng));
  }
}

std::optional<CondSpec> RandomCondition(Rng& rng, const Options& o) {
  if (Chance(rng, 0.15)) return std::nullopt;
  CondSpec c;
  if (Chance(rng, 0.1)) return c;  // present but empty
  static constexpr double kDensity[] = {0.12, 0.25, 0.45};
  const double p = Pick(rng, kDensity);
  auto enum_term = [&](int8_t* field) {
    if (!Chance(rng, p)) return;
    *field = static_cast<int8_t>(Uniform(rng, 1, 2));
    if (o.out_of_range_enums && Chance(rng, 0.1)) *field = Chance(rng, 0.5) ? 3 : -1;
  };
  enum_term(&c.identity);
  enum_term(&c.domain_joined);
  enum_term(&c.device_managed);
  if (Chance(rng, p)) c.plans = static_cast<uint8_t>(Uniform(rng, 1, 7));
  if (Chance(rng, p)) {
    switch (Uniform(rng, 0, 2)) {
      case 0:
        c.os_min = Pick(rng, kOsPool);
        break;
      case 1:
        c.os_max = Pick(rng, kOsPool);
        break;
      default:
        c.os_min = Pick(rng, kOsPool);
        c.os_max = std::max(c.os_min, Pick(rng, kOsPool));
        if (Chance(rng, 0.1)) std::swap(c.os_min, c.os_max);  // empty range
    }
  }
  if (Chance(rng, p))
    c.state_all = static_cast<uint32_t>(Chance(rng, 0.05) ? 4 : Uniform(rng, 1, 3));
  if (Chance(rng, p)) c.state_none = static_cast<uint32_t>(Uniform(rng, 1, 3));
  if (Chance(rng, p)) {
    c.groups = NamesFrom(rng, kGroupPool, std::size(kGroupPool), Uniform(rng, 1, 2));
  } else if (Chance(rng, 0.05)) {
    c.groups = std::vector<std::string>();  // present, empty: does not constrain
  }
  if (Chance(rng, p)) c.roles = static_cast<uint8_t>(Uniform(rng, 1, 15));
  enum_term(&c.account_creation);
  if (Chance(rng, p)) {
    c.regions = NamesFrom(rng, kRegionPool, std::size(kRegionPool), Uniform(rng, 1, 2));
  } else if (Chance(rng, 0.05)) {
    c.regions = std::vector<std::string>();
  }
  RandomAttributeTerms(rng, o, &c);
  return c;
}

std::optional<std::string> RandomNote(Rng& rng) {
  if (Chance(rng, 0.7)) return std::nullopt;
  return Chance(rng, 0.3) ? std::string() : std::string("admin note");
}

ValueKind KindOf(SettingType t) {
  switch (t) {
    case SettingType::kBool:
      return ValueKind::kBool;
    case SettingType::kEnum:
      return ValueKind::kEnum;
    case SettingType::kFlags:
      return ValueKind::kFlags;
    case SettingType::kInteger:
    case SettingType::kDuration:
      return ValueKind::kInt;
    case SettingType::kString:
      return ValueKind::kString;
  }
  return ValueKind::kNone;
}

// A well-formed value of kind `k` for `spec` (spec may be null for unknown settings).
void FillValue(Rng& rng, ValueKind k, const SettingSpec* spec, SettingRuleSpec* r) {
  r->kind = k;
  switch (k) {
    case ValueKind::kNone:
      break;
    case ValueKind::kBool:
      r->b = Chance(rng, 0.5);
      break;
    case ValueKind::kInt: {
      static constexpr int64_t kInts[] = {0, 1, -1, 3600, 604800, int64_t{1} << 40};
      r->i = Pick(rng, kInts);
      break;
    }
    case ValueKind::kEnum:
      if (spec != nullptr && spec->value_count > 0) {
        r->symbol = std::string(spec->values[Uniform(rng, 0, spec->value_count - 1)]);
      } else {
        r->symbol = "basic";
      }
      break;
    case ValueKind::kFlags:
      if (Chance(rng, 0.1)) break;  // absent symbols: the empty set
      r->symbols.emplace();
      if (spec != nullptr && spec->value_count > 0) {
        for (int n = Uniform(rng, 0, 3); n > 0; --n) {
          r->symbols->emplace_back(spec->values[Uniform(rng, 0, spec->value_count - 1)]);
        }
      }
      break;
    case ValueKind::kString:
      if (!Chance(rng, 0.1)) r->str = std::string(Pick(rng, kTextPool));
      break;
  }
}

// Handles of the product settings of `set` (empty for the built-in catalogue alone).
std::vector<int> ProductSettings(const CatalogSet& set) {
  std::vector<int> out;
  for (const ProductSpec& p : set.products()) {
    for (int i = 0; i < p.setting_count; ++i) out.push_back(p.first_setting + i);
  }
  return out;
}

SettingRuleSpec RandomSettingRule(Rng& rng, const Options& o, const std::vector<int>& focus) {
  const CatalogSet& set = CatalogsOf(o);
  SettingRuleSpec r;
  const bool broken = Chance(rng, o.broken_rate);
  int s = -1;
  if (broken && Chance(rng, 0.2)) {
    r.setting = set.products().empty() || Chance(rng, 0.5)
                    ? std::string(Pick(rng, kUnknownSettings))
                    : std::string(Pick(rng, kUnknownProductSettings));
  } else {
    s = Chance(rng, 0.85) ? Pick(rng, focus)
                          : Uniform(rng, 0, static_cast<int>(set.settings().size()) - 1);
    r.setting = std::string(set.settings()[s].id);
  }
  const SettingSpec* spec = s >= 0 ? &set.settings()[s] : nullptr;
  r.level = static_cast<int8_t>(Uniform(rng, 0, 1));
  if (o.out_of_range_enums && Chance(rng, 0.03)) r.level = Chance(rng, 0.5) ? 2 : -1;
  FillValue(rng, spec != nullptr ? KindOf(spec->type) : ValueKind::kBool, spec, &r);
  if (broken && spec != nullptr) {
    switch (Uniform(rng, 0, 4)) {
      case 0: {  // another kind (or none)
        ValueKind k = static_cast<ValueKind>(Uniform(rng, 0, 5));
        if (k == KindOf(spec->type)) k = ValueKind::kNone;
        r.symbol.reset();
        r.symbols.reset();
        r.str.reset();
        FillValue(rng, k, spec, &r);
        break;
      }
      case 1:
        r.value_table = false;
        break;
      case 2:
        if (r.kind == ValueKind::kEnum)
          r.symbol = Chance(rng, 0.7) ? "bogus" : std::optional<std::string>();
        if (r.kind == ValueKind::kFlags) {
          if (!r.symbols) r.symbols.emplace();
          r.symbols->push_back(Chance(rng, 0.5) ? "bogus" : "");
        }
        break;
      default:
        break;  // "broken" only through the setting choice (fixed / non-admin settings)
    }
  }
  r.when = RandomCondition(rng, o);
  r.critical = Chance(rng, o.critical_rate);
  r.note = RandomNote(rng);
  return r;
}

std::pair<int, int> RandomCell(Rng& rng, const CatalogSet& set) {
  const int classes = static_cast<int>(set.data_classes().size());
  const int purposes = static_cast<int>(set.purposes().size());
  if (classes > static_cast<int>(catalog::kDataClasses.size()) && Chance(rng, 0.4)) {
    // A product's class: a cell with a product default (one of them fixed), or any.
    std::vector<std::pair<int, int>> product_cells;
    for (const BuiltinDataUse& b : set.builtin_data_use()) {
      if (b.data_class >= catalog::kDataClasses.size()) {
        product_cells.emplace_back(b.data_class, b.purpose);
      }
    }
    if (!product_cells.empty() && Chance(rng, 0.5)) return Pick(rng, product_cells);
    return {Uniform(rng, static_cast<int>(catalog::kDataClasses.size()), classes - 1),
            Uniform(rng, 0, purposes - 1)};
  }
  // Cells with interesting built-in rules come up more often.
  static constexpr std::pair<int, int> kInteresting[] = {{1, 4}, {5, 2}, {19, 11}, {0, 2}, {10, 0},
                                                         {0, 5}, {7, 2}, {6, 9},   {7, 0}, {2, 3}};
  if (Chance(rng, 0.5)) return Pick(rng, kInteresting);
  return {Uniform(rng, 0, classes - 1), Uniform(rng, 0, purposes - 1)};
}

DataUseRuleSpec RandomDataUseRule(Rng& rng, const Options& o,
                                  const std::vector<std::pair<int, int>>& focus) {
  const CatalogSet& set = CatalogsOf(o);
  DataUseRuleSpec r;
  const auto [d, p] = Chance(rng, 0.85) ? Pick(rng, focus) : RandomCell(rng, set);
  r.data_class = std::string(set.data_classes()[d].id);
  r.purpose = std::string(set.purposes()[p].id);
  if (Chance(rng, o.broken_rate / 2)) r.data_class = std::string(Pick(rng, kUnknownNames));
  if (Chance(rng, o.broken_rate / 2)) r.purpose = std::string(Pick(rng, kUnknownNames));
  r.effect = static_cast<int8_t>(Uniform(rng, 0, 1));
  if (o.out_of_range_enums && Chance(rng, 0.03)) r.effect = 2;
  if (Chance(rng, 0.5)) r.obligations = static_cast<uint32_t>(Uniform(rng, 1, 127));
  r.when = RandomCondition(rng, o);
  r.critical = Chance(rng, o.critical_rate);
  r.note = RandomNote(rng);
  return r;
}

ScheduleRuleSpec RandomScheduleRule(Rng& rng, const Options& o) {
  const CatalogSet& set = CatalogsOf(o);
  ScheduleRuleSpec r;
  const bool several = set.schedules().size() > catalog::kSchedules.size();
  r.schedule =
      Chance(rng, o.broken_rate)
          ? std::string(Pick(rng, kUnknownNames))
          : std::string(
                set.schedules()[several
                                    ? Uniform(rng, 0, static_cast<int>(set.schedules().size()) - 1)
                                    : 0]
                    .id);
  static constexpr int64_t kIntervals[] = {1, 86400, 604800, 2592000, 7776000};
  static constexpr int64_t kBad[] = {0, -1, -604800};
  r.interval_seconds = Chance(rng, o.broken_rate) ? Pick(rng, kBad) : Pick(rng, kIntervals);
  r.when = RandomCondition(rng, o);
  r.critical = Chance(rng, o.critical_rate);
  r.note = RandomNote(rng);
  return r;
}

// ---- Serialisation ------------------------------------------------------------------

using StringVec =
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>>;

StringVec Strings(flatbuffers::FlatBufferBuilder& b,
                  const std::optional<std::vector<std::string>>& v) {
  if (!v) return 0;
  std::vector<flatbuffers::Offset<flatbuffers::String>> offs;
  for (const std::string& s : *v) offs.push_back(b.CreateString(s));
  return b.CreateVector(offs);
}

flatbuffers::Offset<flatbuffers::String> OptString(flatbuffers::FlatBufferBuilder& b,
                                                   const std::optional<std::string>& s) {
  return s ? b.CreateString(*s) : 0;
}

flatbuffers::Offset<fb::Condition> BuildCondition(flatbuffers::FlatBufferBuilder& b,
                                                  const std::optional<CondSpec>& c) {
  if (!c) return 0;
  const StringVec groups = Strings(b, c->groups);
  const StringVec regions = Strings(b, c->regions);
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::AttributeTerm>>> attributes = 0;
  if (c->attributes) {
    std::vector<flatbuffers::Offset<fb::AttributeTerm>> terms;
    for (const AttrTermSpec& t : *c->attributes) {
      const auto name = b.CreateString(t.name);
      const StringVec values = Strings(b, t.values);
      terms.push_back(
          fb::CreateAttributeTerm(b, name, static_cast<fb::Tri>(t.is), values, t.min, t.max));
    }
    attributes = b.CreateVector(terms);
  }
  return fb::CreateCondition(
      b, static_cast<fb::IdentityKind>(c->identity), static_cast<fb::Tri>(c->domain_joined),
      static_cast<fb::Tri>(c->device_managed), static_cast<fb::Plan>(c->plans), c->os_min,
      c->os_max, static_cast<fb::DeviceState>(c->state_all),
      static_cast<fb::DeviceState>(c->state_none), groups, static_cast<fb::Role>(c->roles),
      static_cast<fb::Tri>(c->account_creation), regions, attributes);
}

std::pair<fb::Value, flatbuffers::Offset<void>> BuildValue(flatbuffers::FlatBufferBuilder& b,
                                                           const SettingRuleSpec& r) {
  switch (r.kind) {
    case ValueKind::kNone:
      return {fb::Value_NONE, 0};
    case ValueKind::kBool:
      return {fb::Value_BoolValue,
              r.value_table ? fb::CreateBoolValue(b, r.b).Union() : flatbuffers::Offset<void>()};
    case ValueKind::kInt:
      return {fb::Value_IntValue,
              r.value_table ? fb::CreateIntValue(b, r.i).Union() : flatbuffers::Offset<void>()};
    case ValueKind::kEnum: {
      if (!r.value_table) return {fb::Value_EnumValue, 0};
      const auto sym = OptString(b, r.symbol);
      return {fb::Value_EnumValue, fb::CreateEnumValue(b, sym).Union()};
    }
    case ValueKind::kFlags: {
      if (!r.value_table) return {fb::Value_FlagsValue, 0};
      const StringVec syms = Strings(b, r.symbols);
      return {fb::Value_FlagsValue, fb::CreateFlagsValue(b, syms).Union()};
    }
    case ValueKind::kString: {
      if (!r.value_table) return {fb::Value_StringValue, 0};
      const auto s = OptString(b, r.str);
      return {fb::Value_StringValue, fb::CreateStringValue(b, s).Union()};
    }
  }
  return {fb::Value_NONE, 0};
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string Names(const std::optional<std::vector<std::string>>& v) {
  if (!v) return "absent";
  std::string out = "[";
  for (size_t i = 0; i < v->size(); ++i) out += (i ? "," : "") + Quote((*v)[i]);
  return out + "]";
}

std::string Suffix(const std::optional<CondSpec>& when, bool critical,
                   const std::optional<std::string>& note) {
  std::string out = " when " + DescribeCondition(when);
  if (critical) out += " CRITICAL";
  if (note) out += " note=" + Quote(*note);
  return out;
}

}  // namespace

const CatalogSet& CatalogsOf(const Options& o) {
  return o.catalogs != nullptr ? *o.catalogs : CatalogSet::Builtin();
}

PolicySpec RandomPolicy(Rng& rng, const Options& o) {
  const CatalogSet& set = CatalogsOf(o);
  const std::vector<int> product_settings = ProductSettings(set);
  PolicySpec p;
  p.serial = std::uniform_int_distribution<uint64_t>(1, 1000000)(rng);
  if (Chance(rng, 0.02)) p.serial = Chance(rng, 0.5) ? 0 : ~uint64_t{0};
  if (Chance(rng, o.bad_header_rate)) p.format_version = Chance(rng, 0.5) ? 0 : 2;
  if (Chance(rng, o.bad_header_rate)) p.wrong_identifier = true;

  // A few settings the policy concentrates on, often the atomic group's members.
  std::vector<int> focus;
  for (int n = Uniform(rng, 1, 5); n > 0; --n) {
    if (!product_settings.empty() && Chance(rng, o.product_setting_rate)) {
      focus.push_back(Pick(rng, product_settings));
    } else {
      focus.push_back(Uniform(rng, 0, static_cast<int>(catalog::kSettings.size()) - 1));
    }
  }
  if (Chance(rng, 0.4)) {
    const bool several = set.atomic_groups().size() > catalog::kAtomicGroups.size();
    const AtomicGroupSpec& g =
        set.atomic_groups()[several
                                ? Uniform(rng, 0, static_cast<int>(set.atomic_groups().size()) - 1)
                                : 0];
    for (int m = 0; m < g.member_count; ++m) focus.push_back(g.members[m]);
  }
  std::vector<std::pair<int, int>> cells;
  for (int n = Uniform(rng, 1, 4); n > 0; --n) cells.push_back(RandomCell(rng, set));

  for (int n = Uniform(rng, 0, o.max_setting_rules); n > 0; --n) {
    if (!p.settings.empty() && Chance(rng, 0.12)) {
      // Duplicate an earlier rule (same condition, same specificity), maybe new value.
      SettingRuleSpec copy = Pick(rng, p.settings);
      if (Chance(rng, 0.7)) {
        const int s = set.FindSetting(copy.setting);
        if (s >= 0 && copy.kind == KindOf(set.settings()[s].type)) {
          FillValue(rng, copy.kind, &set.settings()[s], &copy);
        }
      }
      p.settings.push_back(std::move(copy));
    } else {
      p.settings.push_back(RandomSettingRule(rng, o, focus));
    }
  }
  for (int n = Uniform(rng, 0, o.max_data_use_rules); n > 0; --n) {
    if (!p.data_use.empty() && Chance(rng, 0.12)) {
      DataUseRuleSpec copy = Pick(rng, p.data_use);
      copy.effect = static_cast<int8_t>(Uniform(rng, 0, 1));
      p.data_use.push_back(std::move(copy));
    } else {
      p.data_use.push_back(RandomDataUseRule(rng, o, cells));
    }
  }
  for (int n = Uniform(rng, 0, o.max_schedule_rules); n > 0; --n) {
    if (!p.schedules.empty() && Chance(rng, 0.15)) {
      ScheduleRuleSpec copy = Pick(rng, p.schedules);
      copy.interval_seconds = copy.interval_seconds > 0 ? copy.interval_seconds + 1 : 3600;
      p.schedules.push_back(std::move(copy));
    } else {
      p.schedules.push_back(RandomScheduleRule(rng, o));
    }
  }
  p.settings_absent = p.settings.empty() && Chance(rng, 0.5);
  p.data_use_absent = p.data_use.empty() && Chance(rng, 0.5);
  p.schedules_absent = p.schedules.empty() && Chance(rng, 0.5);
  return p;
}

std::vector<uint8_t> Build(const PolicySpec& spec) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fb::SettingRule>> settings;
  for (const SettingRuleSpec& r : spec.settings) {
    const auto id = b.CreateString(r.setting);
    const auto [type, value] = BuildValue(b, r);
    const auto when = BuildCondition(b, r.when);
    const auto note = OptString(b, r.note);
    settings.push_back(fb::CreateSettingRule(b, id, static_cast<fb::Level>(r.level), type, value,
                                             when, r.critical, note));
  }
  std::vector<flatbuffers::Offset<fb::DataUseRule>> data_use;
  for (const DataUseRuleSpec& r : spec.data_use) {
    const auto d = b.CreateString(r.data_class);
    const auto p = b.CreateString(r.purpose);
    const auto when = BuildCondition(b, r.when);
    const auto note = OptString(b, r.note);
    data_use.push_back(fb::CreateDataUseRule(b, d, p, static_cast<fb::Effect>(r.effect),
                                             static_cast<fb::Obligation>(r.obligations), when,
                                             r.critical, note));
  }
  std::vector<flatbuffers::Offset<fb::ScheduleRule>> schedules;
  for (const ScheduleRuleSpec& r : spec.schedules) {
    const auto id = b.CreateString(r.schedule);
    const auto when = BuildCondition(b, r.when);
    const auto note = OptString(b, r.note);
    schedules.push_back(fb::CreateScheduleRule(b, id, r.interval_seconds, when, r.critical, note));
  }
  const auto sv = spec.settings_absent && settings.empty() ? 0 : b.CreateVector(settings);
  const auto dv = spec.data_use_absent && data_use.empty() ? 0 : b.CreateVector(data_use);
  const auto kv = spec.schedules_absent && schedules.empty() ? 0 : b.CreateVector(schedules);
  const auto header = fb::CreateHeader(b, spec.format_version, catalog::kVersion, spec.serial);
  const auto root = fb::CreatePayload(b, header, sv, dv, kv);
  b.Finish(root, spec.wrong_identifier ? "XXXX" : fb::PayloadIdentifier());
  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

std::string DescribeCondition(const std::optional<CondSpec>& c) {
  if (!c) return "(absent)";
  std::string out;
  auto add = [&](const std::string& term) { out += (out.empty() ? "" : " ") + term; };
  if (c->identity) add("identity=" + std::to_string(c->identity));
  if (c->domain_joined) add("domain_joined=" + std::to_string(c->domain_joined));
  if (c->device_managed) add("device_managed=" + std::to_string(c->device_managed));
  if (c->plans) add("plans=" + std::to_string(c->plans));
  if (c->os_min) add("os_min=" + std::to_string(c->os_min));
  if (c->os_max) add("os_max=" + std::to_string(c->os_max));
  if (c->state_all) add("state_all=" + std::to_string(c->state_all));
  if (c->state_none) add("state_none=" + std::to_string(c->state_none));
  if (c->groups) add("groups=" + Names(c->groups));
  if (c->roles) add("roles=" + std::to_string(c->roles));
  if (c->account_creation) add("account_creation=" + std::to_string(c->account_creation));
  if (c->regions) add("regions=" + Names(c->regions));
  if (c->attributes) {
    std::string terms;
    for (const AttrTermSpec& t : *c->attributes) {
      terms += (terms.empty() ? "" : ", ") + Quote(t.name) + " is=" + std::to_string(t.is) +
               " values=" + Names(t.values) + " min=" + std::to_string(t.min) +
               " max=" + std::to_string(t.max);
    }
    add("attributes=[" + terms + "]");
  }
  return "{" + out + "}";
}

std::string Describe(const PolicySpec& spec) {
  std::string out = "payload format_version=" + std::to_string(spec.format_version) +
                    " serial=" + std::to_string(spec.serial) +
                    (spec.wrong_identifier ? " WRONG-IDENTIFIER" : "") + "\n";
  static constexpr std::string_view kKinds[] = {"none", "bool", "int", "enum", "flags", "string"};
  for (size_t i = 0; i < spec.settings.size(); ++i) {
    const SettingRuleSpec& r = spec.settings[i];
    std::string value = std::string(kKinds[static_cast<int>(r.kind)]);
    if (!r.value_table) {
      value += "(no table)";
    } else if (r.kind == ValueKind::kBool) {
      value += r.b ? " true" : " false";
    } else if (r.kind == ValueKind::kInt) {
      value += " " + std::to_string(r.i);
    } else if (r.kind == ValueKind::kEnum) {
      value += " " + (r.symbol ? Quote(*r.symbol) : "absent");
    } else if (r.kind == ValueKind::kFlags) {
      value += " " + Names(r.symbols);
    } else if (r.kind == ValueKind::kString) {
      value += " " + (r.str ? Quote(*r.str) : "absent");
    }
    out += "  settings[" + std::to_string(i) + "] " + Quote(r.setting) + " " +
           (r.level == 0   ? "mandatory"
            : r.level == 1 ? "recommended"
                           : "level" + std::to_string(r.level)) +
           " " + value + Suffix(r.when, r.critical, r.note) + "\n";
  }
  for (size_t i = 0; i < spec.data_use.size(); ++i) {
    const DataUseRuleSpec& r = spec.data_use[i];
    out += "  data_use[" + std::to_string(i) + "] " + Quote(r.data_class) + " x " +
           Quote(r.purpose) + " " +
           (r.effect == 1   ? "allow"
            : r.effect == 0 ? "deny"
                            : "effect" + std::to_string(r.effect)) +
           " obligations=" + std::to_string(r.obligations) + Suffix(r.when, r.critical, r.note) +
           "\n";
  }
  for (size_t i = 0; i < spec.schedules.size(); ++i) {
    const ScheduleRuleSpec& r = spec.schedules[i];
    out += "  schedules[" + std::to_string(i) + "] " + Quote(r.schedule) +
           " interval=" + std::to_string(r.interval_seconds) + Suffix(r.when, r.critical, r.note) +
           "\n";
  }
  return out;
}

ContextSample RandomContext(Rng& rng, bool hostile, const CatalogSet& catalogs) {
  ContextSample s;
  Context& c = s.mutable_context();
  c.identity = static_cast<Identity>(Uniform(rng, 0, 2));
  c.domain_joined = static_cast<TriState>(Uniform(rng, 0, 2));
  c.device_managed = static_cast<TriState>(Uniform(rng, 0, 2));
  static constexpr Plan kPlans[] = {Plan::kUnknown, Plan::kEnterprise, Plan::kSmallBusiness,
                                    Plan::kTrial};
  c.plan = Pick(rng, kPlans);
  c.os_generation = Pick(rng, kContextOs);
  c.device_state = static_cast<uint32_t>(Uniform(rng, 0, 3));
  static constexpr Role kRoles[] = {Role::kUnknown, Role::kUser, Role::kAdmin, Role::kOrganiser,
                                    Role::kParticipant};
  c.role = Pick(rng, kRoles);
  c.account_creation = Chance(rng, 0.3);
  c.region = Pick(rng, kContextRegions);
  if (hostile && Chance(rng, 0.2)) {
    switch (Uniform(rng, 0, 5)) {
      case 0:
        c.identity = static_cast<Identity>(3);
        break;
      case 1:
        c.plan = static_cast<Plan>(Chance(rng, 0.5) ? 3 : 8);
        break;
      case 2:
        c.role = static_cast<Role>(Chance(rng, 0.5) ? 6 : 16);
        break;
      case 3:
        c.os_generation = Chance(rng, 0.5) ? -1 : 1000;
        break;
      case 4:
        c.device_state = Chance(rng, 0.5) ? 4u : ~0u;
        break;
      default:
        c.domain_joined = static_cast<TriState>(3);
        break;
    }
  }
  std::vector<std::string_view> groups;
  for (std::string_view g : kContextGroups) {
    if (Chance(rng, 0.25)) groups.push_back(g);
  }
  s.set_groups(std::move(groups));
  // Product attributes: each absent (unknown) or given a value, in a random order.
  std::vector<const AttributeSpec*> attributes = ProductAttributes(catalogs);
  if (attributes.empty()) return s;
  std::shuffle(attributes.begin(), attributes.end(), rng);
  for (const AttributeSpec* a : attributes) {
    if (Chance(rng, 0.3)) continue;
    const int handle = catalogs.FindAttribute(a->name);
    switch (a->type) {
      case AttributeType::kBool:
        s.add_attribute(handle, hostile && Chance(rng, 0.1) ? 2 : Uniform(rng, 0, 1));
        break;
      case AttributeType::kEnum: {
        const int n = static_cast<int>(a->values.size());
        int64_t v = Uniform(rng, 0, n - 1);
        if (hostile && Chance(rng, 0.1)) v = Chance(rng, 0.5) ? n : -1;
        s.add_attribute(handle, v);
        break;
      }
      case AttributeType::kIntRange: {
        const int64_t pool[] = {a->min,     a->min + 1, 2, 3, (a->min + a->max) / 2,
                                a->max - 1, a->max};
        int64_t v = Pick(rng, pool);
        if (Chance(rng, 0.05)) v = Chance(rng, 0.5) ? a->min - 1 : a->max + 1;  // beyond declared
        s.add_attribute(handle, v);
        break;
      }
      case AttributeType::kStringSet: {
        std::vector<std::string_view> members;
        for (std::string_view m : kAttributeStrings) {
          if (Chance(rng, 0.3)) members.push_back(m);
        }
        s.add_attribute(handle, 0, std::move(members));
        break;
      }
    }
  }
  return s;
}

std::optional<UserChoice> RandomChoice(Rng& rng, int setting, const CatalogSet& catalogs) {
  if (Chance(rng, 0.3)) return std::nullopt;
  UserChoice u;
  u.made_at_account_creation = Chance(rng, 0.3);
  const absl::Span<const SettingSpec> settings = catalogs.settings();
  const SettingSpec* spec =
      setting >= 0 && static_cast<size_t>(setting) < settings.size() ? &settings[setting] : nullptr;
  if (spec == nullptr || Chance(rng, 0.1)) {
    u.value.type = static_cast<SettingType>(Uniform(rng, 0, 5));
  } else {
    u.value.type = spec->type;
  }
  switch (u.value.type) {
    case SettingType::kBool:
      u.value.number = Uniform(rng, 0, 1);
      if (Chance(rng, 0.03)) u.value.number = Chance(rng, 0.5) ? 2 : -1;  // not 0/1
      break;
    case SettingType::kEnum: {
      const int count = spec != nullptr ? spec->value_count : 3;
      u.value.number =
          Chance(rng, 0.1) ? (Chance(rng, 0.5) ? count : -1) : Uniform(rng, 0, count - 1);
      break;
    }
    case SettingType::kFlags: {
      const int count = spec != nullptr ? spec->value_count : 5;
      u.value.number = Uniform(rng, 0, (1 << count) - 1);
      if (Chance(rng, 0.1)) u.value.number |= int64_t{1} << count;
      break;
    }
    case SettingType::kInteger:
    case SettingType::kDuration:
      u.value.number = Uniform(rng, -2, 100000);
      break;
    case SettingType::kString:
      u.value.text = Pick(rng, kTextPool);
      break;
  }
  if (u.value.type != SettingType::kString && Chance(rng, 0.02)) u.value.text = "stray";
  return u;
}

int RandomSettingId(Rng& rng, const CatalogSet& catalogs) {
  const int n = static_cast<int>(catalogs.settings().size());
  if (Chance(rng, 0.03)) {
    const int kBad[] = {-1, n, 1000};
    return Pick(rng, kBad);
  }
  return Uniform(rng, 0, n - 1);
}

int RandomDataClassId(Rng& rng, const CatalogSet& catalogs) {
  const int n = static_cast<int>(catalogs.data_classes().size());
  if (Chance(rng, 0.03)) return Chance(rng, 0.5) ? -1 : n;
  return Uniform(rng, 0, n - 1);
}

int RandomPurposeId(Rng& rng, const CatalogSet& catalogs) {
  const int n = static_cast<int>(catalogs.purposes().size());
  if (Chance(rng, 0.03)) return Chance(rng, 0.5) ? -1 : n;
  return Uniform(rng, 0, n - 1);
}

int RandomScheduleId(Rng& rng, const CatalogSet& catalogs) {
  const int n = static_cast<int>(catalogs.schedules().size());
  if (Chance(rng, 0.05)) return Chance(rng, 0.5) ? -1 : n;
  return Uniform(rng, 0, n - 1);
}

int QuerySettingId(Rng& rng, const PolicySpec& spec, const CatalogSet& catalogs) {
  if (!spec.settings.empty() && Chance(rng, 0.75)) {
    const int s = catalogs.FindSetting(Pick(rng, spec.settings).setting);
    if (s >= 0) return s;
  }
  return RandomSettingId(rng, catalogs);
}

std::pair<int, int> QueryDataUseCell(Rng& rng, const PolicySpec& spec, const CatalogSet& catalogs) {
  if (!spec.data_use.empty() && Chance(rng, 0.7)) {
    const DataUseRuleSpec& r = Pick(rng, spec.data_use);
    const int d = catalogs.FindDataClass(r.data_class);
    const int p = catalogs.FindPurpose(r.purpose);
    if (d >= 0 && p >= 0) return {d, p};
  }
  if (Chance(rng, 0.5)) return RandomCell(rng, catalogs);
  return {RandomDataClassId(rng, catalogs), RandomPurposeId(rng, catalogs)};
}

}  // namespace edict::random_policy
