#include "tools/cli/query.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "policy/compiler/compiler.h"
#include "tools/cli/strings.h"

namespace edict::cli {
namespace {

absl::Status BadValue(std::string_view key, std::string_view why) {
  return absl::InvalidArgumentError(Cat("context key '", key, "': ", why));
}

std::string_view JsonKindName(const json::Value& v) {
  switch (v.kind()) {
    case json::Value::Kind::kNull:
      return "null";
    case json::Value::Kind::kBool:
      return "a bool";
    case json::Value::Kind::kNumber:
      return "a number";
    case json::Value::Kind::kString:
      return "a string";
    case json::Value::Kind::kArray:
      return "an array";
    case json::Value::Kind::kObject:
      return "an object";
  }
  return "?";
}

absl::Status WrongJsonType(std::string_view key, std::string_view expected, const json::Value& v) {
  return BadValue(key, Cat("expected ", expected, ", got ", JsonKindName(v)));
}

std::string_view QueryKey(QueryKind k) {
  switch (k) {
    case QueryKind::kSetting:
      return "setting";
    case QueryKind::kDataUse:
      return "data_use";
    case QueryKind::kSchedule:
      return "schedule";
  }
  return "?";
}

void AppendRule(std::string* out, int32_t rule) {
  if (rule < 0) {
    out->append("null");
  } else {
    AppendTo(out, rule);
  }
}

}  // namespace

// ---- OwnedContext ---------------------------------------------------------------------
//
// Every key is a row of the set's attribute table: the built-in rows (identity, plan,
// groups, ...) and the product catalogues' attributes are parsed by one function by the
// row's type; SetBuiltinAttribute (kernel.h) puts built-in values in their Context fields.

OwnedContext::OwnedContext(const OwnedContext& other)
    : keys_set_(other.keys_set_), attributes_(other.attributes_) {
  Relink();
}

OwnedContext& OwnedContext::operator=(const OwnedContext& other) {
  if (this != &other) {
    keys_set_ = other.keys_set_;
    attributes_ = other.attributes_;
    Relink();
  }
  return *this;
}

OwnedContext::OwnedContext(OwnedContext&& other) noexcept
    : keys_set_(std::move(other.keys_set_)), attributes_(std::move(other.attributes_)) {
  other.attributes_.clear();
  Relink();
  other.Relink();
}

OwnedContext& OwnedContext::operator=(OwnedContext&& other) noexcept {
  if (this != &other) {
    keys_set_ = std::move(other.keys_set_);
    attributes_ = std::move(other.attributes_);
    other.attributes_.clear();
    Relink();
    other.Relink();
  }
  return *this;
}

void OwnedContext::Relink() {
  ctx_ = Context();
  attribute_views_.clear();
  attribute_values_.clear();
  attribute_views_.reserve(attributes_.size());
  for (const Attribute& a : attributes_) {
    attribute_views_.emplace_back(a.strings.begin(), a.strings.end());
    AttributeValue v;
    v.attribute = a.attribute;
    v.number = a.number;
    v.strings = absl::MakeConstSpan(attribute_views_.back());
    if (a.term == BuiltinTerm::kNone) {
      attribute_values_.push_back(v);
    } else {
      SetBuiltinAttribute(a.term, v, &ctx_);  // checked by Set
    }
  }
  ctx_.attributes = absl::MakeConstSpan(attribute_values_);
}

namespace {

// The row `key` names in `catalogs`, or an error naming it.
absl::StatusOr<const AttributeSpec*> FindAttributeSpec(std::string_view key,
                                                       const CatalogSet& catalogs) {
  const int handle = catalogs.FindAttribute(key);
  if (handle >= 0) {
    const AttributeSpec& a = catalogs.attributes()[handle];
    if (a.term == BuiltinTerm::kDeviceStateNot) {
      return BadValue(key, "a condition term, not a context value (the context sets device_state)");
    }
    return &a;
  }
  if (key.find('.') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        Cat("unknown context attribute '", key,
            "' (attributes are declared by product catalogues: give --catalog FILE)"));
  }
  std::string known;
  for (const AttributeSpec& a : catalogs.attributes()) {
    if (a.term == BuiltinTerm::kNone || a.term == BuiltinTerm::kDeviceStateNot) continue;
    if (!known.empty()) known += ", ";
    known.append(a.name.data(), a.name.size());
  }
  return absl::InvalidArgumentError(Cat("unknown context key '", key, "' (known: ", known,
                                        ", or <product>.<attribute> of a catalogue)"));
}

std::string AttributeValues(const AttributeSpec& a) {
  std::string out;
  for (std::string_view v : a.values) {
    if (!out.empty()) out += '|';
    out.append(v.data(), v.size());
  }
  return out;
}

absl::Status AttributeIntInRange(const AttributeSpec& a, bool ok, int64_t n,
                                 std::string_view literal) {
  if (!ok || n < a.min || n > a.max) {
    return BadValue(a.name, Cat("'", literal, "' is not an integer in ", a.min, "..", a.max));
  }
  return absl::OkStatus();
}

// Whether the context may hold several of the row's values: string sets (but region, which
// a context has one of) and device_state's flags.
bool ManyValues(const AttributeSpec& a) {
  return (a.type == AttributeType::kStringSet && a.term != BuiltinTerm::kRegion) ||
         a.term == BuiltinTerm::kDeviceState;
}

}  // namespace

absl::Status OwnedContext::MarkSet(std::string_view key) {
  if (std::find(keys_set_.begin(), keys_set_.end(), key) != keys_set_.end()) {
    return absl::InvalidArgumentError(Cat("context key '", key, "' given twice"));
  }
  keys_set_.emplace_back(key);
  return absl::OkStatus();
}

absl::Status OwnedContext::SetItems(std::string_view key, const AttributeSpec& a, int handle,
                                    const std::vector<std::string_view>& items) {
  Attribute value;
  value.attribute = handle;
  value.term = a.term;
  if (!ManyValues(a) && items.size() != 1) return BadValue(key, "takes one value");
  for (std::string_view item : items) {
    if (item.empty()) return BadValue(key, "empty value");
    if (a.type == AttributeType::kEnum) {
      const auto it = std::find(a.values.begin(), a.values.end(), item);
      if (it == a.values.end()) {
        return BadValue(key, Cat("'", item, "' is not one of ", AttributeValues(a)));
      }
      // device_state holds flags (bit i = values[i]); other enums one value's index.
      const int64_t index = it - a.values.begin();
      value.number =
          a.term == BuiltinTerm::kDeviceState ? value.number | (int64_t{1} << index) : index;
    } else {
      value.strings.emplace_back(item);
    }
  }
  return Set(key, std::move(value));
}

absl::Status OwnedContext::Set(std::string_view key, Attribute value) {
  if (value.term != BuiltinTerm::kNone) {
    const std::vector<std::string_view> views(value.strings.begin(), value.strings.end());
    const AttributeValue v{value.attribute, value.number, absl::MakeConstSpan(views)};
    Context probe;
    if (!SetBuiltinAttribute(value.term, v, &probe)) return BadValue(key, "value out of range");
  }
  if (absl::Status s = MarkSet(key); !s.ok()) return s;
  attributes_.push_back(std::move(value));
  Relink();
  return absl::OkStatus();
}

absl::Status OwnedContext::SetFromText(std::string_view key, std::string_view v,
                                       const CatalogSet& catalogs) {
  absl::StatusOr<const AttributeSpec*> spec = FindAttributeSpec(key, catalogs);
  if (!spec.ok()) return spec.status();
  const AttributeSpec& a = **spec;
  Attribute value;
  value.attribute = catalogs.FindAttribute(key);
  value.term = a.term;
  switch (a.type) {
    case AttributeType::kBool:
      if (v != "true" && v != "false") {
        return BadValue(key, Cat("expected true or false, got '", v, "'"));
      }
      value.number = v == "true" ? 1 : 0;
      return Set(key, std::move(value));
    case AttributeType::kIntRange: {
      // An optional minus sign: attribute ranges may be negative.
      const bool negative = !v.empty() && v[0] == '-';
      int64_t n = 0;
      const bool ok = ParseDecimal(negative ? v.substr(1) : v, &n);
      if (negative) n = -n;
      if (absl::Status s = AttributeIntInRange(a, ok, n, v); !s.ok()) return s;
      value.number = n;
      return Set(key, std::move(value));
    }
    case AttributeType::kEnum:
    case AttributeType::kStringSet: {
      std::vector<std::string_view> items;
      if (!ManyValues(a)) {
        items.push_back(v);
      } else if (!v.empty()) {
        for (std::string_view item : Split(v, ',')) items.push_back(item);
      }
      return SetItems(key, a, value.attribute, items);
    }
  }
  return BadValue(key, "unknown attribute type");
}

absl::Status OwnedContext::SetFromJson(std::string_view key, const json::Value& v,
                                       const CatalogSet& catalogs) {
  absl::StatusOr<const AttributeSpec*> spec = FindAttributeSpec(key, catalogs);
  if (!spec.ok()) return spec.status();
  const AttributeSpec& a = **spec;
  switch (a.type) {
    case AttributeType::kBool:
      if (!v.is_bool()) return WrongJsonType(key, "true or false", v);
      return SetFromText(key, v.boolean() ? "true" : "false", catalogs);
    case AttributeType::kIntRange: {
      if (!v.is_number()) return WrongJsonType(key, "an integer", v);
      if (absl::Status s = AttributeIntInRange(a, v.is_integer(), v.integer(), v.string());
          !s.ok()) {
        return s;
      }
      Attribute value;
      value.attribute = catalogs.FindAttribute(key);
      value.term = a.term;
      value.number = v.integer();
      return Set(key, std::move(value));
    }
    case AttributeType::kEnum:
    case AttributeType::kStringSet: {
      std::vector<std::string_view> items;
      if (!ManyValues(a)) {
        if (!v.is_string()) return WrongJsonType(key, "a string", v);
        items.push_back(v.string());
      } else {
        if (!v.is_array()) return WrongJsonType(key, "an array of strings", v);
        for (const json::Value& item : v.items()) {
          if (!item.is_string()) return WrongJsonType(key, "an array of strings", v);
          items.push_back(item.string());
        }
      }
      return SetItems(key, a, catalogs.FindAttribute(key), items);
    }
  }
  return BadValue(key, "unknown attribute type");
}

absl::Status ApplyContextFlag(std::string_view key_value, OwnedContext* ctx,
                              const CatalogSet& catalogs) {
  const size_t eq = key_value.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(Cat("--ctx expects KEY=VALUE, got '", key_value, "'"));
  }
  return ctx->SetFromText(key_value.substr(0, eq), key_value.substr(eq + 1), catalogs);
}

absl::StatusOr<OwnedContext> ParseContextJson(const json::Value& value,
                                              const CatalogSet& catalogs) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(Cat("'ctx' must be an object, got ", JsonKindName(value)));
  }
  OwnedContext ctx;
  for (const json::Value::Member& m : value.members()) {
    if (absl::Status s = ctx.SetFromJson(m.key, m.value, catalogs); !s.ok()) return s;
  }
  return ctx;
}

// ---- User choice ----------------------------------------------------------------------

absl::StatusOr<Value> ParseUserChoice(const SettingSpec& spec, const json::Value& v,
                                      std::string* text_storage) {
  text_storage->clear();
  if (v.is_null() || v.is_object() || (v.is_number() && !v.is_integer())) {
    return absl::InvalidArgumentError(
        Cat("user choice for '", spec.id, "': expected a bool, integer, string or ",
            "array of strings, got ",
            v.is_number() ? std::string_view("a non-integer number") : JsonKindName(v)));
  }
  switch (spec.type) {
    case SettingType::kBool:
      if (v.is_bool()) return Value{SettingType::kBool, v.boolean() ? 1 : 0, {}};
      break;
    case SettingType::kInteger:
      if (v.is_integer()) return Value{SettingType::kInteger, v.integer(), {}};
      break;
    case SettingType::kDuration:
      if (v.is_integer()) return Value{SettingType::kDuration, v.integer(), {}};
      if (v.is_string()) {
        int64_t seconds = 0;
        if (compiler::ParseDuration(v.string(), &seconds)) {
          return Value{SettingType::kDuration, seconds, {}};
        }
      }
      break;
    case SettingType::kEnum:
      if (v.is_string()) {
        const int index = catalog::FindSymbol(spec, v.string());
        // An unknown symbol maps to an index past the allowed values: `choice invalid`.
        return Value{SettingType::kEnum, index >= 0 ? index : spec.value_count, {}};
      }
      break;
    case SettingType::kFlags:
      if (v.is_array()) {
        int64_t bits = 0;
        bool valid = true;
        for (const json::Value& item : v.items()) {
          const int index = item.is_string() ? catalog::FindSymbol(spec, item.string()) : -1;
          if (index < 0 || (bits & (int64_t{1} << index)) != 0) {
            valid = false;  // unknown or repeated symbol
            break;
          }
          bits |= int64_t{1} << index;
        }
        // All bits set is outside any value count below 63: `choice invalid`.
        return Value{SettingType::kFlags, valid ? bits : -1, {}};
      }
      break;
    case SettingType::kString:
      if (v.is_string()) {
        *text_storage = v.string();
        return Value{SettingType::kString, 0, *text_storage};
      }
      break;
  }
  // A value of another type: pass it on with its own type, which the kernel rejects.
  if (v.is_bool()) return Value{SettingType::kBool, v.boolean() ? 1 : 0, {}};
  if (v.is_integer()) return Value{SettingType::kInteger, v.integer(), {}};
  if (v.is_array()) return Value{SettingType::kFlags, -1, {}};
  *text_storage = v.string();
  return Value{SettingType::kString, 0, *text_storage};
}

// ---- Queries --------------------------------------------------------------------------

const UserChoice* Query::choice(UserChoice* storage) const {
  if (!has_choice) return nullptr;
  storage->value = choice_value;
  if (choice_value.type == SettingType::kString) storage->value.text = choice_text;
  storage->made_at_account_creation = choice_at_creation;
  return storage;
}

absl::StatusOr<Query> ParseQueryJson(const json::Value& value,
                                     absl::Span<const std::string_view> ignored_keys,
                                     const CatalogSet& catalogs) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        Cat("a query must be a JSON object, got ", JsonKindName(value)));
  }
  Query q;
  const json::Value* target = nullptr;
  const json::Value* choice = nullptr;
  const json::Value* at_creation = nullptr;
  int kinds = 0;
  for (const json::Value::Member& m : value.members()) {
    if (m.key == "setting" || m.key == "data_use" || m.key == "schedule") {
      ++kinds;
      target = &m.value;
      q.kind = m.key == "setting"    ? QueryKind::kSetting
               : m.key == "data_use" ? QueryKind::kDataUse
                                     : QueryKind::kSchedule;
    } else if (m.key == "ctx") {
      absl::StatusOr<OwnedContext> ctx = ParseContextJson(m.value, catalogs);
      if (!ctx.ok()) return ctx.status();
      q.ctx = *std::move(ctx);
    } else if (m.key == "user_choice") {
      choice = &m.value;
    } else if (m.key == "user_choice_at_creation") {
      at_creation = &m.value;
    } else if (std::find(ignored_keys.begin(), ignored_keys.end(), m.key) == ignored_keys.end()) {
      return absl::InvalidArgumentError(Cat("unknown query key '", m.key, "'"));
    }
  }
  if (kinds != 1) {
    return absl::InvalidArgumentError(
        "a query needs exactly one of 'setting', 'data_use', 'schedule'");
  }
  switch (q.kind) {
    case QueryKind::kSetting:
      if (!target->is_string()) {
        return absl::InvalidArgumentError("'setting' must be a string (a setting id)");
      }
      q.id = catalogs.FindSetting(target->string());
      if (q.id < 0) {
        return absl::InvalidArgumentError(Cat("unknown setting '", target->string(), "'"));
      }
      break;
    case QueryKind::kDataUse:
      if (!target->is_array() || target->items().size() != 2 || !target->items()[0].is_string() ||
          !target->items()[1].is_string()) {
        return absl::InvalidArgumentError(
            "'data_use' must be an array of two strings: [class, purpose]");
      }
      q.id = catalogs.FindDataClass(target->items()[0].string());
      if (q.id < 0) {
        return absl::InvalidArgumentError(
            Cat("unknown data class '", target->items()[0].string(), "'"));
      }
      q.purpose = catalogs.FindPurpose(target->items()[1].string());
      if (q.purpose < 0) {
        return absl::InvalidArgumentError(
            Cat("unknown purpose '", target->items()[1].string(), "'"));
      }
      break;
    case QueryKind::kSchedule:
      if (!target->is_string()) {
        return absl::InvalidArgumentError("'schedule' must be a string (a schedule id)");
      }
      q.id = catalogs.FindSchedule(target->string());
      if (q.id < 0) {
        return absl::InvalidArgumentError(Cat("unknown schedule '", target->string(), "'"));
      }
      break;
  }
  if ((choice != nullptr || at_creation != nullptr) && q.kind != QueryKind::kSetting) {
    return absl::InvalidArgumentError(
        Cat("'user_choice' and 'user_choice_at_creation' apply to settings only, not ",
            QueryKey(q.kind), " queries"));
  }
  if (at_creation != nullptr) {
    if (!at_creation->is_bool()) {
      return absl::InvalidArgumentError("'user_choice_at_creation' must be true or false");
    }
    if (choice == nullptr && at_creation->boolean()) {
      return absl::InvalidArgumentError("'user_choice_at_creation' needs a 'user_choice'");
    }
    q.choice_at_creation = at_creation->boolean();
  }
  if (choice != nullptr) {
    absl::StatusOr<Value> v = ParseUserChoice(catalogs.settings()[q.id], *choice, &q.choice_text);
    if (!v.ok()) return v.status();
    q.has_choice = true;
    q.choice_value = *v;
  }
  return q;
}

absl::StatusOr<Query> ParseQueryText(std::string_view text, const CatalogSet& catalogs) {
  absl::StatusOr<json::Value> v = json::Parse(text);
  if (!v.ok()) {
    return absl::InvalidArgumentError(Cat("malformed JSON: ", v.status().message()));
  }
  return ParseQueryJson(*v, {}, catalogs);
}

Answer Evaluate(const Snapshot& snapshot, const Query& query) {
  Answer a;
  a.kind = query.kind;
  switch (query.kind) {
    case QueryKind::kSetting: {
      UserChoice storage;
      a.resolution = snapshot.Resolve(query.id, query.ctx.get(), query.choice(&storage));
      break;
    }
    case QueryKind::kDataUse:
      a.decision = snapshot.MayUse(query.id, query.purpose, query.ctx.get());
      break;
    case QueryKind::kSchedule:
      a.schedule = snapshot.Schedule(query.id, query.ctx.get());
      break;
  }
  return a;
}

// ---- Rendering ------------------------------------------------------------------------

std::string RenderValue(const Value& value, const SettingSpec& spec) {
  switch (value.type) {
    case SettingType::kBool:
      return value.number != 0 ? "true" : "false";
    case SettingType::kInteger:
    case SettingType::kDuration:
      return Cat(value.number);
    case SettingType::kEnum:
      if (value.number >= 0 && value.number < spec.value_count) {
        return json::Quote(spec.values[value.number]);
      }
      return Cat(value.number);  // not a symbol of this catalogue
    case SettingType::kFlags: {
      std::string out = "[";
      bool first = true;
      for (int i = 0; i < spec.value_count && i < 63; ++i) {
        if ((value.number & (int64_t{1} << i)) == 0) continue;
        if (!first) out += ',';
        first = false;
        out += json::Quote(spec.values[i]);
      }
      out += ']';
      return out;
    }
    case SettingType::kString:
      return json::Quote(value.text);
  }
  return "null";
}

std::string RenderObligations(Obligations obligations) {
  std::string out = "[";
  bool first = true;
  for (int i = 0; i < kObligationCount; ++i) {
    if ((obligations & (1u << i)) == 0) continue;
    if (!first) out += ',';
    first = false;
    out += json::Quote(kObligationNames[i]);
  }
  out += ']';
  return out;
}

std::string_view NoteName(ResolutionNote note) {
  switch (note) {
    case kNoteNone:
      return "";
    case kNoteUnknownSetting:
      return "unknown setting";
    case kNoteChoiceOverriddenByLock:
      return "choice overridden by lock";
    case kNoteChoiceNotPermitted:
      return "choice not permitted";
    case kNoteChoiceAfterCreation:
      return "choice after creation";
    case kNoteChoiceInvalid:
      return "choice invalid";
    case kNoteAtomicGroup:
      return "atomic group";
  }
  return "";
}

std::string RenderNotes(uint16_t notes) {
  std::string out = "[";
  bool first = true;
  for (int i = 0; i < 16; ++i) {
    const uint16_t bit = static_cast<uint16_t>(1u << i);
    if ((notes & bit) == 0) continue;
    std::string_view name = NoteName(static_cast<ResolutionNote>(bit));
    if (!first) out += ',';
    first = false;
    out += json::Quote(name.empty() ? Cat("note bit ", i) : std::string(name));
  }
  out += ']';
  return out;
}

std::string RenderAnswer(const Answer& a, const CatalogSet& catalogs) {
  std::string out;
  switch (a.kind) {
    case QueryKind::kSetting: {
      const Resolution& r = a.resolution;
      const bool known =
          r.setting >= 0 && static_cast<size_t>(r.setting) < catalogs.settings().size();
      AppendTo(&out,
               "{\"setting\":", known ? json::Quote(catalogs.settings()[r.setting].id) : "null",
               ",\"value\":", known ? RenderValue(r.value, catalogs.settings()[r.setting]) : "null",
               ",\"source\":", json::Quote(SourceName(r.source)),
               ",\"locked\":", r.locked ? "true" : "false", ",\"rule\":");
      AppendRule(&out, r.rule);
      AppendTo(&out, ",\"serial\":", r.serial,
               ",\"obligations\":", RenderObligations(r.obligations));
      if (r.notes != kNoteNone) AppendTo(&out, ",\"notes\":", RenderNotes(r.notes));
      out += '}';
      break;
    }
    case QueryKind::kDataUse: {
      const DataUseDecision& d = a.decision;
      AppendTo(&out, "{\"allowed\":", d.allowed ? "true" : "false",
               ",\"obligations\":", RenderObligations(d.obligations), ",\"rule\":");
      AppendRule(&out, d.rule);
      AppendTo(&out, ",\"source\":", json::Quote(SourceName(d.source)), "}");
      break;
    }
    case QueryKind::kSchedule: {
      const ScheduleAnswer& s = a.schedule;
      const bool known =
          s.schedule >= 0 && static_cast<size_t>(s.schedule) < catalogs.schedules().size();
      AppendTo(&out,
               "{\"schedule\":", known ? json::Quote(catalogs.schedules()[s.schedule].id) : "null",
               ",\"interval_seconds\":", s.interval_seconds,
               ",\"source\":", json::Quote(SourceName(s.source)), ",\"rule\":");
      AppendRule(&out, s.rule);
      AppendTo(&out, ",\"serial\":", s.serial, "}");
      break;
    }
  }
  return out;
}

std::string RenderError(std::string_view message) {
  return Cat("{\"error\":", json::Quote(message), "}");
}

std::string Explain(const Snapshot& snapshot, const Query& query, const Answer& answer,
                    ExplainDetail detail) {
  std::string out(512, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    const absl::Span<char> buf(out.data(), out.size());
    size_t need = 0;
    switch (query.kind) {
      case QueryKind::kSetting: {
        UserChoice storage;
        need = snapshot.Explain(answer.resolution, query.ctx.get(), query.choice(&storage), detail,
                                buf);
        break;
      }
      case QueryKind::kDataUse:
        need = snapshot.Explain(answer.decision, query.ctx.get(), detail, buf);
        break;
      case QueryKind::kSchedule:
        need = snapshot.Explain(answer.schedule, query.ctx.get(), detail, buf);
        break;
    }
    if (need < out.size()) {
      out.resize(need);
      return out;
    }
    out.assign(need + 1, '\0');
  }
  return out;  // unreachable unless the kernel's length changed between calls
}

}  // namespace edict::cli
