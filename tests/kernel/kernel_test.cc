#include "kernel/kernel.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "policy/catalog.h"
#include "tests/kernel/naive.h"
#include "tests/kernel/payload_builder.h"

namespace edict::testing {
namespace {

namespace st = catalog::setting;
namespace dc = catalog::data_class;
namespace pu = catalog::purpose;

constexpr int kMandatory = 0;
constexpr int kRecommended = 1;

Context Managed() {
  Context c;
  c.identity = Identity::kManaged;
  c.domain_joined = TriState::kYes;
  return c;
}

std::string ExplainText(const Snapshot& s, const Resolution& r, const Context& c,
                        const UserChoice* u = nullptr,
                        ExplainDetail d = ExplainDetail::kWithCandidates) {
  const size_t n = s.Explain(r, c, u, d, absl::Span<char>());
  std::string out(n + 1, '\0');
  EXPECT_EQ(s.Explain(r, c, u, d, absl::Span<char>(out.data(), out.size())), n);
  out.resize(n);
  return out;
}

// ---- Defaults -------------------------------------------------------------------------

TEST(Defaults, CatalogueDefaults) {
  const Snapshot& s = Snapshot::Defaults();
  EXPECT_EQ(s.serial(), 0u);
  EXPECT_EQ(s.skipped_count(), 0u);
  EXPECT_TRUE(s.payload().empty());
  Resolution r = s.Resolve(st::kCommunicatorCeip, Context{});
  EXPECT_EQ(r.setting, st::kCommunicatorCeip);
  EXPECT_EQ(r.value.number, 0);
  EXPECT_EQ(r.value.type, SettingType::kBool);
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_FALSE(r.locked);
  EXPECT_EQ(r.rule, -1);
  r = s.Resolve(st::kLivemeetingParticipantRecording, Context{});
  EXPECT_EQ(r.value.number, 1);
  EXPECT_EQ(r.obligations, kShowIndicator | kNotifyOthers);
  r = s.Resolve(st::kCommunicatorPresenceFields, Context{});
  EXPECT_EQ(r.value.type, SettingType::kFlags);
  EXPECT_EQ(r.value.number, 1);
}

TEST(Defaults, FixedSettingIgnoresChoice) {
  UserChoice u{Value{SettingType::kBool, 1, {}}, false};
  Resolution r = Snapshot::Defaults().Resolve(st::kCommunicatorLogMessageContent, Context{}, &u);
  EXPECT_EQ(r.source, Source::kFixed);
  EXPECT_TRUE(r.locked);
  EXPECT_EQ(r.value.number, 0);
  EXPECT_EQ(r.notes, kNoteChoiceOverriddenByLock);
  r = Snapshot::Defaults().Resolve(st::kCommunicatorLogMessageContent, Context{});
  EXPECT_EQ(r.notes, kNoteNone);
}

TEST(Defaults, UnknownIds) {
  const Snapshot& s = Snapshot::Defaults();
  for (int id : {-1, static_cast<int>(catalog::kSettings.size()), 1 << 30}) {
    Resolution r = s.Resolve(id, Context{});
    EXPECT_EQ(r.setting, -1);
    EXPECT_EQ(r.notes, kNoteUnknownSetting);
  }
  DataUseDecision d = s.MayUse(-1, 0, Context{});
  EXPECT_TRUE(d.unknown);
  EXPECT_FALSE(d.allowed);
  d = s.MayUse(0, static_cast<int>(catalog::kPurposes.size()), Context{});
  EXPECT_TRUE(d.unknown);
  ScheduleAnswer a = s.Schedule(static_cast<int>(catalog::kSchedules.size()), Context{});
  EXPECT_TRUE(a.unknown);
  EXPECT_EQ(a.interval_seconds, 0);
}

TEST(Defaults, BuiltinDataUse) {
  const Snapshot& s = Snapshot::Defaults();
  DataUseDecision d = s.MayUse(dc::kUsageData, pu::kImprove, Context{});
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.source, Source::kDefault);
  EXPECT_GE(d.builtin, 0);
  EXPECT_EQ(d.obligations, kAggregateOnly);  // the class's obligation
  d = s.MayUse(dc::kUsageData, pu::kAdvertising, Context{});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.source, Source::kFixed);
  EXPECT_EQ(d.obligations, 0u);  // denied: only never_collect survives
  d = s.MayUse(dc::kPersonalContact, pu::kImprove, Context{});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.obligations, kNeverCollect);
  // Conditional built-in: correspondence with account data, yes for small business.
  Context c;
  c.plan = Plan::kSmallBusiness;
  EXPECT_TRUE(s.MayUse(dc::kAccountAddressBook, pu::kCorrespondence, c).allowed);
  c.plan = Plan::kEnterprise;
  EXPECT_FALSE(s.MayUse(dc::kAccountAddressBook, pu::kCorrespondence, c).allowed);
}

TEST(Defaults, BuiltinSchedule) {
  const Snapshot& s = Snapshot::Defaults();
  Context c;
  EXPECT_EQ(s.Schedule(0, c).interval_seconds, 0);
  EXPECT_EQ(s.Schedule(0, c).builtin, -1);
  c.os_generation = 60;
  EXPECT_EQ(s.Schedule(0, c).interval_seconds, 30 * 86400);
  c.os_generation = 61;
  EXPECT_EQ(s.Schedule(0, c).interval_seconds, 90 * 86400);
  c.device_state = kDeviceTampered;
  EXPECT_EQ(s.Schedule(0, c).interval_seconds, 7 * 86400);
  EXPECT_EQ(s.Schedule(0, c).source, Source::kDefault);
}

// ---- Precedence -------------------------------------------------------------------------

TEST(Resolve, MandatoryBeatsRecommendedAndSpecificityAndIndex) {
  Policy p;
  p.serial = 42;
  Cond managed;
  managed.identity = 1;
  Cond managed_dj = managed;
  managed_dj.domain_joined = 1;
  p.settings = {BoolRule("communicator.ceip", kRecommended, true, managed_dj),  // 0
                BoolRule("communicator.ceip", kMandatory, false, managed),      // 1
                BoolRule("communicator.ceip", kMandatory, true, managed_dj),    // 2
                BoolRule("communicator.ceip", kMandatory, false, managed_dj)};  // 3
  Activated a(p.Build());
  ASSERT_TRUE(a.status.ok()) << a.status;
  Resolution r = a->Resolve(st::kCommunicatorCeip, Managed());
  EXPECT_EQ(r.rule, 2);  // most specific mandatory, lowest index
  EXPECT_EQ(r.value.number, 1);
  EXPECT_EQ(r.source, Source::kMandatory);
  EXPECT_TRUE(r.locked);
  EXPECT_EQ(r.serial, 42u);
  Context c = Managed();
  c.domain_joined = TriState::kNo;
  r = a->Resolve(st::kCommunicatorCeip, c);
  EXPECT_EQ(r.rule, 1);
  c.identity = Identity::kUnknown;
  r = a->Resolve(st::kCommunicatorCeip, c);
  EXPECT_EQ(r.rule, -1);
  EXPECT_EQ(r.source, Source::kDefault);
}

TEST(Resolve, RecommendedThenUserChoice) {
  Policy p;
  p.settings = {BoolRule("communicator.ceip", kRecommended, true)};
  Activated a(p.Build());
  ASSERT_TRUE(a.status.ok());
  Resolution r = a->Resolve(st::kCommunicatorCeip, Context{});
  EXPECT_EQ(r.source, Source::kRecommended);
  EXPECT_FALSE(r.locked);
  EXPECT_EQ(r.value.number, 1);
  UserChoice u{Value{SettingType::kBool, 0, {}}, false};
  r = a->Resolve(st::kCommunicatorCeip, Context{}, &u);
  EXPECT_EQ(r.source, Source::kUser);
  EXPECT_EQ(r.value.number, 0);
  EXPECT_EQ(r.rule, -1);
  EXPECT_EQ(r.notes, kNoteNone);
}

TEST(Resolve, MandatoryOverridesChoice) {
  Policy p;
  p.settings = {BoolRule("communicator.conversation_history", kMandatory, true)};
  Activated a(p.Build());
  ASSERT_TRUE(a.status.ok());
  UserChoice u{Value{SettingType::kBool, 0, {}}, false};
  Resolution r = a->Resolve(st::kCommunicatorConversationHistory, Context{}, &u);
  EXPECT_EQ(r.source, Source::kMandatory);
  EXPECT_EQ(r.value.number, 1);
  EXPECT_EQ(r.notes, kNoteChoiceOverriddenByLock);
  EXPECT_EQ(r.obligations, kNotifyOthers);
}

TEST(Resolve, ChoicePermissions) {
  const Snapshot& s = Snapshot::Defaults();
  UserChoice u{Value{SettingType::kBool, 1, {}}, false};
  // Admin-only setting: the user may not choose.
  Resolution r = s.Resolve(st::kCommunicatorServerArchiving, Context{}, &u);
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_EQ(r.notes, kNoteChoiceNotPermitted);
  // Organiser-only: only with the organiser role.
  r = s.Resolve(st::kLivemeetingAccessControl, Context{}, &u);
  EXPECT_EQ(r.notes, kNoteChoiceNotPermitted);
  Context org;
  org.role = Role::kOrganiser;
  r = s.Resolve(st::kLivemeetingAccessControl, org, &u);
  EXPECT_EQ(r.source, Source::kUser);
  EXPECT_EQ(r.value.number, 1);
  // Wrong type.
  UserChoice bad{Value{SettingType::kInteger, 1, {}}, false};
  r = s.Resolve(st::kCommunicatorCeip, Context{}, &bad);
  EXPECT_EQ(r.notes, kNoteChoiceInvalid);
  EXPECT_EQ(r.source, Source::kDefault);
  // A bool choice is 0 or 1, nothing else.
  UserChoice two{Value{SettingType::kBool, 2, {}}, false};
  EXPECT_EQ(s.Resolve(st::kCommunicatorCeip, Context{}, &two).notes, kNoteChoiceInvalid);
  // Enum out of range, flags out of range, and valid ones.
  UserChoice e{Value{SettingType::kEnum, 3, {}}, false};
  EXPECT_EQ(s.Resolve(st::kGrooveDirectoryPublic, Context{}, &e).notes, kNoteChoiceInvalid);
  e.value.number = 2;
  r = s.Resolve(st::kGrooveDirectoryPublic, Context{}, &e);
  EXPECT_EQ(r.source, Source::kUser);
  EXPECT_EQ(r.obligations, kWarnIrreversible);
  e.value.number = -1;
  EXPECT_EQ(s.Resolve(st::kGrooveDirectoryPublic, Context{}, &e).notes, kNoteChoiceInvalid);
  UserChoice f{Value{SettingType::kFlags, 1 << 5, {}}, false};
  EXPECT_EQ(s.Resolve(st::kCommunicatorPresenceFields, Context{}, &f).notes, kNoteChoiceInvalid);
  f.value.number = 0x1F;
  EXPECT_EQ(s.Resolve(st::kCommunicatorPresenceFields, Context{}, &f).source, Source::kUser);
  // Several problems at once: every note is reported.
  UserChoice both{Value{SettingType::kInteger, 1, {}}, false};
  EXPECT_EQ(s.Resolve(st::kCommunicatorServerArchiving, Context{}, &both).notes,
            kNoteChoiceNotPermitted | kNoteChoiceInvalid);
}

TEST(Resolve, ChoiceAtAccountCreation) {
  const Snapshot& s = Snapshot::Defaults();
  UserChoice late{Value{SettingType::kBool, 1, {}}, false};
  Resolution r = s.Resolve(st::kGroovePasswordResetUnmanaged, Context{}, &late);
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_EQ(r.notes, kNoteChoiceAfterCreation);
  UserChoice early{Value{SettingType::kBool, 1, {}}, true};
  r = s.Resolve(st::kGroovePasswordResetUnmanaged, Context{}, &early);
  EXPECT_EQ(r.source, Source::kUser);
  Context creating;
  creating.account_creation = true;
  r = s.Resolve(st::kGroovePasswordResetUnmanaged, creating, &late);
  EXPECT_EQ(r.source, Source::kUser);
}

TEST(Resolve, AtomicGroup) {
  Policy p;
  SRule proxy;
  proxy.setting = "groove.proxy_auth";
  proxy.level = kMandatory;
  proxy.kind = VK::kEnum;
  proxy.sym = "ntlm";
  Cond managed;
  managed.identity = 1;
  proxy.when = managed;
  p.settings = {proxy, BoolRule("groove.save_proxy_password", kRecommended, true)};
  Activated a(p.Build());
  ASSERT_TRUE(a.status.ok()) << a.status;
  Context c;
  c.identity = Identity::kManaged;
  Resolution r = a->Resolve(st::kGrooveProxyAuth, c);
  EXPECT_EQ(r.value.number, 1);
  EXPECT_EQ(r.source, Source::kMandatory);
  r = a->Resolve(st::kGrooveSaveProxyPassword, c);
  EXPECT_EQ(r.source, Source::kDefault);
  EXPECT_EQ(r.notes, kNoteAtomicGroup);
  EXPECT_EQ(r.value.number, 0);
  UserChoice u{Value{SettingType::kBool, 1, {}}, false};
  r = a->Resolve(st::kGrooveSaveProxyPassword, c, &u);
  EXPECT_EQ(r.source, Source::kUser);
  EXPECT_EQ(r.notes, kNoteAtomicGroup);
  EXPECT_NE(ExplainText(*a, r, c, &u).find("atomic group groove.proxy"), std::string::npos);
  // Another context: the mandatory member does not match, the recommended rule applies.
  r = a->Resolve(st::kGrooveSaveProxyPassword, Context{});
  EXPECT_EQ(r.source, Source::kRecommended);
  EXPECT_EQ(r.notes, kNoteNone);
}

TEST(Resolve, EveryConditionTerm) {
  struct Case {
    Cond cond;
    Context yes, no, unknown;
  };
  std::vector<Case> cases;
  auto add = [&](Cond c, auto set_yes, auto set_no) {
    Case k{c, {}, {}, {}};
    set_yes(k.yes);
    set_no(k.no);
    cases.push_back(k);
  };
  Cond c;
  c.identity = 2;
  add(
      c, [](Context& x) { x.identity = Identity::kUnmanaged; },
      [](Context& x) { x.identity = Identity::kManaged; });
  c = Cond{};
  c.domain_joined = 2;
  add(
      c, [](Context& x) { x.domain_joined = TriState::kNo; },
      [](Context& x) { x.domain_joined = TriState::kYes; });
  c = Cond{};
  c.device_managed = 1;
  add(
      c, [](Context& x) { x.device_managed = TriState::kYes; },
      [](Context& x) { x.device_managed = TriState::kNo; });
  c = Cond{};
  c.plans = 2 | 4;
  add(
      c, [](Context& x) { x.plan = Plan::kTrial; }, [](Context& x) { x.plan = Plan::kEnterprise; });
  c = Cond{};
  c.os_min = 60;
  c.os_max = 61;
  add(
      c, [](Context& x) { x.os_generation = 61; }, [](Context& x) { x.os_generation = 62; });
  c = Cond{};
  c.os_max = 60;
  add(
      c, [](Context& x) { x.os_generation = 5; }, [](Context& x) { x.os_generation = 61; });
  c = Cond{};
  c.state_all = kDeviceTampered | kDeviceNotGenuine;
  add(
      c, [](Context& x) { x.device_state = 3; }, [](Context& x) { x.device_state = 1; });
  c = Cond{};
  c.roles = 4 | 8;
  add(
      c, [](Context& x) { x.role = Role::kParticipant; }, [](Context& x) { x.role = Role::kUser; });
  c = Cond{};
  c.account_creation = 1;
  add(
      c, [](Context& x) { x.account_creation = true; },
      [](Context& x) { x.account_creation = false; });
  c = Cond{};
  c.regions = {"US", "CA"};
  add(
      c, [](Context& x) { x.region = "CA"; }, [](Context& x) { x.region = "us"; });
  static const std::string_view kFin[] = {"finance"};
  static const std::string_view kHr[] = {"hr", "Finance"};
  c = Cond{};
  c.groups = {"finance", "ops"};
  add(
      c, [](Context& x) { x.groups = kFin; }, [](Context& x) { x.groups = kHr; });
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    Policy p;
    p.settings = {BoolRule("communicator.ceip", kMandatory, true, cases[i].cond)};
    Activated a(p.Build());
    ASSERT_TRUE(a.status.ok());
    EXPECT_EQ(a->Resolve(st::kCommunicatorCeip, cases[i].yes).rule, 0);
    EXPECT_EQ(a->Resolve(st::kCommunicatorCeip, cases[i].no).rule, -1);
    if (i != 6 && i != 8) {  // state and account creation are never unknown
      EXPECT_EQ(a->Resolve(st::kCommunicatorCeip, cases[i].unknown).rule, -1);
    }
  }
  // state_none.
  Cond none;
  none.state_none = kDeviceTampered;
  Policy p;
  p.settings = {BoolRule("communicator.ceip", kMandatory, true, none)};
  Activated a(p.Build());
  Context x;
  EXPECT_EQ(a->Resolve(st::kCommunicatorCeip, x).rule, 0);
  x.device_state = kDeviceTampered;
  EXPECT_EQ(a->Resolve(st::kCommunicatorCeip, x).rule, -1);
}

TEST(Resolve, GroupsAcrossBuckets) {
  Policy p;
  Cond fin;
  fin.groups = {"finance", "legal"};
  Cond hr;
  hr.groups = {"hr"};
  hr.identity = 1;
  Cond plain;
  plain.identity = 1;
  p.settings = {BoolRule("communicator.ceip", kRecommended, true, fin),    // 0 spec 1
                BoolRule("communicator.ceip", kRecommended, false, hr),    // 1 spec 2
                BoolRule("communicator.ceip", kRecommended, true, plain),  // 2 spec 1
                BoolRule("communicator.client_logging", kMandatory, true, fin)};
  Activated a(p.Build());
  ASSERT_TRUE(a.status.ok());
  static const std::string_view kBoth[] = {"legal", "hr"};
  static const std::string_view kLegal[] = {"legal"};
  Context c;
  c.identity = Identity::kManaged;
  c.groups = kBoth;
  EXPECT_EQ(a->Resolve(st::kCommunicatorCeip, c).rule, 1);
  c.groups = kLegal;
  EXPECT_EQ(a->Resolve(st::kCommunicatorCeip, c).rule, 0);
  c.groups = {};
  EXPECT_EQ(a->Resolve(st::kCommunicatorCeip, c).rule, 2);
  c.groups = kLegal;
  EXPECT_EQ(a->Resolve(st::kCommunicatorClientLogging, c).rule, 3);
  EXPECT_EQ(a->Resolve(st::kCommunicatorEventLogLogging, c).rule, -1);
}

TEST(Resolve, ValueTypes) {
  Policy p;
  SRule flags;
  flags.setting = "communicator.presence_fields";
  flags.kind = VK::kFlags;
  flags.syms = {"note", "status"};
  SRule en;
  en.setting = "groove.directory.public";
  en.kind = VK::kEnum;
  en.sym = "full_contact";
  p.settings = {flags, en};
  Activated a(p.Build());
  ASSERT_TRUE(a.status.ok());
  Resolution r = a->Resolve(st::kCommunicatorPresenceFields, Context{});
  EXPECT_EQ(r.value.number, (1 << 3) | 1);
  r = a->Resolve(st::kGrooveDirectoryPublic, Context{});
  EXPECT_EQ(r.value.number, 2);
  EXPECT_EQ(r.obligations, kWarnIrreversible);
  const std::string text = ExplainText(*a, r, Context{});
  EXPECT_NE(text.find("groove.directory.public = full_contact (mandatory, locked)"),
            std::string::npos)
      << text;
}

// ---- Activation ---------------------------------------------------------------------------

TEST(Activation, SkipsAndReports) {
  Policy p;
  SRule wrong = BoolRule("communicator.presence_fields", kMandatory, true);  // bool for flags
  SRule sym;
  sym.setting = "groove.directory.public";
  sym.kind = VK::kEnum;
  sym.sym = "everywhere";
  SRule nov = BoolRule("communicator.ceip", kMandatory, true);
  nov.kind = VK::kNone;
  p.settings = {BoolRule("future.setting", kMandatory, true),        // 0 unknown
                wrong,                                               // 1 wrong type
                sym,                                                 // 2 unknown symbol
                BoolRule("communicator.online_feedback", 0, false),  // 3 user-only
                BoolRule("genuine.validation", 0, false),            // 4 fixed
                nov,                                                 // 5 no value
                BoolRule("communicator.ceip", kMandatory, true)};    // 6 ok
  p.data_use = {{"future_class", "improve"},
                {"usage_data", "future_purpose"},
                {"usage_data", "advertising", true},
                {"usage_data", "improve", false}};
  p.schedules = {{"future.schedule", 10},
                 {"genuine.validation_interval", 0},
                 {"genuine.validation_interval", 3600}};
  Activated a(p.Build());
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_EQ(a->skipped_count(), 11u);
  ASSERT_EQ(a->skipped().size(), 11u);
  const SkipReason want[] = {
      SkipReason::kUnknownSetting,   SkipReason::kWrongValueType,   SkipReason::kUnknownSymbol,
      SkipReason::kNotAdminSettable, SkipReason::kNotAdminSettable, SkipReason::kWrongValueType,
      SkipReason::kUnknownDataClass, SkipReason::kUnknownPurpose,   SkipReason::kFixedCell,
      SkipReason::kUnknownSchedule,  SkipReason::kBadInterval};
  for (size_t i = 0; i < 11; ++i) EXPECT_EQ(a->skipped()[i].reason, want[i]) << i;
  EXPECT_EQ(a->skipped()[0].name, "future.setting");
  EXPECT_EQ(a->skipped()[0].kind, RuleKind::kSetting);
  EXPECT_EQ(a->skipped()[7].name, "future_purpose");
  EXPECT_EQ(a->skipped()[9].index, 0u);
  EXPECT_EQ(a->skipped()[9].kind, RuleKind::kSchedule);
  EXPECT_EQ(a->Resolve(st::kCommunicatorCeip, Context{}).rule, 6);
  DataUseDecision d = a->MayUse(dc::kUsageData, pu::kAdvertising, Context{});
  EXPECT_EQ(d.source, Source::kFixed);
  EXPECT_FALSE(d.allowed);
  d = a->MayUse(dc::kUsageData, pu::kImprove, Context{});
  EXPECT_EQ(d.source, Source::kMandatory);
  EXPECT_EQ(d.rule, 3);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(a->Schedule(0, Context{}).interval_seconds, 3600);
  EXPECT_EQ(a->Schedule(0, Context{}).rule, 2);
  // Explain reports unknown settings via skipped().
  Resolution r = a->Resolve(1000, Context{});
  std::string t = ExplainText(*a, r, Context{});
  EXPECT_NE(t.find("future.setting (rule 0)"), std::string::npos) << t;
  // And skipped rules of a known setting among the candidates.
  r = a->Resolve(st::kCommunicatorCeip, Context{});
  t = ExplainText(*a, r, Context{});
  EXPECT_NE(t.find("rule 5: skipped at activation (wrong value type)"), std::string::npos) << t;
}

TEST(Activation, SkipReportIsBounded) {
  Policy p;
  for (int i = 0; i < 40; ++i) p.settings.push_back(BoolRule("x.y" + std::to_string(i), 0, true));
  Activated a(p.Build());
  ASSERT_TRUE(a.status.ok());
  EXPECT_EQ(a->skipped_count(), 40u);
  EXPECT_EQ(a->skipped().size(), Snapshot::kMaxReportedSkips);
}

TEST(Activation, CriticalRefuses) {
  for (int kind = 0; kind < 3; ++kind) {
    Policy p;
    if (kind == 0) {
      SRule r = BoolRule("future.setting", kMandatory, true);
      r.critical = true;
      p.settings = {r};
    } else if (kind == 1) {
      p.data_use = {{"usage_data", "advertising", true, 0, std::nullopt, true}};
    } else {
      p.schedules = {{"genuine.validation_interval", -5, std::nullopt, true}};
    }
    Activated a(p.Build());
    EXPECT_EQ(a.status.code(), absl::StatusCode::kFailedPrecondition) << kind;
  }
}

TEST(Activation, FormatVersion) {
  Policy p;
  p.format = 2;
  Activated a(p.Build());
  EXPECT_EQ(a.status.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Activation, MissingAndEmptyVectors) {
  Policy p;
  p.omit_vectors = true;
  Activated a(p.Build());
  ASSERT_TRUE(a.status.ok());
  EXPECT_EQ(a->Resolve(st::kCommunicatorCeip, Context{}).source, Source::kDefault);
  EXPECT_EQ(a->MayUse(0, 0, Context{}).source, Source::kDefault);
  Policy q;
  Activated b(q.Build());
  ASSERT_TRUE(b.status.ok());
  EXPECT_EQ(b->serial(), 1u);
  EXPECT_EQ(b->payload().size(), b.payload.size());
}

TEST(Activation, RejectsMalformed) {
  Policy p;
  p.settings = {BoolRule("communicator.ceip", kMandatory, true, Cond{})};
  std::vector<uint8_t> good = p.Build();
  // Every truncation fails, except cutting only the builder's trailing alignment padding
  // (then the buffer is still complete and must behave exactly like the original).
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + n);
    absl::StatusOr<size_t> size = Snapshot::ArenaSize(cut);
    if (n + 8 <= good.size()) {
      EXPECT_FALSE(size.ok()) << n;
    } else if (size.ok()) {
      Activated a(cut);
      ASSERT_TRUE(a.status.ok());
      EXPECT_EQ(a->Resolve(st::kCommunicatorCeip, Context{}).rule, 0);
    }
  }
  std::vector<uint8_t> bad = good;
  bad[4] = 'X';  // identifier
  EXPECT_EQ(Snapshot::ArenaSize(bad).status().code(), absl::StatusCode::kInvalidArgument);
  alignas(16) uint8_t arena[4096];
  EXPECT_EQ(Snapshot::Activate(bad, arena).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<uint8_t> garbage(256, 0xFF);
  EXPECT_FALSE(Snapshot::ArenaSize(garbage).ok());
  // Random corruption never crashes; what verifies, activates.
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> m = good;
    for (int k = 0; k < 3; ++k) m[rng() % m.size()] = static_cast<uint8_t>(rng());
    absl::StatusOr<size_t> n = Snapshot::ArenaSize(m);
    if (!n.ok()) continue;
    std::vector<std::max_align_t> buf(*n / sizeof(std::max_align_t) + 1);
    auto s = Snapshot::Activate(m, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), *n));
    if (s.ok()) (*s)->Resolve(st::kCommunicatorCeip, Managed());
  }
}

// A valid payload at an address that is not 8-byte aligned passes the FlatBuffers verifier
// (it checks alignment relative to the buffer) but every read of it would be undefined
// behaviour: the kernel refuses it before reading (fuzz finding F1).
TEST(Activation, MisalignedPayloadIsRefused) {
  Policy p;
  p.settings = {BoolRule("communicator.ceip", kMandatory, true, Cond{})};
  const std::vector<uint8_t> good = p.Build();
  alignas(16) uint8_t arena[4096];
  for (size_t offset = 1; offset < 8; ++offset) {
    std::vector<uint8_t> storage(good.size() + 8);
    std::copy(good.begin(), good.end(), storage.begin() + offset);
    const absl::Span<const uint8_t> view(storage.data() + offset, good.size());
    const absl::StatusOr<size_t> size = Snapshot::ArenaSize(view);
    EXPECT_EQ(size.status().code(), absl::StatusCode::kInvalidArgument) << offset;
    EXPECT_EQ(Snapshot::Activate(view, arena).status().code(), absl::StatusCode::kInvalidArgument)
        << offset;
  }
  EXPECT_TRUE(Snapshot::ArenaSize(good).ok());
}

TEST(Activation, ArenaTooSmallAtEverySize) {
  Policy p;
  Cond g;
  g.groups = {"a", "b"};
  p.settings = {BoolRule("communicator.ceip", 0, true, g), BoolRule("communicator.ceip", 1, true)};
  p.data_use = {{"usage_data", "improve", false, 0, g}};
  p.schedules = {{"genuine.validation_interval", 60}};
  const std::vector<uint8_t> bytes = p.Build();
  const size_t need = *Snapshot::ArenaSize(bytes);
  std::vector<std::max_align_t> buf(need / sizeof(std::max_align_t) + 1);
  uint8_t* base = reinterpret_cast<uint8_t*>(buf.data());
  for (size_t n = 0; n < need; ++n) {
    auto s = Snapshot::Activate(bytes, absl::Span<uint8_t>(base, n));
    ASSERT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted) << n;
  }
  auto s = Snapshot::Activate(bytes, absl::Span<uint8_t>(base, need));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Resolve(st::kCommunicatorCeip, Context{}).rule, 1);
  // Misaligned arena.
  EXPECT_EQ(Snapshot::Activate(bytes, absl::Span<uint8_t>(base + 1, need)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- Data use and schedules ------------------------------------------------------------------

TEST(MayUse, AdminRulesAndObligations) {
  Policy p;
  Cond sb;
  sb.plans = 2;
  p.data_use = {{"account_address_book", "correspondence", false, kNotifyUser, sb, false, "ask"},
                {"usage_data", "personalisation", true, kHashField},
                {"personal_contact", "improve", false, kNotifyUser}};
  Activated a(p.Build());
  ASSERT_TRUE(a.status.ok());
  Context c;
  c.plan = Plan::kSmallBusiness;
  DataUseDecision d = a->MayUse(dc::kAccountAddressBook, pu::kCorrespondence, c);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.source, Source::kMandatory);
  EXPECT_EQ(d.rule, 0);
  EXPECT_EQ(d.obligations, 0u);
  c.plan = Plan::kTrial;
  d = a->MayUse(dc::kAccountAddressBook, pu::kCorrespondence, c);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.source, Source::kDefault);
  d = a->MayUse(dc::kUsageData, pu::kPersonalisation, c);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.obligations, kAggregateOnly | kHashField);
  d = a->MayUse(dc::kPersonalContact, pu::kImprove, c);
  EXPECT_EQ(d.obligations, kNeverCollect);
}

TEST(Schedule, AdminRule) {
  Policy p;
  Cond t;
  t.state_all = kDeviceTampered;
  p.schedules = {{"genuine.validation_interval", 86400, t, false, "daily while tampered"}};
  Activated a(p.Build());
  Context c;
  c.os_generation = 61;
  EXPECT_EQ(a->Schedule(0, c).interval_seconds, 90 * 86400);
  c.device_state = kDeviceTampered;
  ScheduleAnswer s = a->Schedule(0, c);
  EXPECT_EQ(s.interval_seconds, 86400);
  EXPECT_EQ(s.source, Source::kMandatory);
  char buf[512];
  a->Explain(s, c, ExplainDetail::kWithCandidates, absl::Span<char>(buf, sizeof(buf)));
  EXPECT_NE(std::string(buf).find("every 86400 s (1 days) (mandatory) by rule 0 of bundle 1"),
            std::string::npos)
      << buf;
  EXPECT_NE(std::string(buf).find("daily while tampered"), std::string::npos);
  EXPECT_NE(std::string(buf).find("built-in rules rank below admin rules"), std::string::npos);
}

// ---- Explain -------------------------------------------------------------------------------

TEST(Explain, SentencesAndCandidates) {
  Policy p;
  p.serial = 42;
  Cond m;
  m.identity = 1;
  m.domain_joined = 1;
  Cond u;
  u.identity = 2;
  SRule r0 = BoolRule("communicator.ceip", kRecommended, true);
  SRule r1 = BoolRule("communicator.ceip", kMandatory, true, u);
  SRule r2 = BoolRule("communicator.ceip", kMandatory, false, m);
  r2.note = "no telemetry";
  p.settings = {r0, r1, BoolRule("communicator.ceip", kMandatory, true, Cond{}), r2};
  Activated a(p.Build());
  ASSERT_TRUE(a.status.ok());
  Resolution r = a->Resolve(st::kCommunicatorCeip, Managed());
  ASSERT_EQ(r.rule, 3);
  std::string s = ExplainText(*a, r, Managed(), nullptr, ExplainDetail::kSentence);
  EXPECT_EQ(s,
            "communicator.ceip = false (mandatory, locked) by rule 3 of bundle 42: identity "
            "managed, domain_joined yes (admin note: \"no telemetry\").");
  s = ExplainText(*a, r, Managed());
  EXPECT_NE(s.find("rule 1 (mandatory, specificity 1, value true): condition failed: identity "
                   "is managed, rule needs unmanaged"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("rule 0 (recommended, specificity 0, value true): lower level than rule 3 "
                   "(overridden by its lock)"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("rule 2 (mandatory, specificity 0, value true): lower specificity (0 < 2)"),
            std::string::npos)
      << s;
  // Defaults, fixed and user.
  const Snapshot& d = Snapshot::Defaults();
  s = ExplainText(d, d.Resolve(st::kCommunicatorCeip, Context{}), Context{}, nullptr,
                  ExplainDetail::kSentence);
  EXPECT_EQ(s, "communicator.ceip = false (default): catalogue default.");
  s = ExplainText(d, d.Resolve(st::kGrooveSendGuidsIp, Context{}), Context{}, nullptr,
                  ExplainDetail::kSentence);
  EXPECT_NE(s.find("(fixed, locked): a fixed fact of the product"), std::string::npos) << s;
  EXPECT_NE(s.find("it cannot be disabled"), std::string::npos) << s;
  UserChoice late{Value{SettingType::kBool, 1, {}}, false};
  r = d.Resolve(st::kGroovePasswordResetUnmanaged, Context{}, &late);
  s = ExplainText(d, r, Context{}, &late);
  EXPECT_NE(s.find("user choice ignored: the setting can only be chosen at account creation"),
            std::string::npos)
      << s;
  // Data use: class, purpose, effect, obligations, footnote.
  DataUseDecision du = d.MayUse(dc::kUsageData, pu::kImprove, Context{});
  const size_t n = d.Explain(du, Context{}, ExplainDetail::kSentence, absl::Span<char>());
  std::string t(n + 1, '\0');
  d.Explain(du, Context{}, ExplainDetail::kSentence, absl::Span<char>(t.data(), t.size()));
  t.resize(n);
  EXPECT_NE(t.find("use of usage_data for improve: allowed (default) by built-in rule"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("footnote 2"), std::string::npos) << t;
  EXPECT_NE(t.find("obligations: aggregate_only"), std::string::npos) << t;
}

TEST(Explain, TruncationIsExact) {
  Policy p;
  Cond m;
  m.identity = 1;
  m.groups = {"finance"};
  p.settings = {BoolRule("communicator.ceip", kMandatory, false, m),
                BoolRule("communicator.ceip", kRecommended, true)};
  Activated a(p.Build());
  const Resolution r = a->Resolve(st::kCommunicatorCeip, Managed());
  const std::string full = ExplainText(*a, r, Managed());
  ASSERT_GT(full.size(), 40u);
  std::vector<char> buf(full.size() + 8);
  for (size_t cap = 0; cap <= full.size() + 2; ++cap) {
    std::fill(buf.begin(), buf.end(), '#');
    const size_t n = a->Explain(r, Managed(), nullptr, ExplainDetail::kWithCandidates,
                                absl::Span<char>(buf.data(), cap));
    ASSERT_EQ(n, full.size());
    if (cap == 0) {
      EXPECT_EQ(buf[0], '#');
      continue;
    }
    const size_t kept = std::min(cap - 1, full.size());
    EXPECT_EQ(std::string(buf.data(), kept), full.substr(0, kept));
    EXPECT_EQ(buf[kept], '\0');
    EXPECT_EQ(buf[cap], '#');  // never writes past the buffer
  }
}

// ---- Cross-check against a naive evaluator ----------------------------------------------------

TEST(CrossCheck, RandomPoliciesMatchNaiveScan) {
  std::mt19937 rng(12345);
  const char* groups[] = {"g0", "g1", "g2", "g3", "finance", "a-very-long-group-name-1"};
  const char* regions[] = {"US", "CA", "SE"};
  auto random_cond = [&]() -> std::optional<Cond> {
    if (rng() % 5 == 0) return std::nullopt;
    Cond c;
    if (rng() % 3 == 0) c.identity = 1 + rng() % 2;
    if (rng() % 4 == 0) c.domain_joined = 1 + rng() % 2;
    if (rng() % 5 == 0) c.device_managed = 1 + rng() % 2;
    if (rng() % 4 == 0) c.plans = 1 + rng() % 7;
    if (rng() % 5 == 0) {
      c.os_min = rng() % 2 ? 59 + rng() % 3 : 0;
      c.os_max = rng() % 2 ? 60 + rng() % 3 : 0;
    }
    if (rng() % 6 == 0) c.state_all = 1 + rng() % 3;
    if (rng() % 6 == 0) c.state_none = 1 + rng() % 3;
    if (rng() % 3 == 0) {
      for (int k = 1 + rng() % 2; k > 0; --k) c.groups.push_back(groups[rng() % 6]);
    }
    if (rng() % 6 == 0) c.roles = 1 + rng() % 15;
    if (rng() % 8 == 0) c.account_creation = 1 + rng() % 2;
    if (rng() % 8 == 0) c.regions.push_back(regions[rng() % 3]);
    return c;
  };
  const int admin_bools[] = {st::kCommunicatorCeip, st::kCommunicatorClientLogging,
                             st::kGrooveSaveProxyPassword, st::kGrooveCeip,
                             st::kCommunicatorConversationHistory};
  int queries = 0;
  for (int round = 0; round < 30; ++round) {
    Policy p;
    p.serial = round + 1;
    for (int i = 0; i < 150; ++i) {
      p.settings.push_back(BoolRule(std::string(catalog::kSettings[admin_bools[rng() % 5]].id),
                                    rng() % 2, rng() % 2, random_cond()));
    }
    for (int i = 0; i < 10; ++i) {
      SRule proxy;
      proxy.setting = "groove.proxy_auth";
      proxy.level = rng() % 2;
      proxy.kind = VK::kEnum;
      proxy.sym = "basic";
      proxy.when = random_cond();
      p.settings.push_back(proxy);
    }
    for (int i = 0; i < 150; ++i) {
      DRule d;
      d.data_class = std::string(catalog::kDataClasses[rng() % 3].id);
      d.purpose = std::string(catalog::kPurposes[rng() % 6].id);
      d.allow = rng() % 2;
      d.obligations = rng() % 128;
      d.when = random_cond();
      p.data_use.push_back(d);
    }
    Activated a(p.Build());
    ASSERT_TRUE(a.status.ok()) << a.status;
    for (int q = 0; q < 1000; ++q) {
      Context c;
      c.identity = static_cast<Identity>(rng() % 3);
      c.domain_joined = static_cast<TriState>(rng() % 3);
      c.device_managed = static_cast<TriState>(rng() % 3);
      const Plan plans[] = {Plan::kUnknown, Plan::kEnterprise, Plan::kSmallBusiness, Plan::kTrial};
      c.plan = plans[rng() % 4];
      c.os_generation = rng() % 3 == 0 ? 0 : 58 + rng() % 6;
      c.device_state = rng() % 4;
      const Role roles[] = {Role::kUnknown, Role::kUser, Role::kAdmin, Role::kOrganiser,
                            Role::kParticipant};
      c.role = roles[rng() % 5];
      c.account_creation = rng() % 2;
      c.region = rng() % 2 ? std::string_view(regions[rng() % 3]) : std::string_view();
      std::string_view gs[3];
      const size_t ng = rng() % 4;
      for (size_t k = 0; k < ng; ++k) gs[k] = groups[rng() % 6];
      c.groups = absl::Span<const std::string_view>(gs, ng);
      const int s = admin_bools[rng() % 5];
      const Resolution want = NaiveResolve(p, s, c);
      const Resolution got = a->Resolve(s, c);
      ASSERT_EQ(got.rule, want.rule) << "round " << round << " query " << q;
      ASSERT_EQ(got.value, want.value);
      ASSERT_EQ(got.source, want.source);
      ASSERT_EQ(got.locked, want.locked);
      ASSERT_EQ(got.notes, want.notes);
      ASSERT_EQ(got.obligations, want.obligations);
      ASSERT_EQ(got.serial, want.serial);
      const int dcls = rng() % 3, dp = rng() % 6;
      const DataUseDecision dw = NaiveMayUse(p, dcls, dp, c);
      const DataUseDecision dg = a->MayUse(dcls, dp, c);
      ASSERT_EQ(dg.rule, dw.rule);
      ASSERT_EQ(dg.allowed, dw.allowed);
      ASSERT_EQ(dg.obligations, dw.obligations);
      ASSERT_EQ(dg.source, dw.source);
      ASSERT_EQ(dg.builtin, dw.builtin);
      queries += 2;
    }
  }
  EXPECT_EQ(queries, 60000);
}

}  // namespace
}  // namespace edict::testing
