// Policy JSON -> policy IR, validated against a catalogue set (internal to the compiler).
#ifndef EDICT_POLICY_COMPILER_CHECKER_H_
#define EDICT_POLICY_COMPILER_CHECKER_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/catalog/catalog_set.h"
#include "policy/compiler/compiler.h"
#include "policy/compiler/internal.h"
#include "policy/compiler/json.h"

namespace edict::compiler::internal {

// Where a rule is, for conflict detection; `comparable` is false when the rule has an
// error in its key or its condition (it is then left out of the conflict check).
struct RuleSite {
  json::Location location;
  bool comparable = false;
  std::string key;  // setting id + level, class + purpose, or schedule id
  Cond when;
};

// Checks one policy. Every error found is recorded (the first kMaxDiagnostics kept).
// Rules and the policy header: checker.cc; `when` conditions: conditions.cc.
class Checker {
 public:
  explicit Checker(const CatalogSet& catalogs) : catalogs_(catalogs) {}

  PolicyIR CheckPolicy(const json::Value& root);

  std::vector<Diagnostic> TakeErrors() { return std::move(errors_); }
  // Errors found beyond the first kMaxDiagnostics (not kept).
  size_t dropped() const { return error_count_ - std::min(error_count_, kMaxDiagnostics); }

 private:
  using Value = json::Value;
  using Location = json::Location;
  using FindFn = int (CatalogSet::*)(std::string_view) const;

  void Error(Location at, std::string message);
  void CheckKeys(const Value& obj, std::string_view where,
                 std::initializer_list<std::string_view> allowed);
  bool ExpectArray(const Value& v, std::string_view key);
  bool ExpectObject(const Value& v, std::string_view what);
  const Value* Require(const Value& obj, std::string_view what, std::string_view key);
  bool ReadText(const Value& v, std::string_view key, std::string* out);
  bool ReadBool(const Value& v, std::string_view key, bool* out);
  // A string naming a catalogue entry; returns its handle or -1 (with an error). A found
  // entry of a product catalogue marks that product as used.
  int ReadId(const Value& v, std::string_view key, std::string_view what, FindFn find,
             std::string* out);
  bool ReadTime(const Value& v, std::string_view key, int64_t* out);
  bool ReadStrings(const Value& v, std::string_view key, bool allow_empty,
                   std::vector<std::string>* out);

  // " (no catalogue of product \"p\" is loaded)" when `id` names a product the set has no
  // catalogue of; else empty.
  std::string MissingProductHint(std::string_view id) const;
  void UseProduct(int product);

  // conditions.cc
  bool CheckWhen(const Value& v, Cond* c);
  // A term on attribute `a` (any row of the table) in the syntax of its type.
  bool CheckAttributeTerm(const AttributeSpec& a, const Value& x, AttrTerm* out);

  // checker.cc
  bool CheckRuleCommon(const Value& r, Cond* when, bool* critical, std::string* note);
  void CheckTarget(const Value& v, PolicyIR* p);
  void CheckCompliance(const Value& v, PolicyIR* p);
  bool CheckSettingValue(const Value& v, const SettingSpec& s, RuleValue* out);
  void CheckSettingRule(const Value& r, PolicyIR* p);
  void CheckForbidden(const Value& v, const SettingSpec& s, const RuleValue& value);
  void CheckDataUseRule(const Value& r, PolicyIR* p);
  void CheckScheduleRule(const Value& r, PolicyIR* p);
  void CheckConflicts(std::string_view vector_name, const std::vector<RuleSite>& sites,
                      std::string_view what);

  const CatalogSet& catalogs_;
  std::vector<Diagnostic> errors_;
  size_t error_count_ = 0;
  std::vector<int> tags_;        // compliance tags listed, valid ones, in order
  std::set<int> products_used_;  // indexes into catalogs_.products()
  std::vector<RuleSite> setting_sites_;
  std::vector<RuleSite> data_use_sites_;
  std::vector<RuleSite> schedule_sites_;
};

}  // namespace edict::compiler::internal

#endif  // EDICT_POLICY_COMPILER_CHECKER_H_
