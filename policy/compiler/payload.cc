// The policy IR to EDP1 payload bytes and back, and VerifyPayload.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "flatbuffers/flatbuffers.h"
#include "policy/aligned.h"
#include "policy/compiler/compiler.h"
#include "policy/compiler/internal.h"
#include "policy/condition.h"
#include "policy/edict_generated.h"

namespace edict::compiler {
namespace internal {
namespace {

// ---------------------------------------------------------------------------------------
// IR -> FlatBuffer. Objects are always created in the same order, so the same IR gives
// the same bytes. Empty strings and vectors and all-default conditions are left out, so
// that the canonical JSON (which omits them) compiles back to identical bytes.

using StringVec =
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>>;

flatbuffers::Offset<flatbuffers::String> OptString(flatbuffers::FlatBufferBuilder& fbb,
                                                   const std::string& s) {
  return s.empty() ? 0 : fbb.CreateString(s);
}

StringVec OptStrings(flatbuffers::FlatBufferBuilder& fbb, const std::vector<std::string>& v) {
  return v.empty() ? 0 : fbb.CreateVectorOfStrings(v);
}

flatbuffers::Offset<fb::Condition> BuildCondition(flatbuffers::FlatBufferBuilder& fbb,
                                                  const Cond& c) {
  if (c.empty()) return 0;
  const StringVec groups = OptStrings(fbb, c.groups);
  const StringVec regions = OptStrings(fbb, c.regions);
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::AttributeTerm>>> attributes = 0;
  if (!c.attributes.empty()) {
    std::vector<flatbuffers::Offset<fb::AttributeTerm>> terms;
    for (const AttrTerm& t : c.attributes) {
      const auto name = fbb.CreateString(t.name);
      const StringVec values = OptStrings(fbb, t.values);
      terms.push_back(
          fb::CreateAttributeTerm(fbb, name, static_cast<fb::Tri>(t.is), values, t.min, t.max));
    }
    attributes = fbb.CreateVector(terms);
  }
  return fb::CreateCondition(
      fbb, static_cast<fb::IdentityKind>(c.identity), static_cast<fb::Tri>(c.domain_joined),
      static_cast<fb::Tri>(c.device_managed), static_cast<fb::Plan>(c.plans), c.os_min, c.os_max,
      static_cast<fb::DeviceState>(c.state_all), static_cast<fb::DeviceState>(c.state_none), groups,
      static_cast<fb::Role>(c.roles), static_cast<fb::Tri>(c.account_creation), regions,
      attributes);
}

flatbuffers::Offset<void> BuildValue(flatbuffers::FlatBufferBuilder& fbb, const RuleValue& v) {
  switch (v.type) {
    case fb::Value_BoolValue:
      return fb::CreateBoolValue(fbb, v.boolean).Union();
    case fb::Value_IntValue:
      return fb::CreateIntValue(fbb, v.integer).Union();
    case fb::Value_EnumValue:
      return fb::CreateEnumValue(fbb, fbb.CreateString(v.text)).Union();
    case fb::Value_FlagsValue:
      return fb::CreateFlagsValue(fbb, fbb.CreateVectorOfStrings(v.symbols)).Union();
    case fb::Value_StringValue:
      return fb::CreateStringValue(fbb, fbb.CreateString(v.text)).Union();
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------------------
// Payload -> IR.

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

std::vector<std::string> Strs(
    const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
  std::vector<std::string> out;
  if (v) {
    for (const flatbuffers::String* s : *v) out.push_back(Str(s));
  }
  return out;
}

RuleValue ReadValue(const fb::SettingRule* r) {
  RuleValue out;
  switch (r->value_type()) {
    case fb::Value_BoolValue:
      if (const auto* v = r->value_as_BoolValue()) {
        out.type = fb::Value_BoolValue;
        out.boolean = v->value();
      }
      break;
    case fb::Value_IntValue:
      if (const auto* v = r->value_as_IntValue()) {
        out.type = fb::Value_IntValue;
        out.integer = v->value();
      }
      break;
    case fb::Value_EnumValue:
      if (const auto* v = r->value_as_EnumValue()) {
        out.type = fb::Value_EnumValue;
        out.text = Str(v->symbol());
      }
      break;
    case fb::Value_FlagsValue:
      if (const auto* v = r->value_as_FlagsValue()) {
        out.type = fb::Value_FlagsValue;
        out.symbols = Strs(v->symbols());
      }
      break;
    case fb::Value_StringValue:
      if (const auto* v = r->value_as_StringValue()) {
        out.type = fb::Value_StringValue;
        out.text = Str(v->value());
      }
      break;
    default:
      break;
  }
  return out;
}

}  // namespace

Cond ReadCondition(const fb::Condition* c) {
  Cond out;
  if (c == nullptr) return out;
  out.identity = static_cast<uint8_t>(c->identity());
  out.domain_joined = static_cast<uint8_t>(c->domain_joined());
  out.device_managed = static_cast<uint8_t>(c->device_managed());
  out.plans = static_cast<uint8_t>(c->plans());
  out.os_min = c->os_min();
  out.os_max = c->os_max();
  out.state_all = static_cast<uint32_t>(c->state_all());
  out.state_none = static_cast<uint32_t>(c->state_none());
  out.groups = Strs(c->groups());
  out.roles = static_cast<uint8_t>(c->roles());
  out.account_creation = static_cast<uint8_t>(c->account_creation());
  out.regions = Strs(c->regions());
  if (c->attributes()) {
    for (const fb::AttributeTerm* t : *c->attributes()) {
      AttrTerm term;
      term.name = Str(t->name());
      term.is = static_cast<uint8_t>(t->is());
      term.values = Strs(t->values());
      term.min = t->min();
      term.max = t->max();
      out.attributes.push_back(std::move(term));
    }
  }
  return out;
}

std::string BuildPayload(const PolicyIR& p) {
  flatbuffers::FlatBufferBuilder fbb(1024);

  std::vector<flatbuffers::Offset<fb::SettingRule>> settings;
  for (const SettingRuleIR& r : p.settings) {
    const auto id = fbb.CreateString(r.setting);
    const auto value = BuildValue(fbb, r.value);
    const auto when = BuildCondition(fbb, r.when);
    const auto note = OptString(fbb, r.note);
    settings.push_back(fb::CreateSettingRule(fbb, id, static_cast<fb::Level>(r.level),
                                             value.IsNull() ? fb::Value_NONE : r.value.type, value,
                                             when, r.critical, note));
  }
  std::vector<flatbuffers::Offset<fb::DataUseRule>> data_use;
  for (const DataUseRuleIR& r : p.data_use) {
    const auto data_class = fbb.CreateString(r.data_class);
    const auto purpose = fbb.CreateString(r.purpose);
    const auto when = BuildCondition(fbb, r.when);
    const auto note = OptString(fbb, r.note);
    data_use.push_back(
        fb::CreateDataUseRule(fbb, data_class, purpose, static_cast<fb::Effect>(r.effect),
                              static_cast<fb::Obligation>(r.obligations), when, r.critical, note));
  }
  std::vector<flatbuffers::Offset<fb::ScheduleRule>> schedules;
  for (const ScheduleRuleIR& r : p.schedules) {
    const auto id = fbb.CreateString(r.schedule);
    const auto when = BuildCondition(fbb, r.when);
    const auto note = OptString(fbb, r.note);
    schedules.push_back(fb::CreateScheduleRule(fbb, id, r.interval, when, r.critical, note));
  }

  flatbuffers::Offset<fb::Target> target = 0;
  if (!p.tenant.empty() || !p.devices.empty() || !p.groups.empty()) {
    const auto tenant = OptString(fbb, p.tenant);
    const auto devices = OptStrings(fbb, p.devices);
    const auto groups = OptStrings(fbb, p.groups);
    target = fb::CreateTarget(fbb, tenant, devices, groups);
  }
  const auto compliance = OptStrings(fbb, p.compliance);
  const auto description = OptString(fbb, p.description);
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::CatalogRef>>> catalogs = 0;
  if (!p.catalogs.empty()) {
    std::vector<flatbuffers::Offset<fb::CatalogRef>> refs;
    for (const CatalogRefIR& c : p.catalogs) {
      refs.push_back(fb::CreateCatalogRef(fbb, fbb.CreateString(c.product), c.version, c.hash));
    }
    catalogs = fbb.CreateVector(refs);
  }
  const auto header =
      fb::CreateHeader(fbb, /*format_version=*/1, p.catalog_version, p.serial, p.issued_at,
                       p.expires_at, target, compliance, description, catalogs);
  const auto payload =
      fb::CreatePayload(fbb, header, settings.empty() ? 0 : fbb.CreateVector(settings),
                        data_use.empty() ? 0 : fbb.CreateVector(data_use),
                        schedules.empty() ? 0 : fbb.CreateVector(schedules));
  fb::FinishPayloadBuffer(fbb, payload);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

int SpecificityOf(const Cond& c) {
  flatbuffers::FlatBufferBuilder fbb(256);
  const auto off = BuildCondition(fbb, c);
  if (off.IsNull()) return 0;
  fbb.Finish(off);
  return Specificity(flatbuffers::GetRoot<fb::Condition>(fbb.GetBufferPointer()));
}

PolicyIR ReadPayload(const fb::Payload* p) {
  PolicyIR out;
  const fb::Header* h = p->header();
  out.serial = h->serial();
  out.issued_at = h->issued_at();
  out.expires_at = h->expires_at();
  out.catalog_version = h->catalog_version();
  out.description = Str(h->description());
  if (const fb::Target* t = h->target()) {
    out.tenant = Str(t->tenant());
    out.devices = Strs(t->device_ids());
    out.groups = Strs(t->groups());
  }
  out.compliance = Strs(h->compliance());
  if (h->catalogs()) {
    for (const fb::CatalogRef* c : *h->catalogs()) {
      out.catalogs.push_back(CatalogRefIR{Str(c->product()), c->version(), c->hash()});
    }
  }
  if (p->settings()) {
    for (const fb::SettingRule* r : *p->settings()) {
      SettingRuleIR s;
      s.setting = Str(r->setting());
      s.level = r->level();
      s.value = ReadValue(r);
      s.when = ReadCondition(r->when());
      s.critical = r->critical();
      s.note = Str(r->note());
      out.settings.push_back(std::move(s));
    }
  }
  if (p->data_use()) {
    for (const fb::DataUseRule* r : *p->data_use()) {
      DataUseRuleIR d;
      d.data_class = Str(r->data_class());
      d.purpose = Str(r->purpose());
      d.effect = r->effect();
      d.obligations = static_cast<uint32_t>(r->obligations());
      d.when = ReadCondition(r->when());
      d.critical = r->critical();
      d.note = Str(r->note());
      out.data_use.push_back(std::move(d));
    }
  }
  if (p->schedules()) {
    for (const fb::ScheduleRule* r : *p->schedules()) {
      ScheduleRuleIR s;
      s.schedule = Str(r->schedule());
      s.interval = r->interval_seconds();
      s.when = ReadCondition(r->when());
      s.critical = r->critical();
      s.note = Str(r->note());
      out.schedules.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace internal

absl::StatusOr<PayloadSummary> VerifyPayload(std::string_view payload) {
  const auto* data = reinterpret_cast<const uint8_t*>(payload.data());
  if (payload.size() < 8 || !fb::PayloadBufferHasIdentifier(data)) {
    return absl::InvalidArgumentError("not an edict payload (file identifier is not EDP1)");
  }
  if (!IsFlatBufferAligned(data)) {
    return absl::InvalidArgumentError("payload does not start on an 8-byte boundary");
  }
  flatbuffers::Verifier verifier(data, payload.size());
  if (!fb::VerifyPayloadBuffer(verifier)) {
    return absl::InvalidArgumentError("malformed payload (FlatBuffers verification failed)");
  }
  const fb::Payload* p = fb::GetPayload(data);
  if (p->header()->format_version() != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "unsupported payload format version %d (expected 1)", p->header()->format_version()));
  }
  PayloadSummary s;
  s.serial = p->header()->serial();
  s.issued_at = p->header()->issued_at();
  s.expires_at = p->header()->expires_at();
  s.settings = p->settings() ? p->settings()->size() : 0;
  s.data_use = p->data_use() ? p->data_use()->size() : 0;
  s.schedules = p->schedules() ? p->schedules()->size() : 0;
  return s;
}

}  // namespace edict::compiler
