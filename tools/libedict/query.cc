// libedict queries (edict.h "Queries" and "About the open policy"): the C context or a
// context builder becomes an edict::Context on the stack, then a const Snapshot method
// answers. No allocation, no lock, no I/O (capi_tests count allocations).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/types/span.h"
#include "edict/edict.h"
#include "kernel/kernel.h"
#include "tools/libedict/internal.h"

namespace edict::capi {

namespace {

bool ValidTri(int32_t v) { return v >= EDICT_TRI_UNKNOWN && v <= EDICT_TRI_NO; }
bool ValidPlan(int32_t v) {
  return v == EDICT_PLAN_UNKNOWN || v == EDICT_PLAN_ENTERPRISE || v == EDICT_PLAN_SMALL_BUSINESS ||
         v == EDICT_PLAN_TRIAL;
}
bool ValidRole(int32_t v) {
  return v == EDICT_ROLE_UNKNOWN || v == EDICT_ROLE_USER || v == EDICT_ROLE_ADMIN ||
         v == EDICT_ROLE_ORGANISER || v == EDICT_ROLE_PARTICIPANT;
}

}  // namespace

// NULL `in` is the all-unknown context.
edict_status ToContext(const edict_context* in, ContextStorage* s) {
  s->ctx = edict::Context();
  if (in == nullptr) return EDICT_OK;
  if (in->struct_size < sizeof(edict_context)) return EDICT_ERR_INVALID_ARGUMENT;
  if (in->identity < EDICT_IDENTITY_UNKNOWN || in->identity > EDICT_IDENTITY_UNMANAGED ||
      !ValidTri(in->domain_joined) || !ValidTri(in->device_managed) || !ValidPlan(in->plan) ||
      !ValidRole(in->role) || in->os_generation < 0) {
    return EDICT_ERR_INVALID_ARGUMENT;
  }
  if (in->group_count > EDICT_MAX_GROUPS) return EDICT_ERR_INVALID_ARGUMENT;
  if (in->group_count > 0 && in->groups == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < in->group_count; ++i) {
    if (in->groups[i] == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
    s->groups[i] = std::string_view(in->groups[i]);
  }
  edict::Context& c = s->ctx;
  c.identity = static_cast<edict::Identity>(in->identity);
  c.domain_joined = static_cast<edict::TriState>(in->domain_joined);
  c.device_managed = static_cast<edict::TriState>(in->device_managed);
  c.plan = static_cast<edict::Plan>(in->plan);
  c.os_generation = in->os_generation;
  c.device_state = in->device_state;
  c.groups = absl::Span<const std::string_view>(s->groups, in->group_count);
  c.role = static_cast<edict::Role>(in->role);
  c.account_creation = in->account_creation != 0;
  c.region = in->region == nullptr ? std::string_view() : std::string_view(in->region);
  return EDICT_OK;
}

}  // namespace edict::capi

namespace {

using namespace edict::capi;  // NOLINT: this library's own helpers

edict_status ToChoice(const edict_user_choice* in, edict::UserChoice* out) {
  if (in->value.type < EDICT_TYPE_BOOL || in->value.type > EDICT_TYPE_STRING) {
    return EDICT_ERR_INVALID_ARGUMENT;
  }
  if (in->value.text == nullptr && in->value.text_len != 0) return EDICT_ERR_INVALID_ARGUMENT;
  out->value.type = static_cast<edict::SettingType>(in->value.type);
  out->value.number = in->value.number;
  out->value.text = in->value.text == nullptr
                        ? std::string_view()
                        : std::string_view(in->value.text, in->value.text_len);
  out->made_at_account_creation = in->made_at_account_creation != 0;
  return EDICT_OK;
}

void FromValue(const edict::Value& v, edict_value* out) {
  out->type = static_cast<int32_t>(v.type);
  out->number = v.number;
  if (v.type == edict::SettingType::kString) {
    // Payload strings are FlatBuffers strings and catalogue strings are literals: both are
    // NUL-terminated (tests/capi checks the catalogue's).
    out->text = v.text.data() == nullptr ? "" : v.text.data();
    out->text_len = v.text.size();
  } else {
    out->text = nullptr;
    out->text_len = 0;
  }
}

void FromResolution(const edict::Resolution& r, edict_resolution* out) {
  out->setting = r.setting;
  FromValue(r.value, &out->value);
  out->source = static_cast<int32_t>(r.source);
  out->locked = r.locked ? 1 : 0;
  out->rule = r.rule;
  out->serial = r.serial;
  out->obligations = r.obligations;
  out->notes = r.notes;
}

void FromDecision(const edict::DataUseDecision& d, edict_data_use* out) {
  out->data_class = d.data_class;
  out->purpose = d.purpose;
  out->allowed = d.allowed ? 1 : 0;
  out->obligations = d.obligations;
  out->source = static_cast<int32_t>(d.source);
  out->rule = d.rule;
  out->builtin = d.builtin;
  out->serial = d.serial;
}

void FromSchedule(const edict::ScheduleAnswer& s, edict_schedule* out) {
  out->schedule = s.schedule;
  out->interval_seconds = s.interval_seconds;
  out->source = static_cast<int32_t>(s.source);
  out->rule = s.rule;
  out->builtin = s.builtin;
  out->serial = s.serial;
}

bool ValidDetail(int detail) {
  return detail == EDICT_EXPLAIN_SENTENCE || detail == EDICT_EXPLAIN_WITH_CANDIDATES;
}

edict_status ExplainResult(size_t full, size_t buf_size, size_t* needed) {
  if (needed != nullptr) *needed = full;
  return full < buf_size ? EDICT_OK : EDICT_ERR_BUFFER_TOO_SMALL;
}

// The kernel context of a C context.
edict_status ContextOf(const edict_context* in, ContextStorage* storage,
                       const edict::Context** out) {
  if (edict_status s = ToContext(in, storage); s != EDICT_OK) return s;
  *out = &storage->ctx;
  return EDICT_OK;
}

// The kernel context of a builder (NULL: all unknown). A builder of another set than the
// policy's names other attribute handles: refused.
edict_status ContextOf(const edict_policy* policy, const edict_context_builder* in,
                       ContextStorage* storage, const edict::Context** out) {
  if (in == nullptr) {
    storage->ctx = edict::Context();
    *out = &storage->ctx;
    return EDICT_OK;
  }
  if (&in->catalogs.get() != &policy->snapshot->catalogs()) return EDICT_ERR_INVALID_ARGUMENT;
  *out = &in->ctx;
  return EDICT_OK;
}

bool KnownSetting(const edict_policy* policy, int32_t setting) {
  return setting >= 0 &&
         static_cast<size_t>(setting) < policy->snapshot->catalogs().settings().size();
}

edict_status Resolve(const edict_policy* policy, int32_t setting, const edict::Context& ctx,
                     const edict_user_choice* choice, edict_resolution* out) {
  edict::UserChoice user_choice;
  if (choice != nullptr) {
    if (edict_status s = ToChoice(choice, &user_choice); s != EDICT_OK) return s;
  }
  const edict::Resolution r =
      policy->snapshot->Resolve(setting, ctx, choice != nullptr ? &user_choice : nullptr);
  FromResolution(r, out);
  return KnownSetting(policy, setting) ? EDICT_OK : EDICT_ERR_UNKNOWN_ID;
}

edict_status MayUse(const edict_policy* policy, int32_t data_class, int32_t purpose,
                    const edict::Context& ctx, edict_data_use* out) {
  const edict::DataUseDecision d = policy->snapshot->MayUse(data_class, purpose, ctx);
  FromDecision(d, out);
  return d.unknown ? EDICT_ERR_UNKNOWN_ID : EDICT_OK;
}

edict_status Schedule(const edict_policy* policy, int32_t schedule, const edict::Context& ctx,
                      edict_schedule* out) {
  const edict::ScheduleAnswer a = policy->snapshot->Schedule(schedule, ctx);
  FromSchedule(a, out);
  return a.unknown ? EDICT_ERR_UNKNOWN_ID : EDICT_OK;
}

edict_status ExplainSetting(const edict_policy* policy, int32_t setting, const edict::Context& ctx,
                            const edict_user_choice* choice, int detail, char* buf, size_t buf_size,
                            size_t* needed) {
  edict::UserChoice user_choice;
  if (choice != nullptr) {
    if (edict_status s = ToChoice(choice, &user_choice); s != EDICT_OK) return s;
  }
  const edict::UserChoice* c = choice != nullptr ? &user_choice : nullptr;
  const edict::Resolution r = policy->snapshot->Resolve(setting, ctx, c);
  const size_t full = policy->snapshot->Explain(
      r, ctx, c, static_cast<edict::ExplainDetail>(detail), absl::Span<char>(buf, buf_size));
  return ExplainResult(full, buf_size, needed);
}

edict_status ExplainDataUse(const edict_policy* policy, int32_t data_class, int32_t purpose,
                            const edict::Context& ctx, int detail, char* buf, size_t buf_size,
                            size_t* needed) {
  const edict::DataUseDecision d = policy->snapshot->MayUse(data_class, purpose, ctx);
  const size_t full = policy->snapshot->Explain(d, ctx, static_cast<edict::ExplainDetail>(detail),
                                                absl::Span<char>(buf, buf_size));
  return ExplainResult(full, buf_size, needed);
}

edict_status ExplainSchedule(const edict_policy* policy, int32_t schedule,
                             const edict::Context& ctx, int detail, char* buf, size_t buf_size,
                             size_t* needed) {
  const edict::ScheduleAnswer a = policy->snapshot->Schedule(schedule, ctx);
  const size_t full = policy->snapshot->Explain(a, ctx, static_cast<edict::ExplainDetail>(detail),
                                                absl::Span<char>(buf, buf_size));
  return ExplainResult(full, buf_size, needed);
}

bool BadExplainArgs(const edict_policy* policy, char* buf, size_t buf_size, int detail) {
  return policy == nullptr || (buf == nullptr && buf_size != 0) || !ValidDetail(detail);
}

}  // namespace

extern "C" {

// ---- Queries ----------------------------------------------------------------------------------

edict_status edict_resolve(const edict_policy* policy, int32_t setting, const edict_context* ctx,
                           const edict_user_choice* choice, edict_resolution* out) EDICT_NOEXCEPT {
  if (policy == nullptr || out == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(ctx, &storage, &c); s != EDICT_OK) return s;
  return Resolve(policy, setting, *c, choice, out);
}

edict_status edict_resolve_with(const edict_policy* policy, int32_t setting,
                                const edict_context_builder* ctx, const edict_user_choice* choice,
                                edict_resolution* out) EDICT_NOEXCEPT {
  if (policy == nullptr || out == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(policy, ctx, &storage, &c); s != EDICT_OK) return s;
  return Resolve(policy, setting, *c, choice, out);
}

edict_status edict_resolve_name(const edict_policy* policy, const char* setting_id,
                                const edict_context* ctx, const edict_user_choice* choice,
                                edict_resolution* out) EDICT_NOEXCEPT {
  if (setting_id == nullptr || policy == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  // The policy's own set: built-in names keep their ids, product settings are found too.
  return edict_resolve(policy, policy->snapshot->catalogs().FindSetting(setting_id), ctx, choice,
                       out);
}

edict_status edict_may_use(const edict_policy* policy, int32_t data_class, int32_t purpose,
                           const edict_context* ctx, edict_data_use* out) EDICT_NOEXCEPT {
  if (policy == nullptr || out == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(ctx, &storage, &c); s != EDICT_OK) return s;
  return MayUse(policy, data_class, purpose, *c, out);
}

edict_status edict_may_use_with(const edict_policy* policy, int32_t data_class, int32_t purpose,
                                const edict_context_builder* ctx,
                                edict_data_use* out) EDICT_NOEXCEPT {
  if (policy == nullptr || out == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(policy, ctx, &storage, &c); s != EDICT_OK) return s;
  return MayUse(policy, data_class, purpose, *c, out);
}

edict_status edict_schedule_get(const edict_policy* policy, int32_t schedule,
                                const edict_context* ctx, edict_schedule* out) EDICT_NOEXCEPT {
  if (policy == nullptr || out == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(ctx, &storage, &c); s != EDICT_OK) return s;
  return Schedule(policy, schedule, *c, out);
}

edict_status edict_schedule_get_with(const edict_policy* policy, int32_t schedule,
                                     const edict_context_builder* ctx,
                                     edict_schedule* out) EDICT_NOEXCEPT {
  if (policy == nullptr || out == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(policy, ctx, &storage, &c); s != EDICT_OK) return s;
  return Schedule(policy, schedule, *c, out);
}

edict_status edict_explain_setting(const edict_policy* policy, int32_t setting,
                                   const edict_context* ctx, const edict_user_choice* choice,
                                   int detail, char* buf, size_t buf_size,
                                   size_t* needed) EDICT_NOEXCEPT {
  if (BadExplainArgs(policy, buf, buf_size, detail)) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(ctx, &storage, &c); s != EDICT_OK) return s;
  return ExplainSetting(policy, setting, *c, choice, detail, buf, buf_size, needed);
}

edict_status edict_explain_setting_with(const edict_policy* policy, int32_t setting,
                                        const edict_context_builder* ctx,
                                        const edict_user_choice* choice, int detail, char* buf,
                                        size_t buf_size, size_t* needed) EDICT_NOEXCEPT {
  if (BadExplainArgs(policy, buf, buf_size, detail)) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(policy, ctx, &storage, &c); s != EDICT_OK) return s;
  return ExplainSetting(policy, setting, *c, choice, detail, buf, buf_size, needed);
}

edict_status edict_explain_data_use(const edict_policy* policy, int32_t data_class, int32_t purpose,
                                    const edict_context* ctx, int detail, char* buf,
                                    size_t buf_size, size_t* needed) EDICT_NOEXCEPT {
  if (BadExplainArgs(policy, buf, buf_size, detail)) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(ctx, &storage, &c); s != EDICT_OK) return s;
  return ExplainDataUse(policy, data_class, purpose, *c, detail, buf, buf_size, needed);
}

edict_status edict_explain_data_use_with(const edict_policy* policy, int32_t data_class,
                                         int32_t purpose, const edict_context_builder* ctx,
                                         int detail, char* buf, size_t buf_size,
                                         size_t* needed) EDICT_NOEXCEPT {
  if (BadExplainArgs(policy, buf, buf_size, detail)) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(policy, ctx, &storage, &c); s != EDICT_OK) return s;
  return ExplainDataUse(policy, data_class, purpose, *c, detail, buf, buf_size, needed);
}

edict_status edict_explain_schedule(const edict_policy* policy, int32_t schedule,
                                    const edict_context* ctx, int detail, char* buf,
                                    size_t buf_size, size_t* needed) EDICT_NOEXCEPT {
  if (BadExplainArgs(policy, buf, buf_size, detail)) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(ctx, &storage, &c); s != EDICT_OK) return s;
  return ExplainSchedule(policy, schedule, *c, detail, buf, buf_size, needed);
}

edict_status edict_explain_schedule_with(const edict_policy* policy, int32_t schedule,
                                         const edict_context_builder* ctx, int detail, char* buf,
                                         size_t buf_size, size_t* needed) EDICT_NOEXCEPT {
  if (BadExplainArgs(policy, buf, buf_size, detail)) return EDICT_ERR_INVALID_ARGUMENT;
  ContextStorage storage;
  const edict::Context* c = nullptr;
  if (edict_status s = ContextOf(policy, ctx, &storage, &c); s != EDICT_OK) return s;
  return ExplainSchedule(policy, schedule, *c, detail, buf, buf_size, needed);
}

// ---- About the policy -----------------------------------------------------------------------

uint64_t edict_serial(const edict_policy* policy) EDICT_NOEXCEPT {
  return policy == nullptr ? 0 : policy->snapshot->serial();
}

uint64_t edict_trust_version(const edict_policy* policy) EDICT_NOEXCEPT {
  return policy == nullptr ? 0 : policy->trust_version;
}

size_t edict_skipped_rules(const edict_policy* policy) EDICT_NOEXCEPT {
  return policy == nullptr ? 0 : policy->snapshot->skipped_count();
}

int edict_policy_origin(const edict_policy* policy) EDICT_NOEXCEPT {
  return policy == nullptr ? EDICT_ORIGIN_DEFAULTS : policy->origin;
}

edict_status edict_policy_problems(const edict_policy* policy, char* buf, size_t buf_size,
                                   size_t* needed) EDICT_NOEXCEPT {
  if (policy == nullptr || (buf == nullptr && buf_size != 0)) return EDICT_ERR_INVALID_ARGUMENT;
  CopyText(policy->problems, buf, buf_size);
  return ExplainResult(policy->problems.size(), buf_size, needed);
}

edict_status edict_policy_changed(const edict_policy* policy, int* changed) EDICT_NOEXCEPT {
  if (policy == nullptr || changed == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  *changed = 0;
  if (!policy->watch) return EDICT_OK;
  for (int i = 0; i < 2; ++i) {
    if (!(StampOf(policy->watch_paths[i].c_str()) == policy->stamps[i])) {
      *changed = 1;
      break;
    }
  }
  return EDICT_OK;
}

}  // extern "C"
