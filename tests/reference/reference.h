// A deliberately simple reference evaluator of docs/semantics.md.
//
// It exists to be compared against the kernel (tests/differential/): it is written from
// the contract alone, keeps a private copy of the payload, and answers every query by a
// linear scan over the payload's rules through the FlatBuffers accessors. Clarity over
// speed: it allocates, sorts and copies freely. It shares only the answer structs with
// the kernel (kernel/kernel.h is included for the types; no kernel function is linked).
#ifndef EDICT_TESTS_REFERENCE_REFERENCE_H_
#define EDICT_TESTS_REFERENCE_REFERENCE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "kernel/kernel.h"
#include "policy/catalog.h"
#include "policy/catalog/catalog_set.h"
#include "policy/edict_generated.h"

namespace edict::reference {

// One rule activation left out, with the reason (see docs/semantics.md, Activation).
struct Skip {
  RuleKind kind = RuleKind::kSetting;
  SkipReason reason = SkipReason::kUnknownSetting;
  uint32_t index = 0;
  std::string name;  // the id the rule named (for data-use: the unknown one, else class)
};

// Every entry (setting, data class, purpose, schedule, attribute) is looked up in the
// catalogue set's tables by linear scans over names; queries take the set's handles. The
// set must outlive the policy.
class ReferencePolicy {
 public:
  // No policy: the built-in catalogue's defaults, serial 0.
  ReferencePolicy() = default;
  // No policy: the defaults of `catalogs`, serial 0.
  explicit ReferencePolicy(const CatalogSet& catalogs) : catalogs_(&catalogs) {}

  // Verifies and checks `payload` (copied) against `catalogs`. On failure `status()` is
  // InvalidArgument (verifier) or FailedPrecondition (format version, critical skipped
  // rule) and every query answers as with no policy.
  static ReferencePolicy Activate(absl::Span<const uint8_t> payload,
                                  const CatalogSet& catalogs = CatalogSet::Builtin());

  const CatalogSet& catalogs() const { return *catalogs_; }

  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }
  uint64_t serial() const;
  // Every skipped rule, in payload order: settings, then data use, then schedules.
  const std::vector<Skip>& skipped() const { return skipped_; }

  Resolution Resolve(int setting, const Context& ctx, const UserChoice* choice = nullptr) const;
  DataUseDecision MayUse(int data_class, int purpose, const Context& ctx) const;
  ScheduleAnswer Schedule(int schedule, const Context& ctx) const;

 private:
  const fb::Payload* payload() const;  // nullptr without an active policy

  const CatalogSet* catalogs_ = &CatalogSet::Builtin();
  absl::Status status_;
  std::vector<uint8_t> bytes_;
  // Per rule: passed the activation checks (same length as the payload vectors).
  std::vector<bool> setting_valid_;
  std::vector<bool> data_use_valid_;
  std::vector<bool> schedule_valid_;
  std::vector<Skip> skipped_;
};

// ---- Pieces of the contract, exposed for tests --------------------------------------

// Condition matching (docs/semantics.md, Conditions). A null condition matches. Attribute
// terms are looked up by name in `catalogs` (call only for conditions that passed
// AttributeTermsValid).
bool Matches(const fb::Condition* c, const Context& ctx,
             const CatalogSet& catalogs = CatalogSet::Builtin());
// One attribute term: the context gives the attribute a value that satisfies it.
bool AttributeTermHolds(const fb::AttributeTerm* term, const Context& ctx,
                        const CatalogSet& catalogs);
// Activation check of a condition's attribute terms: every term names an attribute of
// `catalogs` and constrains it as its type allows. A null condition is valid.
bool AttributeTermsValid(const fb::Condition* c, const CatalogSet& catalogs);
// Specificity as used for ordering, counted from docs/semantics.md (each attribute term
// counts one; capped at 15), independently of policy/condition.h.
int OrderSpecificity(const fb::Condition* c);
bool Matches(const ConditionSpec& c, const Context& ctx);
int BuiltinSpecificity(const ConditionSpec& c);

// True when `v` is "enabled" (number != 0, or non-empty text for strings).
bool Enabled(const Value& v);

// Readable names, independent of the kernel's own helpers.
std::string_view SourceLabel(Source s);
std::string_view SkipReasonLabel(SkipReason r);
std::string_view RuleKindLabel(RuleKind k);
std::string NotesLabel(uint16_t notes);
std::string ObligationsLabel(Obligations o);
std::string ValueLabel(const Value& v, int setting);  // setting < 0: raw
// With `catalogs`, attribute values are shown by name, else by handle.
std::string ContextLabel(const Context& ctx, const CatalogSet* catalogs = nullptr);
std::string ChoiceLabel(const UserChoice* choice, int setting);
std::string ResolutionLabel(const Resolution& r);
std::string DecisionLabel(const DataUseDecision& d);
std::string ScheduleLabel(const ScheduleAnswer& s);

}  // namespace edict::reference

#endif  // EDICT_TESTS_REFERENCE_REFERENCE_H_
