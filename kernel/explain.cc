// Explain: answers rendered as readable text into a caller buffer. Not the hot path (it
// scans the payload's rules linearly) but, like every query, it never allocates.
#include "kernel/explain_out.h"
#include "policy/condition.h"

namespace edict {
namespace {

using internal::Out;
using internal::View;

void Bits(Out& o, unsigned bits, const std::string_view* names, int count, std::string_view sep) {
  bool first = true;
  for (int i = 0; i < 32; ++i) {
    if ((bits & (1u << i)) == 0) continue;
    if (!first) o << sep;
    first = false;
    if (i < count) {
      o << names[i];
    } else {
      o << "bit ";
      o.Int(i);
    }
  }
  if (first) o << "none";
}

// The rule's check at activation, attribute terms included (as Activate does).
internal::RuleCheck CheckRule(const internal::State& im, int kind, uint32_t i) {
  internal::RuleCheck rc;
  const fb::Condition* w;
  if (kind == 0) {
    rc = internal::CheckSettingRule(*im.catalogs, im.root->settings()->Get(i));
    w = im.root->settings()->Get(i)->when();
  } else if (kind == 1) {
    rc = internal::CheckDataUseRule(*im.catalogs, im.slots, im.root->data_use()->Get(i));
    w = im.root->data_use()->Get(i)->when();
  } else {
    rc = internal::CheckScheduleRule(*im.catalogs, im.slots, im.root->schedules()->Get(i));
    w = im.root->schedules()->Get(i)->when();
  }
  if (rc.ok && !internal::AttributeTermsValid(*im.catalogs, w)) {
    rc.ok = false;
    rc.reason = SkipReason::kUnknownAttribute;
  }
  return rc;
}

void PutValue(Out& o, const SettingSpec& spec, const Value& v) {
  switch (v.type) {
    case SettingType::kBool:
      o << (v.number != 0 ? "true" : "false");
      return;
    case SettingType::kEnum:
      if (spec.type == SettingType::kEnum && v.number >= 0 && v.number < spec.value_count) {
        o << spec.values[v.number];
      } else {
        o << "#";
        o.Int(v.number);
      }
      return;
    case SettingType::kFlags: {
      if (spec.type != SettingType::kFlags) {
        o << "flags ";
        o.Int(v.number);
        return;
      }
      bool first = true;
      for (int i = 0; i < 63; ++i) {
        if ((v.number & (int64_t{1} << i)) == 0) continue;
        if (!first) o << '|';
        first = false;
        if (i < spec.value_count) {
          o << spec.values[i];
        } else {
          o << "bit ";
          o.Int(i);
        }
      }
      if (first) o << "none";
      return;
    }
    case SettingType::kInteger:
      o.Int(v.number);
      return;
    case SettingType::kDuration:
      o.Int(v.number) << " s";
      return;
    case SettingType::kString:
      o << '"' << v.text << '"';
      return;
  }
}

void PutObligations(Out& o, Obligations ob) {
  if (ob == 0) return;
  o << "; obligations: ";
  Bits(o, ob, kObligationNames, kObligationCount, ", ");
}

void PutNote(Out& o, const flatbuffers::String* note) {
  if (note != nullptr && note->size() != 0) o << " (admin note: \"" << View(note) << "\")";
}

void PutRuleRef(Out& o, int32_t rule, uint64_t serial) {
  o << "rule ";
  o.Int(rule) << " of bundle ";
  o.Uint(serial);
}

const char* kLevelNames[] = {"mandatory", "recommended"};

// Why a matching candidate with key `k` lost to the winner with key `w` (k > w).
void PutOrderLoss(Out& o, uint64_t k, uint64_t w) {
  internal::PriorityReason why;
  internal::HasHigherPriority(w, k, &why);
  const internal::PriorityParts kp = internal::DecodeKey(k), wp = internal::DecodeKey(w);
  switch (why) {
    case internal::PriorityReason::kLevel:
      o << "lower level than rule ";
      o.Int(wp.index);
      if (wp.level == 0) o << " (overridden by its lock)";
      break;
    case internal::PriorityReason::kSpecificity:
      o << "lower specificity (";
      o.Int(kp.specificity) << " < ";
      o.Int(wp.specificity) << ") than rule ";
      o.Int(wp.index);
      break;
    case internal::PriorityReason::kOrder:
    case internal::PriorityReason::kSame:
      o << "same level and specificity, later than rule ";
      o.Int(wp.index);
      break;
  }
}

void PutSkipped(Out& o, RuleKind kind, uint32_t index, SkipReason reason) {
  o << "\n  - rule ";
  o.Int(index) << ": skipped at activation (" << SkipReasonName(reason) << ")";
  (void)kind;
}

void PutChoiceNotes(Out& o, uint16_t notes) {
  bool first = true;
  auto sep = [&]() -> Out& {
    if (!first) o << ", ";
    first = false;
    return o;
  };
  if (notes & kNoteChoiceOverriddenByLock) sep() << "overridden by a lock";
  if (notes & kNoteChoiceNotPermitted) sep() << "the catalogue does not let this user choose";
  if (notes & kNoteChoiceInvalid) sep() << "the value has the wrong type or is not allowed";
  if (notes & kNoteChoiceAfterCreation) {
    sep() << "the setting can only be chosen at account creation";
  }
}

}  // namespace

size_t Snapshot::Explain(const Resolution& r, const Context& ctx, const UserChoice* choice,
                         ExplainDetail detail, absl::Span<char> out) const {
  const Impl& im = *impl_;
  Out o(out);
  if (r.setting < 0 || static_cast<uint32_t>(r.setting) >= im.slots.cell_base) {
    o << "unknown setting: not in the catalogues of this endpoint (built-in version ";
    o.Uint(im.catalogs->builtin_version()) << ", ";
    o.Uint(im.catalogs->products().size()) << " product catalogues)";
    bool any = false;
    for (const SkippedRule& s : skipped()) {
      if (s.kind != RuleKind::kSetting || s.reason != SkipReason::kUnknownSetting) continue;
      o << (any ? ", " : "; rules skipped at activation for unknown settings: ") << s.name
        << " (rule ";
      o.Int(s.index) << ")";
      any = true;
    }
    o << ".";
    return o.Finish();
  }
  const CatalogSet& set = *im.catalogs;
  const SettingSpec& spec = set.settings()[r.setting];
  o << spec.id << " = ";
  PutValue(o, spec, r.value);
  o << " (" << SourceName(r.source) << (r.locked ? ", locked" : "") << ")";
  const fb::SettingRule* winner = nullptr;
  if (im.root != nullptr && im.root->settings() != nullptr && r.rule >= 0 &&
      static_cast<uint32_t>(r.rule) < im.root->settings()->size()) {
    winner = im.root->settings()->Get(r.rule);
  }
  switch (r.source) {
    case Source::kFixed:
      o << ": a fixed fact of the product, no policy or user can change it";
      break;
    case Source::kMandatory:
    case Source::kRecommended:
      o << " by ";
      PutRuleRef(o, r.rule, r.serial);
      if (winner != nullptr) {
        o << ": ";
        internal::PutCondition(o, set, internal::CompileCondition(winner->when(), 0),
                               winner->when(), {});
        PutNote(o, winner->note());
      }
      break;
    case Source::kUser:
      o << ": the user's own choice";
      break;
    case Source::kDefault:
      o << ": catalogue default";
      break;
  }
  if (!spec.caveat.empty()) o << "; note: " << spec.caveat;
  if (r.notes & kNoteAtomicGroup) {
    o << "; recommended rules ignored: atomic group "
      << (spec.atomic_group < 0 ? std::string_view("?") : set.atomic_groups()[spec.atomic_group].id)
      << " is decided by a mandatory rule of another member";
  }
  if (choice != nullptr && r.source != Source::kUser) {
    o << "; user choice ignored: ";
    PutChoiceNotes(o, r.notes);
  }
  PutObligations(o, r.obligations);
  o << ".";
  if (detail != ExplainDetail::kWithCandidates) return o.Finish();

  o << "\nCandidates:";
  if (choice != nullptr) {
    o << "\n  - user choice ";
    PutValue(o, spec, choice->value);
    if (r.source == Source::kUser) {
      o << ": honoured";
    } else {
      o << ": ignored: ";
      PutChoiceNotes(o, r.notes);
      if ((r.notes & (kNoteChoiceOverriddenByLock | kNoteChoiceNotPermitted | kNoteChoiceInvalid |
                      kNoteChoiceAfterCreation)) == 0) {
        o << "not considered";
      }
    }
  }
  const uint64_t wkey = winner != nullptr
                            ? internal::PriorityKey(winner->level() == fb::Level_Mandatory ? 0 : 1,
                                                    Specificity(winner->when()), r.rule)
                            : internal::kNoKey;
  int decider = -1;
  if (r.notes & kNoteAtomicGroup) {
    decider = internal::AtomicGroupDecider(im, r.setting, ctx, internal::CompileContext(ctx));
  }
  bool any = false;
  const auto* rules = im.root != nullptr ? im.root->settings() : nullptr;
  for (flatbuffers::uoffset_t i = 0; rules != nullptr && i < rules->size(); ++i) {
    const fb::SettingRule* rule = rules->Get(i);
    if (View(rule->setting()) != spec.id || static_cast<int32_t>(i) == r.rule) continue;
    any = true;
    const internal::RuleCheck rc = CheckRule(im, 0, i);
    if (!rc.ok) {
      PutSkipped(o, RuleKind::kSetting, i, rc.reason);
      continue;
    }
    const int level = rule->level() == fb::Level_Mandatory ? 0 : 1;
    const int spec_n = Specificity(rule->when());
    o << "\n  - rule ";
    o.Int(i) << " (" << kLevelNames[level] << ", specificity ";
    o.Int(spec_n) << ", value ";
    PutValue(o, spec, internal::RuleValue(im, spec, i));
    o << "): ";
    if (internal::PutIfConditionFails(o, im, 0, i, rule->when(), ctx)) {
    } else if (level == 1 && (r.notes & kNoteAtomicGroup)) {
      o << "ignored: atomic group " << set.atomic_groups()[spec.atomic_group].id
        << " is decided by a mandatory rule of "
        << (decider >= 0 ? set.settings()[decider].id : std::string_view("another member"));
    } else if (r.source == Source::kUser) {
      o << "overridden by the user's choice";
    } else if (wkey != internal::kNoKey) {
      PutOrderLoss(o, internal::PriorityKey(level, spec_n, i), wkey);
    } else {
      o << "not applied";
    }
    PutNote(o, rule->note());
  }
  if (!any) o << "\n  - no other rule of this bundle names " << spec.id;
  o << "\n  - catalogue default ";
  PutValue(o, spec, internal::DefaultValue(spec));
  return o.Finish();
}

size_t Snapshot::Explain(const DataUseDecision& d, const Context& ctx, ExplainDetail detail,
                         absl::Span<char> out) const {
  const Impl& im = *impl_;
  Out o(out);
  const CatalogSet& set = *im.catalogs;
  if (d.unknown || d.data_class < 0 || d.purpose < 0 ||
      d.data_class >= static_cast<int>(set.data_classes().size()) ||
      d.purpose >= static_cast<int>(set.purposes().size())) {
    o << "unknown data class or purpose: denied.";
    return o.Finish();
  }
  const DataClassSpec& cls = set.data_classes()[d.data_class];
  const PurposeSpec& pur = set.purposes()[d.purpose];
  const Table<BuiltinDataUse> builtins = set.BuiltinRulesFor(d.data_class, d.purpose);
  o << "use of " << cls.id << " for " << pur.id << ": " << (d.allowed ? "allowed" : "denied")
    << " (" << SourceName(d.source) << ")";
  const fb::DataUseRule* winner = nullptr;
  if (im.root != nullptr && im.root->data_use() != nullptr && d.rule >= 0 &&
      static_cast<uint32_t>(d.rule) < im.root->data_use()->size()) {
    winner = im.root->data_use()->Get(d.rule);
  }
  if (winner != nullptr) {
    o << " by ";
    PutRuleRef(o, d.rule, d.serial);
    o << ": ";
    internal::PutCondition(o, set, internal::CompileCondition(winner->when(), 0), winner->when(),
                           {});
    PutNote(o, winner->note());
  } else if (d.builtin >= 0 && static_cast<size_t>(d.builtin) < set.builtin_data_use().size()) {
    const BuiltinDataUse& b = set.builtin_data_use()[d.builtin];
    o << " by built-in rule ";
    o.Int(d.builtin) << " of the catalogue"
                     << (b.fixed ? " (a fixed cell no policy can change)" : "") << ": ";
    internal::PutCondition(o, set, internal::CompileCondition(b.when), nullptr, b.when.region);
    if (!b.note.empty()) o << "; " << b.note;
  } else {
    o << ": no rule applies to this cell, denied by default";
  }
  PutObligations(o, d.obligations);
  o << ".";
  if (detail != ExplainDetail::kWithCandidates) return o.Finish();

  o << "\nCandidates:";
  const auto* rules = im.root != nullptr ? im.root->data_use() : nullptr;
  for (flatbuffers::uoffset_t i = 0; rules != nullptr && i < rules->size(); ++i) {
    const fb::DataUseRule* rule = rules->Get(i);
    if (View(rule->data_class()) != cls.id || View(rule->purpose()) != pur.id ||
        static_cast<int32_t>(i) == d.rule) {
      continue;
    }
    const internal::RuleCheck rc = CheckRule(im, 1, i);
    if (!rc.ok) {
      PutSkipped(o, RuleKind::kDataUse, i, rc.reason);
      continue;
    }
    o << "\n  - rule ";
    o.Int(i) << " (" << (rule->effect() == fb::Effect_Allow ? "allow" : "deny") << ", specificity ";
    o.Int(Specificity(rule->when())) << "): ";
    if (internal::PutIfConditionFails(o, im, 1, i, rule->when(), ctx)) {
    } else if (winner != nullptr) {
      PutOrderLoss(o, internal::PriorityKey(0, Specificity(rule->when()), i),
                   internal::PriorityKey(0, Specificity(winner->when()), d.rule));
    } else {
      o << "not applied";
    }
    PutNote(o, rule->note());
  }
  for (size_t i = 0; i < builtins.size(); ++i) {
    const int32_t index = static_cast<int32_t>(builtins.data - set.builtin_data_use().data() + i);
    if (index == d.builtin) continue;
    o << "\n  - built-in rule ";
    o.Int(index) << " (" << (builtins[i].allow ? "allow" : "deny") << "): ";
    if (internal::PutIfConditionFails(o, set, builtins[i].when, ctx)) {
    } else if (winner != nullptr) {
      o << "built-in rules rank below admin rules";
    } else {
      o << "a more specific or earlier built-in rule decided";
    }
  }
  if (builtins.size() == 0) o << "\n  - the catalogue has no built-in rule for this cell";
  return o.Finish();
}

size_t Snapshot::Explain(const ScheduleAnswer& s, const Context& ctx, ExplainDetail detail,
                         absl::Span<char> out) const {
  const Impl& im = *impl_;
  Out o(out);
  const CatalogSet& set = *im.catalogs;
  if (s.unknown || s.schedule < 0 || s.schedule >= static_cast<int>(set.schedules().size())) {
    o << "unknown schedule: no schedule applies.";
    return o.Finish();
  }
  const ScheduleSpec& spec = set.schedules()[s.schedule];
  o << spec.id << " = ";
  if (s.interval_seconds == 0) {
    o << "no schedule";
  } else {
    o << "every ";
    o.Int(s.interval_seconds) << " s";
    if (s.interval_seconds % 86400 == 0) {
      o << " (";
      o.Int(s.interval_seconds / 86400) << " days)";
    }
  }
  o << " (" << SourceName(s.source) << ")";
  const fb::ScheduleRule* winner = nullptr;
  if (im.root != nullptr && im.root->schedules() != nullptr && s.rule >= 0 &&
      static_cast<uint32_t>(s.rule) < im.root->schedules()->size()) {
    winner = im.root->schedules()->Get(s.rule);
  }
  if (winner != nullptr) {
    o << " by ";
    PutRuleRef(o, s.rule, s.serial);
    o << ": ";
    internal::PutCondition(o, set, internal::CompileCondition(winner->when(), 0), winner->when(),
                           {});
    PutNote(o, winner->note());
  } else if (s.builtin >= 0 && static_cast<size_t>(s.builtin) < set.builtin_schedules().size()) {
    const BuiltinSchedule& b = set.builtin_schedules()[s.builtin];
    o << " by built-in rule ";
    o.Int(s.builtin) << " of the catalogue: ";
    internal::PutCondition(o, set, internal::CompileCondition(b.when), nullptr, b.when.region);
    if (!b.note.empty()) o << "; " << b.note;
  } else {
    o << ": no rule applies";
  }
  o << ".";
  if (detail != ExplainDetail::kWithCandidates) return o.Finish();

  o << "\nCandidates:";
  const auto* rules = im.root != nullptr ? im.root->schedules() : nullptr;
  for (flatbuffers::uoffset_t i = 0; rules != nullptr && i < rules->size(); ++i) {
    const fb::ScheduleRule* rule = rules->Get(i);
    if (View(rule->schedule()) != spec.id || static_cast<int32_t>(i) == s.rule) continue;
    const internal::RuleCheck rc = CheckRule(im, 2, i);
    if (!rc.ok) {
      PutSkipped(o, RuleKind::kSchedule, i, rc.reason);
      continue;
    }
    o << "\n  - rule ";
    o.Int(i) << " (every ";
    o.Int(rule->interval_seconds()) << " s, specificity ";
    o.Int(Specificity(rule->when())) << "): ";
    if (internal::PutIfConditionFails(o, im, 2, i, rule->when(), ctx)) {
    } else if (winner != nullptr) {
      PutOrderLoss(o, internal::PriorityKey(0, Specificity(rule->when()), i),
                   internal::PriorityKey(0, Specificity(winner->when()), s.rule));
    } else {
      o << "not applied";
    }
    PutNote(o, rule->note());
  }
  const Table<BuiltinSchedule> builtins = set.BuiltinRulesFor(s.schedule);
  for (size_t i = 0; i < builtins.size(); ++i) {
    const int32_t index = static_cast<int32_t>(builtins.data - set.builtin_schedules().data() + i);
    if (index == s.builtin) continue;
    o << "\n  - built-in rule ";
    o.Int(index) << " (every ";
    o.Int(builtins[i].interval_seconds) << " s): ";
    if (internal::PutIfConditionFails(o, set, builtins[i].when, ctx)) {
    } else if (winner != nullptr) {
      o << "built-in rules rank below admin rules";
    } else {
      o << "a more specific or earlier built-in rule decided";
    }
  }
  return o.Finish();
}

}  // namespace edict
