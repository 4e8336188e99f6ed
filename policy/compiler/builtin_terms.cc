// Built-in condition terms <-> attribute terms of the built-in rows of the set's attribute
// table (policy/catalog/catalog.json "attributes"). Names, types and allowed values are the
// table's; this file is the one place that knows which Cond (fb::Condition) field encodes
// which built-in attribute (the row's `term`).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "policy/compiler/internal.h"
#include "policy/edict_generated.h"

namespace edict::compiler::internal {
namespace {

// Bit i = the row's values[i] named by the term.
uint32_t ValueBits(const AttributeSpec& a, const AttrTerm& t) {
  uint32_t bits = 0;
  for (const std::string& v : t.values) {
    const auto it = std::find(a.values.begin(), a.values.end(), std::string_view(v));
    if (it != a.values.end() && it - a.values.begin() < 32) bits |= 1u << (it - a.values.begin());
  }
  return bits;
}

// The row's values named by bit set `bits`; a bit without a value is kept as its number,
// so that what the verifier lets through stays visible.
std::vector<std::string> ValueNames(const AttributeSpec& a, uint32_t bits) {
  std::vector<std::string> out;
  for (uint32_t i = 0; i < 32; ++i) {
    if ((bits & (1u << i)) == 0) continue;
    out.push_back(i < a.values.size() ? std::string(a.values[i]) : absl::StrFormat("#%d", i));
  }
  return out;
}

}  // namespace

std::string SetBuiltinTerm(const AttributeSpec& a, const AttrTerm& t, Cond* c) {
  switch (a.term) {
    case BuiltinTerm::kIdentity: {
      if (t.values.size() != 1) {
        return absl::StrFormat("\"%s\" takes one value, not a list", a.name);
      }
      const uint32_t bits = ValueBits(a, t);  // managed = bit 0 = IdentityKind_Managed (1)
      c->identity =
          static_cast<uint8_t>(bits == 1 ? fb::IdentityKind_Managed : fb::IdentityKind_Unmanaged);
      return "";
    }
    case BuiltinTerm::kDomainJoined:
      c->domain_joined = t.is;
      return "";
    case BuiltinTerm::kDeviceManaged:
      c->device_managed = t.is;
      return "";
    case BuiltinTerm::kAccountCreation:
      c->account_creation = t.is;
      return "";
    case BuiltinTerm::kPlan:
      c->plans = static_cast<uint8_t>(ValueBits(a, t));
      return "";
    case BuiltinTerm::kRole:
      c->roles = static_cast<uint8_t>(ValueBits(a, t));
      return "";
    case BuiltinTerm::kDeviceState:
      c->state_all = ValueBits(a, t);
      return "";
    case BuiltinTerm::kDeviceStateNot:
      c->state_none = ValueBits(a, t);
      return "";
    case BuiltinTerm::kOsGeneration:
      // 0 is "unbounded" in the payload; any term needs the generation known, so a term
      // with neither bound narrowed keeps os_min at the row's lowest value.
      c->os_min = static_cast<int32_t>(t.min);
      c->os_max = t.max == a.max && t.min != a.min ? 0 : static_cast<int32_t>(t.max);
      if (t.min == a.min && c->os_max != 0) c->os_min = 0;
      return "";
    case BuiltinTerm::kGroups:
      c->groups = t.values;
      return "";
    case BuiltinTerm::kRegion:
      c->regions = t.values;
      return "";
    case BuiltinTerm::kNone:
      break;
  }
  return absl::StrFormat("\"%s\" is not a built-in term", a.name);
}

std::vector<std::pair<const AttributeSpec*, AttrTerm>> BuiltinTermsOf(const CatalogSet& set,
                                                                      const Cond& c) {
  std::vector<std::pair<const AttributeSpec*, AttrTerm>> out;
  for (const AttributeSpec& a : set.attributes()) {
    AttrTerm t;
    t.name = std::string(a.name);
    bool has = true;
    switch (a.term) {
      case BuiltinTerm::kIdentity:
        has = c.identity != 0;
        if (c.identity == fb::IdentityKind_Managed || c.identity == fb::IdentityKind_Unmanaged) {
          t.values = ValueNames(a, 1u << (c.identity - 1));
        } else {
          t.values = {absl::StrFormat("#%d", c.identity)};
        }
        break;
      case BuiltinTerm::kDomainJoined:
        has = (t.is = c.domain_joined) != 0;
        break;
      case BuiltinTerm::kDeviceManaged:
        has = (t.is = c.device_managed) != 0;
        break;
      case BuiltinTerm::kAccountCreation:
        has = (t.is = c.account_creation) != 0;
        break;
      case BuiltinTerm::kPlan:
        has = c.plans != 0;
        t.values = ValueNames(a, c.plans);
        break;
      case BuiltinTerm::kRole:
        has = c.roles != 0;
        t.values = ValueNames(a, c.roles);
        break;
      case BuiltinTerm::kDeviceState:
        has = c.state_all != 0;
        t.values = ValueNames(a, c.state_all);
        break;
      case BuiltinTerm::kDeviceStateNot:
        has = c.state_none != 0;
        t.values = ValueNames(a, c.state_none);
        break;
      case BuiltinTerm::kOsGeneration:
        has = c.os_min != 0 || c.os_max != 0;
        t.min = c.os_min != 0 ? c.os_min : a.min;
        t.max = c.os_max != 0 ? c.os_max : a.max;
        break;
      case BuiltinTerm::kGroups:
        has = !c.groups.empty();
        t.values = c.groups;
        std::sort(t.values.begin(), t.values.end());  // the canonical order Compile writes
        break;
      case BuiltinTerm::kRegion:
        has = !c.regions.empty();
        t.values = c.regions;
        std::sort(t.values.begin(), t.values.end());
        break;
      case BuiltinTerm::kNone:
        has = false;
        break;
    }
    if (has) out.emplace_back(&a, std::move(t));
  }
  return out;
}

}  // namespace edict::compiler::internal
