// Explain: answers rendered as readable text into a caller buffer. Not the hot path (it
// scans the payload's rules linearly) but, like every query, it never allocates.
#include <cstring>

#include "kernel/query.h"
#include "policy/condition.h"

namespace edict {
namespace {

using internal::View;
using StringVec = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;

// A bounded appender with snprintf semantics: counts every byte it is given, stores
// what fits while keeping room for the terminating NUL.
class Out {
 public:
  explicit Out(absl::Span<char> buf) : buf_(buf.data()), cap_(buf.size()) {}

  Out& operator<<(std::string_view s) {
    // An empty view may have a null data(): memcpy must not see it (fuzz finding F5).
    if (s.empty()) return *this;
    if (len_ + 1 < cap_) {
      const size_t room = cap_ - 1 - len_;
      std::memcpy(buf_ + len_, s.data(), s.size() < room ? s.size() : room);
    }
    len_ += s.size();
    return *this;
  }
  Out& operator<<(const char* s) { return *this << std::string_view(s); }
  Out& operator<<(char c) { return *this << std::string_view(&c, 1); }
  Out& Int(int64_t v) {
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
      tmp[sizeof(tmp) - 1 - n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (v < 0) tmp[sizeof(tmp) - 1 - n++] = '-';
    return *this << std::string_view(tmp + sizeof(tmp) - n, n);
  }
  Out& Uint(uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
      tmp[sizeof(tmp) - 1 - n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    return *this << std::string_view(tmp + sizeof(tmp) - n, n);
  }
  size_t Finish() {
    if (cap_ != 0) buf_[len_ < cap_ ? len_ : cap_ - 1] = '\0';
    return len_;
  }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
};

// The terms of an admin or built-in condition, in one shape.
struct Terms {
  int identity = 0, domain_joined = 0, device_managed = 0, account_creation = 0;
  unsigned plans = 0, roles = 0;
  int32_t os_min = 0, os_max = 0;
  uint32_t state_all = 0, state_none = 0;
  const StringVec* groups = nullptr;
  const StringVec* regions = nullptr;
  std::string_view region;  // built-in rules: at most one region
  const flatbuffers::Vector<flatbuffers::Offset<fb::AttributeTerm>>* attributes = nullptr;

  static Terms Of(const fb::Condition* w) {
    Terms t;
    if (w == nullptr) return t;
    t.identity = w->identity();
    t.domain_joined = w->domain_joined();
    t.device_managed = w->device_managed();
    t.account_creation = w->account_creation();
    t.plans = w->plans();
    t.roles = w->roles();
    t.os_min = w->os_min();
    t.os_max = w->os_max();
    t.state_all = w->state_all();
    t.state_none = w->state_none();
    if (w->groups() != nullptr && w->groups()->size() != 0) t.groups = w->groups();
    if (w->regions() != nullptr && w->regions()->size() != 0) t.regions = w->regions();
    if (w->attributes() != nullptr && w->attributes()->size() != 0) t.attributes = w->attributes();
    return t;
  }
  static Terms Of(const ConditionSpec& w) {
    Terms t;
    t.identity = w.identity;
    t.domain_joined = w.domain_joined;
    t.device_managed = w.device_managed;
    t.account_creation = w.account_creation;
    t.plans = w.plans;
    t.roles = w.roles;
    t.os_min = w.os_min;
    t.os_max = w.os_max;
    t.state_all = w.state_all;
    t.state_none = w.state_none;
    t.region = w.region;
    return t;
  }
};

constexpr std::string_view kPlanNames[] = {"enterprise", "small_business", "trial"};
constexpr std::string_view kRoleNames[] = {"user", "admin", "organiser", "participant"};
constexpr std::string_view kStateNames[] = {"tampered", "not_genuine"};

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

void List(Out& o, const StringVec* v, std::string_view single) {
  if (v == nullptr) {
    o << single;
    return;
  }
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
    if (i != 0) o << " or ";
    o << View(v->Get(i));
  }
}

std::string_view TriWord(int v, std::string_view yes, std::string_view no) {
  return v == fb::Tri_Yes ? yes : v == fb::Tri_No ? no : std::string_view("(unknown term)");
}

void PutOs(Out& o, int32_t lo, int32_t hi) {
  o << "OS generation ";
  if (lo != 0 && hi != 0) {
    o.Int(lo) << " to ";
    o.Int(hi);
  } else if (lo != 0) {
    o << ">= ";
    o.Int(lo);
  } else {
    o << "<= ";
    o.Int(hi);
  }
}

std::string_view NeedWord(int v) { return v == fb::Tri_Yes ? "yes" : v == fb::Tri_No ? "no" : "?"; }

// "acmevpn.network_trust corporate or home", "acmevpn.on_battery no",
// "acmevpn.tunnel_count 1 to 3". The payload alone says which: `is` for bool terms,
// `values` for enum and string-set terms, else a range.
void PutAttributeTerm(Out& o, const fb::AttributeTerm* a) {
  o << View(a->name()) << " ";
  if (a->is() != fb::Tri_Any) {
    o << NeedWord(a->is());
  } else if (a->values() != nullptr && a->values()->size() != 0) {
    List(o, a->values(), "");
  } else {
    o.Int(a->min()) << " to ";
    o.Int(a->max());
  }
}

// "managed identity, domain-joined device, group finance or hr" or "everyone".
void PutCondition(Out& o, const Terms& t) {
  bool first = true;
  auto sep = [&]() -> Out& {
    if (!first) o << ", ";
    first = false;
    return o;
  };
  if (t.identity != 0) {
    sep() << (t.identity == fb::IdentityKind_Managed     ? "managed identity"
              : t.identity == fb::IdentityKind_Unmanaged ? "unmanaged identity"
                                                         : "identity of an unknown kind");
  }
  if (t.domain_joined != 0) {
    sep() << TriWord(t.domain_joined, "domain-joined device", "device not domain-joined");
  }
  if (t.device_managed != 0) {
    sep() << TriWord(t.device_managed, "managed device", "unmanaged device");
  }
  if (t.plans != 0) {
    sep() << "plan ";
    Bits(o, t.plans, kPlanNames, 3, " or ");
  }
  if (t.os_min != 0 || t.os_max != 0) PutOs(sep(), t.os_min, t.os_max);
  if (t.state_all != 0) {
    sep() << "device ";
    Bits(o, t.state_all, kStateNames, 2, " and ");
  }
  if (t.state_none != 0) {
    sep() << "device not ";
    Bits(o, t.state_none, kStateNames, 2, " nor ");
  }
  if (t.groups != nullptr) {
    sep() << "group ";
    List(o, t.groups, "");
  }
  if (t.roles != 0) {
    sep() << "role ";
    Bits(o, t.roles, kRoleNames, 4, " or ");
  }
  if (t.account_creation != 0) {
    sep() << TriWord(t.account_creation, "at account creation", "after account creation");
  }
  if (t.regions != nullptr || !t.region.empty()) {
    sep() << "region ";
    List(o, t.regions, t.region);
  }
  if (t.attributes != nullptr) {
    for (const fb::AttributeTerm* a : *t.attributes) {
      sep();
      PutAttributeTerm(o, a);
    }
  }
  if (first) o << "everyone";
}

std::string_view IdentityWord(Identity i) {
  return i == Identity::kManaged ? "managed" : i == Identity::kUnmanaged ? "unmanaged" : "unknown";
}
std::string_view TriStateWord(TriState t) {
  return t == TriState::kYes ? "yes" : t == TriState::kNo ? "no" : "unknown";
}
std::string_view NeedTri(int v) { return NeedWord(v); }

bool InList(const StringVec* v, std::string_view s) { return internal::AnyOf(v, s); }

// Names the first term of `t` that `ctx` fails, e.g. "identity is unmanaged, rule needs
// managed". Returns false if every term holds.
bool PutFailedTerm(Out& o, const Terms& t, const Context& ctx) {
  const unsigned plan = static_cast<unsigned>(ctx.plan) & internal::kLaneValueBits;
  const unsigned role = static_cast<unsigned>(ctx.role) & internal::kLaneValueBits;
  if (t.identity != 0 &&
      !((t.identity == fb::IdentityKind_Managed && ctx.identity == Identity::kManaged) ||
        (t.identity == fb::IdentityKind_Unmanaged && ctx.identity == Identity::kUnmanaged))) {
    o << "identity is " << IdentityWord(ctx.identity) << ", rule needs "
      << (t.identity == fb::IdentityKind_Managed     ? "managed"
          : t.identity == fb::IdentityKind_Unmanaged ? "unmanaged"
                                                     : "an unknown kind");
    return true;
  }
  const TriState dj = t.domain_joined == fb::Tri_Yes ? TriState::kYes : TriState::kNo;
  if (t.domain_joined != 0 && (t.domain_joined > 2 || ctx.domain_joined != dj)) {
    o << "domain-joined is " << TriStateWord(ctx.domain_joined) << ", rule needs "
      << NeedTri(t.domain_joined);
    return true;
  }
  const TriState dm = t.device_managed == fb::Tri_Yes ? TriState::kYes : TriState::kNo;
  if (t.device_managed != 0 && (t.device_managed > 2 || ctx.device_managed != dm)) {
    o << "device-managed is " << TriStateWord(ctx.device_managed) << ", rule needs "
      << NeedTri(t.device_managed);
    return true;
  }
  if (t.plans != 0 && (t.plans & plan) == 0) {
    o << "plan is ";
    Bits(o, plan, kPlanNames, 3, "|");
    o << ", rule needs ";
    Bits(o, t.plans, kPlanNames, 3, " or ");
    return true;
  }
  if ((t.os_min != 0 || t.os_max != 0) &&
      (ctx.os_generation == 0 || (t.os_min != 0 && ctx.os_generation < t.os_min) ||
       (t.os_max != 0 && ctx.os_generation > t.os_max))) {
    o << "OS generation is ";
    if (ctx.os_generation == 0) {
      o << "unknown";
    } else {
      o.Int(ctx.os_generation);
    }
    o << ", rule needs ";
    PutOs(o, t.os_min, t.os_max);
    return true;
  }
  if ((ctx.device_state & t.state_all) != t.state_all) {
    o << "device state lacks ";
    Bits(o, t.state_all & ~ctx.device_state, kStateNames, 2, " and ");
    return true;
  }
  if ((ctx.device_state & t.state_none) != 0) {
    o << "device state has ";
    Bits(o, ctx.device_state & t.state_none, kStateNames, 2, " and ");
    o << ", rule excludes it";
    return true;
  }
  if (t.groups != nullptr) {
    bool any = false;
    for (std::string_view g : ctx.groups) any = any || InList(t.groups, g);
    if (!any) {
      o << "context lists none of the groups ";
      List(o, t.groups, "");
      return true;
    }
  }
  if (t.roles != 0 && (t.roles & role) == 0) {
    o << "role is ";
    Bits(o, role, kRoleNames, 4, "|");
    o << ", rule needs ";
    Bits(o, t.roles, kRoleNames, 4, " or ");
    return true;
  }
  if (t.account_creation != 0 &&
      (t.account_creation > 2 || (t.account_creation == fb::Tri_Yes) != ctx.account_creation)) {
    o << (ctx.account_creation ? "asked at account creation" : "asked after account creation")
      << ", rule needs " << TriWord(t.account_creation, "account creation", "after creation");
    return true;
  }
  if ((t.regions != nullptr && !InList(t.regions, ctx.region)) ||
      (!t.region.empty() && ctx.region != t.region)) {
    o << "region is " << (ctx.region.empty() ? std::string_view("unknown") : ctx.region)
      << ", rule needs ";
    List(o, t.regions, t.region);
    return true;
  }
  return false;
}

// "attribute acmevpn.network_trust is home, rule needs corporate".
void PutFailedAttribute(Out& o, const internal::State& im, const fb::AttributeTerm* a,
                        const Context& ctx) {
  const int handle = im.catalogs->FindAttribute(View(a->name()));
  const AttributeValue* v =
      handle < 0 ? nullptr : internal::FindAttributeValue(ctx, static_cast<uint32_t>(handle));
  o << "attribute " << View(a->name()) << " is ";
  if (v == nullptr) {
    o << "unknown";
  } else {
    const AttributeSpec& spec = im.catalogs->attributes()[handle];
    switch (spec.type) {
      case AttributeType::kBool:
        o << (v->number == 1 ? "yes" : v->number == 0 ? "no" : "invalid");
        break;
      case AttributeType::kEnum:
        if (v->number >= 0 && static_cast<size_t>(v->number) < spec.values.size()) {
          o << spec.values[v->number];
        } else {
          o << "invalid";
        }
        break;
      case AttributeType::kIntRange:
        o.Int(v->number);
        break;
      case AttributeType::kStringSet:
        for (size_t i = 0; i < v->strings.size(); ++i) o << (i == 0 ? "" : "|") << v->strings[i];
        if (v->strings.empty()) o << "empty";
        break;
    }
  }
  o << ", rule needs ";
  PutAttributeTerm(o, a);
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

// If `ctx` fails the condition of rule `i` of `kind`, writes "condition failed: <term>"
// and returns true. Attribute terms are asked of the compiled matcher.
bool PutIfConditionFails(Out& o, const internal::State& im, int kind, uint32_t i,
                         const fb::Condition* w, const Context& ctx) {
  const bool base = internal::ConditionMatches(w, ctx);
  const int attr = internal::FirstFailedAttribute(im, kind, i, ctx);
  if (base && attr < 0) return false;
  o << "condition failed: ";
  if (!base) {
    PutFailedTerm(o, Terms::Of(w), ctx);
  } else {
    PutFailedAttribute(o, im, w->attributes()->Get(static_cast<flatbuffers::uoffset_t>(attr)), ctx);
  }
  return true;
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
        PutCondition(o, Terms::Of(winner->when()));
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
    if (PutIfConditionFails(o, im, 0, i, rule->when(), ctx)) {
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
    PutCondition(o, Terms::Of(winner->when()));
    PutNote(o, winner->note());
  } else if (d.builtin >= 0 && static_cast<size_t>(d.builtin) < set.builtin_data_use().size()) {
    const BuiltinDataUse& b = set.builtin_data_use()[d.builtin];
    o << " by built-in rule ";
    o.Int(d.builtin) << " of the catalogue"
                     << (b.fixed ? " (a fixed cell no policy can change)" : "") << ": ";
    PutCondition(o, Terms::Of(b.when));
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
    if (PutIfConditionFails(o, im, 1, i, rule->when(), ctx)) {
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
    if (!internal::ConditionMatches(builtins[i].when, ctx)) {
      o << "condition failed: ";
      PutFailedTerm(o, Terms::Of(builtins[i].when), ctx);
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
    PutCondition(o, Terms::Of(winner->when()));
    PutNote(o, winner->note());
  } else if (s.builtin >= 0 && static_cast<size_t>(s.builtin) < set.builtin_schedules().size()) {
    const BuiltinSchedule& b = set.builtin_schedules()[s.builtin];
    o << " by built-in rule ";
    o.Int(s.builtin) << " of the catalogue: ";
    PutCondition(o, Terms::Of(b.when));
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
    if (PutIfConditionFails(o, im, 2, i, rule->when(), ctx)) {
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
    if (!internal::ConditionMatches(builtins[i].when, ctx)) {
      o << "condition failed: ";
      PutFailedTerm(o, Terms::Of(builtins[i].when), ctx);
    } else if (winner != nullptr) {
      o << "built-in rules rank below admin rules";
    } else {
      o << "a more specific or earlier built-in rule decided";
    }
  }
  return o.Finish();
}

}  // namespace edict
