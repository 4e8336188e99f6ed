// Test helper: a deliberately naive evaluator over the builder's rule structs (a linear
// scan in candidate order), used to cross-check the kernel's indexed evaluation.
#ifndef EDICT_TESTS_KERNEL_NAIVE_H_
#define EDICT_TESTS_KERNEL_NAIVE_H_

#include <algorithm>
#include <vector>

#include "policy/catalog.h"
#include "tests/kernel/payload_builder.h"

namespace edict::testing {

inline int Spec(const std::optional<Cond>& c) {
  if (!c) return 0;
  return (c->identity != 0) + (c->domain_joined != 0) + (c->device_managed != 0) + (c->plans != 0) +
         (c->os_min != 0 || c->os_max != 0) + (c->state_all != 0) + (c->state_none != 0) +
         !c->groups.empty() + (c->roles != 0) + (c->account_creation != 0) + !c->regions.empty();
}

inline bool TriOk(int term, TriState v) {
  return term == 0 || (term == 1 && v == TriState::kYes) || (term == 2 && v == TriState::kNo);
}

inline bool Holds(const std::optional<Cond>& oc, const Context& x) {
  if (!oc) return true;
  const Cond& c = *oc;
  if (c.identity == 1 && x.identity != Identity::kManaged) return false;
  if (c.identity == 2 && x.identity != Identity::kUnmanaged) return false;
  if (!TriOk(c.domain_joined, x.domain_joined) || !TriOk(c.device_managed, x.device_managed)) {
    return false;
  }
  if (c.plans != 0 && (c.plans & static_cast<uint8_t>(x.plan)) == 0) return false;
  if (c.os_min != 0 || c.os_max != 0) {
    if (x.os_generation == 0) return false;
    if (c.os_min != 0 && x.os_generation < c.os_min) return false;
    if (c.os_max != 0 && x.os_generation > c.os_max) return false;
  }
  if ((x.device_state & c.state_all) != c.state_all) return false;
  if ((x.device_state & c.state_none) != 0) return false;
  if (!c.groups.empty()) {
    bool any = false;
    for (auto g : x.groups) any |= std::find(c.groups.begin(), c.groups.end(), g) != c.groups.end();
    if (!any) return false;
  }
  if (c.roles != 0 && (c.roles & static_cast<uint8_t>(x.role)) == 0) return false;
  if (c.account_creation == 1 && !x.account_creation) return false;
  if (c.account_creation == 2 && x.account_creation) return false;
  if (!c.regions.empty() && (x.region.empty() || std::find(c.regions.begin(), c.regions.end(),
                                                           x.region) == c.regions.end())) {
    return false;
  }
  return true;
}

// Index of the first matching rule of `setting` among its (all valid) rules (level filter:
// -1 any, else only that level), in candidate order; -1 if none.
inline int NaiveFirst(const Policy& p, int setting, const Context& x, int level_filter) {
  int best = -1;
  auto before = [&](int a, int b) {
    const SRule &ra = p.settings[a], &rb = p.settings[b];
    if (ra.level != rb.level) return ra.level < rb.level;
    if (Spec(ra.when) != Spec(rb.when)) return Spec(ra.when) > Spec(rb.when);
    return a < b;
  };
  for (int i = 0; i < static_cast<int>(p.settings.size()); ++i) {
    const SRule& r = p.settings[i];
    if (catalog::FindSetting(r.setting) != setting) continue;
    if (level_filter >= 0 && r.level != level_filter) continue;
    if (!Holds(r.when, x)) continue;
    if (best < 0 || before(i, best)) best = i;
  }
  return best;
}

// Resolve for bool settings that an admin may set, without user choice.
inline Resolution NaiveResolve(const Policy& p, int s, const Context& x) {
  const SettingSpec& spec = catalog::kSettings[s];
  Resolution r;
  r.setting = s;
  r.serial = p.serial;
  r.value.type = spec.type;
  if (spec.fixed) {
    r.value.number = spec.default_int;
    r.source = Source::kFixed;
    r.locked = true;
  } else {
    int w = NaiveFirst(p, s, x, -1);
    // semantics.md step 3: "the winner is not mandatory" includes "no winner".
    if ((w < 0 || p.settings[w].level == 1) && spec.atomic_group >= 0) {
      const AtomicGroupSpec& g = catalog::kAtomicGroups[spec.atomic_group];
      for (int m = 0; m < g.member_count; ++m) {
        if (g.members[m] != s && NaiveFirst(p, g.members[m], x, 0) >= 0) {
          w = -1;
          r.notes |= kNoteAtomicGroup;
          break;
        }
      }
    }
    if (w < 0) {
      r.value.number = spec.default_int;
    } else {
      const SRule& wr = p.settings[w];
      r.value.number = wr.kind == VK::kEnum ? catalog::FindSymbol(spec, wr.sym) : wr.b ? 1 : 0;
      r.rule = w;
      r.source = p.settings[w].level == 0 ? Source::kMandatory : Source::kRecommended;
      r.locked = p.settings[w].level == 0;
    }
  }
  r.obligations = r.value.number != 0 ? spec.obligations_if_enabled : 0;
  return r;
}

inline DataUseDecision NaiveMayUse(const Policy& p, int c, int pu, const Context& x) {
  DataUseDecision d;
  d.data_class = c;
  d.purpose = pu;
  d.serial = p.serial;
  auto builtins = catalog::BuiltinRulesFor(c, pu);
  bool fixed = false;
  for (const auto& b : builtins) fixed |= b.fixed;
  Obligations ob = catalog::kDataClasses[c].obligations;
  int best = -1;
  if (!fixed) {
    for (int i = 0; i < static_cast<int>(p.data_use.size()); ++i) {
      const DRule& r = p.data_use[i];
      if (catalog::FindDataClass(r.data_class) != c || catalog::FindPurpose(r.purpose) != pu) {
        continue;
      }
      if (!Holds(r.when, x)) continue;
      if (best < 0 || Spec(r.when) > Spec(p.data_use[best].when)) best = i;
    }
  }
  if (best >= 0) {
    d.allowed = p.data_use[best].allow;
    ob |= p.data_use[best].obligations;
    d.rule = best;
    d.source = Source::kMandatory;
  } else {
    for (size_t i = 0; i < builtins.size(); ++i) {
      const ConditionSpec& w = builtins[i].when;
      Cond cc;
      cc.identity = w.identity;
      cc.domain_joined = w.domain_joined;
      cc.device_managed = w.device_managed;
      cc.plans = w.plans;
      cc.roles = w.roles;
      cc.account_creation = w.account_creation;
      cc.os_min = w.os_min;
      cc.os_max = w.os_max;
      cc.state_all = w.state_all;
      cc.state_none = w.state_none;
      if (!w.region.empty()) cc.regions.push_back(std::string(w.region));
      if (!Holds(cc, x)) continue;
      d.allowed = builtins[i].allow;
      ob |= builtins[i].obligations;
      d.builtin = static_cast<int32_t>(builtins.data - catalog::kBuiltinDataUse.data + i);
      d.source = fixed ? Source::kFixed : Source::kDefault;
      break;
    }
  }
  d.obligations = d.allowed ? ob : (ob & kNeverCollect);
  return d;
}

}  // namespace edict::testing

#endif  // EDICT_TESTS_KERNEL_NAIVE_H_
