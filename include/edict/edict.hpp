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
  StatusOr(Status status) : status_(std::move(status)) {}            // NOLINT: implicit
  StatusOr(edict_status code) : status_(code) {}                     // NOLINT: implicit

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

// A catalogue set (edict_catalogs): the built-in catalogue plus product catalogues. Move-only
// owner of one reference; a default-constructed Catalogs is the built-in catalogue alone.
// Policies and ContextBuilders made with it keep their own reference.
class Catalogs {
 public:
  // One product catalogue (.edcat) from a file or from memory.
  static StatusOr<Catalogs> OpenFile(const char* path) {
    edict_error error;
    edict_catalogs* c = nullptr;
    const edict_status s = edict_catalogs_open_file(path, &c, &error);
    if (s != EDICT_OK) return Status(s, error);
    return Catalogs(c);
  }
  static StatusOr<Catalogs> OpenMemory(Span<const uint8_t> bytes) {
    edict_error error;
    edict_catalogs* c = nullptr;
    const edict_status s = edict_catalogs_open_memory(bytes.data(), bytes.size(), &c, &error);
    if (s != EDICT_OK) return Status(s, error);
    return Catalogs(c);
  }
  // Several product catalogues: each of `paths`, then each of `blobs`.
  static StatusOr<Catalogs> Open(std::initializer_list<const char*> paths,
                                 std::initializer_list<Span<const uint8_t>> blobs = {}) {
    edict_error error;
    edict_catalog_builder* b = nullptr;
    edict_status s = edict_catalog_builder_new(&b);
    if (s != EDICT_OK) return Status(s);
    for (const char* path : paths) {
      if (s == EDICT_OK) s = edict_catalog_builder_add_file(b, path, &error);
    }
    for (Span<const uint8_t> blob : blobs) {
      if (s == EDICT_OK)
        s = edict_catalog_builder_add_memory(b, blob.data(), blob.size(), nullptr, &error);
    }
    edict_catalogs* c = nullptr;
    if (s == EDICT_OK) s = edict_catalog_builder_build(b, &c, &error);
    edict_catalog_builder_free(b);
    if (s != EDICT_OK) return Status(s, error);
    return Catalogs(c);
  }

  Catalogs() = default;  // the built-in catalogue alone
  ~Catalogs() { edict_catalogs_free(c_); }
  Catalogs(Catalogs&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}
  Catalogs& operator=(Catalogs&& other) noexcept {
    if (this != &other) {
      edict_catalogs_free(c_);
      c_ = std::exchange(other.c_, nullptr);
    }
    return *this;
  }
  Catalogs(const Catalogs&) = delete;
  Catalogs& operator=(const Catalogs&) = delete;

  // Lookups (no allocation): ids of this set, -1 when unknown.
  SettingId Setting(const char* id) const {
    return SettingId{edict_catalogs_find(c_, EDICT_ENTRY_SETTING, id)};
  }
  DataClassId DataClass(const char* id) const {
    return DataClassId{edict_catalogs_find(c_, EDICT_ENTRY_DATA_CLASS, id)};
  }
  PurposeId Purpose(const char* id) const {
    return PurposeId{edict_catalogs_find(c_, EDICT_ENTRY_PURPOSE, id)};
  }
  ScheduleId Schedule(const char* id) const {
    return ScheduleId{edict_catalogs_find(c_, EDICT_ENTRY_SCHEDULE, id)};
  }
  int32_t Attribute(const char* name) const {
    return edict_catalogs_find(c_, EDICT_ENTRY_ATTRIBUTE, name);
  }
  int32_t count(edict_entry_kind kind) const { return edict_catalogs_count(c_, kind); }
  // The product catalogues (allocates the vector; the strings belong to the set).
  std::vector<edict_product_info> products() const {
    std::vector<edict_product_info> out;
    const int32_t n = edict_catalogs_product_count(c_);
    for (int32_t i = 0; i < n; ++i) {
      edict_product_info info;
      edict_product_info_init(&info);
      if (edict_catalogs_product(c_, i, &info) == EDICT_OK) out.push_back(info);
    }
    return out;
  }

  // The C handle (null: the built-in catalogue), for the C functions.
  const edict_catalogs* get() const { return c_; }

 private:
  explicit Catalogs(edict_catalogs* c) : c_(c) {}
  edict_catalogs* c_ = nullptr;
};

// A query context with catalogue attributes (edict_context_builder), bound to one catalogue
// set: use it with policies opened with that set. Owns copies of its strings. Setters are
// not thread-safe; queries with a builder no one is changing are.
class ContextBuilder {
 public:
  // An empty builder for `catalogs` (null: the built-in catalogue); check ok().
  explicit ContextBuilder(const edict_catalogs* catalogs = nullptr) {
    status_ = edict_context_builder_new(catalogs, &b_);
  }
  explicit ContextBuilder(const Catalogs& catalogs) : ContextBuilder(catalogs.get()) {}
  ~ContextBuilder() { edict_context_builder_free(b_); }
  ContextBuilder(ContextBuilder&& other) noexcept
      : b_(std::exchange(other.b_, nullptr)), status_(other.status_) {}
  ContextBuilder& operator=(ContextBuilder&& other) noexcept {
    if (this != &other) {
      edict_context_builder_free(b_);
      b_ = std::exchange(other.b_, nullptr);
      status_ = other.status_;
    }
    return *this;
  }
  ContextBuilder(const ContextBuilder&) = delete;
  ContextBuilder& operator=(const ContextBuilder&) = delete;

  bool ok() const { return b_ != nullptr; }
  edict_status status() const { return status_; }

  // Each setter returns the C status (EDICT_ERR_UNKNOWN_ID: no such attribute;
  // EDICT_ERR_INVALID_ARGUMENT: wrong type or value). The strings are copied.
  edict_status SetBase(const Context& ctx) { return edict_context_builder_set_base(b_, ctx.c()); }
  edict_status SetBool(const char* name, bool value) {
    return edict_context_builder_set_bool(b_, name, value ? 1 : 0);
  }
  edict_status SetEnum(const char* name, const char* value) {
    return edict_context_builder_set_enum(b_, name, value);
  }
  edict_status SetInteger(const char* name, int64_t value) {
    return edict_context_builder_set_integer(b_, name, value);
  }
  edict_status SetStrings(const char* name, Span<const char* const> values) {
    return edict_context_builder_set_strings(b_, name, values.data(), values.size());
  }
  edict_status Unset(const char* name) { return edict_context_builder_unset(b_, name); }

  const edict_context_builder* get() const { return b_; }

 private:
  edict_context_builder* b_ = nullptr;
  edict_status status_ = EDICT_OK;
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

  // The same against a catalogue set (the edict_open_*_with_catalogs functions). The policy
  // keeps its own reference to the set.
  static StatusOr<Policy> OpenState(const Catalogs& catalogs, const char* state_dir = nullptr,
                                    const char* pinned_trust_path = nullptr) {
    edict_error error;
    edict_policy* p = nullptr;
    const edict_status s =
        edict_open_state_with_catalogs(catalogs.get(), state_dir, pinned_trust_path, &p, &error);
    if (s != EDICT_OK) return Status(s, error);
    return Policy(p);
  }
  static StatusOr<Policy> OpenBundle(const Catalogs& catalogs, Span<const uint8_t> bundle,
                                     Span<const uint8_t> trust,
                                     const edict_verify_options* options = nullptr) {
    edict_error error;
    edict_policy* p = nullptr;
    const edict_status s =
        edict_open_bundle_with_catalogs(catalogs.get(), bundle.data(), bundle.size(), trust.data(),
                                        trust.size(), options, &p, &error);
    if (s != EDICT_OK) return Status(s, error);
    return Policy(p);
  }
  static StatusOr<Policy> OpenBundleFiles(const Catalogs& catalogs, const char* bundle_path,
                                          const char* trust_path,
                                          const edict_verify_options* options = nullptr) {
    edict_error error;
    edict_policy* p = nullptr;
    const edict_status s = edict_open_bundle_files_with_catalogs(catalogs.get(), bundle_path,
                                                                 trust_path, options, &p, &error);
    if (s != EDICT_OK) return Status(s, error);
    return Policy(p);
  }
  static StatusOr<Policy> OpenUnverifiedPayload(const Catalogs& catalogs,
                                                Span<const uint8_t> payload) {
    edict_error error;
    edict_policy* p = nullptr;
    const edict_status s = edict_open_payload_with_catalogs(catalogs.get(), payload.data(),
                                                            payload.size(), &p, &error);
    if (s != EDICT_OK) return Status(s, error);
    return Policy(p);
  }
  static StatusOr<Policy> Defaults(const Catalogs& catalogs) {
    edict_policy* p = nullptr;
    const edict_status s = edict_open_defaults_with_catalogs(catalogs.get(), &p);
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
  // The same with a ContextBuilder of this policy's catalogue set (no allocation).
  StatusOr<edict_resolution> Resolve(SettingId setting, const ContextBuilder& ctx,
                                     const edict_user_choice* choice = nullptr) const {
    edict_resolution r;
    const edict_status s = edict_resolve_with(p_, setting.value, ctx.get(), choice, &r);
    if (s != EDICT_OK) return Status(s);
    return r;
  }
  StatusOr<edict_data_use> MayUse(DataClassId data_class, PurposeId purpose,
                                  const ContextBuilder& ctx) const {
    edict_data_use d;
    const edict_status s = edict_may_use_with(p_, data_class.value, purpose.value, ctx.get(), &d);
    if (s != EDICT_OK) return Status(s);
    return d;
  }
  StatusOr<edict_schedule> Schedule(ScheduleId schedule, const ContextBuilder& ctx) const {
    edict_schedule a;
    const edict_status s = edict_schedule_get_with(p_, schedule.value, ctx.get(), &a);
    if (s != EDICT_OK) return Status(s);
    return a;
  }
  // Convenience (allocates): the explanation with a ContextBuilder; "" on error.
  std::string Explain(SettingId setting, const ContextBuilder& ctx,
                      int detail = EDICT_EXPLAIN_SENTENCE,
                      const edict_user_choice* choice = nullptr) const {
    return Render([&](char* buf, size_t size, size_t* needed) {
      return edict_explain_setting_with(p_, setting.value, ctx.get(), choice, detail, buf, size,
                                        needed);
    });
  }
  // The policy's catalogue set (borrowed: valid while the policy is open), for lookups and
  // ContextBuilders: ContextBuilder(policy.catalogs()).
  const edict_catalogs* catalogs() const { return edict_policy_catalogs(p_); }
  // A setting id of the policy's set (built-in and product settings).
  SettingId Setting(const char* id) const {
    return SettingId{edict_catalogs_find(catalogs(), EDICT_ENTRY_SETTING, id)};
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
  std::string Explain(SettingId setting, const Context& ctx, int detail = EDICT_EXPLAIN_SENTENCE,
                      const edict_user_choice* choice = nullptr) const {
    return Render([&](char* buf, size_t size, size_t* needed) {
      return edict_explain_setting(p_, setting.value, ctx.c(), choice, detail, buf, size, needed);
    });
  }
  std::string Explain(DataClassId data_class, PurposeId purpose, const Context& ctx,
                      int detail = EDICT_EXPLAIN_SENTENCE) const {
    return Render([&](char* buf, size_t size, size_t* needed) {
      return edict_explain_data_use(p_, data_class.value, purpose.value, ctx.c(), detail, buf, size,
                                    needed);
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

// The library's version string ("0.2.0").
inline std::string_view Version() {
  const char* s = nullptr;
  edict_version(&s);
  return s;
}

}  // namespace edict::api

#endif  // EDICT_EDICT_HPP_
