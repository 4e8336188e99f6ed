// Tests of the command-line mapping (tools/cli): context and query JSON, user choices,
// answer rendering, edictctl eval arguments, policy loading and the conformance runner.
// Every expected string is written by hand from docs/policy-format.md.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernel/kernel.h"
#include "policy/catalog.h"
#include "policy/compiler/compiler.h"
#include "policy/compiler/json.h"
#include "tools/cli/args.h"
#include "tools/cli/conformance.h"
#include "tools/cli/files.h"
#include "tools/cli/policy.h"
#include "tools/cli/query.h"

namespace edict::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

json::Value ParseJson(std::string_view text) {
  absl::StatusOr<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << Msg(v.status()) << " in " << text;
  return v.ok() ? *std::move(v) : json::Value();
}

const SettingSpec& Spec(std::string_view id) {
  const int i = catalog::FindSetting(id);
  EXPECT_GE(i, 0) << id;
  return catalog::kSettings[i < 0 ? 0 : i];
}

// ---- Context from --ctx --------------------------------------------------------------

TEST(ContextFlagTest, SetsEveryKey) {
  OwnedContext c;
  for (std::string_view kv :
       {"identity=managed", "domain_joined=true", "device_managed=false", "plan=small_business",
        "os_generation=61", "device_state=tampered,not_genuine", "groups=finance,lab",
        "role=organiser", "account_creation=true", "region=US"}) {
    ASSERT_TRUE(ApplyContextFlag(kv, &c).ok()) << kv;
  }
  const Context& x = c.get();
  EXPECT_EQ(x.identity, Identity::kManaged);
  EXPECT_EQ(x.domain_joined, TriState::kYes);
  EXPECT_EQ(x.device_managed, TriState::kNo);
  EXPECT_EQ(x.plan, Plan::kSmallBusiness);
  EXPECT_EQ(x.os_generation, 61);
  EXPECT_EQ(x.device_state, kDeviceTampered | kDeviceNotGenuine);
  ASSERT_EQ(x.groups.size(), 2u);
  EXPECT_EQ(x.groups[0], "finance");
  EXPECT_EQ(x.groups[1], "lab");
  EXPECT_EQ(x.role, Role::kOrganiser);
  EXPECT_TRUE(x.account_creation);
  EXPECT_EQ(x.region, "US");
}

TEST(ContextFlagTest, DefaultsAreUnknown) {
  OwnedContext c;
  const Context& x = c.get();
  EXPECT_EQ(x.identity, Identity::kUnknown);
  EXPECT_EQ(x.domain_joined, TriState::kUnknown);
  EXPECT_EQ(x.plan, Plan::kUnknown);
  EXPECT_EQ(x.os_generation, 0);
  EXPECT_TRUE(x.groups.empty());
  EXPECT_TRUE(x.region.empty());
  EXPECT_FALSE(x.account_creation);
}

TEST(ContextFlagTest, ErrorsNameTheKey) {
  struct Case {
    std::string_view flag;
    std::string_view must_name;
  };
  for (const Case& c : std::vector<Case>{
           {"identity=guest", "identity"},
           {"domain_joined=yes", "domain_joined"},
           {"device_managed=1", "device_managed"},
           {"plan=free", "plan"},
           {"os_generation=0", "os_generation"},
           {"os_generation=-1", "os_generation"},
           {"os_generation=6x", "os_generation"},
           {"os_generation=", "os_generation"},
           {"os_generation=99999999999", "os_generation"},
           {"device_state=rooted", "device_state"},
           {"device_state=tampered,,", "device_state"},
           {"groups=a,,b", "groups"},
           {"role=owner", "role"},
           {"account_creation=maybe", "account_creation"},
           {"colour=blue", "colour"},
           {"noequals", "KEY=VALUE"},
           {"=managed", "KEY=VALUE"},
       }) {
    OwnedContext ctx;
    const absl::Status s = ApplyContextFlag(c.flag, &ctx);
    EXPECT_FALSE(s.ok()) << c.flag;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.flag;
    EXPECT_THAT(Msg(s), HasSubstr(std::string(c.must_name))) << c.flag;
  }
}

TEST(ContextFlagTest, KeyTwiceIsAnError) {
  OwnedContext c;
  ASSERT_TRUE(ApplyContextFlag("plan=trial", &c).ok());
  const absl::Status s = ApplyContextFlag("plan=enterprise", &c);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(Msg(s), HasSubstr("twice"));
  EXPECT_EQ(c.get().plan, Plan::kTrial);
}

TEST(ContextFlagTest, EmptyListsAreAllowed) {
  OwnedContext c;
  ASSERT_TRUE(ApplyContextFlag("groups=", &c).ok());
  ASSERT_TRUE(ApplyContextFlag("device_state=", &c).ok());
  EXPECT_TRUE(c.get().groups.empty());
  EXPECT_EQ(c.get().device_state, 0u);
}

TEST(ContextFlagTest, CopiesAndMovesOwnTheirStrings) {
  auto original = std::make_unique<OwnedContext>();
  ASSERT_TRUE(
      ApplyContextFlag("groups=a-rather-long-group-name-beyond-sso,b", original.get()).ok());
  ASSERT_TRUE(ApplyContextFlag("region=SE", original.get()).ok());
  OwnedContext copy = *original;
  OwnedContext assigned;
  assigned = *original;
  OwnedContext moved = std::move(*original);
  original.reset();
  for (const OwnedContext* c : {&copy, &assigned, &moved}) {
    ASSERT_EQ(c->get().groups.size(), 2u);
    EXPECT_EQ(c->get().groups[0], "a-rather-long-group-name-beyond-sso");
    EXPECT_EQ(c->get().groups[1], "b");
    EXPECT_EQ(c->get().region, "SE");
  }
}

// ---- Context from JSON ---------------------------------------------------------------

TEST(ContextJsonTest, ParsesEveryKey) {
  absl::StatusOr<OwnedContext> c = ParseContextJson(ParseJson(
      R"({"identity":"unmanaged","domain_joined":false,"device_managed":true,"plan":"trial",
          "os_generation":60,"device_state":["not_genuine"],"groups":["x"],"role":"participant",
          "account_creation":false,"region":"DE"})"));
  ASSERT_TRUE(c.ok()) << Msg(c.status());
  const Context& x = c->get();
  EXPECT_EQ(x.identity, Identity::kUnmanaged);
  EXPECT_EQ(x.domain_joined, TriState::kNo);
  EXPECT_EQ(x.device_managed, TriState::kYes);
  EXPECT_EQ(x.plan, Plan::kTrial);
  EXPECT_EQ(x.os_generation, 60);
  EXPECT_EQ(x.device_state, kDeviceNotGenuine);
  ASSERT_EQ(x.groups.size(), 1u);
  EXPECT_EQ(x.groups[0], "x");
  EXPECT_EQ(x.role, Role::kParticipant);
  EXPECT_FALSE(x.account_creation);
  EXPECT_EQ(x.region, "DE");
}

TEST(ContextJsonTest, ErrorsNameTheKey) {
  struct Case {
    std::string_view json;
    std::string_view must_name;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"identity":true})", "identity"},
           {R"({"domain_joined":"true"})", "domain_joined"},
           {R"({"plan":["enterprise"]})", "plan"},
           {R"({"os_generation":"61"})", "os_generation"},
           {R"({"os_generation":61.5})", "os_generation"},
           {R"({"os_generation":0})", "os_generation"},
           {R"({"device_state":"tampered"})", "device_state"},
           {R"({"device_state":[1]})", "device_state"},
           {R"({"groups":[""]})", "groups"},
           {R"({"role":"root"})", "role"},
           {R"({"region":5})", "region"},
           {R"({"tenant":"x"})", "tenant"},
           {R"({"plan":"trial","plan":"trial"})", ""},  // duplicate keys: rejected by the parser
       }) {
    absl::StatusOr<json::Value> v = json::Parse(c.json);
    if (!v.ok()) continue;  // the strict parser already refuses it
    absl::StatusOr<OwnedContext> ctx = ParseContextJson(*v);
    EXPECT_FALSE(ctx.ok()) << c.json;
    EXPECT_THAT(Msg(ctx.status()), HasSubstr(std::string(c.must_name))) << c.json;
  }
  EXPECT_FALSE(ParseContextJson(ParseJson("[]")).ok());
}

// ---- User choices --------------------------------------------------------------------

TEST(UserChoiceTest, MapsEachType) {
  std::string text;
  absl::StatusOr<Value> b = ParseUserChoice(Spec("communicator.ceip"), ParseJson("true"), &text);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->type, SettingType::kBool);
  EXPECT_EQ(b->number, 1);

  absl::StatusOr<Value> e =
      ParseUserChoice(Spec("groove.directory.public"), ParseJson(R"("full_contact")"), &text);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, SettingType::kEnum);
  EXPECT_EQ(e->number, 2);  // nowhere, name_only, full_contact

  absl::StatusOr<Value> f = ParseUserChoice(Spec("communicator.presence_fields"),
                                            ParseJson(R"(["note","status","calendar"])"), &text);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->type, SettingType::kFlags);
  EXPECT_EQ(f->number, 0b11001);  // status=bit0, note=bit3, calendar=bit4
}

TEST(UserChoiceTest, InvalidValuesReachTheKernelAsInvalid) {
  std::string text;
  const SettingSpec& pub = Spec("groove.directory.public");
  absl::StatusOr<Value> e = ParseUserChoice(pub, ParseJson(R"("everyone")"), &text);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, SettingType::kEnum);
  EXPECT_GE(e->number, pub.value_count);

  const SettingSpec& pf = Spec("communicator.presence_fields");
  for (std::string_view bad : {R"(["status","gps"])", R"(["note","note"])", R"([1])"}) {
    absl::StatusOr<Value> f = ParseUserChoice(pf, ParseJson(bad), &text);
    ASSERT_TRUE(f.ok()) << bad;
    EXPECT_EQ(f->type, SettingType::kFlags);
    EXPECT_NE(f->number & ~((int64_t{1} << pf.value_count) - 1), 0) << bad;
  }

  absl::StatusOr<Value> wrong = ParseUserChoice(Spec("communicator.ceip"), ParseJson("30"), &text);
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->type, SettingType::kInteger);

  absl::StatusOr<Value> str =
      ParseUserChoice(Spec("communicator.ceip"), ParseJson(R"("yes")"), &text);
  ASSERT_TRUE(str.ok());
  EXPECT_EQ(str->type, SettingType::kString);
  EXPECT_EQ(str->text, "yes");
}

TEST(UserChoiceTest, NonValuesAreErrors) {
  std::string text;
  for (std::string_view bad : {"null", "{}", "1.5", "1e3"}) {
    absl::StatusOr<Value> v = ParseUserChoice(Spec("communicator.ceip"), ParseJson(bad), &text);
    EXPECT_FALSE(v.ok()) << bad;
    EXPECT_THAT(Msg(v.status()), HasSubstr("communicator.ceip")) << bad;
  }
}

// ---- Queries -------------------------------------------------------------------------

TEST(QueryTest, ParsesTheThreeKinds) {
  absl::StatusOr<Query> s = ParseQueryText(
      R"({"setting":"communicator.ceip","ctx":{"identity":"managed"},"user_choice":true,)"
      R"("user_choice_at_creation":true})");
  ASSERT_TRUE(s.ok()) << Msg(s.status());
  EXPECT_EQ(s->kind, QueryKind::kSetting);
  EXPECT_EQ(s->id, catalog::FindSetting("communicator.ceip"));
  EXPECT_EQ(s->ctx.get().identity, Identity::kManaged);
  UserChoice storage;
  const UserChoice* choice = s->choice(&storage);
  ASSERT_NE(choice, nullptr);
  EXPECT_EQ(choice->value.number, 1);
  EXPECT_TRUE(choice->made_at_account_creation);

  absl::StatusOr<Query> d = ParseQueryText(R"({"data_use":["usage_data","correspondence"]})");
  ASSERT_TRUE(d.ok()) << Msg(d.status());
  EXPECT_EQ(d->kind, QueryKind::kDataUse);
  EXPECT_EQ(d->id, catalog::FindDataClass("usage_data"));
  EXPECT_EQ(d->purpose, catalog::FindPurpose("correspondence"));
  UserChoice unused;
  EXPECT_EQ(d->choice(&unused), nullptr);

  absl::StatusOr<Query> k =
      ParseQueryText(R"({"schedule":"genuine.validation_interval","ctx":{"os_generation":61}})");
  ASSERT_TRUE(k.ok()) << Msg(k.status());
  EXPECT_EQ(k->kind, QueryKind::kSchedule);
  EXPECT_EQ(k->ctx.get().os_generation, 61);
}

TEST(QueryTest, Errors) {
  struct Case {
    std::string_view text;
    std::string_view must_contain;
  };
  for (const Case& c : std::vector<Case>{
           {R"({})", "exactly one"},
           {R"({"setting":"communicator.ceip","schedule":"genuine.validation_interval"})",
            "exactly one"},
           {R"({"setting":"communicator.ceip","extra":1})", "extra"},
           {R"({"setting":"communicator.nope"})", "communicator.nope"},
           {R"({"setting":7})", "setting"},
           {R"({"data_use":["usage_data"]})", "data_use"},
           {R"({"data_use":"usage_data/improve"})", "data_use"},
           {R"({"data_use":["nope","improve"]})", "nope"},
           {R"({"data_use":["usage_data","nope"]})", "nope"},
           {R"({"schedule":"nope"})", "nope"},
           {R"({"data_use":["usage_data","improve"],"user_choice":true})", "user_choice"},
           {R"({"schedule":"genuine.validation_interval","user_choice_at_creation":false})",
            "user_choice"},
           {R"({"setting":"communicator.ceip","user_choice_at_creation":true})", "user_choice"},
           {R"({"setting":"communicator.ceip","user_choice_at_creation":"yes"})",
            "user_choice_at_creation"},
           {R"({"setting":"communicator.ceip","ctx":{"plan":"free"}})", "plan"},
           {R"({"setting":"communicator.ceip","ctx":[]})", "ctx"},
           {R"({"setting":"communicator.ceip","user_choice":null})", "communicator.ceip"},
           {R"([1])", "object"},
           {R"({"setting":"communicator.ceip",})", "malformed JSON"},
           {R"(not json)", "malformed JSON"},
       }) {
    absl::StatusOr<Query> q = ParseQueryText(c.text);
    EXPECT_FALSE(q.ok()) << c.text;
    EXPECT_THAT(Msg(q.status()), HasSubstr(std::string(c.must_contain))) << c.text;
  }
}

TEST(QueryTest, IgnoredKeysAreAllowed) {
  constexpr std::string_view kIgnored[] = {"expect"};
  absl::StatusOr<Query> q = ParseQueryJson(
      ParseJson(R"({"setting":"communicator.ceip","expect":{"value":1}})"), kIgnored);
  EXPECT_TRUE(q.ok()) << Msg(q.status());
  EXPECT_FALSE(ParseQueryJson(ParseJson(R"({"setting":"communicator.ceip","expect":{}})")).ok());
}

TEST(QueryTest, CopiedQueryKeepsItsStrings) {
  absl::StatusOr<Query> q = ParseQueryText(
      R"({"setting":"communicator.ceip","ctx":{"groups":["some-long-group-name-here"]}})");
  ASSERT_TRUE(q.ok());
  Query copy;
  {
    Query tmp = *q;
    copy = tmp;
  }
  ASSERT_EQ(copy.ctx.get().groups.size(), 1u);
  EXPECT_EQ(copy.ctx.get().groups[0], "some-long-group-name-here");
}

// ---- Rendering -----------------------------------------------------------------------

TEST(RenderTest, Values) {
  EXPECT_EQ(RenderValue({SettingType::kBool, 1, {}}, Spec("communicator.ceip")), "true");
  EXPECT_EQ(RenderValue({SettingType::kBool, 0, {}}, Spec("communicator.ceip")), "false");
  EXPECT_EQ(RenderValue({SettingType::kEnum, 1, {}}, Spec("groove.directory.public")),
            "\"name_only\"");
  EXPECT_EQ(RenderValue({SettingType::kFlags, 0b10110, {}}, Spec("communicator.presence_fields")),
            R"(["title","phone","calendar"])");
  EXPECT_EQ(RenderValue({SettingType::kFlags, 0, {}}, Spec("communicator.presence_fields")), "[]");
  EXPECT_EQ(RenderValue({SettingType::kInteger, -7, {}}, Spec("communicator.ceip")), "-7");
  EXPECT_EQ(RenderValue({SettingType::kDuration, 604800, {}}, Spec("communicator.ceip")), "604800");
  EXPECT_EQ(RenderValue({SettingType::kString, 0, "a\"b"}, Spec("communicator.ceip")), R"("a\"b")");
}

TEST(RenderTest, ObligationsAndNotesInBitOrder) {
  EXPECT_EQ(RenderObligations(0), "[]");
  EXPECT_EQ(RenderObligations(kWarnIrreversible | kAggregateOnly | kNotifyUser),
            R"(["aggregate_only","notify_user","warn_irreversible"])");
  EXPECT_EQ(RenderObligations(kHashField | kNeverCollect | kShowIndicator | kNotifyOthers),
            R"(["hash_field","never_collect","show_indicator","notify_others"])");
  EXPECT_EQ(RenderNotes(kNoteAtomicGroup | kNoteChoiceOverriddenByLock),
            R"(["choice overridden by lock","atomic group"])");
  EXPECT_EQ(RenderNotes(kNoteUnknownSetting | kNoteChoiceNotPermitted | kNoteChoiceAfterCreation |
                        kNoteChoiceInvalid),
            R"(["unknown setting","choice not permitted","choice after creation",)"
            R"("choice invalid"])");
}

TEST(RenderTest, SettingAnswer) {
  Answer a;
  a.kind = QueryKind::kSetting;
  a.resolution.setting = catalog::FindSetting("communicator.ceip");
  a.resolution.value = {SettingType::kBool, 0, {}};
  a.resolution.source = Source::kMandatory;
  a.resolution.locked = true;
  a.resolution.rule = 0;
  a.resolution.serial = 42;
  EXPECT_EQ(RenderAnswer(a),
            R"({"setting":"communicator.ceip","value":false,"source":"mandatory","locked":true,)"
            R"("rule":0,"serial":42,"obligations":[]})");
  a.resolution.notes = kNoteChoiceOverriddenByLock;
  a.resolution.rule = -1;
  a.resolution.obligations = kNotifyOthers;
  EXPECT_EQ(RenderAnswer(a),
            R"({"setting":"communicator.ceip","value":false,"source":"mandatory","locked":true,)"
            R"("rule":null,"serial":42,"obligations":["notify_others"],)"
            R"("notes":["choice overridden by lock"]})");
}

TEST(RenderTest, DataUseAndScheduleAnswers) {
  Answer d;
  d.kind = QueryKind::kDataUse;
  d.decision.allowed = false;
  d.decision.source = Source::kDefault;
  EXPECT_EQ(RenderAnswer(d),
            R"({"allowed":false,"obligations":[],"rule":null,"source":"default"})");
  d.decision.allowed = true;
  d.decision.obligations = kAggregateOnly;
  d.decision.rule = 3;
  d.decision.source = Source::kMandatory;
  EXPECT_EQ(RenderAnswer(d),
            R"({"allowed":true,"obligations":["aggregate_only"],"rule":3,"source":"mandatory"})");

  Answer k;
  k.kind = QueryKind::kSchedule;
  k.schedule.schedule = catalog::FindSchedule("genuine.validation_interval");
  k.schedule.interval_seconds = 604800;
  EXPECT_EQ(RenderAnswer(k),
            R"({"schedule":"genuine.validation_interval","interval_seconds":604800,)"
            R"("source":"default","rule":null,"serial":0})");
}

TEST(RenderTest, ErrorLine) {
  EXPECT_EQ(RenderError("line 3: bad \"x\""), R"({"error":"line 3: bad \"x\""})");
}

// ---- Evaluation against the catalogue defaults ----------------------------------------

TEST(EvaluateTest, DefaultsSnapshot) {
  absl::StatusOr<Query> q = ParseQueryText(R"({"setting":"livemeeting.participant_recording"})");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(RenderAnswer(Evaluate(Snapshot::Defaults(), *q)),
            R"({"setting":"livemeeting.participant_recording","value":true,"source":"default",)"
            R"("locked":false,"rule":null,"serial":0,"obligations":["show_indicator",)"
            R"("notify_others"]})");
  absl::StatusOr<Query> fixed = ParseQueryText(R"({"setting":"groove.send_guids_ip"})");
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(RenderAnswer(Evaluate(Snapshot::Defaults(), *fixed)),
            R"({"setting":"groove.send_guids_ip","value":true,"source":"fixed","locked":true,)"
            R"("rule":null,"serial":0,"obligations":[]})");
  const std::string why = Explain(Snapshot::Defaults(), *fixed,
                                  Evaluate(Snapshot::Defaults(), *fixed), ExplainDetail::kSentence);
  EXPECT_THAT(why, HasSubstr("groove.send_guids_ip"));
  EXPECT_EQ(why.find('\0'), std::string::npos);
}

// ---- Arguments -----------------------------------------------------------------------

absl::StatusOr<EvalArgs> Args(std::vector<std::string_view> args, bool explain = false) {
  return ParseEvalArgs(args, explain);
}

TEST(ArgsTest, SettingQuery) {
  absl::StatusOr<EvalArgs> a =
      Args({"--policy", "p.json", "setting", "groove.password_reset.unmanaged", "--ctx",
            "identity=unmanaged", "--user-choice=true", "--user-choice-at-creation"});
  ASSERT_TRUE(a.ok()) << Msg(a.status());
  EXPECT_EQ(a->policy, "p.json");
  EXPECT_TRUE(a->batch.empty());
  EXPECT_EQ(a->query.kind, QueryKind::kSetting);
  EXPECT_EQ(a->query.id, catalog::FindSetting("groove.password_reset.unmanaged"));
  EXPECT_EQ(a->query.ctx.get().identity, Identity::kUnmanaged);
  EXPECT_TRUE(a->query.has_choice);
  EXPECT_TRUE(a->query.choice_at_creation);
}

TEST(ArgsTest, DataUseScheduleBatchHelp) {
  absl::StatusOr<EvalArgs> d = Args({"data-use", "usage_data", "improve", "--ctx=plan=trial"});
  ASSERT_TRUE(d.ok()) << Msg(d.status());
  EXPECT_EQ(d->query.kind, QueryKind::kDataUse);
  EXPECT_EQ(d->query.ctx.get().plan, Plan::kTrial);
  EXPECT_TRUE(d->policy.empty());

  absl::StatusOr<EvalArgs> s = Args({"schedule", "genuine.validation_interval"});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->query.kind, QueryKind::kSchedule);

  absl::StatusOr<EvalArgs> b = Args({"--batch", "q.jsonl", "--policy=x.bin"});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->batch, "q.jsonl");
  EXPECT_EQ(b->policy, "x.bin");

  absl::StatusOr<EvalArgs> h = Args({"--help", "--bogus"});
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->help);
}

TEST(ArgsTest, CandidatesOnlyForExplain) {
  EXPECT_TRUE(Args({"--candidates", "setting", "communicator.ceip"}, true).ok());
  EXPECT_TRUE(Args({"--candidates", "setting", "communicator.ceip"}, true)->candidates);
  EXPECT_FALSE(Args({"--candidates", "setting", "communicator.ceip"}, false).ok());
}

TEST(ArgsTest, UsageErrors) {
  for (const std::vector<std::string_view>& a : std::vector<std::vector<std::string_view>>{
           {},
           {"setting"},
           {"setting", "communicator.ceip", "extra"},
           {"setting", "communicator.nope"},
           {"data-use", "usage_data"},
           {"data-use", "usage_data", "nope"},
           {"schedule", "nope"},
           {"gadget", "x"},
           {"setting", "communicator.ceip", "--frob"},
           {"setting", "communicator.ceip", "-v"},
           {"setting", "communicator.ceip", "--ctx"},
           {"setting", "communicator.ceip", "--ctx", "plan=gold"},
           {"setting", "communicator.ceip", "--user-choice", "yes"},
           {"setting", "communicator.ceip", "--user-choice", "true", "--user-choice", "false"},
           {"setting", "communicator.ceip", "--user-choice-at-creation"},
           {"setting", "communicator.ceip", "--user-choice-at-creation=1", "--user-choice", "true"},
           {"data-use", "usage_data", "improve", "--user-choice", "true"},
           {"--batch", "q", "setting", "communicator.ceip"},
           {"--batch", "q", "--ctx", "plan=trial"},
           {"--batch", "q", "--batch", "r"},
           {"--policy", "a", "--policy", "b", "setting", "communicator.ceip"},
           {"--policy=", "setting", "communicator.ceip"},
       }) {
    absl::StatusOr<EvalArgs> r = Args(a);
    std::string joined;
    for (std::string_view s : a) joined += std::string(s) + " ";
    EXPECT_FALSE(r.ok()) << joined;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << joined;
  }
}

// ---- Policy loading ------------------------------------------------------------------

TEST(PolicyTest, CompilesAndActivatesJson) {
  absl::StatusOr<std::unique_ptr<LoadedPolicy>> p = LoadedPolicy::FromJson(
      R"({"serial": 7, "settings": [{"setting": "groove.ceip", "level": "mandatory",
          "value": true}]})",
      "inline.json");
  ASSERT_TRUE(p.ok()) << Msg(p.status());
  EXPECT_EQ((*p)->snapshot().serial(), 7u);
  absl::StatusOr<Query> q = ParseQueryText(R"({"setting":"groove.ceip"})");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(RenderAnswer(Evaluate((*p)->snapshot(), *q)),
            R"({"setting":"groove.ceip","value":true,"source":"mandatory","locked":true,)"
            R"("rule":0,"serial":7,"obligations":[]})");
}

TEST(PolicyTest, CompileErrorsAreLocated) {
  absl::StatusOr<std::unique_ptr<LoadedPolicy>> p = LoadedPolicy::FromJson(
      "{\n  \"serial\": 1,\n  \"settings\": [{\"setting\": \"x.y\", \"level\": \"mandatory\", "
      "\"value\": true}]\n}",
      "bad.json");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(Msg(p.status()), HasSubstr("bad.json:3:"));
  EXPECT_THAT(Msg(p.status()), HasSubstr("x.y"));
}

TEST(PolicyTest, PayloadBytesAndGarbage) {
  compiler::CompileResult r =
      compiler::Compile(R"({"serial": 9, "schedules": [{"schedule": "genuine.validation_interval",
                            "interval": "1d"}]})",
                        "s.json");
  ASSERT_TRUE(r.ok());
  absl::StatusOr<std::unique_ptr<LoadedPolicy>> p = LoadedPolicy::FromPayload(r.payload);
  ASSERT_TRUE(p.ok()) << Msg(p.status());
  EXPECT_EQ((*p)->snapshot().serial(), 9u);
  EXPECT_FALSE(LoadedPolicy::FromPayload("definitely not a payload").ok());
  EXPECT_FALSE(LoadedPolicy::FromPayload("").ok());
}

TEST(PolicyTest, FromFileChoosesByExtension) {
  const std::string dir = ::testing::TempDir();
  compiler::CompileResult r = compiler::Compile(R"({"serial": 5})", "x.json");
  ASSERT_TRUE(r.ok());
  const std::string bin = dir + "/cli_test_policy.bin";
  std::FILE* f = std::fopen(bin.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(r.payload.data(), 1, r.payload.size(), f);
  std::fclose(f);
  absl::StatusOr<std::unique_ptr<LoadedPolicy>> p = LoadedPolicy::FromFile(bin);
  ASSERT_TRUE(p.ok()) << Msg(p.status());
  EXPECT_EQ((*p)->snapshot().serial(), 5u);
  absl::StatusOr<std::unique_ptr<LoadedPolicy>> j =
      LoadedPolicy::FromFile(std::string(EDICT_CLI_TESTDATA) + "/policy.json");
  ASSERT_TRUE(j.ok()) << Msg(j.status());
  EXPECT_EQ((*j)->snapshot().serial(), 42u);
  absl::StatusOr<std::unique_ptr<LoadedPolicy>> missing =
      LoadedPolicy::FromFile(dir + "/no_such_policy.json");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

// ---- Conformance runner --------------------------------------------------------------

TEST(JsonTest, EqualityAndPrinting) {
  EXPECT_TRUE(JsonEqual(ParseJson(R"({"a":1,"b":[true,null,"x"]})"),
                        ParseJson(R"({"b":[true,null,"x"],"a":1})")));
  EXPECT_FALSE(JsonEqual(ParseJson("[1,2]"), ParseJson("[2,1]")));
  EXPECT_FALSE(JsonEqual(ParseJson("1"), ParseJson("true")));
  EXPECT_FALSE(JsonEqual(ParseJson(R"({"a":1})"), ParseJson(R"({"a":1,"b":2})")));
  EXPECT_FALSE(JsonEqual(ParseJson("9007199254740993"), ParseJson("9007199254740992")));
  EXPECT_TRUE(JsonEqual(ParseJson("1.0"), ParseJson("1")));
  EXPECT_EQ(ToJson(ParseJson(R"( { "a" : [ 1 , "x\"" ] , "b" : {} } )")),
            R"({"a":[1,"x\""],"b":{}})");
  EXPECT_EQ(ToJson(ParseJson(R"({"a":[1]})"), true), "{\n  \"a\": [\n    1\n  ]\n}");
}

bool RunV(std::string_view vector, std::string* report, ConformanceResult* counts = nullptr) {
  ConformanceResult local;
  std::ostringstream out;
  const bool ok = RunVector(vector, "v.json", out, counts ? counts : &local);
  *report = out.str();
  return ok;
}

TEST(ConformanceTest, PassingVector) {
  std::string report;
  ConformanceResult counts;
  EXPECT_TRUE(RunV(R"({"name":"n","covers":["c"],"policy":{"serial":3,"settings":[
      {"setting":"communicator.ceip","level":"mandatory","value":true}]},
      "queries":[{"setting":"communicator.ceip","expect":{"value":true,"rule":0,"serial":3,
                  "notes":[]}},
                 {"data_use":["usage_data","advertising"],"expect":{"source":"fixed"}},
                 {"setting":"communicator.ceip","ctx":{"plan":"gold"},"expect_error":"plan"}]})",
                   &report, &counts))
      << report;
  EXPECT_EQ(report, "");
  EXPECT_EQ(counts.queries, 3);
  EXPECT_EQ(counts.queries_failed, 0);
}

TEST(ConformanceTest, FailingQueryGivesADiff) {
  std::string report;
  ConformanceResult counts;
  EXPECT_FALSE(RunV(R"({"name":"wrong","covers":["c"],"policy":null,"queries":[
      {"setting":"communicator.ceip","expect":{"value":false}},
      {"setting":"communicator.ceip","expect":{"value":true,"source":"default","nope":1}}]})",
                    &report, &counts));
  EXPECT_THAT(report, HasSubstr("v.json (wrong) query 1"));
  EXPECT_THAT(report, Not(HasSubstr("query 0")));
  EXPECT_THAT(report, HasSubstr(R"("value": expected true, actual false)"));
  EXPECT_THAT(report, HasSubstr(R"("nope": expected 1, missing from the answer)"));
  EXPECT_THAT(report, HasSubstr(R"(actual:   {"setting":"communicator.ceip","value":false)"));
  EXPECT_EQ(counts.queries, 2);
  EXPECT_EQ(counts.queries_failed, 1);
}

TEST(ConformanceTest, ExpectErrorMustFail) {
  std::string report;
  EXPECT_FALSE(RunV(R"({"name":"n","covers":["c"],"policy":null,"queries":[
      {"setting":"communicator.ceip","expect_error":"x"}]})",
                    &report));
  EXPECT_THAT(report, HasSubstr("accepted"));
}

TEST(ConformanceTest, PolicyErrorAndSkips) {
  std::string report;
  EXPECT_TRUE(RunV(R"({"name":"n","covers":["c"],"policy":{"serial":0},
                      "expect_policy_error":"serial"})",
                   &report))
      << report;
  EXPECT_FALSE(RunV(R"({"name":"n","covers":["c"],"policy":{"serial":1},
                       "expect_policy_error":""})",
                    &report));
  EXPECT_THAT(report, HasSubstr("but it loaded"));
  EXPECT_TRUE(RunV(R"({"name":"n","covers":["c"],"policy":{"serial":1},"expect_skipped":[],
                      "queries":[{"setting":"groove.ceip","expect":{"serial":1}}]})",
                   &report))
      << report;
  EXPECT_FALSE(RunV(R"({"name":"n","covers":["c"],"policy":{"serial":1},
                       "expect_skipped":["settings[0]"],
                       "queries":[{"setting":"groove.ceip","expect":{"serial":1}}]})",
                    &report));
  EXPECT_THAT(report, HasSubstr("skipped rules differ"));
}

TEST(ConformanceTest, MalformedVectors) {
  for (
      std::string_view bad : {
          R"(not json)",
          R"([])",
          R"({"covers":["c"],"policy":null,"queries":[{"setting":"communicator.ceip","expect":{"value":false}}]})",
          R"({"name":"n","policy":null,"queries":[{"setting":"communicator.ceip","expect":{"value":false}}]})",
          R"({"name":"n","covers":[],"policy":null,"queries":[{"setting":"communicator.ceip","expect":{"value":false}}]})",
          R"({"name":"n","covers":["c"],"queries":[{"setting":"communicator.ceip","expect":{"value":false}}]})",
          R"({"name":"n","covers":["c"],"policy":null,"payload_hex":"00","queries":[{"setting":"communicator.ceip","expect":{"value":false}}]})",
          R"({"name":"n","covers":["c"],"payload_hex":"0g","queries":[{"setting":"communicator.ceip","expect":{"value":false}}]})",
          R"({"name":"n","covers":["c"],"policy":null,"queries":[]})",
          R"({"name":"n","covers":["c"],"policy":null,"queries":[{"setting":"communicator.ceip"}]})",
          R"({"name":"n","covers":["c"],"policy":null,"queries":[{"setting":"communicator.ceip","expect":{}}]})",
          R"({"name":"n","covers":["c"],"policy":null,"queries":[{"setting":"communicator.ceip","expect":{"value":false},"expect_error":"x"}]})",
          R"({"name":"n","covers":["c"],"policy":null,"queries":[{"setting":"communicator.ceip","expect":{"value":false},"explain_contains":[]}]})",
          R"({"name":"n","covers":["c"],"policy":null,"queries":[3]})",
          R"({"name":"n","covers":["c"],"policy":null,"extra":1,"queries":[{"setting":"communicator.ceip","expect":{"value":false}}]})",
          R"({"name":"n","covers":["c"],"policy":{"serial":1,"bogus":true},"queries":[{"setting":"communicator.ceip","expect":{"value":false}}]})",
      }) {
    std::string report;
    EXPECT_FALSE(RunV(bad, &report)) << bad;
    EXPECT_THAT(report, HasSubstr("FAIL v.json")) << bad;
  }
}

TEST(ConformanceTest, DirectoryCountsVectorsAndEndsWithTheSummary) {
  std::ostringstream out;
  const ConformanceResult r =
      RunConformanceDir(std::string(EDICT_CLI_TESTDATA) + "/failing_vectors", out);
  EXPECT_EQ(r.passed, 1);
  EXPECT_EQ(r.failed, 3);
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("b_wrong_expectation.json (wrong on purpose) query 1"));
  EXPECT_THAT(text, HasSubstr("c_unknown_key.json: malformed vector"));
  EXPECT_THAT(text, HasSubstr("d_bad_json.json: malformed vector"));
  EXPECT_THAT(text, Not(HasSubstr("e_notes")));
  ASSERT_GE(text.size(), 2u);
  EXPECT_EQ(text.back(), '\n');
  const size_t last = text.rfind('\n', text.size() - 2);
  EXPECT_EQ(text.substr(last + 1), "1 passed, 3 failed\n");
}

TEST(ConformanceTest, MissingDirectoryFails) {
  std::ostringstream out;
  const ConformanceResult r = RunConformanceDir("/nonexistent/edict/vectors", out);
  EXPECT_EQ(r.failed, 1);
  EXPECT_THAT(out.str(), HasSubstr("0 passed, 1 failed\n"));
}

// ---- Capped input (tools/cli/files.h; issue 17) ------------------------------------------

TEST(FilesTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(0), "0 bytes");
  EXPECT_EQ(HumanBytes(1), "1 byte");
  EXPECT_EQ(HumanBytes(1023), "1023 bytes");
  EXPECT_EQ(HumanBytes(1024), "1 KiB");
  EXPECT_EQ(HumanBytes(size_t{64} << 10), "64 KiB");
  EXPECT_EQ(HumanBytes(size_t{512} << 10), "512 KiB");
  EXPECT_EQ(HumanBytes(size_t{4} << 20), "4 MiB");
  EXPECT_EQ(HumanBytes((size_t{4} << 20) - 4096), "4092 KiB");
  EXPECT_EQ(HumanBytes((size_t{4} << 20) + 1), "4096.1 KiB");
  EXPECT_EQ(HumanBytes(200000000), "190.8 MiB");
  EXPECT_EQ(HumanBytes(uint64_t{3} << 30), "3 GiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
}

TEST(FilesTest, ReadInputFileCapsAndRefuses) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/cli_test_capped.txt";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("0123456789", f);
  std::fclose(f);
  absl::StatusOr<std::string> ok = ReadInputFile(path, 10);
  ASSERT_TRUE(ok.ok()) << Msg(ok.status());
  EXPECT_EQ(*ok, "0123456789");
  ReadOptions o;
  o.what = "a test file";
  absl::StatusOr<std::string> over = ReadInputFile(path, 9, o);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Msg(over.status()), path +
                                    ": larger than the 9 bytes limit for a test file (it is "
                                    "10 bytes)");
  absl::StatusOr<std::string> d = ReadInputFile(dir, 100);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Msg(d.status()), dir + ": is a directory, not a file");
#ifndef _WIN32  // symbolic links need a privilege on Windows
  const std::string link = dir + "/cli_test_capped.link";
  std::remove(link.c_str());
  ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
  EXPECT_TRUE(ReadInputFile(link, 10).ok());
  ReadOptions no_follow;
  no_follow.follow_symlinks = false;
  absl::StatusOr<std::string> l = ReadInputFile(link, 10, no_follow);
  EXPECT_EQ(l.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Msg(l.status()), link + ": is a symbolic link; not followed");
  std::remove(link.c_str());
#endif
  absl::StatusOr<std::string> missing = ReadInputFile(dir + "/no_such_file", 100);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Msg(missing.status()), HasSubstr("no_such_file: "));
}

TEST(FilesTest, ForEachInputLineStreamsAndCapsLines) {
  const std::string path = ::testing::TempDir() + "/cli_test_lines.txt";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("a\n\nbcd\r\nlast", f);
  std::fclose(f);
  std::vector<std::string> lines;
  absl::Status s = ForEachInputLine(path, 4, [&](size_t n, std::string_view line) {
    lines.push_back(std::to_string(n) + ":" + std::string(line));
  });
  ASSERT_TRUE(s.ok()) << Msg(s);
  EXPECT_THAT(lines, ::testing::ElementsAre("1:a", "2:", "3:bcd\r", "4:last"));
  lines.clear();
  s = ForEachInputLine(path, 3, [&](size_t n, std::string_view line) {
    lines.push_back(std::to_string(n) + ":" + std::string(line));
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Msg(s), path + ": line 3 is longer than the 3 bytes limit for one line");
  EXPECT_THAT(lines, ::testing::ElementsAre("1:a", "2:"));
}

}  // namespace
}  // namespace edict::cli
