// edict kernel: allocation-free evaluation of admin policy.
//
// A Snapshot is an immutable view of one activated policy payload: the payload bytes
// (zero-copy) plus an index built once, at activation, in a caller-provided arena. Every
// query on a Snapshot is const, allocation-free, lock-free, I/O-free and exception-free,
// so any number of threads may query one Snapshot concurrently. Publishing a new snapshot
// while readers run is SnapshotPublisher's job (kernel/publisher.h).
//
// Semantics (precedence, conditions, atomic groups, unknown settings) are specified in
// docs/semantics.md; this header only names them.
#ifndef EDICT_KERNEL_KERNEL_H_
#define EDICT_KERNEL_KERNEL_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "policy/catalog.h"
#include "policy/catalog/catalog_set.h"

namespace edict {

// ---- Query context ------------------------------------------------------------------

enum class Identity : uint8_t { kUnknown = 0, kManaged = 1, kUnmanaged = 2 };
enum class TriState : uint8_t { kUnknown = 0, kYes = 1, kNo = 2 };
// Values equal the bits of fb::Plan / fb::Role, so a condition tests `mask & value`.
enum class Plan : uint8_t { kUnknown = 0, kEnterprise = 1, kSmallBusiness = 2, kTrial = 4 };
enum class Role : uint8_t { kUnknown = 0, kUser = 1, kAdmin = 2, kOrganiser = 4, kParticipant = 8 };
// Device-state flags (bits of fb::DeviceState).
inline constexpr uint32_t kDeviceTampered = 1u << 0;
inline constexpr uint32_t kDeviceNotGenuine = 1u << 1;

// Who is asking, on what device. Unknown attributes never satisfy a condition term that
// constrains them. The context does not own `groups` or `region`.
struct Context {
  Identity identity = Identity::kUnknown;
  TriState domain_joined = TriState::kUnknown;
  TriState device_managed = TriState::kUnknown;
  Plan plan = Plan::kUnknown;
  int32_t os_generation = 0;  // 0 = unknown (e.g. 60 = Vista SP1+, 61 = Windows 7)
  uint32_t device_state = 0;  // kDevice* flags
  absl::Span<const std::string_view> groups;
  Role role = Role::kUnknown;
  bool account_creation = false;  // the question is asked while the account is created
  std::string_view region;        // e.g. shipping-address country "US"; empty = unknown
  // Values of catalogue attributes (CatalogSet::FindAttribute), in any order; an attribute
  // not listed is unknown. Not owned. A handful is cheap: each term scans this list.
  absl::Span<const AttributeValue> attributes;
};

// Sets the field of `ctx` that holds built-in attribute `term` (AttributeSpec::term of a
// built-in row of the set's attribute table) from `v`, as the row's type gives it: Bool
// rows `number` 0 or 1; Enum rows the index of the value in the row's values (device_state:
// the set of flags, bit i = values[i]); os_generation the integer; groups and region
// `v.strings` (region at most one; not copied: they must outlive `ctx`). Returns false,
// leaving `ctx` unchanged, for kNone, kDeviceStateNot (a condition term only) and values
// the field cannot hold. The one place that maps the table's rows to Context fields.
bool SetBuiltinAttribute(BuiltinTerm term, const AttributeValue& v, Context* ctx);

// ---- Answers ------------------------------------------------------------------------

// A typed value. `number` holds: bool 0/1; enum index into SettingSpec::values; flags
// bitmask (bit i = values[i]); integer; duration in seconds. `text` holds string values
// and points into the payload or the catalogue.
struct Value {
  SettingType type = SettingType::kBool;
  int64_t number = 0;
  std::string_view text;

  friend bool operator==(const Value& a, const Value& b) {
    return a.type == b.type && a.number == b.number && a.text == b.text;
  }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }
};

// Where an answer came from. Precedence: fixed > mandatory > user > recommended > default.
enum class Source : uint8_t { kDefault = 0, kFixed, kMandatory, kUser, kRecommended };
std::string_view SourceName(Source s);  // "default", "fixed", "mandatory", "user", "recommended"

// The user's own choice for a setting, if the application has one.
struct UserChoice {
  Value value;
  bool made_at_account_creation = false;
};

// Why a resolution ignored something (bit flags in Resolution::notes).
enum ResolutionNote : uint16_t {
  kNoteNone = 0,
  kNoteUnknownSetting = 1 << 0,          // the setting id is not in this catalogue
  kNoteChoiceOverriddenByLock = 1 << 1,  // a user choice lost to a mandatory/fixed value
  kNoteChoiceNotPermitted = 1 << 2,      // the catalogue does not let this user choose
  kNoteChoiceAfterCreation = 1 << 3,     // choosable only at account creation
  kNoteChoiceInvalid = 1 << 4,           // wrong type or outside the allowed values
  kNoteAtomicGroup = 1 << 5,             // recommended rule ignored: its atomic group is
                                         // decided by a mandatory rule of another member
};

struct Resolution {
  int setting = -1;
  Value value;
  Source source = Source::kDefault;
  bool locked = false;  // fixed or mandatory: the user cannot change it
  int32_t rule = -1;    // index in the payload's `settings` vector, or -1
  uint64_t serial = 0;  // serial of the active payload; 0 without a policy
  Obligations obligations = 0;
  uint16_t notes = kNoteNone;
};

struct DataUseDecision {
  int data_class = -1;
  int purpose = -1;
  bool allowed = false;
  Obligations obligations = 0;
  Source source = Source::kDefault;  // kDefault (built-in cell or none), kFixed, kMandatory
  int32_t rule = -1;                 // admin rule: index in the payload's `data_use` vector, or -1
  int32_t builtin = -1;  // deciding built-in cell: index in catalog::kBuiltinDataUse, or -1
  uint64_t serial = 0;
  bool unknown = false;  // class or purpose id not in this catalogue
};

struct ScheduleAnswer {
  int schedule = -1;
  int64_t interval_seconds = 0;      // 0: no schedule applies
  Source source = Source::kDefault;  // kDefault (built-in or none) or kMandatory
  int32_t rule = -1;                 // index in the payload's `schedules` vector, or -1
  int32_t builtin = -1;              // index in catalog::kBuiltinSchedules, or -1
  uint64_t serial = 0;
  bool unknown = false;
};

// ---- Activation report ----------------------------------------------------------------

// Why activation left a rule out (it is reported, never silently dropped).
enum class SkipReason : uint8_t {
  kUnknownSetting = 1,  // newer catalogue than this endpoint
  kUnknownDataClass,
  kUnknownPurpose,
  kUnknownSchedule,
  kUnknownSymbol,  // enum/flags value this catalogue does not know
  kWrongValueType,
  kNotAdminSettable,  // fixed, user-only or organiser-only setting
  kFixedCell,         // data-use cell no policy may change
  kBadInterval,       // schedule interval <= 0
  kUnknownAttribute,  // a condition names an attribute this endpoint does not know, or
                      // constrains it in a way its type does not allow
};
std::string_view SkipReasonName(SkipReason r);

enum class RuleKind : uint8_t { kSetting = 0, kDataUse = 1, kSchedule = 2 };

struct SkippedRule {
  RuleKind kind;
  SkipReason reason;
  uint32_t index;         // index in the payload vector of that kind
  std::string_view name;  // the id the rule named (points into the payload)
};

// ---- Explain --------------------------------------------------------------------------

enum class ExplainDetail : uint8_t {
  kSentence,        // one sentence: value, source, lock, rule, bundle, why
  kWithCandidates,  // plus every other candidate and why it lost
};

// ---- Snapshot -------------------------------------------------------------------------

// Thread-safety: immutable after Activate; all const methods may be called concurrently.
class Snapshot {
 public:
  static constexpr size_t kMaxReportedSkips = 16;

  // Arena bytes Activate needs for `payload` (a FlatBuffer with identifier "EDP1", starting
  // on an 8-byte boundary: FlatBuffers reads its 64-bit scalars in place). Fails with
  // InvalidArgument if the payload is misaligned or does not pass the FlatBuffers verifier.
  // The size depends on the catalogue set (one bucket per slot); pass the set given to
  // Activate.
  static absl::StatusOr<size_t> ArenaSize(absl::Span<const uint8_t> payload,
                                          const CatalogSet& catalogs = CatalogSet::Builtin());

  // Verifies and indexes `payload` into `arena`, which must be at least ArenaSize bytes
  // and suitably aligned for std::max_align_t. The returned snapshot lives in `arena` and
  // borrows `payload`: both must outlive it. Never allocates, throws or reads past the
  // payload. Errors: InvalidArgument (not a valid payload, payload not 8-byte aligned, or
  // arena not aligned), ResourceExhausted (arena too small), FailedPrecondition
  // (unsupported format version, or a critical rule this endpoint cannot honour).
  // Setting, data-class, purpose, schedule and attribute names are looked up in
  // `catalogs`, which must outlive the snapshot; query handles are that set's.
  static absl::StatusOr<const Snapshot*> Activate(
      absl::Span<const uint8_t> payload, absl::Span<uint8_t> arena,
      const CatalogSet& catalogs = CatalogSet::Builtin());

  // The built-in catalogue's defaults with no policy at all (serial 0).
  static const Snapshot& Defaults();
  // The defaults of `catalogs` with no policy (serial 0), placed in `arena` (at least
  // DefaultsArenaSize(catalogs) bytes, aligned for std::max_align_t). Errors as Activate.
  static size_t DefaultsArenaSize(const CatalogSet& catalogs);
  static absl::StatusOr<const Snapshot*> Defaults(const CatalogSet& catalogs,
                                                  absl::Span<uint8_t> arena);

  Resolution Resolve(int setting, const Context& ctx, const UserChoice* choice = nullptr) const;
  DataUseDecision MayUse(int data_class, int purpose, const Context& ctx) const;
  ScheduleAnswer Schedule(int schedule, const Context& ctx) const;

  // Renders an answer of this snapshot as readable text into `out` (always
  // NUL-terminated when out is non-empty, truncated if short). Returns the length the
  // full text needs, excluding the NUL, like snprintf.
  size_t Explain(const Resolution& r, const Context& ctx, const UserChoice* choice,
                 ExplainDetail detail, absl::Span<char> out) const;
  size_t Explain(const DataUseDecision& d, const Context& ctx, ExplainDetail detail,
                 absl::Span<char> out) const;
  size_t Explain(const ScheduleAnswer& s, const Context& ctx, ExplainDetail detail,
                 absl::Span<char> out) const;

  uint64_t serial() const;
  // Rules activation left out: the total, and the first kMaxReportedSkips of them.
  size_t skipped_count() const;
  absl::Span<const SkippedRule> skipped() const;
  // The payload this snapshot indexes (empty for Defaults()).
  absl::Span<const uint8_t> payload() const;
  // The catalogue set this snapshot was activated against; its handles are the ones the
  // queries take (FindSetting and friends).
  const CatalogSet& catalogs() const;

 private:
  Snapshot() = default;
  friend class SnapshotBuilder;  // kernel/activate.cc
  struct Impl;
  const Impl* impl_ = nullptr;
};

}  // namespace edict

#endif  // EDICT_KERNEL_KERNEL_H_
