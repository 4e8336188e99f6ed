// Policy JSON -> policy IR: `when` conditions, with their built-in terms and terms on the
// context attributes of the catalogue set; and whether two conditions can both hold.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "policy/compiler/checker.h"
#include "policy/compiler/internal.h"
#include "policy/compiler/json.h"
#include "policy/edict_generated.h"

namespace edict::compiler::internal {

using json::Location;
using json::Value;

// Returns false if the condition has an error. Every key is a row of the set's attribute
// table: a built-in term (identity, plan, groups, ...) or a product's attribute; all are read
// by one parser (CheckAttributeTerm), then a built-in term goes to its Condition field.
bool Checker::CheckWhen(const Value& v, Cond* c) {
  if (!ExpectObject(v, "\"when\"")) return false;
  const size_t errors_before = error_count_;
  for (const Value::Member& m : v.members()) {
    const int handle = catalogs_.FindAttribute(m.key);
    if (handle < 0 && m.key.find('.') != std::string::npos) {
      Error(m.key_location, absl::StrFormat("unknown context attribute %s%s", json::Quote(m.key),
                                            MissingProductHint(m.key)));
      continue;
    }
    if (handle < 0) {
      std::vector<std::string_view> known;
      for (const AttributeSpec& a : catalogs_.attributes()) {
        if (a.term != BuiltinTerm::kNone) known.push_back(a.name);
      }
      Error(m.key_location,
            absl::StrFormat("unknown key %s in \"when\" (known: %s, or <product>.<attribute>)",
                            json::Quote(m.key), Join(known.begin(), known.end(), ", ")));
      continue;
    }
    const AttributeSpec& a = catalogs_.attributes()[handle];
    AttrTerm term;
    if (!CheckAttributeTerm(a, m.value, &term)) continue;
    if (a.term == BuiltinTerm::kNone) {
      UseProduct(a.product);
      c->attributes.push_back(std::move(term));
    } else if (const std::string e = SetBuiltinTerm(a, term, c); !e.empty()) {
      Error(m.value.location(), e);
    }
  }
  // Canonical order (the JSON reader refuses duplicate keys, so names are unique).
  std::sort(c->attributes.begin(), c->attributes.end(),
            [](const AttrTerm& a, const AttrTerm& b) { return a.name < b.name; });
  return error_count_ == errors_before;
}

// A term on a context attribute of the set: `"acmevpn.on_battery": true`,
// `"acmevpn.network_trust": "trusted"` or `[...]`, `"acmevpn.gateway_regions": "EU"` or
// `[...]`, `"acmevpn.tunnel_count": {"min": 1, "max": 4}`.
bool Checker::CheckAttributeTerm(const AttributeSpec& a, const Value& x, AttrTerm* out) {
  const std::string name = json::Quote(a.name);
  out->name = std::string(a.name);
  switch (a.type) {
    case AttributeType::kBool:
      if (!x.is_bool()) {
        Error(x.location(), absl::StrFormat("attribute %s must be true or false", name));
        return false;
      }
      out->is = x.boolean() ? fb::Tri_Yes : fb::Tri_No;
      return true;
    case AttributeType::kEnum:
    case AttributeType::kStringSet: {
      const bool is_enum = a.type == AttributeType::kEnum;
      const std::string allowed = Join(a.values.begin(), a.values.end(), ", ");
      const std::string expected =
          is_enum ? absl::StrCat("one of its values or a list of them (", allowed, ")")
                  : "a string or a non-empty list of strings";
      std::vector<const Value*> items;
      if (x.is_string()) {
        items.push_back(&x);
      } else if (x.is_array() && !x.items().empty()) {
        for (const Value& item : x.items()) items.push_back(&item);
      } else {
        Error(x.location(), absl::StrFormat("attribute %s must be %s", name, expected));
        return false;
      }
      bool ok = true;
      uint64_t bits = 0;  // enum: the values named (at most kMaxAttributeEnumValues)
      std::vector<std::string> strings;
      for (const Value* item : items) {
        if (!item->is_string() || item->string().empty()) {
          Error(item->location(), absl::StrFormat("attribute %s must be %s", name, expected));
          ok = false;
          continue;
        }
        const std::string& text = item->string();
        if (is_enum) {
          const auto it = std::find(a.values.begin(), a.values.end(), std::string_view(text));
          const size_t i = static_cast<size_t>(it - a.values.begin());
          if (it == a.values.end() || i >= kMaxAttributeEnumValues) {
            Error(item->location(),
                  absl::StrFormat("unknown value %s for attribute %s (allowed: %s)",
                                  json::Quote(text), name, allowed));
            ok = false;
          } else if (bits & (uint64_t{1} << i)) {
            Error(item->location(),
                  absl::StrFormat("duplicate value %s for attribute %s", json::Quote(text), name));
            ok = false;
          } else {
            bits |= uint64_t{1} << i;
          }
        } else if (std::find(strings.begin(), strings.end(), text) != strings.end()) {
          Error(item->location(),
                absl::StrFormat("duplicate value %s for attribute %s", json::Quote(text), name));
          ok = false;
        } else {
          strings.push_back(text);
        }
      }
      if (!ok) return false;
      if (is_enum) {  // canonical order: the attribute's
        for (size_t i = 0; i < a.values.size() && i < kMaxAttributeEnumValues; ++i) {
          if (bits & (uint64_t{1} << i)) out->values.emplace_back(a.values[i]);
        }
        out->one_value = true;
      } else {  // canonical order: sorted
        std::sort(strings.begin(), strings.end());
        out->values = std::move(strings);
      }
      return true;
    }
    case AttributeType::kIntRange: {
      const std::string bounds = absl::StrFormat("%d..%d", a.min, a.max);
      if (!x.is_object()) {
        Error(x.location(),
              absl::StrFormat("attribute %s must be an object {\"min\": N, \"max\": M} (%s)", name,
                              bounds));
        return false;
      }
      const size_t errors_before = error_count_;
      CheckKeys(x, absl::StrCat("attribute ", name), {"min", "max"});
      const Value* min = x.Find("min");
      const Value* max = x.Find("max");
      if (min == nullptr && max == nullptr) {
        Error(x.location(), absl::StrFormat("attribute %s needs \"min\" or \"max\"", name));
      }
      out->min = a.min;
      out->max = a.max;
      auto bound = [&](const Value* v, std::string_view key, int64_t* to) {
        if (v == nullptr) return true;
        if (!v->is_integer() || v->integer() < a.min || v->integer() > a.max) {
          Error(v->location(),
                absl::StrFormat("attribute %s \"%s\" must be an integer in %s", name, key, bounds));
          return false;
        }
        *to = v->integer();
        return true;
      };
      const bool min_ok = bound(min, "min", &out->min);
      const bool max_ok = bound(max, "max", &out->max);
      if (min_ok && max_ok && out->min > out->max) {
        Error((max ? max : min)->location(),
              absl::StrFormat("attribute %s \"max\" must not be below \"min\"", name));
      }
      return error_count_ == errors_before;
    }
  }
  return false;
}

// Whether two conjunctions can both hold for one context. They cannot when some term is
// disjoint; groups, string sets and terms on different attributes never make rules
// disjoint (a context may be in several groups, hold several strings).
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
  auto common = [](const std::vector<std::string>& x, const std::vector<std::string>& y) {
    for (const std::string& s : x) {
      if (std::find(y.begin(), y.end(), s) != y.end()) return true;
    }
    return false;
  };
  if (!a.regions.empty() && !b.regions.empty() && !common(a.regions, b.regions)) return false;
  for (const AttrTerm& x : a.attributes) {
    for (const AttrTerm& y : b.attributes) {
      if (x.name != y.name) continue;
      if (tri_disjoint(x.is, y.is)) return false;
      if (x.one_value && y.one_value && !common(x.values, y.values)) return false;
      if (x.is == 0 && x.values.empty() && y.is == 0 && y.values.empty() &&
          std::max(x.min, y.min) > std::min(x.max, y.max)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace edict::compiler::internal
