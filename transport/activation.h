// The activation state machine: how an endpoint takes a signed bundle (or a trust document)
// from "bytes arrived" to "active, durable, enforced, audited", and how it gets back to a
// verified state after a restart, a crash or a damaged state directory.
//
// OS-free: everything durable, every clock, every audit line and every native store goes
// through the ports interfaces (ports/*.h). The agent (tools/agent) wires the Linux ports;
// a Windows service will wire the Windows ones.
//
// Offer(bundle) runs these steps, each preceded by a fault point (ActivationStep):
//
//   kVerify       transport checks in order (bundle.h), against the accepted trust store and
//                 the durable anti-rollback state
//   kStage        the new record (serial, epoch, time floor, trust version, digest, times)
//                 and the bundle bytes are encoded into one image
//   kCommit       that image is written atomically (StateStore, blob "active"): the commit
//                 point; a crash before it leaves the old policy, after it the new one
//   kCommitFloor  the anti-rollback floor (blob "floor") is raised to the new state; it is
//                 what keeps the serial from ever going back if "active" is later damaged
//   kPublish      the new snapshot replaces the old one in the SnapshotPublisher
//   kMaterialise  every catalogue setting is resolved for the device context and the native
//                 stores are made to hold exactly the mandatory and recommended answers
//   kAudit        the activation is audited (rejections are audited at the failing step)
//
// After a crash at any step, Start() finds either the old or the new "active" image (the
// StateStore's guarantee), re-verifies it in full, and re-materialises, so the native stores
// converge too. The effective anti-rollback state is the larger of the one inside "active"
// and the "floor" blob, so the serial never goes back.
//
// Trust documents: the pinned document (installed out of band, e.g. /etc/edict/trust.edt)
// anchors everything. OfferTrust(bytes) accepts exactly the next version (TUF-style
// rotation, trust.h), stores the chain (blob "trust": the pinned copy and every accepted
// rotation) and then re-verifies the active bundle against the new trust: a bundle signed by
// a key the rotation revoked is dropped (audited; catalogue defaults), which is how the
// fast-forward-serial recovery (transport/README.md) removes an attacker's policy.
//
// Re-verification of stored state (Start, LoadActiveState, after OfferTrust) runs every
// transport check again: trust chain from the pinned document, envelope, keys, signatures,
// threshold, payload, target, catalogue version and kernel activation. Freshness is checked
// as of the time recorded when the bundle was accepted (`verified_at`): anti-rollback is
// satisfied by construction (the stored serial is the active one) and an active bundle is not
// dropped because its expiry passed while it was active (expiry protects against stale
// bundles being *installed*; it is checked on every Offer). Anything that fails: audited
// (kStateFallback with the error code), then the previous good generation if it verifies,
// else the catalogue defaults; never "no rules".
//
// Native stores: a store that cannot be written does not undo the commit (the policy is
// active for everything that links edict) but is not reported as enforced: it is audited
// (kMaterialisation, NATIVE_STORE, naming the store and why), native_error() says so, and the
// blob "native-failed" records it for readers (LoadActiveState reports it as a problem) until
// a later materialisation (Rematerialise, Start, the next activation) succeeds.
//
// Pinned trust: when the agent's configured pinned document cannot be read
// (pinned_trust_unavailable), every offer is refused with NO_TRUST while the stored state is
// still verified against the pinned copy stored at enrolment, so the active policy stays.
//
// Blobs in the StateStore: "trust", "active", "floor", "native-failed" (names below). Native
// stores keep their own ownership records in the same StateStore.
#ifndef EDICT_TRANSPORT_ACTIVATION_H_
#define EDICT_TRANSPORT_ACTIVATION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "kernel/kernel.h"
#include "kernel/publisher.h"
#include "ports/audit.h"
#include "ports/clock.h"
#include "ports/device_identity.h"
#include "ports/native_policy.h"
#include "ports/state_store.h"
#include "transport/bundle.h"
#include "transport/trust.h"

namespace edict::transport {

// StateStore blob names used by activation.
inline constexpr char kTrustBlobName[] = "trust";
inline constexpr char kActiveBlobName[] = "active";
inline constexpr char kFloorBlobName[] = "floor";
// Present while a native store could not be made to hold the active policy: one line per
// failed store, "<unix time>\t<serial>\t<store>\t<reason>". Removed once every store holds
// it; LoadActiveState reports each line as a NATIVE_STORE problem.
inline constexpr char kNativeFailedBlobName[] = "native-failed";

// Stable audit codes activation uses besides the transport ErrorName()s.
inline constexpr char kCodeOk[] = "OK";
inline constexpr char kCodeNoTrust[] = "NO_TRUST";            // no pinned trust document
inline constexpr char kCodeStateCorrupt[] = "STATE_CORRUPT";  // checksum failed (torn/tampered)
inline constexpr char kCodeStateIo[] = "STATE_IO";            // durable write/read failed
inline constexpr char kCodeNativeStore[] = "NATIVE_STORE";    // a native store failed
inline constexpr char kCodeInjected[] = "INJECTED";           // a step hook failed the step

// ---- Read-only access to the active state (edict_open_state, edict-agent status/query) ----

// Where the verified policy came from.
enum class ActiveSource : uint8_t {
  kDefaults = 0,  // no (usable) bundle: catalogue defaults, serial 0
  kCurrent = 1,   // the current "active" generation
  kPrevious = 2,  // the previous generation (the current one failed its checksum)
};
absl::string_view ActiveSourceName(ActiveSource s);  // "defaults", "current", "previous"

// What is known about the active state, for status displays and the C API.
struct ActiveStateInfo {
  ActiveSource source = ActiveSource::kDefaults;
  uint64_t serial = 0;           // 0 with defaults
  uint64_t trust_version = 0;    // of the accepted trust (0: no trust document)
  uint32_t rollback_epoch = 0;   // effective anti-rollback state (max of active and floor)
  uint64_t last_serial = 0;      //   (may exceed `serial` after a fallback)
  int64_t time_floor = 0;        //
  uint32_t catalog_version = 0;  // of the active payload (0 with defaults)
  int64_t issued_at = 0;         // of the active bundle (seconds since the Unix epoch)
  int64_t expires_at = 0;        // 0: never
  int64_t activated_at = 0;      // wall time of the commit (seconds since the Unix epoch)
  int64_t verified_at = 0;       // time the freshness checks were evaluated at
  std::string digest_hex;        // BundleDigest of the payload, lower-case hex; "" with defaults
  std::vector<std::string> signer_key_ids;  // hex
  size_t skipped_rules = 0;                 // rules the kernel left out (newer catalogue)
  // Every problem met while loading (each also audited by Start): "STATE_CORRUPT: ...",
  // "ERR_KEY_REVOKED: ...". Empty when the current generation verified cleanly.
  std::vector<std::string> problems;
};

// A verified active policy, owning everything its snapshot points into. Immutable;
// thread-safe for queries. Not copyable or movable (the snapshot points into it).
class ActiveState {
 public:
  ActiveState(const ActiveState&) = delete;
  ActiveState& operator=(const ActiveState&) = delete;
  ~ActiveState();

  // The defaults of catalogs() when info().source == kDefaults.
  const Snapshot& snapshot() const { return *snapshot_; }
  // The catalogue set the snapshot was activated against (kept alive by this object).
  const CatalogSet& catalogs() const { return snapshot_->catalogs(); }
  const ActiveStateInfo& info() const { return info_; }
  // The bundle bytes (empty with defaults).
  absl::Span<const uint8_t> bundle() const { return bundle_; }
  // The verified payload (points into bundle(); empty with defaults).
  absl::Span<const uint8_t> payload() const;

 private:
  friend class ActiveStateLoader;
  ActiveState() = default;
  std::vector<uint8_t> bundle_;
  std::unique_ptr<VerifiedBundle> verified_;
  std::shared_ptr<const CatalogSet> catalogs_;          // null: the built-in set
  std::unique_ptr<std::max_align_t[]> defaults_arena_;  // defaults of a non-built-in set
  const Snapshot* snapshot_ = &Snapshot::Defaults();
  ActiveStateInfo info_;
};

struct LoadActiveStateOptions {
  // The pinned trust document. Empty: use the pinned copy stored in the "trust" blob (the
  // agent stores it there); then authenticity rests on the state directory's permissions.
  // When given and it differs from the stored copy, it wins; stored rotations that
  // continue it (exactly its next versions) are kept, the others are dropped.
  std::vector<uint8_t> pinned_trust;
  // Who this endpoint is (target check). Empty: the identity recorded with the active
  // bundle by the agent that activated it.
  std::optional<EndpointIdentity> identity;
  VerifyOptions verify;
  Limits limits;
  // Seconds since the Unix epoch used to open a pinned document that is not the stored copy
  // (the stored chain is opened at the time it was accepted). 0: absl::Now().
  int64_t now = 0;
  // Non-empty: the configured pinned trust document cannot be read (why). Reported as a
  // NO_TRUST problem; the stored state is still verified against the stored pinned copy.
  std::string pinned_trust_unavailable;
  // The catalogue set the stored bundle is activated against (null: CatalogSet::Builtin());
  // the returned ActiveState keeps it alive.
  std::shared_ptr<const CatalogSet> catalogs = nullptr;
};

// Reads the state a StateStore holds and re-verifies it in full (see the top of this file),
// without writing anything and without auditing. Returns the verified policy, or the
// catalogue defaults with `info().problems` saying why (also when there is no state at all,
// with no problem). Errors are returned only for a store that cannot be read at all
// (Unavailable / PermissionDenied from the store); a missing or damaged blob is not an
// error. Thread-safe as far as the store is.
absl::StatusOr<std::unique_ptr<ActiveState>> LoadActiveState(
    ports::StateStore& store, const LoadActiveStateOptions& options = {});

// ---- The activation state machine ---------------------------------------------------------

enum class ActivationStep : uint8_t {
  kVerify = 0,
  kStage,
  kCommit,
  kCommitFloor,
  kPublish,
  kMaterialise,
  kAudit,
  kCount  // not a step
};
absl::string_view ActivationStepName(ActivationStep s);  // "verify", "stage", "commit", ...

// Called before each step. Return an error to fail the step as if it had failed on its own
// (the error is audited and the step's usual recovery runs), OkStatus to proceed. May also
// end the process (crash tests). Used for fault injection; may be empty.
using StepHook = std::function<absl::Status(ActivationStep step)>;

// How a native store wants setting ids spelled.
enum class NativeKeyStyle : uint8_t {
  kCatalog,    // as in the catalogue: "groove.directory.public"
  kGSettings,  // underscores -> dashes: "communicator.client-logging" (dconf key rules)
};

struct NativeTarget {
  ports::NativePolicyStore* store = nullptr;  // not owned
  NativeKeyStyle key_style = NativeKeyStyle::kCatalog;
};

// Product attribute values of the device context (Context::attributes), resolved against
// one catalogue set: attribute handles are per set, so they are used only while that set is
// the active one. Whoever parses them (the agent, from `context.<product>.<name>` lines)
// implements this and owns the strings values() points into; transport does not parse.
class DeviceAttributes {
 public:
  virtual ~DeviceAttributes() = default;
  // The set the handles of values() belong to.
  virtual const CatalogSet& catalogs() const = 0;
  // Valid while this object lives.
  virtual absl::Span<const AttributeValue> values() const = 0;
};

// The context native stores are materialised for (what applications that do not link edict
// get): the device's own attributes. Groups come from the DeviceIdentity.
struct DeviceContext {
  Identity identity = Identity::kUnknown;
  TriState domain_joined = TriState::kUnknown;
  TriState device_managed = TriState::kUnknown;
  Plan plan = Plan::kUnknown;
  int32_t os_generation = 0;
  uint32_t device_state = 0;
  Role role = Role::kUnknown;
  std::string region;
  // Product attributes; null: none known. Ignored (every product attribute unknown) unless
  // attributes->catalogs() is the set the active policy is activated against.
  std::shared_ptr<const DeviceAttributes> attributes;
};

struct ActivationOptions {
  ports::StateStore* state = nullptr;               // required; not owned
  ports::AuditSink* audit = nullptr;                // required; not owned
  ports::Clock* clock = nullptr;                    // required; not owned
  const ports::DeviceIdentity* identity = nullptr;  // required; not owned
  SnapshotPublisher* publisher = nullptr;           // required; not owned
  std::vector<NativeTarget> native;                 // may be empty
  DeviceContext device_context;
  // The pinned trust document's bytes; empty: not enrolled (every bundle is refused with
  // NO_TRUST until one is configured).
  std::vector<uint8_t> pinned_trust;
  // Non-empty: a pinned trust document is configured but cannot be read (why; then
  // pinned_trust is empty). Every offered bundle and trust document is refused with NO_TRUST
  // and this reason; the active policy, verified against the pinned copy stored at
  // enrolment, stays enforced. Start audits it (kError, NO_TRUST).
  std::string pinned_trust_unavailable;
  VerifyOptions verify;
  Limits limits;
  StepHook step_hook;  // may be empty
  // The catalogue set bundles are verified and activated against, and native stores are
  // materialised from (product settings with their native mappings). Null: the built-in
  // set. Replace it later with SetCatalogs. (verify.catalogs is ignored: this wins.)
  std::shared_ptr<const CatalogSet> catalogs = nullptr;
};

// Result of one Offer / OfferTrust.
struct OfferResult {
  bool activated = false;  // the offered document is now active
  absl::Status status;     // why not (the audited error); OK when activated
  std::string code;        // kCodeOk, an ErrorName(), or one of the kCode* above
  uint64_t serial = 0;     // bundle serial / trust version, when parsed
  // The document was committed but a later step (publish, materialise) failed: the policy
  // is durable and will be enforced after the retry (Start or the next offer).
  bool committed = false;
  // The failure was not the document's fault (durable write failed, injected fault): offer
  // the same bytes again later. False for every verification failure.
  bool retryable = false;
};

// Not thread-safe for mutation: one caller (the agent's loop) calls Start/Offer/OfferTrust/
// Rematerialise/Unenroll; Info() and the publisher's readers may be used from any thread.
class Activation {
 public:
  // Checks the options (InvalidArgument if a required pointer is missing).
  static absl::StatusOr<std::unique_ptr<Activation>> Create(ActivationOptions options);
  ~Activation();

  // Loads and re-verifies the trust chain and the active bundle, audits every problem
  // (kStateFallback), publishes the result (bundle, previous generation or defaults),
  // materialises it and audits kStart. Returns an error only when the state store cannot be
  // read at all; the agent then still runs on the defaults (published) and retries.
  absl::Status Start();

  // Runs the steps at the top of this file for one bundle. Never changes the active policy
  // unless every check passed and the commit succeeded.
  OfferResult Offer(absl::Span<const uint8_t> bundle);

  // Accepts the next trust document (exactly version + 1), stores the chain, re-verifies the
  // active bundle against it (dropping it to the defaults if it no longer verifies).
  OfferResult OfferTrust(absl::Span<const uint8_t> document);

  // Materialises the active policy again (after a failed materialisation or a config
  // change). Audited.
  absl::Status Rematerialise();

  // Switches to another catalogue set (the agent's catalogue directories changed): the
  // active bundle is verified and activated again against `catalogs` (null: the built-in
  // set) into a new arena; only if that succeeds does the new state replace the old one
  // (Current() swaps atomically; the kernel publisher is republished) and the native stores
  // are materialised again. On failure (e.g. the new set lacks a setting a critical rule
  // needs) nothing changes: the previous set and policy stay active and the error is
  // returned (the caller reports it). Audited either way. `attributes` (resolved against
  // `catalogs`; null: none) replaces device_context.attributes when the switch succeeds, so
  // the stores are materialised with the values of the new set's handles.
  absl::Status SetCatalogs(std::shared_ptr<const CatalogSet> catalogs,
                           std::shared_ptr<const DeviceAttributes> attributes = nullptr);

  // The active state (snapshot, the catalogue set it was activated against, info), swapped
  // atomically by every activation, fallback and SetCatalogs: a reader holding it keeps
  // the snapshot and its set alive (they are freed with the last holder). Thread-safe; the
  // one way for in-process readers to see product settings (SnapshotPublisher activates
  // against the built-in set only).
  std::shared_ptr<const ActiveState> Current() const;
  // The catalogue set in use (never null).
  std::shared_ptr<const CatalogSet> catalogs() const;

  // OK if the last materialisation made every native store hold the active policy; else
  // NATIVE_STORE naming each failed store and why (also audited, and recorded in the state
  // blob kNativeFailedBlobName so a reader such as `status` sees it). The policy is then
  // not enforced natively until a Rematerialise, Start or activation succeeds.
  absl::Status native_error() const;

  // Clears every native store (removing exactly what they own) and removes the state blobs.
  // Audited (kUnenroll). The publisher is reset to the defaults.
  absl::Status Unenroll();

  // A copy of the current status.
  ActiveStateInfo Info() const;
  // The last error (audited) and when, for `status`; OK if none since Start.
  absl::Status last_error() const;
  absl::Time last_error_time() const;

 private:
  explicit Activation(ActivationOptions options);
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Native entries for every setting of snapshot.catalogs() whose answer for `ctx` comes from
// the policy: mandatory -> mandatory entry, recommended -> recommended entry; defaults, fixed
// values and user-only settings are not written. Values: bool -> bool; integer and duration
// (seconds) -> int64; enum -> its symbol; flags -> list of symbols in catalogue order; string
// -> string. Built-in settings are keyed by their id (dashes for underscores in kGSettings
// style). Product settings use their effective native mapping (catalogs::EffectiveNative,
// docs/catalogs.md "Native mappings"): key = managed_key (kCatalog) or the id in kGSettings
// style, with dconf_path = dconf_key and registry_key / registry_value / registry_type set.
// Implemented in transport/native_entries.cc.
std::vector<ports::NativePolicyEntry> NativeEntriesFor(const Snapshot& snapshot, const Context& ctx,
                                                       NativeKeyStyle style);

}  // namespace edict::transport

#endif  // EDICT_TRANSPORT_ACTIVATION_H_
