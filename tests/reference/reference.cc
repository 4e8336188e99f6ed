#include "tests/reference/reference.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>

#include "flatbuffers/flatbuffers.h"

namespace edict::reference {
namespace {

std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : s->string_view();
}

// ---- Condition terms (docs/semantics.md, Conditions) ----------------------------------
// Each helper answers one term, given that the term is constrained.

bool IdentityTerm(int term, const Context& ctx) {
  // A term value outside its enum never matches (docs/semantics.md).
  if (term != fb::IdentityKind_Managed && term != fb::IdentityKind_Unmanaged) return false;
  if (ctx.identity == Identity::kUnknown) return false;
  return static_cast<int>(ctx.identity) == term;
}

bool TriTerm(int term, TriState value) {
  if (term != fb::Tri_Yes && term != fb::Tri_No) return false;
  if (value == TriState::kUnknown) return false;
  return static_cast<int>(value) == term;
}

bool PlansTerm(uint32_t bits, const Context& ctx) {
  if (ctx.plan == Plan::kUnknown) return false;
  return (bits & static_cast<uint32_t>(ctx.plan)) != 0;
}

bool RolesTerm(uint32_t bits, const Context& ctx) {
  if (ctx.role == Role::kUnknown) return false;
  return (bits & static_cast<uint32_t>(ctx.role)) != 0;
}

bool OsTerm(int32_t os_min, int32_t os_max, const Context& ctx) {
  if (ctx.os_generation == 0) return false;
  if (os_min != 0 && ctx.os_generation < os_min) return false;
  if (os_max != 0 && ctx.os_generation > os_max) return false;
  return true;
}

bool AccountCreationTerm(int term, const Context& ctx) {
  if (term == fb::Tri_Yes) return ctx.account_creation;
  if (term == fb::Tri_No) return !ctx.account_creation;
  return false;  // neither Yes nor No: nothing satisfies it
}

bool RegionTerm(std::string_view region, const Context& ctx) {
  if (ctx.region.empty()) return false;
  return ctx.region == region;
}

// ---- Catalogue look-ups: linear scans by name over the set's tables -------------------

template <typename T>
int ScanById(absl::Span<const T> table, std::string_view id) {
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

int SymbolIndex(const SettingSpec& spec, std::string_view symbol) {
  for (int i = 0; i < spec.value_count; ++i) {
    if (spec.values[i] == symbol) return i;
  }
  return -1;
}

const AttributeSpec* AttributeNamed(const CatalogSet& set, std::string_view name) {
  for (const AttributeSpec& a : set.attributes()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// The context's value of the attribute named `name`, or null when the context does not
// list it (entries with a handle outside the set are ignored).
const AttributeValue* ContextValue(const CatalogSet& set, std::string_view name,
                                   const Context& ctx) {
  for (const AttributeValue& v : ctx.attributes) {
    if (v.attribute < 0 || static_cast<size_t>(v.attribute) >= set.attributes().size()) continue;
    if (set.attributes()[v.attribute].name == name) return &v;
  }
  return nullptr;
}

bool ContainsString(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v,
                    std::string_view s) {
  if (v == nullptr) return false;
  for (const flatbuffers::String* x : *v) {
    if (x->string_view() == s) return true;
  }
  return false;
}

// The value a setting rule sets (the rule has passed the activation checks).
Value RuleValue(const SettingSpec& spec, const fb::SettingRule* rule) {
  Value v;
  v.type = spec.type;
  switch (spec.type) {
    case SettingType::kBool:
      v.number = rule->value_as_BoolValue()->value() ? 1 : 0;
      break;
    case SettingType::kInteger:
    case SettingType::kDuration:
      v.number = rule->value_as_IntValue()->value();
      break;
    case SettingType::kEnum:
      v.number = SymbolIndex(spec, View(rule->value_as_EnumValue()->symbol()));
      break;
    case SettingType::kFlags: {
      const auto* symbols = rule->value_as_FlagsValue()->symbols();
      if (symbols != nullptr) {
        for (const flatbuffers::String* s : *symbols) {
          v.number |= int64_t{1} << SymbolIndex(spec, s->string_view());
        }
      }
      break;
    }
    case SettingType::kString:
      v.text = View(rule->value_as_StringValue()->value());
      break;
  }
  return v;
}

Value DefaultValue(const SettingSpec& spec) {
  Value v;
  v.type = spec.type;
  if (spec.type == SettingType::kString) {
    v.text = spec.default_string;
  } else {
    v.number = spec.default_int;
  }
  return v;
}

fb::Value ExpectedValueType(SettingType t) {
  switch (t) {
    case SettingType::kBool:
      return fb::Value_BoolValue;
    case SettingType::kInteger:
    case SettingType::kDuration:
      return fb::Value_IntValue;
    case SettingType::kEnum:
      return fb::Value_EnumValue;
    case SettingType::kFlags:
      return fb::Value_FlagsValue;
    case SettingType::kString:
      return fb::Value_StringValue;
  }
  return fb::Value_NONE;
}

// Activation checks of one rule; nullopt when the rule is valid.
std::optional<SkipReason> CheckSetting(const fb::SettingRule* rule, const CatalogSet& set) {
  const int s = ScanById(set.settings(), View(rule->setting()));
  if (s < 0) return SkipReason::kUnknownSetting;
  const SettingSpec& spec = set.settings()[s];
  // Wrong type, or no value at all (no union member, or a member without its table).
  if (rule->value_type() != ExpectedValueType(spec.type) || rule->value() == nullptr) {
    return SkipReason::kWrongValueType;
  }
  if (spec.type == SettingType::kEnum) {
    const auto* sym = rule->value_as_EnumValue()->symbol();
    if (sym == nullptr || SymbolIndex(spec, sym->string_view()) < 0) {
      return SkipReason::kUnknownSymbol;
    }
  }
  if (spec.type == SettingType::kFlags) {
    const auto* symbols = rule->value_as_FlagsValue()->symbols();
    if (symbols != nullptr) {
      for (const flatbuffers::String* sym : *symbols) {
        if (SymbolIndex(spec, sym->string_view()) < 0) return SkipReason::kUnknownSymbol;
      }
    }
  }
  if (spec.fixed || (spec.setters & kSetterAdmin) == 0) return SkipReason::kNotAdminSettable;
  if (!AttributeTermsValid(rule->when(), set)) return SkipReason::kUnknownAttribute;
  return std::nullopt;
}

bool CellFixed(const CatalogSet& set, int data_class, int purpose) {
  for (const BuiltinDataUse& b : set.BuiltinRulesFor(data_class, purpose)) {
    if (b.fixed) return true;
  }
  return false;
}

std::optional<SkipReason> CheckDataUse(const fb::DataUseRule* rule, const CatalogSet& set) {
  const int d = ScanById(set.data_classes(), View(rule->data_class()));
  if (d < 0) return SkipReason::kUnknownDataClass;
  const int p = ScanById(set.purposes(), View(rule->purpose()));
  if (p < 0) return SkipReason::kUnknownPurpose;
  if (CellFixed(set, d, p)) return SkipReason::kFixedCell;
  if (!AttributeTermsValid(rule->when(), set)) return SkipReason::kUnknownAttribute;
  return std::nullopt;
}

std::optional<SkipReason> CheckSchedule(const fb::ScheduleRule* rule, const CatalogSet& set) {
  if (ScanById(set.schedules(), View(rule->schedule())) < 0) return SkipReason::kUnknownSchedule;
  if (rule->interval_seconds() <= 0) return SkipReason::kBadInterval;
  if (!AttributeTermsValid(rule->when(), set)) return SkipReason::kUnknownAttribute;
  return std::nullopt;
}

bool IsMandatory(const fb::SettingRule* rule) { return rule->level() == fb::Level_Mandatory; }

// Global indices of built-in rules, most specific first, ties in catalogue order.
template <typename T>
std::vector<int32_t> BuiltinOrder(absl::Span<const T> all, const Table<T>& cell) {
  std::vector<int32_t> order;
  for (size_t i = 0; i < cell.size(); ++i) {
    order.push_back(static_cast<int32_t>(&cell[i] - all.data()));
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return all[a].specificity > all[b].specificity; });
  return order;
}

}  // namespace

// ---- Conditions ---------------------------------------------------------------------

bool AttributeTermHolds(const fb::AttributeTerm* term, const Context& ctx,
                        const CatalogSet& catalogs) {
  const std::string_view name = View(term->name());
  const AttributeSpec* spec = AttributeNamed(catalogs, name);
  if (spec == nullptr) return false;
  const AttributeValue* value = ContextValue(catalogs, name, ctx);
  if (value == nullptr) return false;  // unknown: never satisfies a term
  switch (spec->type) {
    case AttributeType::kBool:
      if (term->is() == fb::Tri_Yes) return value->number == 1;
      if (term->is() == fb::Tri_No) return value->number == 0;
      return false;
    case AttributeType::kEnum: {
      if (value->number < 0 || static_cast<size_t>(value->number) >= spec->values.size()) {
        return false;
      }
      return ContainsString(term->values(), spec->values[value->number]);
    }
    case AttributeType::kIntRange:
      return term->min() <= value->number && value->number <= term->max();
    case AttributeType::kStringSet:
      for (std::string_view s : value->strings) {
        if (ContainsString(term->values(), s)) return true;
      }
      return false;
  }
  return false;
}

bool AttributeTermsValid(const fb::Condition* c, const CatalogSet& catalogs) {
  if (c == nullptr || c->attributes() == nullptr) return true;
  for (const fb::AttributeTerm* term : *c->attributes()) {
    // Only product attributes have attribute terms (built-in ones have Condition fields).
    const AttributeSpec* spec = AttributeNamed(catalogs, View(term->name()));
    if (spec == nullptr || spec->product < 0) return false;
    const bool has_values = term->values() != nullptr && term->values()->size() != 0;
    switch (spec->type) {
      case AttributeType::kBool:
        if (term->is() != fb::Tri_Yes && term->is() != fb::Tri_No) return false;
        break;
      case AttributeType::kEnum:
      case AttributeType::kStringSet:
        if (!has_values) return false;
        break;
      case AttributeType::kIntRange:
        if (term->min() > term->max()) return false;
        break;
    }
  }
  return true;
}

// Specificity counted from docs/semantics.md (not policy/condition.h): one per constrained
// term, os_min/os_max together once, each attribute term one; capped at 15 for ordering.
int OrderSpecificity(const fb::Condition* c) {
  if (c == nullptr) return 0;
  auto non_empty = [](const auto* v) { return v != nullptr && v->size() != 0; };
  int n = (c->identity() != fb::IdentityKind_Any) + (c->domain_joined() != fb::Tri_Any) +
          (c->device_managed() != fb::Tri_Any) + (c->plans() != 0) +
          (c->os_min() != 0 || c->os_max() != 0) + (c->state_all() != 0) + (c->state_none() != 0) +
          non_empty(c->groups()) + (c->roles() != 0) + (c->account_creation() != fb::Tri_Any) +
          non_empty(c->regions());
  if (c->attributes() != nullptr) n += static_cast<int>(c->attributes()->size());
  return std::min(n, 15);
}

bool Matches(const fb::Condition* c, const Context& ctx, const CatalogSet& catalogs) {
  if (c == nullptr) return true;
  if (c->identity() != fb::IdentityKind_Any && !IdentityTerm(c->identity(), ctx)) return false;
  if (c->domain_joined() != fb::Tri_Any && !TriTerm(c->domain_joined(), ctx.domain_joined)) {
    return false;
  }
  if (c->device_managed() != fb::Tri_Any && !TriTerm(c->device_managed(), ctx.device_managed)) {
    return false;
  }
  if (c->plans() != 0 && !PlansTerm(c->plans(), ctx)) return false;
  if ((c->os_min() != 0 || c->os_max() != 0) && !OsTerm(c->os_min(), c->os_max(), ctx)) {
    return false;
  }
  if (c->state_all() != 0 && (ctx.device_state & c->state_all()) != c->state_all()) return false;
  if (c->state_none() != 0 && (ctx.device_state & c->state_none()) != 0) return false;
  if (c->groups() != nullptr && c->groups()->size() != 0) {
    bool any = false;
    for (const flatbuffers::String* g : *c->groups()) {
      for (std::string_view have : ctx.groups) any = any || have == g->string_view();
    }
    if (!any) return false;
  }
  if (c->roles() != 0 && !RolesTerm(c->roles(), ctx)) return false;
  if (c->account_creation() != fb::Tri_Any && !AccountCreationTerm(c->account_creation(), ctx)) {
    return false;
  }
  if (c->regions() != nullptr && c->regions()->size() != 0) {
    bool any = false;
    for (const flatbuffers::String* r : *c->regions())
      any = any || RegionTerm(r->string_view(), ctx);
    if (!any) return false;
  }
  if (c->attributes() != nullptr) {
    for (const fb::AttributeTerm* term : *c->attributes()) {
      if (!AttributeTermHolds(term, ctx, catalogs)) return false;
    }
  }
  return true;
}

bool Matches(const ConditionSpec& c, const Context& ctx) {
  if (c.identity != 0 && !IdentityTerm(c.identity, ctx)) return false;
  if (c.domain_joined != 0 && !TriTerm(c.domain_joined, ctx.domain_joined)) return false;
  if (c.device_managed != 0 && !TriTerm(c.device_managed, ctx.device_managed)) return false;
  if (c.plans != 0 && !PlansTerm(c.plans, ctx)) return false;
  if ((c.os_min != 0 || c.os_max != 0) && !OsTerm(c.os_min, c.os_max, ctx)) return false;
  if (c.state_all != 0 && (ctx.device_state & c.state_all) != c.state_all) return false;
  if (c.state_none != 0 && (ctx.device_state & c.state_none) != 0) return false;
  if (c.roles != 0 && !RolesTerm(c.roles, ctx)) return false;
  if (c.account_creation != 0 && !AccountCreationTerm(c.account_creation, ctx)) return false;
  if (!c.region.empty() && !RegionTerm(c.region, ctx)) return false;
  return true;
}

int BuiltinSpecificity(const ConditionSpec& c) {
  return (c.identity != 0) + (c.domain_joined != 0) + (c.device_managed != 0) + (c.plans != 0) +
         (c.os_min != 0 || c.os_max != 0) + (c.state_all != 0) + (c.state_none != 0) +
         (c.roles != 0) + (c.account_creation != 0) + !c.region.empty();
}

bool Enabled(const Value& v) {
  return v.type == SettingType::kString ? !v.text.empty() : v.number != 0;
}

// ---- Activation ---------------------------------------------------------------------

ReferencePolicy ReferencePolicy::Activate(absl::Span<const uint8_t> payload,
                                          const CatalogSet& catalogs) {
  ReferencePolicy p(catalogs);
  if (reinterpret_cast<uintptr_t>(payload.data()) % 8 != 0) {
    p.status_ = absl::InvalidArgumentError("payload is not 8-byte aligned");
    return p;
  }
  flatbuffers::Verifier verifier(payload.data(), payload.size());
  if (payload.empty() || !fb::VerifyPayloadBuffer(verifier)) {
    p.status_ = absl::InvalidArgumentError("payload does not verify");
    return p;
  }
  const fb::Payload* root = fb::GetPayload(payload.data());
  if (root->header()->format_version() != 1) {
    p.status_ = absl::FailedPreconditionError("unsupported format version");
    return p;
  }
  bool critical_skipped = false;
  auto record = [&](RuleKind kind, uint32_t index, std::optional<SkipReason> reason,
                    std::string_view name, bool critical, std::vector<bool>* valid) {
    valid->push_back(!reason.has_value());
    if (!reason) return;
    p.skipped_.push_back({kind, *reason, index, std::string(name)});
    critical_skipped = critical_skipped || critical;
  };
  if (root->settings() != nullptr) {
    for (uint32_t i = 0; i < root->settings()->size(); ++i) {
      const fb::SettingRule* r = root->settings()->Get(i);
      record(RuleKind::kSetting, i, CheckSetting(r, catalogs), View(r->setting()), r->critical(),
             &p.setting_valid_);
    }
  }
  if (root->data_use() != nullptr) {
    for (uint32_t i = 0; i < root->data_use()->size(); ++i) {
      const fb::DataUseRule* r = root->data_use()->Get(i);
      const std::optional<SkipReason> reason = CheckDataUse(r, catalogs);
      const std::string_view name =
          reason == SkipReason::kUnknownPurpose ? View(r->purpose()) : View(r->data_class());
      record(RuleKind::kDataUse, i, reason, name, r->critical(), &p.data_use_valid_);
    }
  }
  if (root->schedules() != nullptr) {
    for (uint32_t i = 0; i < root->schedules()->size(); ++i) {
      const fb::ScheduleRule* r = root->schedules()->Get(i);
      record(RuleKind::kSchedule, i, CheckSchedule(r, catalogs), View(r->schedule()), r->critical(),
             &p.schedule_valid_);
    }
  }
  if (critical_skipped) {
    ReferencePolicy failed(catalogs);
    failed.status_ = absl::FailedPreconditionError("a critical rule was skipped");
    failed.skipped_ = std::move(p.skipped_);
    return failed;
  }
  p.bytes_.assign(payload.begin(), payload.end());
  return p;
}

const fb::Payload* ReferencePolicy::payload() const {
  if (!status_.ok() || bytes_.empty()) return nullptr;
  return fb::GetPayload(bytes_.data());
}

uint64_t ReferencePolicy::serial() const {
  const fb::Payload* p = payload();
  return p == nullptr ? 0 : p->header()->serial();
}

// ---- Resolve ------------------------------------------------------------------------

Resolution ReferencePolicy::Resolve(int setting, const Context& ctx,
                                    const UserChoice* choice) const {
  Resolution r;
  r.serial = serial();
  const absl::Span<const SettingSpec> settings = catalogs_->settings();
  if (setting < 0 || static_cast<size_t>(setting) >= settings.size()) {
    r.setting = -1;
    r.notes = kNoteUnknownSetting;
    return r;
  }
  const SettingSpec& spec = settings[setting];
  r.setting = setting;
  auto finish = [&](Resolution res) {
    res.obligations = Enabled(res.value) ? spec.obligations_if_enabled : 0;
    return res;
  };

  // 1. Fixed.
  if (spec.fixed) {
    r.value = DefaultValue(spec);
    r.source = Source::kFixed;
    r.locked = true;
    if (choice != nullptr) r.notes |= kNoteChoiceOverriddenByLock;
    return finish(r);
  }

  const fb::Payload* p = payload();
  const auto* rules = p == nullptr ? nullptr : p->settings();
  // Every matching valid rule of `id`, in candidate order; returns the first.
  auto first_candidate = [&](std::string_view id, bool mandatory_only) -> int32_t {
    if (rules == nullptr) return -1;
    std::vector<std::pair<std::pair<int, int>, int32_t>> candidates;
    for (uint32_t i = 0; i < rules->size(); ++i) {
      const fb::SettingRule* rule = rules->Get(i);
      if (!setting_valid_[i] || View(rule->setting()) != id) continue;
      if (mandatory_only && !IsMandatory(rule)) continue;
      if (!Matches(rule->when(), ctx, *catalogs_)) continue;
      candidates.push_back(
          {{IsMandatory(rule) ? 0 : 1, -OrderSpecificity(rule->when())}, static_cast<int32_t>(i)});
    }
    if (candidates.empty()) return -1;
    return std::min_element(candidates.begin(), candidates.end())->second;
  };

  // 2. First matching candidate.
  int32_t winner = first_candidate(spec.id, /*mandatory_only=*/false);
  bool winner_mandatory = winner >= 0 && IsMandatory(rules->Get(winner));

  // 3. Atomic group.
  if (spec.atomic_group >= 0 && !winner_mandatory) {
    const AtomicGroupSpec& group = catalogs_->atomic_groups()[spec.atomic_group];
    bool decided_elsewhere = false;
    for (int m = 0; m < group.member_count; ++m) {
      if (group.members[m] == setting) continue;
      decided_elsewhere =
          decided_elsewhere || first_candidate(settings[group.members[m]].id, true) >= 0;
    }
    if (decided_elsewhere) {
      winner = -1;  // S's recommended rules are ignored
      r.notes |= kNoteAtomicGroup;
    }
  }

  // 4. Mandatory winner.
  if (winner_mandatory) {
    r.value = RuleValue(spec, rules->Get(winner));
    r.source = Source::kMandatory;
    r.locked = true;
    r.rule = winner;
    if (choice != nullptr) r.notes |= kNoteChoiceOverriddenByLock;
    return finish(r);
  }

  // 5. User choice.
  if (choice != nullptr) {
    const bool permitted = (spec.setters & kSetterUser) != 0 ||
                           ((spec.setters & kSetterOrganiser) != 0 && ctx.role == Role::kOrganiser);
    bool valid = choice->value.type == spec.type;
    if (valid && spec.type == SettingType::kBool) {
      valid = choice->value.number == 0 || choice->value.number == 1;
    }
    if (valid && spec.type == SettingType::kEnum) {
      valid = choice->value.number >= 0 && choice->value.number < spec.value_count;
    }
    if (valid && spec.type == SettingType::kFlags) {
      valid = choice->value.number >= 0 && (choice->value.number >> spec.value_count) == 0;
    }
    const bool in_time =
        !spec.at_account_creation || choice->made_at_account_creation || ctx.account_creation;
    if (!permitted) r.notes |= kNoteChoiceNotPermitted;
    if (!valid) r.notes |= kNoteChoiceInvalid;
    if (!in_time) r.notes |= kNoteChoiceAfterCreation;
    if (permitted && valid && in_time) {
      r.value = choice->value;
      r.source = Source::kUser;
      return finish(r);
    }
  }

  // 6. Recommended winner.
  if (winner >= 0) {
    r.value = RuleValue(spec, rules->Get(winner));
    r.source = Source::kRecommended;
    r.rule = winner;
    return finish(r);
  }

  // 7. Default.
  r.value = DefaultValue(spec);
  r.source = Source::kDefault;
  return finish(r);
}

// ---- MayUse -------------------------------------------------------------------------

DataUseDecision ReferencePolicy::MayUse(int data_class, int purpose, const Context& ctx) const {
  DataUseDecision d;
  d.serial = serial();
  const CatalogSet& set = *catalogs_;
  if (data_class < 0 || static_cast<size_t>(data_class) >= set.data_classes().size() ||
      purpose < 0 || static_cast<size_t>(purpose) >= set.purposes().size()) {
    d.unknown = true;
    return d;
  }
  d.data_class = data_class;
  d.purpose = purpose;
  const Obligations class_obligations = set.data_classes()[data_class].obligations;
  auto decide = [&](bool allow, Obligations rule_obligations) {
    d.allowed = allow;
    const Obligations all = class_obligations | rule_obligations;
    d.obligations = allow ? all : (all & kNeverCollect);
  };

  const absl::Span<const BuiltinDataUse> all_builtins = set.builtin_data_use();
  const std::vector<int32_t> builtins =
      BuiltinOrder(all_builtins, set.BuiltinRulesFor(data_class, purpose));
  auto first_builtin = [&]() -> int32_t {
    for (int32_t b : builtins) {
      if (Matches(all_builtins[b].when, ctx)) return b;
    }
    return -1;
  };

  // 1. Fixed cell.
  if (CellFixed(set, data_class, purpose)) {
    const int32_t b = first_builtin();
    if (b >= 0) {
      d.source = Source::kFixed;
      d.builtin = b;
      decide(all_builtins[b].allow, all_builtins[b].obligations);
      return d;
    }
    decide(false, 0);
    return d;
  }

  // 2. Admin rules: specificity, then index.
  const fb::Payload* p = payload();
  if (p != nullptr && p->data_use() != nullptr) {
    const std::string_view class_id = set.data_classes()[data_class].id;
    const std::string_view purpose_id = set.purposes()[purpose].id;
    int32_t best = -1;
    int best_specificity = -1;
    for (uint32_t i = 0; i < p->data_use()->size(); ++i) {
      const fb::DataUseRule* rule = p->data_use()->Get(i);
      if (!data_use_valid_[i] || View(rule->data_class()) != class_id ||
          View(rule->purpose()) != purpose_id || !Matches(rule->when(), ctx, set)) {
        continue;
      }
      if (OrderSpecificity(rule->when()) > best_specificity) {
        best = static_cast<int32_t>(i);
        best_specificity = OrderSpecificity(rule->when());
      }
    }
    if (best >= 0) {
      const fb::DataUseRule* rule = p->data_use()->Get(best);
      d.source = Source::kMandatory;
      d.rule = best;
      decide(rule->effect() == fb::Effect_Allow, rule->obligations());
      return d;
    }
  }

  // 3. Built-in rules; 4. deny.
  const int32_t b = first_builtin();
  if (b >= 0) {
    d.builtin = b;
    decide(all_builtins[b].allow, all_builtins[b].obligations);
    return d;
  }
  decide(false, 0);
  return d;
}

// ---- Schedule -----------------------------------------------------------------------

ScheduleAnswer ReferencePolicy::Schedule(int schedule, const Context& ctx) const {
  ScheduleAnswer s;
  s.serial = serial();
  const CatalogSet& set = *catalogs_;
  if (schedule < 0 || static_cast<size_t>(schedule) >= set.schedules().size()) {
    s.unknown = true;
    return s;
  }
  s.schedule = schedule;
  const fb::Payload* p = payload();
  if (p != nullptr && p->schedules() != nullptr) {
    const std::string_view id = set.schedules()[schedule].id;
    int32_t best = -1;
    int best_specificity = -1;
    for (uint32_t i = 0; i < p->schedules()->size(); ++i) {
      const fb::ScheduleRule* rule = p->schedules()->Get(i);
      if (!schedule_valid_[i] || View(rule->schedule()) != id || !Matches(rule->when(), ctx, set)) {
        continue;
      }
      if (OrderSpecificity(rule->when()) > best_specificity) {
        best = static_cast<int32_t>(i);
        best_specificity = OrderSpecificity(rule->when());
      }
    }
    if (best >= 0) {
      s.interval_seconds = p->schedules()->Get(best)->interval_seconds();
      s.source = Source::kMandatory;
      s.rule = best;
      return s;
    }
  }
  const absl::Span<const BuiltinSchedule> all_builtins = set.builtin_schedules();
  for (int32_t b : BuiltinOrder(all_builtins, set.BuiltinRulesFor(schedule))) {
    if (Matches(all_builtins[b].when, ctx)) {
      s.interval_seconds = all_builtins[b].interval_seconds;
      s.builtin = b;
      return s;
    }
  }
  return s;
}

// ---- Names --------------------------------------------------------------------------

std::string_view SourceLabel(Source s) {
  switch (s) {
    case Source::kDefault:
      return "default";
    case Source::kFixed:
      return "fixed";
    case Source::kMandatory:
      return "mandatory";
    case Source::kUser:
      return "user";
    case Source::kRecommended:
      return "recommended";
  }
  return "?";
}

std::string_view SkipReasonLabel(SkipReason r) {
  switch (r) {
    case SkipReason::kUnknownSetting:
      return "unknown setting";
    case SkipReason::kUnknownDataClass:
      return "unknown data class";
    case SkipReason::kUnknownPurpose:
      return "unknown purpose";
    case SkipReason::kUnknownSchedule:
      return "unknown schedule";
    case SkipReason::kUnknownSymbol:
      return "unknown symbol";
    case SkipReason::kUnknownAttribute:
      return "unknown context attribute";
    case SkipReason::kWrongValueType:
      return "wrong value type";
    case SkipReason::kNotAdminSettable:
      return "not admin-settable";
    case SkipReason::kFixedCell:
      return "fixed cell";
    case SkipReason::kBadInterval:
      return "bad interval";
  }
  return "?";
}

std::string_view RuleKindLabel(RuleKind k) {
  switch (k) {
    case RuleKind::kSetting:
      return "setting";
    case RuleKind::kDataUse:
      return "data_use";
    case RuleKind::kSchedule:
      return "schedule";
  }
  return "?";
}

std::string NotesLabel(uint16_t notes) {
  static constexpr std::pair<uint16_t, std::string_view> kNames[] = {
      {kNoteUnknownSetting, "unknown setting"},
      {kNoteChoiceOverriddenByLock, "choice overridden by lock"},
      {kNoteChoiceNotPermitted, "choice not permitted"},
      {kNoteChoiceAfterCreation, "choice after creation"},
      {kNoteChoiceInvalid, "choice invalid"},
      {kNoteAtomicGroup, "atomic group"},
  };
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((notes & bit) == 0) continue;
    if (!out.empty()) out += "|";
    out += name;
  }
  const uint16_t unknown = notes & ~uint16_t{0x3f};
  if (unknown != 0) out += (out.empty() ? "" : "|") + std::string("0x") + std::to_string(unknown);
  return out.empty() ? "none" : out;
}

std::string ObligationsLabel(Obligations o) {
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if ((o & (1u << i)) == 0) continue;
    if (!out.empty()) out += "|";
    out += i < kObligationCount ? std::string(kObligationNames[i]) : "bit" + std::to_string(i);
  }
  return out.empty() ? "none" : out;
}

std::string ValueLabel(const Value& v, int setting) {
  static constexpr std::string_view kTypes[] = {"bool",    "enum",     "flags",
                                                "integer", "duration", "string"};
  const auto t = static_cast<size_t>(v.type);
  std::string out = t < 6 ? std::string(kTypes[t]) : "type" + std::to_string(t);
  out += ":";
  if (v.type == SettingType::kString) {
    out += "\"" + std::string(v.text) + "\"";
    if (v.number != 0) out += "(number " + std::to_string(v.number) + ")";
    return out;
  }
  out += std::to_string(v.number);
  if (setting >= 0 && static_cast<size_t>(setting) < catalog::kSettings.size()) {
    const SettingSpec& spec = catalog::kSettings[setting];
    if (spec.type == v.type && v.type == SettingType::kEnum && v.number >= 0 &&
        v.number < spec.value_count) {
      out += "(" + std::string(spec.values[v.number]) + ")";
    }
    if (spec.type == v.type && v.type == SettingType::kFlags) {
      std::string names;
      for (int i = 0; i < spec.value_count; ++i) {
        if ((v.number >> i) & 1) names += (names.empty() ? "" : ",") + std::string(spec.values[i]);
      }
      out += "{" + names + "}";
    }
  }
  if (!v.text.empty()) out += "(text \"" + std::string(v.text) + "\")";
  return out;
}

std::string ContextLabel(const Context& ctx, const CatalogSet* catalogs) {
  std::string out = "{identity=" + std::to_string(static_cast<int>(ctx.identity)) +
                    " domain_joined=" + std::to_string(static_cast<int>(ctx.domain_joined)) +
                    " device_managed=" + std::to_string(static_cast<int>(ctx.device_managed)) +
                    " plan=" + std::to_string(static_cast<int>(ctx.plan)) +
                    " os=" + std::to_string(ctx.os_generation) +
                    " state=" + std::to_string(ctx.device_state) + " groups=[";
  for (size_t i = 0; i < ctx.groups.size(); ++i) {
    out += (i ? "," : "") + std::string("\"") + std::string(ctx.groups[i]) + "\"";
  }
  out += "] role=" + std::to_string(static_cast<int>(ctx.role)) +
         " account_creation=" + (ctx.account_creation ? "true" : "false") + " region=\"" +
         std::string(ctx.region) + "\"";
  if (!ctx.attributes.empty()) {
    out += " attributes={";
    for (size_t i = 0; i < ctx.attributes.size(); ++i) {
      const AttributeValue& v = ctx.attributes[i];
      std::string name = "#" + std::to_string(v.attribute);
      if (catalogs != nullptr && v.attribute >= 0 &&
          static_cast<size_t>(v.attribute) < catalogs->attributes().size()) {
        name = std::string(catalogs->attributes()[v.attribute].name);
      }
      out += (i ? " " : "") + name + "=" + std::to_string(v.number);
      if (!v.strings.empty()) {
        out += "[";
        for (size_t j = 0; j < v.strings.size(); ++j) {
          out += (j ? "," : "") + std::string("\"") + std::string(v.strings[j]) + "\"";
        }
        out += "]";
      }
    }
    out += "}";
  }
  return out + "}";
}

std::string ChoiceLabel(const UserChoice* choice, int setting) {
  if (choice == nullptr) return "none";
  return ValueLabel(choice->value, setting) +
         (choice->made_at_account_creation ? " (made at account creation)" : "");
}

std::string ResolutionLabel(const Resolution& r) {
  return "{setting=" + std::to_string(r.setting) + " value=" + ValueLabel(r.value, r.setting) +
         " source=" + std::string(SourceLabel(r.source)) +
         " locked=" + (r.locked ? "true" : "false") + " rule=" + std::to_string(r.rule) +
         " serial=" + std::to_string(r.serial) + " obligations=" + ObligationsLabel(r.obligations) +
         " notes=" + NotesLabel(r.notes) + "}";
}

std::string DecisionLabel(const DataUseDecision& d) {
  return "{class=" + std::to_string(d.data_class) + " purpose=" + std::to_string(d.purpose) +
         " allowed=" + (d.allowed ? "true" : "false") +
         " obligations=" + ObligationsLabel(d.obligations) +
         " source=" + std::string(SourceLabel(d.source)) + " rule=" + std::to_string(d.rule) +
         " builtin=" + std::to_string(d.builtin) + " serial=" + std::to_string(d.serial) +
         " unknown=" + (d.unknown ? "true" : "false") + "}";
}

std::string ScheduleLabel(const ScheduleAnswer& s) {
  return "{schedule=" + std::to_string(s.schedule) +
         " interval=" + std::to_string(s.interval_seconds) +
         " source=" + std::string(SourceLabel(s.source)) + " rule=" + std::to_string(s.rule) +
         " builtin=" + std::to_string(s.builtin) + " serial=" + std::to_string(s.serial) +
         " unknown=" + (s.unknown ? "true" : "false") + "}";
}

}  // namespace edict::reference
