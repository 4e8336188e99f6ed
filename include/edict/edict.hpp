// edict C++ face: a thin, header-only RAII layer over the C API of edict.h (C++17).
//
//   auto policy = edict::api::Policy::OpenState();          // StatusOr<Policy>
//   if (!policy.ok()) policy = edict::api::Policy::Defaults();
//   edict::api::Context ctx;
//   ctx.get().identity = EDICT_IDENTITY_MANAGED;
//   static const edict::api::SettingId kCeip = edict::api::SettingId::Of("communicator.ceip");
//   auto r = policy->Resolve(kCeip, ctx);                    // StatusOr<edict_resolution>
//   if (r.ok() && r->locked && r->value.number == 0) { ... }
//
// Same rules as the C API: opening allocates; queries do not (the explanation methods that
// return std::string do, and say so; use the span overloads on hot paths). No exceptions
// are thrown. Thread-safety is the C API's: a Policy may be queried from any number of
// threads at once; moving from it or destroying it must not race with queries.
//
// Names live in edict::api so that they never collide with the library's internal edict::
// types. Nothing here needs Abseil.
#ifndef EDICT_EDICT_HPP_
#define EDICT_EDICT_HPP_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "edict/edict.h"

namespace edict::api {

// A read-only view of `size` contiguous `T`s (C++17 has no std::span).
template <typename T>
class Span {
 public:
  constexpr Span() = default;
  constexpr Span(T* data, size_t size) : data_(data), size_(size) {}
  template <typename C, typename = decltype(std::declval<C&>().data())>
  constexpr Span(C& c) : data_(c.data()), size_(c.size()) {}  // NOLINT: implicit like std::span
  template <size_t N>
  constexpr Span(T (&array)[N]) : data_(array), size_(N) {}  // NOLINT
  constexpr T* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr T* begin() const { return data_; }
  constexpr T* end() const { return data_ + size_; }
  constexpr T& operator[](size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

// An edict_status with, for failed opens, the library's message and transport error.
class Status {
 public:
  Status() = default;
  explicit Status(edict_status code) : code_(code) {}
  Status(edict_status code, const edict_error& error)
      : code_(code), verify_error_(error.verify_error), message_(error.message) {}

  bool ok() const { return code_ == EDICT_OK; }
  edict_status code() const { return code_; }
  int verify_error() const { return verify_error_; }  // transport error number, or 0
  // The detailed message if any, else edict_strerror(code()).
  std::string message() const {
    return message_.empty() ? std::string(edict_strerror(code_)) : message_;
  }

 private:
  edict_status code_ = EDICT_OK;
  int verify_error_ = 0;
  std::string message_;
};

// A value or a non-OK Status. Accessing the value of a non-OK StatusOr is undefined
// (check ok() first); there are no exceptions.
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)), has_value_(true) {}  // NOLINT: implicit
  StatusOr(Status status) : status_(std::move(status)) {}             // NOLINT: implicit
  StatusOr(edict_status code) : status_(code) {}                      // NOLINT: implicit

  bool ok() const { return has_value_; }
  const Status& status() const { return status_; }
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  T& operator*() & { return value_; }
  const T& operator*() const& { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  Status status_;
  T value_{};
  bool has_value_ = false;
};

// A setting id resolved once from its string id (catalogue lookup).
struct SettingId {
  int32_t value = -1;
  static SettingId Of(const char* id) { return SettingId{edict_setting_id(id)}; }
  bool known() const { return value >= 0; }
};
struct DataClassId {
  int32_t value = -1;
  static DataClassId Of(const char* id) { return DataClassId{edict_data_class_id(id)}; }
  bool known() const { return value >= 0; }
};
struct PurposeId {
  int32_t value = -1;
  static PurposeId Of(const char* id) { return PurposeId{edict_purpose_id(id)}; }
  bool known() const { return value >= 0; }
};
struct ScheduleId {
  int32_t value = -1;
  static ScheduleId Of(const char* id) { return ScheduleId{edict_schedule_id(id)}; }
  bool known() const { return value >= 0; }
};

// An edict_context, initialised. Groups and region are borrowed: keep the strings alive
// while the context is used.
class Context {
 public:
  Context() { edict_context_init(&ctx_); }
  edict_context& get() { return ctx_; }
  const edict_context& get() const { return ctx_; }
  const edict_context* c() const { return &ctx_; }
  // `groups` must hold NUL-terminated strings and outlive the queries.
  Context& set_groups(Span<const char* const> groups) {
    ctx_.groups = groups.data();
    ctx_.group_count = groups.size();
    return *this;
  }

 private:
  edict_context ctx_;
};

class Policy {
 public:
  // Opens the agent's active state read-only and verified (edict_open_state).
  static StatusOr<Policy> OpenState(const char* state_dir = nullptr,
                                    const char* pinned_trust_path = nullptr) {
    edict_error error;
    edict_policy* p = nullptr;
    const edict_status s = edict_open_state(state_dir, pinned_trust_path, &p, &error);
    if (s != EDICT_OK) return Status(s, error);
    return Policy(p);
  }
  // Verifies `bundle` against `trust` (edict_open_bundle); `options` may be null.
  static StatusOr<Policy> OpenBundle(Span<const uint8_t> bundle, Span<const uint8_t> trust,
                                     const edict_verify_options* options = nullptr) {
    edict_error error;
    edict_policy* p = nullptr;
    const edict_status s = edict_open_bundle(bundle.data(), bundle.size(), trust.data(),
                                             trust.size(), options, &p, &error);
    if (s != EDICT_OK) return Status(s, error);
    return Policy(p);
  }
  static StatusOr<Policy> OpenBundleFiles(const char* bundle_path, const char* trust_path,
                                          const edict_verify_options* options = nullptr) {
    edict_error error;
    edict_policy* p = nullptr;
    const edict_status s = edict_open_bundle_files(bundle_path, trust_path, options, &p, &error);
    if (s != EDICT_OK) return Status(s, error);
    return Policy(p);
  }
  // UNVERIFIED raw payload: tests and tools only (edict_open_payload).
  static StatusOr<Policy> OpenUnverifiedPayload(Span<const uint8_t> payload) {
    edict_error error;
    edict_policy* p = nullptr;
    const edict_status s = edict_open_payload(payload.data(), payload.size(), &p, &error);
    if (s != EDICT_OK) return Status(s, error);
    return Policy(p);
  }
  static StatusOr<Policy> Defaults() {
    edict_policy* p = nullptr;
    const edict_status s = edict_open_defaults(&p);
    if (s != EDICT_OK) return Status(s);
    return Policy(p);
  }

  Policy() = default;  // empty: every query fails with EDICT_ERR_INVALID_ARGUMENT
  ~Policy() { edict_close(p_); }
  Policy(Policy&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  Policy& operator=(Policy&& other) noexcept {
    if (this != &other) {
      edict_close(p_);
      p_ = std::exchange(other.p_, nullptr);
    }
    return *this;
  }
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  // ---- Queries (no allocation) ----
  StatusOr<edict_resolution> Resolve(SettingId setting, const Context& ctx,
                                     const edict_user_choice* choice = nullptr) const {
    edict_resolution r;
    const edict_status s = edict_resolve(p_, setting.value, ctx.c(), choice, &r);
    if (s != EDICT_OK) return Status(s);
    return r;
  }
  StatusOr<edict_data_use> MayUse(DataClassId data_class, PurposeId purpose,
                                  const Context& ctx) const {
    edict_data_use d;
    const edict_status s = edict_may_use(p_, data_class.value, purpose.value, ctx.c(), &d);
    if (s != EDICT_OK) return Status(s);
    return d;
  }
  StatusOr<edict_schedule> Schedule(ScheduleId schedule, const Context& ctx) const {
    edict_schedule a;
    const edict_status s = edict_schedule_get(p_, schedule.value, ctx.c(), &a);
    if (s != EDICT_OK) return Status(s);
    return a;
  }
  // Explanations into a caller buffer (no allocation): the full length, or an error
  // (EDICT_ERR_BUFFER_TOO_SMALL when truncated; the buffer holds the truncated text).
  StatusOr<size_t> Explain(SettingId setting, const Context& ctx, Span<char> out,
                           int detail = EDICT_EXPLAIN_SENTENCE,
                           const edict_user_choice* choice = nullptr) const {
    size_t needed = 0;
    const edict_status s = edict_explain_setting(p_, setting.value, ctx.c(), choice, detail,
                                                 out.data(), out.size(), &needed);
    if (s != EDICT_OK) return Status(s);
    return needed;
  }
  // Convenience (allocates): the whole explanation as a string; "" on error.
  std::string Explain(SettingId setting, const Context& ctx,
                      int detail = EDICT_EXPLAIN_SENTENCE,
                      const edict_user_choice* choice = nullptr) const {
    return Render([&](char* buf, size_t size, size_t* needed) {
      return edict_explain_setting(p_, setting.value, ctx.c(), choice, detail, buf, size,
                                   needed);
    });
  }
  std::string Explain(DataClassId data_class, PurposeId purpose, const Context& ctx,
                      int detail = EDICT_EXPLAIN_SENTENCE) const {
    return Render([&](char* buf, size_t size, size_t* needed) {
      return edict_explain_data_use(p_, data_class.value, purpose.value, ctx.c(), detail, buf,
                                    size, needed);
    });
  }
  std::string Explain(ScheduleId schedule, const Context& ctx,
                      int detail = EDICT_EXPLAIN_SENTENCE) const {
    return Render([&](char* buf, size_t size, size_t* needed) {
      return edict_explain_schedule(p_, schedule.value, ctx.c(), detail, buf, size, needed);
    });
  }

  // ---- About the policy ----
  uint64_t serial() const { return edict_serial(p_); }
  uint64_t trust_version() const { return edict_trust_version(p_); }
  edict_origin origin() const { return static_cast<edict_origin>(edict_policy_origin(p_)); }
  size_t skipped_rules() const { return edict_skipped_rules(p_); }
  // Allocates.
  std::string problems() const {
    return Render([&](char* buf, size_t size, size_t* needed) {
      return edict_policy_problems(p_, buf, size, needed);
    });
  }
  // True when the agent has activated something since this policy was opened (OpenState
  // only); re-open then.
  bool changed() const {
    int changed = 0;
    return edict_policy_changed(p_, &changed) == EDICT_OK && changed != 0;
  }

  const edict_policy* get() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  explicit Policy(edict_policy* p) : p_(p) {}

  template <typename F>
  static std::string Render(F&& f) {
    char small[256];
    size_t needed = 0;
    edict_status s = f(small, sizeof(small), &needed);
    if (s == EDICT_OK) return std::string(small, needed);
    if (s != EDICT_ERR_BUFFER_TOO_SMALL) return std::string();
    std::string out(needed + 1, '\0');
    if (f(&out[0], out.size(), &needed) != EDICT_OK) return std::string();
    out.resize(needed);
    return out;
  }

  edict_policy* p_ = nullptr;
};

// The library's version string ("0.1.0").
inline std::string_view Version() {
  const char* s = nullptr;
  edict_version(&s);
  return s;
}

}  // namespace edict::api

#endif  // EDICT_EDICT_HPP_
