// Unit tests of the reference evaluator: one test per rule of docs/semantics.md, with
// expectations derived by hand from the contract and from docs/requirements.md.
#include "tests/reference/reference.h"

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "policy/catalog.h"
#include "policy/condition.h"
#if EDICT_REFERENCE_PRODUCTS
#include "policy/catalog/catalog_source.h"
#endif
#include "tests/reference/random_policy.h"

namespace edict::reference {
namespace {

namespace s = catalog::setting;
namespace dc = catalog::data_class;
namespace pu = catalog::purpose;
using random_policy::CondSpec;
using random_policy::DataUseRuleSpec;
using random_policy::PolicySpec;
using random_policy::ScheduleRuleSpec;
using random_policy::SettingRuleSpec;
using random_policy::ValueKind;

constexpr int8_t kMandatory = 0;
constexpr int8_t kRecommended = 1;

std::string Id(int setting) { return std::string(catalog::kSettings[setting].id); }

SettingRuleSpec BoolRule(int setting, int8_t level, bool v,
                         std::optional<CondSpec> when = std::nullopt) {
  SettingRuleSpec r;
  r.setting = Id(setting);
  r.level = level;
  r.kind = ValueKind::kBool;
  r.b = v;
  r.when = std::move(when);
  return r;
}

SettingRuleSpec EnumRule(int setting, int8_t level, std::optional<std::string> symbol,
                         std::optional<CondSpec> when = std::nullopt) {
  SettingRuleSpec r;
  r.setting = Id(setting);
  r.level = level;
  r.kind = ValueKind::kEnum;
  r.symbol = std::move(symbol);
  r.when = std::move(when);
  return r;
}

DataUseRuleSpec DataRule(int data_class, int purpose, bool allow, uint32_t obligations = 0,
                         std::optional<CondSpec> when = std::nullopt) {
  DataUseRuleSpec r;
  r.data_class = std::string(catalog::kDataClasses[data_class].id);
  r.purpose = std::string(catalog::kPurposes[purpose].id);
  r.effect = allow ? 1 : 0;
  r.obligations = obligations;
  r.when = std::move(when);
  return r;
}

ScheduleRuleSpec ScheduleRule(int64_t interval, std::optional<CondSpec> when = std::nullopt) {
  ScheduleRuleSpec r;
  r.schedule = std::string(catalog::kSchedules[0].id);
  r.interval_seconds = interval;
  r.when = std::move(when);
  return r;
}

ReferencePolicy Activate(const PolicySpec& spec) {
  const std::vector<uint8_t> bytes = random_policy::Build(spec);
  return ReferencePolicy::Activate(bytes);
}

PolicySpec WithSettings(std::vector<SettingRuleSpec> rules, uint64_t serial = 7) {
  PolicySpec p;
  p.serial = serial;
  p.settings = std::move(rules);
  return p;
}

UserChoice BoolChoice(bool v, bool at_creation = false) {
  UserChoice u;
  u.value.type = SettingType::kBool;
  u.value.number = v ? 1 : 0;
  u.made_at_account_creation = at_creation;
  return u;
}

Value BoolValue(bool v) { return Value{SettingType::kBool, v ? 1 : 0, {}}; }
Value EnumValue(int64_t i) { return Value{SettingType::kEnum, i, {}}; }

// Global index of the n-th (in catalogue order) built-in rule of a cell.
int32_t BuiltinIndex(int data_class, int purpose, int n) {
  const size_t cell = static_cast<size_t>(data_class) * catalog::kPurposes.size() + purpose;
  return static_cast<int32_t>(catalog::kBuiltinDataUseCellBegin[cell]) + n;
}

// ---- Activation ---------------------------------------------------------------------

TEST(ReferenceActivation, GarbageAndEmptyPayloadsAreInvalid) {
  const std::vector<uint8_t> garbage = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  EXPECT_EQ(ReferencePolicy::Activate(garbage).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReferencePolicy::Activate({}).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<uint8_t> truncated = random_policy::Build(WithSettings({}));
  truncated.resize(truncated.size() / 2);
  EXPECT_EQ(ReferencePolicy::Activate(truncated).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ReferenceActivation, WrongFileIdentifierIsInvalid) {
  PolicySpec p = WithSettings({BoolRule(s::kCommunicatorCeip, kMandatory, true)});
  p.wrong_identifier = true;
  EXPECT_EQ(Activate(p).status().code(), absl::StatusCode::kInvalidArgument);
  p.wrong_identifier = false;
  EXPECT_TRUE(Activate(p).ok());
}

TEST(ReferenceActivation, FormatVersionMustBeOne) {
  PolicySpec p = WithSettings({});
  for (uint32_t v : {0u, 2u, 100u}) {
    p.format_version = v;
    EXPECT_EQ(Activate(p).status().code(), absl::StatusCode::kFailedPrecondition) << v;
  }
  p.format_version = 1;
  EXPECT_TRUE(Activate(p).ok());
}

void ExpectSingleSkip(const PolicySpec& p, RuleKind kind, SkipReason reason) {
  const ReferencePolicy policy = Activate(p);
  ASSERT_TRUE(policy.ok()) << policy.status();
  ASSERT_EQ(policy.skipped().size(), 1u) << random_policy::Describe(p);
  EXPECT_EQ(policy.skipped()[0].kind, kind);
  EXPECT_EQ(policy.skipped()[0].reason, reason)
      << SkipReasonLabel(policy.skipped()[0].reason) << "\n"
      << random_policy::Describe(p);
  EXPECT_EQ(policy.skipped()[0].index, 0u);
}

TEST(ReferenceActivation, UnknownSettingIsSkipped) {
  SettingRuleSpec r = BoolRule(s::kCommunicatorCeip, kMandatory, true);
  r.setting = "communicator.future_feature";
  ExpectSingleSkip(WithSettings({r}), RuleKind::kSetting, SkipReason::kUnknownSetting);
  const ReferencePolicy policy = Activate(WithSettings({r}));
  EXPECT_EQ(policy.skipped()[0].name, "communicator.future_feature");
}

TEST(ReferenceActivation, WrongValueTypeIsSkipped) {
  SettingRuleSpec int_for_bool = BoolRule(s::kCommunicatorCeip, kMandatory, true);
  int_for_bool.kind = ValueKind::kInt;
  ExpectSingleSkip(WithSettings({int_for_bool}), RuleKind::kSetting, SkipReason::kWrongValueType);
  SettingRuleSpec bool_for_enum = BoolRule(s::kGrooveDirectoryPublic, kMandatory, true);
  ExpectSingleSkip(WithSettings({bool_for_enum}), RuleKind::kSetting, SkipReason::kWrongValueType);
  SettingRuleSpec enum_for_flags = EnumRule(s::kCommunicatorPresenceFields, kMandatory, "status");
  ExpectSingleSkip(WithSettings({enum_for_flags}), RuleKind::kSetting, SkipReason::kWrongValueType);
  SettingRuleSpec no_value = BoolRule(s::kCommunicatorCeip, kMandatory, true);
  no_value.kind = ValueKind::kNone;
  ExpectSingleSkip(WithSettings({no_value}), RuleKind::kSetting, SkipReason::kWrongValueType);
  SettingRuleSpec no_table = BoolRule(s::kCommunicatorCeip, kMandatory, true);
  no_table.value_table = false;
  ExpectSingleSkip(WithSettings({no_table}), RuleKind::kSetting, SkipReason::kWrongValueType);
}

TEST(ReferenceActivation, UnknownSymbolsAreSkipped) {
  ExpectSingleSkip(WithSettings({EnumRule(s::kGrooveDirectoryPublic, kMandatory, "everywhere")}),
                   RuleKind::kSetting, SkipReason::kUnknownSymbol);
  ExpectSingleSkip(WithSettings({EnumRule(s::kGrooveDirectoryPublic, kMandatory, std::nullopt)}),
                   RuleKind::kSetting, SkipReason::kUnknownSymbol);
  // Symbols are case-sensitive.
  ExpectSingleSkip(WithSettings({EnumRule(s::kGrooveProxyAuth, kMandatory, "Basic")}),
                   RuleKind::kSetting, SkipReason::kUnknownSymbol);
  SettingRuleSpec flags;
  flags.setting = Id(s::kCommunicatorPresenceFields);
  flags.kind = ValueKind::kFlags;
  flags.symbols = std::vector<std::string>{"status", "mood"};
  ExpectSingleSkip(WithSettings({flags}), RuleKind::kSetting, SkipReason::kUnknownSymbol);
  flags.symbols = std::vector<std::string>{"status", "phone"};
  EXPECT_TRUE(Activate(WithSettings({flags})).skipped().empty());
}

TEST(ReferenceActivation, SettingsNotSettableByAnAdminAreSkipped) {
  // Fixed, user-only and organiser-only settings.
  for (int setting : {s::kGenuineValidation, s::kCommunicatorOnlineFeedback,
                      s::kLivemeetingAccessControl, s::kGroovePasswordResetUnmanaged}) {
    ExpectSingleSkip(WithSettings({BoolRule(setting, kRecommended, true)}), RuleKind::kSetting,
                     SkipReason::kNotAdminSettable);
  }
  // Admin and organiser: the admin may set it.
  EXPECT_TRUE(
      Activate(WithSettings({BoolRule(s::kLivemeetingParticipantRecording, kMandatory, false)}))
          .skipped()
          .empty());
}

TEST(ReferenceActivation, DataUseRulesAreChecked) {
  PolicySpec p;
  DataUseRuleSpec r = DataRule(dc::kUsageData, pu::kImprove, true);
  r.data_class = "telemetry";
  p.data_use = {r};
  ExpectSingleSkip(p, RuleKind::kDataUse, SkipReason::kUnknownDataClass);
  r = DataRule(dc::kUsageData, pu::kImprove, true);
  r.purpose = "resale";
  p.data_use = {r};
  ExpectSingleSkip(p, RuleKind::kDataUse, SkipReason::kUnknownPurpose);
  // Usage data for law enforcement: the service never does this, no policy may change it.
  p.data_use = {DataRule(dc::kUsageData, pu::kLawEnforcement, true)};
  ExpectSingleSkip(p, RuleKind::kDataUse, SkipReason::kFixedCell);
  p.data_use = {DataRule(dc::kUsageData, pu::kImprove, false)};
  EXPECT_TRUE(Activate(p).skipped().empty());
}

TEST(ReferenceActivation, ScheduleRulesAreChecked) {
  PolicySpec p;
  ScheduleRuleSpec r = ScheduleRule(86400);
  r.schedule = "genuine.other_interval";
  p.schedules = {r};
  ExpectSingleSkip(p, RuleKind::kSchedule, SkipReason::kUnknownSchedule);
  p.schedules = {ScheduleRule(0)};
  ExpectSingleSkip(p, RuleKind::kSchedule, SkipReason::kBadInterval);
  p.schedules = {ScheduleRule(-86400)};
  ExpectSingleSkip(p, RuleKind::kSchedule, SkipReason::kBadInterval);
  p.schedules = {ScheduleRule(1)};
  EXPECT_TRUE(Activate(p).skipped().empty());
}

TEST(ReferenceActivation, SkipsAreCountedInPayloadOrder) {
  PolicySpec p;
  SettingRuleSpec unknown = BoolRule(s::kCommunicatorCeip, kMandatory, true);
  unknown.setting = "x";
  p.settings = {BoolRule(s::kCommunicatorCeip, kMandatory, true), unknown,
                BoolRule(s::kGenuineValidation, kMandatory, false)};
  p.data_use = {DataRule(dc::kImContent, pu::kAdvertising, true)};
  p.schedules = {ScheduleRule(86400), ScheduleRule(-1)};
  const ReferencePolicy policy = Activate(p);
  ASSERT_TRUE(policy.ok());
  ASSERT_EQ(policy.skipped().size(), 4u);
  EXPECT_EQ(policy.skipped()[0].index, 1u);
  EXPECT_EQ(policy.skipped()[1].index, 2u);
  EXPECT_EQ(policy.skipped()[2].kind, RuleKind::kDataUse);
  EXPECT_EQ(policy.skipped()[3].kind, RuleKind::kSchedule);
  EXPECT_EQ(policy.skipped()[3].index, 1u);
}

TEST(ReferenceActivation, CriticalSkippedRuleFailsActivation) {
  SettingRuleSpec r = BoolRule(s::kCommunicatorCeip, kMandatory, true);
  r.setting = "communicator.future_feature";
  r.critical = true;
  EXPECT_EQ(Activate(WithSettings({r})).status().code(), absl::StatusCode::kFailedPrecondition);
  PolicySpec p;
  DataUseRuleSpec d = DataRule(dc::kPersonalContact, pu::kOperate, true);
  d.critical = true;
  p.data_use = {d};
  EXPECT_EQ(Activate(p).status().code(), absl::StatusCode::kFailedPrecondition);
  p.data_use.clear();
  ScheduleRuleSpec k = ScheduleRule(0);
  k.critical = true;
  p.schedules = {k};
  EXPECT_EQ(Activate(p).status().code(), absl::StatusCode::kFailedPrecondition);
  // A critical rule the endpoint honours is fine.
  SettingRuleSpec ok = BoolRule(s::kCommunicatorCeip, kMandatory, true);
  ok.critical = true;
  EXPECT_TRUE(Activate(WithSettings({ok})).ok());
}

TEST(ReferenceActivation, SkippedRulesNeverApply) {
  SettingRuleSpec wrong = BoolRule(s::kCommunicatorCeip, kMandatory, true);
  wrong.kind = ValueKind::kInt;
  wrong.i = 1;
  const ReferencePolicy policy = Activate(WithSettings({wrong}));
  const Resolution r = policy.Resolve(s::kCommunicatorCeip, Context());
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_EQ(r.value, BoolValue(false));
  EXPECT_EQ(r.rule, -1);
}

TEST(ReferenceActivation, FailedActivationAnswersLikeNoPolicy) {
  PolicySpec p = WithSettings({BoolRule(s::kCommunicatorCeip, kMandatory, true)});
  p.format_version = 2;
  const ReferencePolicy policy = Activate(p);
  EXPECT_FALSE(policy.ok());
  EXPECT_EQ(policy.Resolve(s::kCommunicatorCeip, Context()).source, Source::kDefault);
  EXPECT_EQ(policy.serial(), 0u);
}

// ---- Conditions ---------------------------------------------------------------------

// Whether a mandatory rule with condition `c` applies in `ctx`.
bool RuleApplies(const std::optional<CondSpec>& c, const Context& ctx) {
  const ReferencePolicy policy =
      Activate(WithSettings({BoolRule(s::kCommunicatorCeip, kMandatory, true, c)}));
  EXPECT_TRUE(policy.ok());
  return policy.Resolve(s::kCommunicatorCeip, ctx).source == Source::kMandatory;
}

TEST(ReferenceConditions, AbsentAndEmptyConditionsMatchEverything) {
  EXPECT_TRUE(RuleApplies(std::nullopt, Context()));
  EXPECT_TRUE(RuleApplies(CondSpec(), Context()));
  CondSpec empty_lists;
  empty_lists.groups = std::vector<std::string>();
  empty_lists.regions = std::vector<std::string>();
  EXPECT_TRUE(RuleApplies(empty_lists, Context()));
}

TEST(ReferenceConditions, Identity) {
  CondSpec c;
  c.identity = 1;  // Managed
  Context ctx;
  EXPECT_FALSE(RuleApplies(c, ctx));  // unknown identity
  ctx.identity = Identity::kManaged;
  EXPECT_TRUE(RuleApplies(c, ctx));
  ctx.identity = Identity::kUnmanaged;
  EXPECT_FALSE(RuleApplies(c, ctx));
  c.identity = 2;
  EXPECT_TRUE(RuleApplies(c, ctx));
}

TEST(ReferenceConditions, DomainJoinedAndDeviceManaged) {
  CondSpec c;
  c.domain_joined = 1;  // Yes
  Context ctx;
  EXPECT_FALSE(RuleApplies(c, ctx));
  ctx.domain_joined = TriState::kYes;
  EXPECT_TRUE(RuleApplies(c, ctx));
  ctx.domain_joined = TriState::kNo;
  EXPECT_FALSE(RuleApplies(c, ctx));
  c.domain_joined = 0;
  c.device_managed = 2;               // No
  EXPECT_FALSE(RuleApplies(c, ctx));  // device_managed unknown
  ctx.device_managed = TriState::kNo;
  EXPECT_TRUE(RuleApplies(c, ctx));
  ctx.device_managed = TriState::kYes;
  EXPECT_FALSE(RuleApplies(c, ctx));
}

TEST(ReferenceConditions, Plans) {
  CondSpec c;
  c.plans = 1 | 4;  // Enterprise or Trial
  Context ctx;
  EXPECT_FALSE(RuleApplies(c, ctx));
  ctx.plan = Plan::kTrial;
  EXPECT_TRUE(RuleApplies(c, ctx));
  ctx.plan = Plan::kEnterprise;
  EXPECT_TRUE(RuleApplies(c, ctx));
  ctx.plan = Plan::kSmallBusiness;
  EXPECT_FALSE(RuleApplies(c, ctx));
}

TEST(ReferenceConditions, OsBounds) {
  CondSpec c;
  c.os_min = 60;
  Context ctx;
  EXPECT_FALSE(RuleApplies(c, ctx));  // OS generation unknown
  ctx.os_generation = 61;
  EXPECT_TRUE(RuleApplies(c, ctx));
  ctx.os_generation = 59;
  EXPECT_FALSE(RuleApplies(c, ctx));
  c = CondSpec();
  c.os_max = 60;
  EXPECT_TRUE(RuleApplies(c, ctx));
  ctx.os_generation = 0;
  EXPECT_FALSE(RuleApplies(c, ctx));  // unknown is not "below 60"
  ctx.os_generation = 61;
  EXPECT_FALSE(RuleApplies(c, ctx));
  c.os_min = 60;
  c.os_max = 61;
  EXPECT_TRUE(RuleApplies(c, ctx));
  ctx.os_generation = 62;
  EXPECT_FALSE(RuleApplies(c, ctx));
}

TEST(ReferenceConditions, DeviceState) {
  CondSpec c;
  c.state_all = kDeviceTampered | kDeviceNotGenuine;
  Context ctx;
  ctx.device_state = kDeviceTampered;
  EXPECT_FALSE(RuleApplies(c, ctx));
  ctx.device_state = kDeviceTampered | kDeviceNotGenuine;
  EXPECT_TRUE(RuleApplies(c, ctx));
  c = CondSpec();
  c.state_none = kDeviceTampered;
  EXPECT_FALSE(RuleApplies(c, ctx));
  ctx.device_state = kDeviceNotGenuine;
  EXPECT_TRUE(RuleApplies(c, ctx));
  ctx.device_state = 0;
  EXPECT_TRUE(RuleApplies(c, ctx));
}

TEST(ReferenceConditions, GroupsAnyOfExactCaseSensitive) {
  CondSpec c;
  c.groups = std::vector<std::string>{"sales", "legal"};
  Context ctx;
  EXPECT_FALSE(RuleApplies(c, ctx));
  const std::vector<std::string_view> legal = {"eng", "legal"};
  ctx.groups = legal;
  EXPECT_TRUE(RuleApplies(c, ctx));
  const std::vector<std::string_view> upper = {"Legal", "SALES", "sale"};
  ctx.groups = upper;
  EXPECT_FALSE(RuleApplies(c, ctx));
}

TEST(ReferenceConditions, Roles) {
  CondSpec c;
  c.roles = 2 | 4;  // Admin or Organiser
  Context ctx;
  EXPECT_FALSE(RuleApplies(c, ctx));
  ctx.role = Role::kOrganiser;
  EXPECT_TRUE(RuleApplies(c, ctx));
  ctx.role = Role::kUser;
  EXPECT_FALSE(RuleApplies(c, ctx));
}

TEST(ReferenceConditions, AccountCreation) {
  CondSpec c;
  c.account_creation = 1;  // Yes
  Context ctx;
  EXPECT_FALSE(RuleApplies(c, ctx));
  ctx.account_creation = true;
  EXPECT_TRUE(RuleApplies(c, ctx));
  c.account_creation = 2;  // No
  EXPECT_FALSE(RuleApplies(c, ctx));
  ctx.account_creation = false;
  EXPECT_TRUE(RuleApplies(c, ctx));
}

TEST(ReferenceConditions, RegionsExact) {
  CondSpec c;
  c.regions = std::vector<std::string>{"US", "CA"};
  Context ctx;
  EXPECT_FALSE(RuleApplies(c, ctx));  // region unknown
  ctx.region = "US";
  EXPECT_TRUE(RuleApplies(c, ctx));
  ctx.region = "us";
  EXPECT_FALSE(RuleApplies(c, ctx));
  ctx.region = "USA";
  EXPECT_FALSE(RuleApplies(c, ctx));
}

TEST(ReferenceConditions, TermsAreAConjunction) {
  CondSpec c;
  c.identity = 1;
  c.plans = 1;
  Context ctx;
  ctx.identity = Identity::kManaged;
  ctx.plan = Plan::kSmallBusiness;
  EXPECT_FALSE(RuleApplies(c, ctx));
  ctx.plan = Plan::kEnterprise;
  EXPECT_TRUE(RuleApplies(c, ctx));
}

TEST(ReferenceConditions, BuiltinSpecificityMatchesTheCatalogue) {
  for (const BuiltinDataUse& b : catalog::kBuiltinDataUse) {
    EXPECT_EQ(BuiltinSpecificity(b.when), b.specificity) << b.data_class << "," << b.purpose;
  }
  for (const BuiltinSchedule& b : catalog::kBuiltinSchedules) {
    EXPECT_EQ(BuiltinSpecificity(b.when), b.specificity);
  }
}

// ---- Candidate order ----------------------------------------------------------------

TEST(ReferenceOrder, HigherSpecificityWinsWithinALevel) {
  CondSpec managed;
  managed.identity = 1;
  const ReferencePolicy policy =
      Activate(WithSettings({BoolRule(s::kCommunicatorCeip, kRecommended, false),
                             BoolRule(s::kCommunicatorCeip, kRecommended, true, managed)}));
  Context ctx;
  ctx.identity = Identity::kManaged;
  Resolution r = policy.Resolve(s::kCommunicatorCeip, ctx);
  EXPECT_EQ(r.rule, 1);
  EXPECT_EQ(r.value, BoolValue(true));
  ctx.identity = Identity::kUnmanaged;
  r = policy.Resolve(s::kCommunicatorCeip, ctx);
  EXPECT_EQ(r.rule, 0);
  EXPECT_EQ(r.value, BoolValue(false));
}

TEST(ReferenceOrder, MandatoryBeatsAMoreSpecificRecommendedRule) {
  CondSpec specific;
  specific.identity = 1;
  specific.plans = 1;
  const ReferencePolicy policy =
      Activate(WithSettings({BoolRule(s::kCommunicatorCeip, kRecommended, true, specific),
                             BoolRule(s::kCommunicatorCeip, kMandatory, false)}));
  Context ctx;
  ctx.identity = Identity::kManaged;
  ctx.plan = Plan::kEnterprise;
  const Resolution r = policy.Resolve(s::kCommunicatorCeip, ctx);
  EXPECT_EQ(r.rule, 1);
  EXPECT_EQ(r.source, Source::kMandatory);
  EXPECT_EQ(r.value, BoolValue(false));
}

TEST(ReferenceOrder, LowerIndexBreaksTies) {
  CondSpec a;
  a.identity = 1;
  CondSpec b;
  b.plans = 1;
  const ReferencePolicy policy =
      Activate(WithSettings({BoolRule(s::kCommunicatorCeip, kMandatory, false),
                             BoolRule(s::kCommunicatorCeip, kMandatory, true, b),
                             BoolRule(s::kCommunicatorCeip, kMandatory, false, a)}));
  Context ctx;
  ctx.identity = Identity::kManaged;
  ctx.plan = Plan::kEnterprise;
  const Resolution r = policy.Resolve(s::kCommunicatorCeip, ctx);
  EXPECT_EQ(r.rule, 1);
  EXPECT_EQ(r.value, BoolValue(true));
}

TEST(ReferenceOrder, OsBoundsCountOnce) {
  CondSpec os;
  os.os_min = 60;
  os.os_max = 62;
  CondSpec plan;
  plan.plans = 1;
  CondSpec both = os;
  both.plans = 1;
  PolicySpec p = WithSettings({BoolRule(s::kCommunicatorCeip, kMandatory, true, plan),
                               BoolRule(s::kCommunicatorCeip, kMandatory, false, os)});
  Context ctx;
  ctx.os_generation = 61;
  ctx.plan = Plan::kEnterprise;
  EXPECT_EQ(Activate(p).Resolve(s::kCommunicatorCeip, ctx).rule, 0);  // tie: index
  p.settings.push_back(BoolRule(s::kCommunicatorCeip, kMandatory, false, both));
  EXPECT_EQ(Activate(p).Resolve(s::kCommunicatorCeip, ctx).rule, 2);
}

// ---- Resolve ------------------------------------------------------------------------

TEST(ReferenceResolve, UnknownSetting) {
  const ReferencePolicy policy = Activate(WithSettings({}, 42));
  for (int id : {-1, static_cast<int>(catalog::kSettings.size()), 5000}) {
    const Resolution r = policy.Resolve(id, Context());
    EXPECT_EQ(r.setting, -1);
    EXPECT_EQ(r.notes, kNoteUnknownSetting);
    EXPECT_EQ(r.source, Source::kDefault);
    EXPECT_FALSE(r.locked);
    EXPECT_EQ(r.serial, 42u);
  }
}

TEST(ReferenceResolve, FixedSettingIsTheCatalogueDefaultAndLocked) {
  const ReferencePolicy policy = Activate(WithSettings({}));
  Resolution r = policy.Resolve(s::kGenuineValidation, Context());
  EXPECT_EQ(r.setting, s::kGenuineValidation);
  EXPECT_EQ(r.value, BoolValue(true));
  EXPECT_EQ(r.source, Source::kFixed);
  EXPECT_TRUE(r.locked);
  EXPECT_EQ(r.rule, -1);
  EXPECT_EQ(r.notes, kNoteNone);
  const UserChoice off = BoolChoice(false);
  r = policy.Resolve(s::kGrooveSendGuidsIp, Context(), &off);
  EXPECT_EQ(r.value, BoolValue(true));  // GUIDs and IP: nobody can disable it
  EXPECT_EQ(r.source, Source::kFixed);
  EXPECT_EQ(r.notes, kNoteChoiceOverriddenByLock);
  r = policy.Resolve(s::kCommunicatorLogMessageContent, Context(), &off);
  EXPECT_EQ(r.value, BoolValue(false));  // message content is never logged
  EXPECT_TRUE(r.locked);
}

TEST(ReferenceResolve, MandatoryIsLockedAndOverridesTheChoice) {
  const ReferencePolicy policy =
      Activate(WithSettings({BoolRule(s::kCommunicatorCeip, kRecommended, false),
                             BoolRule(s::kCommunicatorCeip, kMandatory, true)}));
  const UserChoice off = BoolChoice(false);
  const Resolution r = policy.Resolve(s::kCommunicatorCeip, Context(), &off);
  EXPECT_EQ(r.value, BoolValue(true));
  EXPECT_EQ(r.source, Source::kMandatory);
  EXPECT_TRUE(r.locked);
  EXPECT_EQ(r.rule, 1);
  EXPECT_EQ(r.notes, kNoteChoiceOverriddenByLock);
  EXPECT_EQ(policy.Resolve(s::kCommunicatorCeip, Context()).notes, kNoteNone);
}

TEST(ReferenceResolve, UserChoiceBeatsRecommended) {
  const ReferencePolicy policy =
      Activate(WithSettings({BoolRule(s::kCommunicatorCeip, kRecommended, true)}));
  const UserChoice off = BoolChoice(false);
  Resolution r = policy.Resolve(s::kCommunicatorCeip, Context(), &off);
  EXPECT_EQ(r.value, BoolValue(false));
  EXPECT_EQ(r.source, Source::kUser);
  EXPECT_FALSE(r.locked);
  EXPECT_EQ(r.rule, -1);
  r = policy.Resolve(s::kCommunicatorCeip, Context());
  EXPECT_EQ(r.value, BoolValue(true));
  EXPECT_EQ(r.source, Source::kRecommended);
  EXPECT_FALSE(r.locked);
  EXPECT_EQ(r.rule, 0);
}

TEST(ReferenceResolve, DefaultWithoutRulesOrChoice) {
  const ReferencePolicy policy = Activate(WithSettings({}));
  const Resolution r = policy.Resolve(s::kGrooveProxyAuth, Context());
  EXPECT_EQ(r.value, EnumValue(1));  // ntlm
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_FALSE(r.locked);
  EXPECT_EQ(r.rule, -1);
  EXPECT_EQ(r.notes, kNoteNone);
}

TEST(ReferenceResolve, AdminOnlySettingRejectsTheChoice) {
  // Server archiving of IM content: admin-only.
  const ReferencePolicy policy =
      Activate(WithSettings({BoolRule(s::kCommunicatorServerArchiving, kRecommended, true)}));
  const UserChoice off = BoolChoice(false);
  const Resolution r = policy.Resolve(s::kCommunicatorServerArchiving, Context(), &off);
  EXPECT_EQ(r.value, BoolValue(true));
  EXPECT_EQ(r.source, Source::kRecommended);
  EXPECT_EQ(r.notes, kNoteChoiceNotPermitted);
  const ReferencePolicy none = Activate(WithSettings({}));
  const UserChoice on = BoolChoice(true);
  const Resolution d = none.Resolve(s::kCommunicatorServerArchiving, Context(), &on);
  EXPECT_EQ(d.value, BoolValue(false));
  EXPECT_EQ(d.source, Source::kDefault);
  EXPECT_EQ(d.notes, kNoteChoiceNotPermitted);
}

TEST(ReferenceResolve, OrganiserMayChooseOnlyAsOrganiser) {
  const ReferencePolicy policy = Activate(WithSettings({}));
  const UserChoice on = BoolChoice(true);
  Context ctx;
  ctx.role = Role::kOrganiser;
  Resolution r = policy.Resolve(s::kLivemeetingAccessControl, ctx, &on);
  EXPECT_EQ(r.source, Source::kUser);
  EXPECT_EQ(r.value, BoolValue(true));
  ctx.role = Role::kParticipant;
  r = policy.Resolve(s::kLivemeetingAccessControl, ctx, &on);
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_EQ(r.notes, kNoteChoiceNotPermitted);
  // Recording: admin and organiser; an admin in the meeting is not the organiser.
  const UserChoice off = BoolChoice(false);
  ctx.role = Role::kAdmin;
  r = policy.Resolve(s::kLivemeetingParticipantRecording, ctx, &off);
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_EQ(r.value, BoolValue(true));
  EXPECT_EQ(r.notes, kNoteChoiceNotPermitted);
  ctx.role = Role::kOrganiser;
  r = policy.Resolve(s::kLivemeetingParticipantRecording, ctx, &off);
  EXPECT_EQ(r.source, Source::kUser);
  EXPECT_EQ(r.value, BoolValue(false));
}

TEST(ReferenceResolve, InvalidChoicesAreIgnored) {
  const ReferencePolicy policy = Activate(WithSettings({}));
  UserChoice u;
  u.value = EnumValue(1);  // an enum for a bool setting
  Resolution r = policy.Resolve(s::kCommunicatorCeip, Context(), &u);
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_EQ(r.notes, kNoteChoiceInvalid);
  u.value = EnumValue(3);  // directory has 3 values
  r = policy.Resolve(s::kGrooveDirectoryPublic, Context(), &u);
  EXPECT_EQ(r.notes, kNoteChoiceInvalid);
  u.value = EnumValue(-1);
  r = policy.Resolve(s::kGrooveDirectoryPublic, Context(), &u);
  EXPECT_EQ(r.notes, kNoteChoiceInvalid);
  u.value = EnumValue(2);
  r = policy.Resolve(s::kGrooveDirectoryPublic, Context(), &u);
  EXPECT_EQ(r.source, Source::kUser);
  EXPECT_EQ(r.value, EnumValue(2));
  u.value = Value{SettingType::kFlags, 1 << 5, {}};  // presence has 5 fields
  r = policy.Resolve(s::kCommunicatorPresenceFields, Context(), &u);
  EXPECT_EQ(r.notes, kNoteChoiceInvalid);
  EXPECT_EQ(r.value, (Value{SettingType::kFlags, 1, {}}));  // default: status
  u.value = Value{SettingType::kFlags, 31, {}};
  r = policy.Resolve(s::kCommunicatorPresenceFields, Context(), &u);
  EXPECT_EQ(r.source, Source::kUser);
  EXPECT_EQ(r.value.number, 31);
}

TEST(ReferenceResolve, UnmanagedPasswordResetOnlyAtAccountCreation) {
  const ReferencePolicy policy = Activate(WithSettings({}));
  Context ctx;
  ctx.identity = Identity::kUnmanaged;
  const UserChoice at_creation = BoolChoice(true, /*at_creation=*/true);
  Resolution r = policy.Resolve(s::kGroovePasswordResetUnmanaged, ctx, &at_creation);
  EXPECT_EQ(r.source, Source::kUser);
  EXPECT_EQ(r.value, BoolValue(true));
  const UserChoice later = BoolChoice(true, /*at_creation=*/false);
  r = policy.Resolve(s::kGroovePasswordResetUnmanaged, ctx, &later);
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_EQ(r.value, BoolValue(false));
  EXPECT_EQ(r.notes, kNoteChoiceAfterCreation);
  ctx.account_creation = true;  // asked while the account is created
  r = policy.Resolve(s::kGroovePasswordResetUnmanaged, ctx, &later);
  EXPECT_EQ(r.source, Source::kUser);
  // The admin cannot set it at all.
  const ReferencePolicy admin =
      Activate(WithSettings({BoolRule(s::kGroovePasswordResetUnmanaged, kMandatory, true)}));
  EXPECT_EQ(admin.skipped().size(), 1u);
}

TEST(ReferenceResolve, ManagedPasswordResetIsAdminOnlyAndNotifiesTheUser) {
  CondSpec managed;
  managed.identity = 1;
  const ReferencePolicy policy =
      Activate(WithSettings({BoolRule(s::kGroovePasswordResetManaged, kMandatory, true, managed)}));
  Context ctx;
  ctx.identity = Identity::kManaged;
  const UserChoice off = BoolChoice(false);
  Resolution r = policy.Resolve(s::kGroovePasswordResetManaged, ctx, &off);
  EXPECT_EQ(r.value, BoolValue(true));
  EXPECT_EQ(r.source, Source::kMandatory);
  EXPECT_TRUE(r.locked);
  EXPECT_EQ(r.obligations, kNotifyUser);
  EXPECT_EQ(r.notes, kNoteChoiceOverriddenByLock);
  ctx.identity = Identity::kUnmanaged;
  const UserChoice on = BoolChoice(true);
  r = policy.Resolve(s::kGroovePasswordResetManaged, ctx, &on);
  EXPECT_EQ(r.value, BoolValue(false));
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_EQ(r.obligations, 0u);
  EXPECT_EQ(r.notes, kNoteChoiceNotPermitted);
}

TEST(ReferenceResolve, AllFailedChoiceChecksAreNoted) {
  // Unmanaged password reset is user-chosen and creation-only: an enum choice made later
  // fails the type and the creation checks (the user may choose, though).
  const ReferencePolicy policy = Activate(WithSettings({}));
  UserChoice u;
  u.value = EnumValue(1);
  const Resolution r = policy.Resolve(s::kGroovePasswordResetUnmanaged, Context(), &u);
  EXPECT_EQ(r.notes, kNoteChoiceInvalid | kNoteChoiceAfterCreation);
  // Admin-only server archiving with a wrong-typed choice: not permitted and invalid.
  const Resolution a = policy.Resolve(s::kCommunicatorServerArchiving, Context(), &u);
  EXPECT_EQ(a.notes, kNoteChoiceNotPermitted | kNoteChoiceInvalid);
}

TEST(ReferenceResolve, ObligationsFollowTheResultingValue) {
  const ReferencePolicy policy =
      Activate(WithSettings({EnumRule(s::kGrooveDirectoryPublic, kRecommended, "name_only"),
                             EnumRule(s::kGrooveDirectoryLocalNetwork, kRecommended, "nowhere")}));
  // Conversation history on: tell the contacts.
  const UserChoice on = BoolChoice(true);
  EXPECT_EQ(policy.Resolve(s::kCommunicatorConversationHistory, Context(), &on).obligations,
            kNotifyOthers);
  const UserChoice off = BoolChoice(false);
  EXPECT_EQ(policy.Resolve(s::kCommunicatorConversationHistory, Context(), &off).obligations, 0u);
  // Publishing to a directory cannot be recalled: warn.
  EXPECT_EQ(policy.Resolve(s::kGrooveDirectoryPublic, Context()).obligations, kWarnIrreversible);
  EXPECT_EQ(policy.Resolve(s::kGrooveDirectoryLocalNetwork, Context()).obligations, 0u);
  // Recording is allowed by default: indicator and telling participants.
  EXPECT_EQ(policy.Resolve(s::kLivemeetingParticipantRecording, Context()).obligations,
            kShowIndicator | kNotifyOthers);
}

TEST(ReferenceResolve, FlagsValuesAreTheUnionOfTheirSymbols) {
  SettingRuleSpec r;
  r.setting = Id(s::kCommunicatorPresenceFields);
  r.level = kMandatory;
  r.kind = ValueKind::kFlags;
  r.symbols = std::vector<std::string>{"phone", "status", "phone"};
  Resolution res = Activate(WithSettings({r})).Resolve(s::kCommunicatorPresenceFields, Context());
  EXPECT_EQ(res.value, (Value{SettingType::kFlags, 0b101, {}}));
  r.symbols.reset();
  res = Activate(WithSettings({r})).Resolve(s::kCommunicatorPresenceFields, Context());
  EXPECT_EQ(res.value, (Value{SettingType::kFlags, 0, {}}));
  EXPECT_EQ(res.source, Source::kMandatory);
}

TEST(ReferenceResolve, AtomicGroupDecidedByAnotherMembersMandatoryRule) {
  CondSpec managed;
  managed.identity = 1;
  const ReferencePolicy policy =
      Activate(WithSettings({EnumRule(s::kGrooveProxyAuth, kMandatory, "basic", managed),
                             BoolRule(s::kGrooveSaveProxyPassword, kRecommended, true)}));
  Context ctx;
  ctx.identity = Identity::kManaged;
  Resolution r = policy.Resolve(s::kGrooveProxyAuth, ctx);
  EXPECT_EQ(r.value, EnumValue(0));
  EXPECT_EQ(r.source, Source::kMandatory);
  r = policy.Resolve(s::kGrooveSaveProxyPassword, ctx);
  EXPECT_EQ(r.value, BoolValue(false));
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_EQ(r.rule, -1);
  EXPECT_EQ(r.notes, kNoteAtomicGroup);
  // The user's own choice still counts (step 5).
  const UserChoice on = BoolChoice(true);
  r = policy.Resolve(s::kGrooveSaveProxyPassword, ctx, &on);
  EXPECT_EQ(r.source, Source::kUser);
  EXPECT_EQ(r.notes, kNoteAtomicGroup);
  // Without the other member's mandatory rule, the recommendation applies.
  ctx.identity = Identity::kUnmanaged;
  r = policy.Resolve(s::kGrooveSaveProxyPassword, ctx);
  EXPECT_EQ(r.source, Source::kRecommended);
  EXPECT_EQ(r.rule, 1);
  EXPECT_EQ(r.notes, kNoteNone);
}

TEST(ReferenceResolve, AtomicGroupLeavesMandatoryWinnersAlone) {
  const ReferencePolicy policy =
      Activate(WithSettings({EnumRule(s::kGrooveProxyAuth, kMandatory, "basic"),
                             BoolRule(s::kGrooveSaveProxyPassword, kMandatory, true)}));
  const Resolution r = policy.Resolve(s::kGrooveSaveProxyPassword, Context());
  EXPECT_EQ(r.source, Source::kMandatory);
  EXPECT_EQ(r.value, BoolValue(true));
  EXPECT_EQ(r.notes, kNoteNone);
}

TEST(ReferenceResolve, AtomicGroupNoteEvenWithoutARecommendedRule) {
  // Literal reading of step 3: the step applies when the winner is "not mandatory", which
  // includes "no winner"; the note belongs to the step.
  const ReferencePolicy policy =
      Activate(WithSettings({EnumRule(s::kGrooveProxyAuth, kMandatory, "ntlm")}));
  const Resolution r = policy.Resolve(s::kGrooveSaveProxyPassword, Context());
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_EQ(r.notes, kNoteAtomicGroup);
  // The member with the mandatory rule itself is not affected by its own rule.
  EXPECT_EQ(policy.Resolve(s::kGrooveProxyAuth, Context()).notes, kNoteNone);
}

TEST(ReferenceResolve, SerialComesFromThePayload) {
  const ReferencePolicy policy =
      Activate(WithSettings({BoolRule(s::kCommunicatorCeip, kMandatory, true)}, 1234));
  EXPECT_EQ(policy.serial(), 1234u);
  EXPECT_EQ(policy.Resolve(s::kCommunicatorCeip, Context()).serial, 1234u);
  EXPECT_EQ(policy.Resolve(s::kCommunicatorClientLogging, Context()).serial, 1234u);
  EXPECT_EQ(policy.MayUse(dc::kUsageData, pu::kOperate, Context()).serial, 1234u);
  EXPECT_EQ(policy.Schedule(0, Context()).serial, 1234u);
  const ReferencePolicy defaults;
  EXPECT_EQ(defaults.Resolve(s::kCommunicatorCeip, Context()).serial, 0u);
  EXPECT_EQ(defaults.Resolve(s::kCommunicatorCeip, Context()).source, Source::kDefault);
}

// ---- MayUse -------------------------------------------------------------------------

TEST(ReferenceMayUse, CorrespondenceWithAccountDataDependsOnThePlan) {
  const ReferencePolicy policy;
  Context ctx;
  ctx.plan = Plan::kEnterprise;
  DataUseDecision d = policy.MayUse(dc::kAccountAddressBook, pu::kCorrespondence, ctx);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.source, Source::kDefault);
  EXPECT_EQ(d.builtin, BuiltinIndex(dc::kAccountAddressBook, pu::kCorrespondence, 2));
  EXPECT_EQ(d.data_class, dc::kAccountAddressBook);
  EXPECT_EQ(d.purpose, pu::kCorrespondence);
  ctx.plan = Plan::kSmallBusiness;
  d = policy.MayUse(dc::kAccountAddressBook, pu::kCorrespondence, ctx);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.builtin, BuiltinIndex(dc::kAccountAddressBook, pu::kCorrespondence, 0));
  ctx.plan = Plan::kTrial;  // trial accounts consent to marketing contact
  d = policy.MayUse(dc::kAccountAddressBook, pu::kCorrespondence, ctx);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.builtin, BuiltinIndex(dc::kAccountAddressBook, pu::kCorrespondence, 1));
  ctx.plan = Plan::kUnknown;
  EXPECT_FALSE(policy.MayUse(dc::kAccountAddressBook, pu::kCorrespondence, ctx).allowed);
}

TEST(ReferenceMayUse, UsageDataOnlyInAggregate) {
  DataUseDecision d = ReferencePolicy().MayUse(dc::kUsageData, pu::kImprove, Context());
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.obligations, kAggregateOnly);
  EXPECT_EQ(d.source, Source::kDefault);
  EXPECT_EQ(d.rule, -1);
  // An admin rule adds its own obligations; the class's stay.
  PolicySpec p;
  p.data_use = {DataRule(dc::kUsageData, pu::kImprove, true, kShowIndicator)};
  d = Activate(p).MayUse(dc::kUsageData, pu::kImprove, Context());
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.obligations, kAggregateOnly | kShowIndicator);
  EXPECT_EQ(d.source, Source::kMandatory);
  EXPECT_EQ(d.rule, 0);
  EXPECT_EQ(d.builtin, -1);
  // Personalisation with usage data: no by default, an admin may allow it.
  EXPECT_FALSE(ReferencePolicy().MayUse(dc::kUsageData, pu::kPersonalisation, Context()).allowed);
}

TEST(ReferenceMayUse, FixedCellsIgnoreAdminRules) {
  PolicySpec p;
  p.data_use = {DataRule(dc::kUsageData, pu::kLawEnforcement, true),
                DataRule(dc::kUsageData, pu::kOperate, false)};
  const ReferencePolicy policy = Activate(p);
  DataUseDecision d = policy.MayUse(dc::kUsageData, pu::kLawEnforcement, Context());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.source, Source::kFixed);
  EXPECT_EQ(d.builtin, BuiltinIndex(dc::kUsageData, pu::kLawEnforcement, 0));
  EXPECT_EQ(d.rule, -1);
  EXPECT_EQ(d.obligations, 0u);
  d = policy.MayUse(dc::kUsageData, pu::kOperate, Context());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.source, Source::kMandatory);
  EXPECT_EQ(d.rule, 1);
}

TEST(ReferenceMayUse, DenyKeepsOnlyNeverCollect) {
  // Name, address and e-mail are never collected by the validation tools.
  DataUseDecision d =
      ReferencePolicy().MayUse(dc::kPersonalContact, pu::kLicenceValidation, Context());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.source, Source::kFixed);
  EXPECT_EQ(d.obligations, kNeverCollect);
  PolicySpec p;
  p.data_use = {
      DataRule(dc::kUsageData, pu::kPersonalisation, false, kNeverCollect | kShowIndicator),
      DataRule(dc::kCustomerData, pu::kPersonalisation, false, kHashField)};
  const ReferencePolicy policy = Activate(p);
  d = policy.MayUse(dc::kUsageData, pu::kPersonalisation, Context());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.obligations, kNeverCollect);  // aggregate_only and show_indicator dropped
  d = policy.MayUse(dc::kCustomerData, pu::kPersonalisation, Context());
  EXPECT_EQ(d.obligations, 0u);
  // Product key: always hashed when used.
  d = ReferencePolicy().MayUse(dc::kProductKey, pu::kLicenceValidation, Context());
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.obligations, kHashField);
}

TEST(ReferenceMayUse, AdminRulesBySpecificityThenIndex) {
  CondSpec managed;
  managed.identity = 1;
  CondSpec enterprise;
  enterprise.plans = 1;
  PolicySpec p;
  p.data_use = {DataRule(dc::kCustomerData, pu::kPersonalisation, false),
                DataRule(dc::kCustomerData, pu::kPersonalisation, true, 0, managed),
                DataRule(dc::kCustomerData, pu::kPersonalisation, false, 0, enterprise)};
  const ReferencePolicy policy = Activate(p);
  Context ctx;
  EXPECT_EQ(policy.MayUse(dc::kCustomerData, pu::kPersonalisation, ctx).rule, 0);
  ctx.plan = Plan::kEnterprise;
  EXPECT_EQ(policy.MayUse(dc::kCustomerData, pu::kPersonalisation, ctx).rule, 2);
  ctx.identity = Identity::kManaged;
  const DataUseDecision d = policy.MayUse(dc::kCustomerData, pu::kPersonalisation, ctx);
  EXPECT_EQ(d.rule, 1);
  EXPECT_TRUE(d.allowed);
}

TEST(ReferenceMayUse, NoRuleMeansDeny) {
  const DataUseDecision d = ReferencePolicy().MayUse(dc::kImContent, pu::kOperate, Context());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.source, Source::kDefault);
  EXPECT_EQ(d.rule, -1);
  EXPECT_EQ(d.builtin, -1);
  EXPECT_FALSE(d.unknown);
  // Groove usage statistics: visible to managed-identity administrators only.
  Context ctx;
  ctx.identity = Identity::kManaged;
  ctx.role = Role::kAdmin;
  EXPECT_TRUE(
      ReferencePolicy().MayUse(dc::kGrooveUsageStatistics, pu::kAdminReporting, ctx).allowed);
  ctx.identity = Identity::kUnmanaged;
  const DataUseDecision u =
      ReferencePolicy().MayUse(dc::kGrooveUsageStatistics, pu::kAdminReporting, ctx);
  EXPECT_FALSE(u.allowed);
  EXPECT_EQ(u.builtin, -1);
}

TEST(ReferenceMayUse, BrowserAnalyticsFootnote) {
  const ReferencePolicy policy;
  Context ctx;
  ctx.role = Role::kUser;
  ctx.region = "US";
  DataUseDecision d = policy.MayUse(dc::kBrowserAnalytics, pu::kImprove, ctx);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.builtin, BuiltinIndex(dc::kBrowserAnalytics, pu::kImprove, 0));
  EXPECT_EQ(d.obligations, kAggregateOnly);
  ctx.region = "SE";
  EXPECT_FALSE(policy.MayUse(dc::kBrowserAnalytics, pu::kImprove, ctx).allowed);
  ctx.plan = Plan::kSmallBusiness;
  EXPECT_TRUE(policy.MayUse(dc::kBrowserAnalytics, pu::kImprove, ctx).allowed);
}

TEST(ReferenceMayUse, UnknownIds) {
  const ReferencePolicy policy = Activate(WithSettings({}, 9));
  for (auto [d, p] :
       std::vector<std::pair<int, int>>{{-1, 0},
                                        {0, -1},
                                        {static_cast<int>(catalog::kDataClasses.size()), 0},
                                        {0, static_cast<int>(catalog::kPurposes.size())}}) {
    const DataUseDecision r = policy.MayUse(d, p, Context());
    EXPECT_TRUE(r.unknown);
    EXPECT_FALSE(r.allowed);
    EXPECT_EQ(r.obligations, 0u);
    EXPECT_EQ(r.data_class, -1);
    EXPECT_EQ(r.purpose, -1);
  }
}

// ---- Schedule -----------------------------------------------------------------------

TEST(ReferenceSchedule, ValidationIntervalsByOsAndTampering) {
  const ReferencePolicy policy;
  Context ctx;
  ctx.os_generation = 61;  // Windows 7
  ctx.device_state = kDeviceTampered;
  ScheduleAnswer a = policy.Schedule(catalog::schedule::kGenuineValidationInterval, ctx);
  EXPECT_EQ(a.interval_seconds, 7 * 86400);
  EXPECT_EQ(a.source, Source::kDefault);
  EXPECT_EQ(a.builtin, 0);
  EXPECT_EQ(a.schedule, 0);
  ctx.device_state = 0;
  a = policy.Schedule(0, ctx);
  EXPECT_EQ(a.interval_seconds, 90 * 86400);
  EXPECT_EQ(a.builtin, 2);
  ctx.os_generation = 60;  // Vista SP1+, tampered or not
  ctx.device_state = kDeviceTampered;
  a = policy.Schedule(0, ctx);
  EXPECT_EQ(a.interval_seconds, 30 * 86400);
  EXPECT_EQ(a.builtin, 1);
  ctx.os_generation = 0;
  a = policy.Schedule(0, ctx);
  EXPECT_EQ(a.interval_seconds, 0);
  EXPECT_EQ(a.builtin, -1);
  EXPECT_EQ(a.source, Source::kDefault);
}

TEST(ReferenceSchedule, AdminRulesOverrideBuiltins) {
  CondSpec win7;
  win7.os_min = 61;
  win7.os_max = 61;
  PolicySpec p;
  p.schedules = {ScheduleRule(86400), ScheduleRule(3600, win7), ScheduleRule(7200, win7),
                 ScheduleRule(0)};
  const ReferencePolicy policy = Activate(p);
  ASSERT_EQ(policy.skipped().size(), 1u);
  Context ctx;
  ScheduleAnswer a = policy.Schedule(0, ctx);
  EXPECT_EQ(a.interval_seconds, 86400);
  EXPECT_EQ(a.source, Source::kMandatory);
  EXPECT_EQ(a.rule, 0);
  EXPECT_EQ(a.builtin, -1);
  ctx.os_generation = 61;
  ctx.device_state = kDeviceTampered;
  a = policy.Schedule(0, ctx);
  EXPECT_EQ(a.interval_seconds, 3600);
  EXPECT_EQ(a.rule, 1);
}

TEST(ReferenceSchedule, UnknownSchedule) {
  for (int id : {-1, static_cast<int>(catalog::kSchedules.size())}) {
    const ScheduleAnswer a = ReferencePolicy().Schedule(id, Context());
    EXPECT_TRUE(a.unknown);
    EXPECT_EQ(a.interval_seconds, 0);
    EXPECT_EQ(a.schedule, -1);
  }
}

// ---- The generator ------------------------------------------------------------------

TEST(RandomPolicy, IsDeterministicAndBuildsVerifiablePayloads) {
  random_policy::Rng a(7), b(7);
  int ok = 0, skipped = 0;
  for (int i = 0; i < 200; ++i) {
    const PolicySpec pa = random_policy::RandomPolicy(a);
    const PolicySpec pb = random_policy::RandomPolicy(b);
    ASSERT_EQ(random_policy::Describe(pa), random_policy::Describe(pb));
    const std::vector<uint8_t> bytes = random_policy::Build(pa);
    ASSERT_EQ(bytes, random_policy::Build(pb));
    const ReferencePolicy policy = ReferencePolicy::Activate(bytes);
    ok += policy.ok();
    skipped += policy.skipped().empty() ? 0 : 1;
  }
  // Most policies activate, and many of them skip something.
  EXPECT_GT(ok, 140);
  EXPECT_GT(skipped, 40);
}

#if EDICT_REFERENCE_PRODUCTS
// ---- Product catalogues and attribute terms (docs/semantics.md, Conditions) ------------

using random_policy::AttrTermSpec;
using random_policy::ContextSample;

// The built-in catalogue plus the sample product catalogue (examples/catalogs/acmevpn.json).
std::shared_ptr<const CatalogSet> AcmeSet() {
  static const std::shared_ptr<const CatalogSet>* const kSet = [] {
    std::ifstream in(std::string(EDICT_SOURCE_DIR) + "/examples/catalogs/acmevpn.json");
    std::stringstream source;
    source << in.rdbuf();
    const absl::StatusOr<std::string> bytes = catalogs::BuildCatalog(source.str(), "acmevpn.json");
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    auto set = bytes.ok() ? CatalogSet::Create({CatalogSet::Input{"acmevpn.edcat", *bytes}})
                          : absl::StatusOr<std::shared_ptr<const CatalogSet>>(bytes.status());
    EXPECT_TRUE(set.ok()) << set.status();
    return new std::shared_ptr<const CatalogSet>(set.ok() ? *set : nullptr);
  }();
  return *kSet;
}

AttrTermSpec Term(std::string name, int8_t is = 0,
                  std::optional<std::vector<std::string>> values = std::nullopt, int64_t min = 0,
                  int64_t max = 0) {
  return AttrTermSpec{std::move(name), is, std::move(values), min, max};
}

CondSpec WithTerms(std::vector<AttrTermSpec> terms) {
  CondSpec c;
  c.attributes = std::move(terms);
  return c;
}

SettingRuleSpec AcmeBool(std::string id, int8_t level, bool v,
                         std::optional<CondSpec> when = std::nullopt) {
  SettingRuleSpec r;
  r.setting = std::move(id);
  r.level = level;
  r.kind = ValueKind::kBool;
  r.b = v;
  r.when = std::move(when);
  return r;
}

// Resolves acmevpn.always_on (default false) under a policy with one mandatory true rule
// conditioned on `terms`, in `ctx`: true when the condition holds.
bool Holds(const CatalogSet& set, std::vector<AttrTermSpec> terms, const ContextSample& ctx) {
  const std::vector<uint8_t> bytes = random_policy::Build(
      WithSettings({AcmeBool("acmevpn.always_on", kMandatory, true, WithTerms(std::move(terms)))}));
  const ReferencePolicy policy = ReferencePolicy::Activate(bytes, set);
  EXPECT_TRUE(policy.ok() && policy.skipped().empty());
  const Resolution r = policy.Resolve(set.FindSetting("acmevpn.always_on"), ctx.context());
  return r.source == Source::kMandatory;
}

int EnumIndex(const CatalogSet& set, std::string_view attribute, std::string_view value) {
  const AttributeSpec& a = set.attributes()[set.FindAttribute(attribute)];
  for (size_t i = 0; i < a.values.size(); ++i) {
    if (a.values[i] == value) return static_cast<int>(i);
  }
  return -1;
}

TEST(ReferenceAttributes, BoolTerm) {
  const auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const int h = set->FindAttribute("acmevpn.on_battery");
  ASSERT_GE(h, 0);
  ContextSample yes, no, unknown;
  yes.add_attribute(h, 1);
  no.add_attribute(h, 0);
  for (int8_t is : {int8_t{1}, int8_t{2}}) {
    const std::vector<AttrTermSpec> t = {Term("acmevpn.on_battery", is)};
    EXPECT_EQ(Holds(*set, t, yes), is == 1);
    EXPECT_EQ(Holds(*set, t, no), is == 2);
    EXPECT_FALSE(Holds(*set, t, unknown)) << "an absent attribute satisfies no term";
  }
}

TEST(ReferenceAttributes, EnumTermAnyOfAndUnknownValues) {
  const auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const int h = set->FindAttribute("acmevpn.network_trust");
  ASSERT_GE(h, 0);
  ContextSample trusted, captive, unknown;
  trusted.add_attribute(h, EnumIndex(*set, "acmevpn.network_trust", "trusted"));
  captive.add_attribute(h, EnumIndex(*set, "acmevpn.network_trust", "captive"));
  const std::vector<AttrTermSpec> untrusted_or_captive = {
      Term("acmevpn.network_trust", 0, std::vector<std::string>{"untrusted", "captive"})};
  EXPECT_FALSE(Holds(*set, untrusted_or_captive, trusted));
  EXPECT_TRUE(Holds(*set, untrusted_or_captive, captive));
  EXPECT_FALSE(Holds(*set, untrusted_or_captive, unknown));
  // A value the catalogue does not know matches nothing (the rule is still valid).
  EXPECT_FALSE(
      Holds(*set, {Term("acmevpn.network_trust", 0, std::vector<std::string>{"bogus"})}, trusted));
  EXPECT_TRUE(
      Holds(*set, {Term("acmevpn.network_trust", 0, std::vector<std::string>{"bogus", "trusted"})},
            trusted));
}

TEST(ReferenceAttributes, IntRangeTermIsInclusive) {
  const auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const int h = set->FindAttribute("acmevpn.tunnel_count");
  ASSERT_GE(h, 0);
  const std::vector<AttrTermSpec> two_to_five = {
      Term("acmevpn.tunnel_count", 0, std::nullopt, 2, 5)};
  for (int64_t v : {0, 1, 2, 3, 5, 6, 16}) {
    ContextSample ctx;
    ctx.add_attribute(h, v);
    EXPECT_EQ(Holds(*set, two_to_five, ctx), v >= 2 && v <= 5) << v;
  }
  EXPECT_FALSE(Holds(*set, two_to_five, ContextSample()));
}

TEST(ReferenceAttributes, StringSetTermSharesAMember) {
  const auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const int h = set->FindAttribute("acmevpn.gateway_regions");
  ASSERT_GE(h, 0);
  const std::vector<AttrTermSpec> eu_or_us = {
      Term("acmevpn.gateway_regions", 0, std::vector<std::string>{"EU", "US"})};
  ContextSample us, lower, none, unknown;
  us.add_attribute(h, 0, {"APAC", "US"});
  lower.add_attribute(h, 0, {"eu"});
  none.add_attribute(h, 0, {});
  EXPECT_TRUE(Holds(*set, eu_or_us, us));
  EXPECT_FALSE(Holds(*set, eu_or_us, lower)) << "exact, case-sensitive";
  EXPECT_FALSE(Holds(*set, eu_or_us, none));
  EXPECT_FALSE(Holds(*set, eu_or_us, unknown));
}

TEST(ReferenceAttributes, ConjunctionOfTermsInAnyContextOrder) {
  const auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const int battery = set->FindAttribute("acmevpn.on_battery");
  const int tunnels = set->FindAttribute("acmevpn.tunnel_count");
  ContextSample ctx;
  ctx.add_attribute(tunnels, 3);
  ctx.add_attribute(battery, 1);
  const std::vector<AttrTermSpec> both = {Term("acmevpn.on_battery", 1),
                                          Term("acmevpn.tunnel_count", 0, std::nullopt, 3, 3)};
  EXPECT_TRUE(Holds(*set, both, ctx));
  ContextSample one;
  one.add_attribute(battery, 1);
  EXPECT_FALSE(Holds(*set, both, one));
}

TEST(ReferenceAttributes, ActivationSkipsUnknownOrMalformedTerms) {
  const auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const std::vector<std::vector<AttrTermSpec>> bad = {
      {Term("acmevpn.no_such_attribute", 1)},
      {Term("acmevpn.Network_trust", 0, std::vector<std::string>{"trusted"})},
      {Term("acmevpn.on_battery", 0)},                                 // Bool without is
      {Term("acmevpn.network_trust", 0, std::vector<std::string>{})},  // Enum, no values
      {Term("acmevpn.network_trust", 1)},                              // Enum, values absent
      {Term("acmevpn.gateway_regions", 0)},                            // StringSet, none
      {Term("acmevpn.tunnel_count", 0, std::nullopt, 5, 4)},           // min > max
      {Term("acmevpn.on_battery", 1), Term("future.attribute", 1)},    // one bad term
  };
  for (const auto& terms : bad) {
    const std::vector<uint8_t> bytes = random_policy::Build(
        WithSettings({AcmeBool("acmevpn.always_on", kMandatory, true, WithTerms(terms)),
                      AcmeBool("acmevpn.always_on", kRecommended, true)}));
    const ReferencePolicy policy = ReferencePolicy::Activate(bytes, *set);
    ASSERT_TRUE(policy.ok());
    ASSERT_EQ(policy.skipped().size(), 1u) << random_policy::DescribeCondition(WithTerms(terms));
    EXPECT_EQ(policy.skipped()[0].reason, SkipReason::kUnknownAttribute);
    EXPECT_EQ(policy.skipped()[0].index, 0u);
    EXPECT_EQ(policy.skipped()[0].name, "acmevpn.always_on");
  }
  // Without the product catalogue, every attribute is unknown.
  const std::vector<uint8_t> bytes = random_policy::Build(WithSettings({BoolRule(
      s::kCommunicatorCeip, kMandatory, false, WithTerms({Term("acmevpn.on_battery", 1)}))}));
  const ReferencePolicy builtin = ReferencePolicy::Activate(bytes);
  ASSERT_EQ(builtin.skipped().size(), 1u);
  EXPECT_EQ(builtin.skipped()[0].reason, SkipReason::kUnknownAttribute);
  // A critical rule with an unknown attribute fails activation.
  PolicySpec critical = WithSettings(
      {AcmeBool("acmevpn.always_on", kMandatory, true, WithTerms({Term("future.attribute", 1)}))});
  critical.settings[0].critical = true;
  EXPECT_EQ(ReferencePolicy::Activate(random_policy::Build(critical), *set).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ReferenceAttributes, EachTermCountsForSpecificity) {
  const auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const int battery = set->FindAttribute("acmevpn.on_battery");
  const int tunnels = set->FindAttribute("acmevpn.tunnel_count");
  ContextSample ctx;
  ctx.add_attribute(battery, 0);
  ctx.add_attribute(tunnels, 1);
  ctx.mutable_context().identity = Identity::kManaged;
  CondSpec managed;
  managed.identity = 1;
  // rule 0: one built-in term; rule 1: two attribute terms (more specific, later).
  const std::vector<uint8_t> bytes = random_policy::Build(WithSettings({
      AcmeBool("acmevpn.always_on", kMandatory, false, managed),
      AcmeBool("acmevpn.always_on", kMandatory, true,
               WithTerms({Term("acmevpn.on_battery", 2),
                          Term("acmevpn.tunnel_count", 0, std::nullopt, 0, 16)})),
  }));
  const ReferencePolicy policy = ReferencePolicy::Activate(bytes, *set);
  ASSERT_TRUE(policy.ok());
  const Resolution r = policy.Resolve(set->FindSetting("acmevpn.always_on"), ctx.context());
  EXPECT_EQ(r.rule, 1);
  EXPECT_EQ(r.value, BoolValue(true));
}

TEST(ReferenceAttributes, ProductSettingsResolveByTheirCatalogue) {
  const auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const int protocol = set->FindSetting("acmevpn.protocol");
  ASSERT_GE(protocol, 0);
  SettingRuleSpec rule;
  rule.setting = "acmevpn.protocol";
  rule.level = kRecommended;
  rule.kind = ValueKind::kEnum;
  rule.symbol = "ikev2";
  const std::vector<uint8_t> bytes = random_policy::Build(WithSettings({rule}));
  const ReferencePolicy policy = ReferencePolicy::Activate(bytes, *set);
  ASSERT_TRUE(policy.ok());
  ASSERT_TRUE(policy.skipped().empty());
  const Resolution r = policy.Resolve(protocol, Context());
  EXPECT_EQ(r.source, Source::kRecommended);
  EXPECT_EQ(r.value.number, 2);  // auto, wireguard, ikev2, ...
  // The same payload against the built-in catalogue alone: unknown setting.
  const ReferencePolicy builtin = ReferencePolicy::Activate(bytes);
  ASSERT_EQ(builtin.skipped().size(), 1u);
  EXPECT_EQ(builtin.skipped()[0].reason, SkipReason::kUnknownSetting);
  // Defaults of the set: catalogue default "auto".
  EXPECT_EQ(ReferencePolicy(*set).Resolve(protocol, Context()).value.number, 0);
}

TEST(RandomPolicy, ProductCatalogueDrawsAttributeTermsAndProductSettings) {
  const auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  random_policy::Options options;
  options.catalogs = set.get();
  random_policy::Rng rng(11);
  int product_rules = 0, attribute_terms = 0, attribute_skips = 0, context_values = 0;
  for (int i = 0; i < 200; ++i) {
    const PolicySpec p = random_policy::RandomPolicy(rng, options);
    for (const SettingRuleSpec& r : p.settings) {
      product_rules += r.setting.rfind("acmevpn.", 0) == 0;
      if (r.when && r.when->attributes) attribute_terms += r.when->attributes->size();
    }
    const ReferencePolicy policy = ReferencePolicy::Activate(random_policy::Build(p), *set);
    for (const Skip& s : policy.skipped()) {
      attribute_skips += s.reason == SkipReason::kUnknownAttribute;
    }
    context_values += random_policy::RandomContext(rng, false, *set).context().attributes.size();
  }
  EXPECT_GT(product_rules, 500);
  EXPECT_GT(attribute_terms, 500);
  EXPECT_GT(attribute_skips, 20);
  EXPECT_GT(context_values, 300);  // 4 attributes, each given 70% of the time
}
#endif  // EDICT_REFERENCE_PRODUCTS

}  // namespace
}  // namespace edict::reference
