// Tests of the policy compiler (policy/compiler/compiler.h): the examples, determinism,
// the inspect round trip, the rejected-input corpus, conflict detection and the payload
// it writes.
#include "policy/compiler/compiler.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "gtest/gtest.h"
#include "policy/catalog.h"
#include "policy/condition.h"
#include "policy/edict_generated.h"

namespace edict::compiler {
namespace {

std::string ExamplesDir() { return std::string(EDICT_SOURCE_DIR) + "/policy/examples"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> ExampleFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(ExamplesDir())) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().generic_string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Errors(const CompileResult& r) {
  std::string out;
  for (const std::string& line : r.Rendered()) out += line + "\n";
  return out;
}

const fb::Payload* Root(const std::string& payload) {
  return fb::GetPayload(reinterpret_cast<const uint8_t*>(payload.data()));
}

// Compiles, checks success and returns the payload.
std::string MustCompile(const std::string& text, const std::string& name = "test.json") {
  const CompileResult r = Compile(text, name);
  EXPECT_TRUE(r.ok()) << name << ":\n" << Errors(r);
  EXPECT_EQ(r.ok(), !r.payload.empty());
  return r.payload;
}

// Compile(Inspect(p)) == p, and Inspect is a fixpoint.
void ExpectRoundTrip(const std::string& payload, const std::string& name) {
  const absl::StatusOr<std::string> canonical = Inspect(payload);
  ASSERT_TRUE(canonical.ok()) << name << ": " << canonical.status();
  const CompileResult again = Compile(*canonical, name + " (canonical)");
  ASSERT_TRUE(again.ok()) << *canonical << "\n" << Errors(again);
  EXPECT_EQ(again.payload, payload) << name << ": canonical form compiles to other bytes:\n"
                                    << *canonical;
  const absl::StatusOr<std::string> canonical2 = Inspect(again.payload);
  ASSERT_TRUE(canonical2.ok());
  EXPECT_EQ(*canonical2, *canonical);
}

TEST(Examples, TheSeedDocumentsAndTheBaselineAreThere) {
  const std::vector<std::string> files = ExampleFiles();
  for (const char* name : {"baseline.json", "communicator.json", "genuine.json", "groove.json",
                           "livemeeting.json", "online-services.json"}) {
    EXPECT_NE(std::find(files.begin(), files.end(), ExamplesDir() + "/" + name), files.end())
        << name;
  }
}

TEST(Examples, EveryExampleCompilesDeterministicallyAndRoundTrips) {
  const std::vector<std::string> files = ExampleFiles();
  ASSERT_GE(files.size(), 6u);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const std::string text = ReadFile(file);
    const std::string first = MustCompile(text, file);
    ASSERT_FALSE(first.empty());
    EXPECT_EQ(MustCompile(text, file), first) << "not deterministic";
    ASSERT_TRUE(VerifyPayload(first).ok());
    const fb::Payload* p = Root(first);
    EXPECT_EQ(p->header()->format_version(), 1u);
    EXPECT_EQ(p->header()->catalog_version(), catalog::kVersion);
    EXPECT_GT(p->header()->serial(), 0u);
    ExpectRoundTrip(first, file);
  }
}

TEST(Examples, BaselineContents) {
  const std::string payload = MustCompile(ReadFile(ExamplesDir() + "/baseline.json"));
  ASSERT_FALSE(payload.empty());
  const fb::Payload* p = Root(payload);
  EXPECT_EQ(p->header()->serial(), 1001u);
  EXPECT_EQ(p->header()->target()->tenant()->str(), "contoso");
  // CEIP locked off for managed identities on domain-joined devices.
  const fb::SettingRule* ceip = p->settings()->Get(0);
  EXPECT_EQ(ceip->setting()->str(), "communicator.ceip");
  EXPECT_EQ(ceip->level(), fb::Level_Mandatory);
  ASSERT_NE(ceip->value_as_BoolValue(), nullptr);
  EXPECT_FALSE(ceip->value_as_BoolValue()->value());
  EXPECT_EQ(ceip->when()->identity(), fb::IdentityKind_Managed);
  EXPECT_EQ(ceip->when()->domain_joined(), fb::Tri_Yes);
  EXPECT_EQ(Specificity(ceip->when()), 2);
  // The 7-day schedule for tampered devices.
  ASSERT_EQ(p->schedules()->size(), 1u);
  EXPECT_EQ(p->schedules()->Get(0)->interval_seconds(), 7 * 86400);
  EXPECT_EQ(p->schedules()->Get(0)->when()->state_all(), fb::DeviceState_Tampered);
}

TEST(Compile, PayloadEncoding) {
  const std::string payload = MustCompile(R"({
    "serial": 42,
    "issued_at": "2026-11-01T00:00:00Z",
    "expires_at": "2026-11-01T02:00:00+01:00",
    "description": "d",
    "target": {"tenant": "t", "devices": ["a", "b"], "groups": ["g"]},
    "compliance": ["dpa", "iso27001"],
    "settings": [
      {"setting": "communicator.presence_fields", "level": "recommended",
       "value": ["calendar", "status"], "critical": true, "note": "n",
       "when": {"identity": "unmanaged", "domain_joined": false, "device_managed": true,
                "plan": ["trial", "enterprise"], "os_generation": {"max": 61},
                "device_state": ["not_genuine"], "device_state_not": ["tampered"],
                "groups": ["x", "y"], "role": ["participant", "user"],
                "account_creation": true, "region": ["SE"]}}
    ],
    "data_use": [
      {"class": "usage_data", "purpose": "improve", "effect": "allow",
       "obligations": ["warn_irreversible", "aggregate_only"]}
    ],
    "schedules": [
      {"schedule": "genuine.validation_interval", "interval": 5400}
    ]
  })");
  ASSERT_FALSE(payload.empty());
  ASSERT_GE(payload.size(), 8u);
  EXPECT_EQ(payload.substr(4, 4), "EDP1");
  const fb::Payload* p = Root(payload);
  const fb::Header* h = p->header();
  EXPECT_EQ(h->serial(), 42u);
  EXPECT_EQ(h->issued_at(), 1793491200);
  EXPECT_EQ(h->expires_at(), 1793491200 + 3600);
  EXPECT_EQ(h->description()->str(), "d");
  EXPECT_EQ(h->target()->device_ids()->size(), 2u);
  EXPECT_EQ(h->compliance()->Get(1)->str(), "iso27001");

  const fb::SettingRule* s = p->settings()->Get(0);
  EXPECT_EQ(s->level(), fb::Level_Recommended);
  EXPECT_TRUE(s->critical());
  EXPECT_EQ(s->note()->str(), "n");
  ASSERT_NE(s->value_as_FlagsValue(), nullptr);
  // Flags are stored in catalogue order whatever the input order.
  ASSERT_EQ(s->value_as_FlagsValue()->symbols()->size(), 2u);
  EXPECT_EQ(s->value_as_FlagsValue()->symbols()->Get(0)->str(), "status");
  EXPECT_EQ(s->value_as_FlagsValue()->symbols()->Get(1)->str(), "calendar");
  const fb::Condition* c = s->when();
  EXPECT_EQ(c->identity(), fb::IdentityKind_Unmanaged);
  EXPECT_EQ(c->domain_joined(), fb::Tri_No);
  EXPECT_EQ(c->device_managed(), fb::Tri_Yes);
  EXPECT_EQ(c->plans(), fb::Plan_Trial | fb::Plan_Enterprise);
  EXPECT_EQ(c->os_min(), 0);
  EXPECT_EQ(c->os_max(), 61);
  EXPECT_EQ(c->state_all(), fb::DeviceState_NotGenuine);
  EXPECT_EQ(c->state_none(), fb::DeviceState_Tampered);
  EXPECT_EQ(c->groups()->size(), 2u);
  EXPECT_EQ(c->roles(), fb::Role_Participant | fb::Role_User);
  EXPECT_EQ(c->account_creation(), fb::Tri_Yes);
  EXPECT_EQ(c->regions()->Get(0)->str(), "SE");
  EXPECT_EQ(Specificity(c), 11);

  const fb::DataUseRule* d = p->data_use()->Get(0);
  EXPECT_EQ(d->effect(), fb::Effect_Allow);
  EXPECT_EQ(d->obligations(), fb::Obligation_WarnIrreversible | fb::Obligation_AggregateOnly);
  EXPECT_EQ(d->when(), nullptr);
  EXPECT_EQ(p->schedules()->Get(0)->interval_seconds(), 5400);
  ExpectRoundTrip(payload, "encoding");
}

TEST(Compile, SameMeaningSameBytes) {
  // Key order, whitespace, flags order and duration spelling do not change the payload.
  const std::string a = MustCompile(
      R"({"serial": 3, "settings": [{"setting": "communicator.presence_fields",
          "level": "mandatory", "value": ["note", "status"]}],
          "schedules": [{"schedule": "genuine.validation_interval", "interval": "7d"}]})");
  const std::string b = MustCompile(
      R"({"schedules": [{"interval": 604800, "schedule": "genuine.validation_interval"}],
          "settings": [{"value": ["status", "note"], "level": "mandatory",
          "setting": "communicator.presence_fields", "when": {}}], "format": 1, "serial": 3})");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  // ... but a different serial does.
  const std::string c = MustCompile(
      R"({"serial": 4, "settings": [{"setting": "communicator.presence_fields",
          "level": "mandatory", "value": ["note", "status"]}],
          "schedules": [{"schedule": "genuine.validation_interval", "interval": "7d"}]})");
  EXPECT_NE(a, c);
}

// Built-in terms are read like any attribute of the table: one value or a list, the
// encoding decides what it can hold; the payload does not depend on the spelling.
TEST(Compile, BuiltinTermsAreAttributesOfTheTable) {
  auto policy = [](const std::string& when) {
    return R"({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "mandatory",
               "value": false, "when": )" +
           when + "}]}";
  };
  EXPECT_EQ(MustCompile(policy(R"({"plan": "trial", "groups": "lab"})")),
            MustCompile(policy(R"({"plan": ["trial"], "groups": ["lab"]})")));
  const std::string both = MustCompile(policy(R"({"os_generation": {"min": 60, "max": 61},
      "device_state_not": ["tampered"], "region": ["US", "CA"], "account_creation": true})"));
  ExpectRoundTrip(both, "builtin terms");
  ExpectRoundTrip(MustCompile(policy(R"({"os_generation": {"max": 61}})")), "os max");
  ExpectRoundTrip(MustCompile(policy(R"({"os_generation": {"min": 1}})")), "os min 1");
  const CompileResult list = Compile(policy(R"({"identity": ["managed", "unmanaged"]})"), "p.json");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(Errors(list).find("\"identity\" takes one value, not a list"), std::string::npos)
      << Errors(list);
  const CompileResult range = Compile(policy(R"({"os_generation": {"min": 0}})"), "p.json");
  ASSERT_FALSE(range.ok());
  EXPECT_NE(Errors(range).find("must be an integer in 1..2147483647"), std::string::npos)
      << Errors(range);
}

TEST(Compile, CanonicalForm) {
  const std::string payload = MustCompile(
      R"({"format": 1, "serial": 7, "compliance": [],
          "settings": [{"setting": "groove.proxy_auth", "level": "mandatory", "value": "ntlm",
                        "critical": false, "note": ""}],
          "schedules": [{"schedule": "genuine.validation_interval", "interval": 5400,
                         "when": {"os_generation": {"min": 60, "max": 61}}}]})");
  const absl::StatusOr<std::string> canonical = Inspect(payload);
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  EXPECT_EQ(*canonical,
            "{\n"
            "  \"serial\": 7,\n"
            "  \"settings\": [\n"
            "    {\"setting\": \"groove.proxy_auth\", \"level\": \"mandatory\", \"value\": "
            "\"ntlm\"}\n"
            "  ],\n"
            "  \"schedules\": [\n"
            "    {\"schedule\": \"genuine.validation_interval\", \"interval\": \"90m\", "
            "\"when\": {\"os_generation\": {\"min\": 60, \"max\": 61}}}\n"
            "  ]\n"
            "}\n");
}

// ---- rejected inputs ---------------------------------------------------------------

struct Rejected {
  const char* name;
  const char* bad;   // must be rejected with exactly `errors`
  const char* good;  // a valid neighbour: must compile and round-trip
  std::vector<std::string> errors;
};

const std::vector<Rejected>& RejectedCorpus() {
  static const std::vector<Rejected> corpus = {
      {"malformed_json",
       R"j({"serial": 1, "settings": [})j",
       R"j({"serial": 1, "settings": []})j",
       {R"j(p.json:1:28: unexpected '}', expected a value)j"}},
      {"truncated",
       R"j({"serial": 1, "settings": [{"setting": "communicator.ceip", "level": "mand)j",
       R"j({"serial": 1, "settings": [{"setting": "communicator.ceip", "level": "mandatory", "value": false}]})j",
       {R"j(p.json:1:70: unterminated string)j"}},
      {"trailing_comma",
       R"j({"serial": 1,})j",
       R"j({"serial": 1})j",
       {R"j(p.json:1:13: trailing comma)j"}},
      {"duplicate_key",
       R"j({"serial": 1, "serial": 2})j",
       R"j({"serial": 2})j",
       {R"j(p.json:1:15: duplicate key "serial")j"}},
      {"not_an_object",
       R"j([{"serial": 1}])j",
       R"j({"serial": 1})j",
       {R"j(p.json:1:1: a policy must be a JSON object)j"}},
      {"missing_serial",
       R"j({
  "description": "no serial"
})j",
       R"j({
  "serial": 3, "description": "no serial"
})j",
       {R"j(p.json:1:1: policy is missing "serial")j"}},
      {"zero_serial",
       R"j({"serial": 0})j",
       R"j({"serial": 1})j",
       {R"j(p.json:1:12: "serial" must be an integer from 1 to 9223372036854775807)j"}},
      {"negative_serial",
       R"j({"serial": -5})j",
       R"j({"serial": 5})j",
       {R"j(p.json:1:12: "serial" must be an integer from 1 to 9223372036854775807)j"}},
      {"string_serial",
       R"j({"serial": "7"})j",
       R"j({"serial": 7})j",
       {R"j(p.json:1:12: "serial" must be an integer from 1 to 9223372036854775807)j"}},
      {"fractional_serial",
       R"j({"serial": 1.5})j",
       R"j({"serial": 15})j",
       {R"j(p.json:1:12: "serial" must be an integer from 1 to 9223372036854775807)j"}},
      {"format_2",
       R"j({"format": 2, "serial": 1})j",
       R"j({"format": 1, "serial": 1})j",
       {R"j(p.json:1:12: "format" must be 1)j"}},
      {"unknown_top_key",
       R"j({"serial": 1, "setings": []})j",
       R"j({"serial": 1, "settings": []})j",
       {R"j(p.json:1:15: unknown key "setings" in policy)j"}},
      {"bad_time",
       R"j({"serial": 1, "issued_at": "yesterday", "expires_at": "2027-01-01T00:00:00"})j",
       R"j({"serial": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z"})j",
       {R"j(p.json:1:28: "issued_at" must be an RFC 3339 time such as "2026-11-01T00:00:00Z")j",
        R"j(p.json:1:55: "expires_at" must be an RFC 3339 time such as "2026-11-01T00:00:00Z")j"}},
      {"expires_before_issued",
       R"j({"serial": 1, "issued_at": "2026-11-01T00:00:00Z", "expires_at": "2026-11-01T00:00:00Z"})j",
       R"j({"serial": 1, "issued_at": "2026-11-01T00:00:00Z", "expires_at": "2026-11-01T00:00:01Z"})j",
       {R"j(p.json:1:66: "expires_at" must be after "issued_at")j"}},
      {"unknown_setting",
       R"j({"serial": 1, "settings": [{"setting": "communicator.cepi", "level": "mandatory", "value": false}]})j",
       R"j({"serial": 1, "settings": [{"setting": "communicator.ceip", "level": "mandatory", "value": false}]})j",
       {R"j(p.json:1:40: unknown setting "communicator.cepi")j"}},
      {"unknown_rule_key",
       R"j({"serial": 1, "settings": [{"setting": "communicator.ceip", "level": "mandatory", "vaule": false}]})j",
       R"j({"serial": 1, "settings": [{"setting": "communicator.ceip", "level": "mandatory", "value": false}]})j",
       {R"j(p.json:1:28: setting rule is missing "value")j",
        R"j(p.json:1:83: unknown key "vaule" in setting rule)j"}},
      {"bool_as_string",
       R"j({"serial": 1, "settings": [{"setting": "communicator.ceip", "level": "mandatory", "value": "false"}]})j",
       R"j({"serial": 1, "settings": [{"setting": "communicator.ceip", "level": "mandatory", "value": false}]})j",
       {R"j(p.json:1:92: value of "communicator.ceip" must be true or false)j"}},
      {"enum_not_allowed",
       R"j({"serial": 1, "settings": [{"setting": "groove.proxy_auth", "level": "mandatory", "value": "kerberos"}]})j",
       R"j({"serial": 1, "settings": [{"setting": "groove.proxy_auth", "level": "mandatory", "value": "ntlm"}]})j",
       {R"j(p.json:1:92: unknown value "kerberos" for "groove.proxy_auth" (allowed: basic, ntlm))j"}},
      {"flags_bad",
       R"j({"serial": 1, "settings": [{"setting": "communicator.presence_fields", "level": "recommended", "value": ["status", "mood", "status"]}]})j",
       R"j({"serial": 1, "settings": [{"setting": "communicator.presence_fields", "level": "recommended", "value": ["status", "note"]}]})j",
       {R"j(p.json:1:116: unknown value "mood" for "communicator.presence_fields" (allowed: status, title, phone, note, calendar))j",
        R"j(p.json:1:124: duplicate value "status" for "communicator.presence_fields")j"}},
      {"user_only_setting",
       R"j({"serial": 1, "settings": [{"setting": "online.correspondence", "level": "mandatory", "value": false}]})j",
       R"j({"serial": 1, "settings": [{"setting": "online.personalisation_role_only", "level": "mandatory", "value": false}]})j",
       {R"j(p.json:1:40: an administrator may not set "online.correspondence" (only the user may))j"}},
      {"organiser_only_setting",
       R"j({"serial": 1, "settings": [{"setting": "livemeeting.access_control", "level": "recommended", "value": true}]})j",
       R"j({"serial": 1, "settings": [{"setting": "livemeeting.hidden_participant", "level": "recommended", "value": true}]})j",
       {R"j(p.json:1:40: an administrator may not set "livemeeting.access_control" (only the meeting organiser may))j"}},
      {"fixed_setting",
       R"j({"serial": 1, "settings": [{"setting": "groove.send_guids_ip", "level": "mandatory", "value": false}]})j",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "mandatory", "value": false}]})j",
       {R"j(p.json:1:40: setting "groove.send_guids_ip" is fixed: no policy may set it)j"}},
      {"bad_level",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "locked", "value": false}]})j",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "mandatory", "value": false}]})j",
       {R"j(p.json:1:64: "level" must be "mandatory" or "recommended")j"}},
      {"missing_level_and_value",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip"}]})j",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "recommended", "value": true}]})j",
       {R"j(p.json:1:28: setting rule is missing "level")j",
        R"j(p.json:1:28: setting rule is missing "value")j"}},
      {"unknown_class_and_purpose",
       R"j({"serial": 1, "data_use": [{"class": "usage", "purpose": "marketing", "effect": "deny"}]})j",
       R"j({"serial": 1, "data_use": [{"class": "usage_data", "purpose": "improve", "effect": "deny"}]})j",
       {R"j(p.json:1:38: unknown data class "usage")j",
        R"j(p.json:1:58: unknown purpose "marketing")j"}},
      {"fixed_cell",
       R"j({"serial": 1, "data_use": [{"class": "im_content", "purpose": "improve", "effect": "allow"}]})j",
       R"j({"serial": 1, "data_use": [{"class": "customer_data", "purpose": "improve", "effect": "deny"}]})j",
       {R"j(p.json:1:38: data use of "im_content" for "improve" is fixed: no policy may change it)j"}},
      {"bad_effect",
       R"j({"serial": 1, "data_use": [{"class": "usage_data", "purpose": "improve", "effect": "permit"}]})j",
       R"j({"serial": 1, "data_use": [{"class": "usage_data", "purpose": "improve", "effect": "allow"}]})j",
       {R"j(p.json:1:84: "effect" must be "allow" or "deny")j"}},
      {"bad_obligation",
       R"j({"serial": 1, "data_use": [{"class": "usage_data", "purpose": "improve", "effect": "allow", "obligations": ["notify_admin"]}]})j",
       R"j({"serial": 1, "data_use": [{"class": "usage_data", "purpose": "improve", "effect": "allow", "obligations": ["notify_user"]}]})j",
       {R"j(p.json:1:109: unknown obligation "notify_admin" (allowed: aggregate_only, hash_field, never_collect, show_indicator, notify_user, notify_others, warn_irreversible))j"}},
      {"unknown_schedule",
       R"j({"serial": 1, "schedules": [{"schedule": "genuine.validation", "interval": "7d"}]})j",
       R"j({"serial": 1, "schedules": [{"schedule": "genuine.validation_interval", "interval": "7d"}]})j",
       {R"j(p.json:1:42: unknown schedule "genuine.validation")j"}},
      {"bad_intervals",
       R"j({"serial": 1, "schedules": [{"schedule": "genuine.validation_interval", "interval": "1w"},
  {"schedule": "genuine.validation_interval", "interval": 0, "when": {"groups": ["a"]}}]})j",
       R"j({"serial": 1, "schedules": [{"schedule": "genuine.validation_interval", "interval": "7d"},
  {"schedule": "genuine.validation_interval", "interval": 3600, "when": {"groups": ["a"]}}]})j",
       {R"j(p.json:1:85: "interval" must be a positive duration ("7d", "12h", "30m", "45s" or integer seconds))j",
        R"j(p.json:2:59: "interval" must be a positive duration ("7d", "12h", "30m", "45s" or integer seconds))j"}},
      {"setting_conflict",
       R"j({"serial": 1, "settings": [
  {"setting": "groove.ceip", "level": "mandatory", "value": false, "when": {"identity": "managed"}},
  {"setting": "groove.ceip", "level": "mandatory", "value": true, "when": {"domain_joined": true}}]})j",
       R"j({"serial": 1, "settings": [
  {"setting": "groove.ceip", "level": "mandatory", "value": false, "when": {"identity": "managed"}},
  {"setting": "groove.ceip", "level": "recommended", "value": true, "when": {"domain_joined": true}}]})j",
       {R"j(p.json:3:3: conflicts with settings[0] (line 2): same setting, level and specificity, and both conditions can hold)j"}},
      {"data_use_conflict",
       R"j({"serial": 1, "data_use": [
  {"class": "usage_data", "purpose": "improve", "effect": "deny", "when": {"plan": ["enterprise", "trial"]}},
  {"class": "usage_data", "purpose": "improve", "effect": "allow", "when": {"plan": ["trial"]}}]})j",
       R"j({"serial": 1, "data_use": [
  {"class": "usage_data", "purpose": "improve", "effect": "deny", "when": {"plan": ["enterprise"]}},
  {"class": "usage_data", "purpose": "improve", "effect": "allow", "when": {"plan": ["trial"]}}]})j",
       {R"j(p.json:3:3: conflicts with data_use[0] (line 2): same class, purpose and specificity, and both conditions can hold)j"}},
      {"schedule_conflict_groups",
       R"j({"serial": 1, "schedules": [
  {"schedule": "genuine.validation_interval", "interval": "7d", "when": {"groups": ["a"]}},
  {"schedule": "genuine.validation_interval", "interval": "1d", "when": {"groups": ["b"]}}]})j",
       R"j({"serial": 1, "schedules": [
  {"schedule": "genuine.validation_interval", "interval": "7d", "when": {"groups": ["a"]}},
  {"schedule": "genuine.validation_interval", "interval": "1d", "when": {"groups": ["b"], "region": ["SE"]}}]})j",
       {R"j(p.json:3:3: conflicts with schedules[0] (line 2): same schedule and specificity, and both conditions can hold)j"}},
      {"compliance_forbids",
       R"j({"serial": 1, "compliance": ["iso27001"], "settings": [{"setting": "groove.proxy_auth", "level": "mandatory", "value": "basic"}]})j",
       R"j({"serial": 1, "compliance": ["iso27001"], "settings": [{"setting": "groove.proxy_auth", "level": "mandatory", "value": "ntlm"}]})j",
       {R"j(p.json:1:120: value "basic" of "groove.proxy_auth" is forbidden by compliance tag "iso27001")j"}},
      {"compliance_forbids_recommended",
       R"j({"serial": 1, "compliance": ["fisma_ato", "hipaa_baa"], "settings": [{"setting": "groove.ceip", "level": "recommended", "value": true}]})j",
       R"j({"serial": 1, "compliance": ["fisma_ato", "hipaa_baa"], "settings": [{"setting": "groove.ceip", "level": "recommended", "value": false}]})j",
       {R"j(p.json:1:130: value true of "groove.ceip" is forbidden by compliance tag "fisma_ato")j"}},
      {"unknown_compliance_tag",
       R"j({"serial": 1, "compliance": ["soc2"]})j",
       R"j({"serial": 1, "compliance": ["dpa"]})j",
       {R"j(p.json:1:30: unknown compliance tag "soc2")j"}},
      {"bad_when",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "mandatory", "value": false, "when": {"identity": "guest", "plan": ["free"], "os_generation": {"min": 61, "max": 60}, "role": [], "wifi": true}}]})j",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "mandatory", "value": false, "when": {"identity": "unmanaged", "plan": ["trial"], "os_generation": {"min": 60, "max": 61}, "role": ["user"]}}]})j",
       // Built-in terms are rows of the attribute table: one parser, one wording.
       {R"j(p.json:1:114: unknown value "guest" for attribute "identity" (allowed: managed, unmanaged))j",
        R"j(p.json:1:132: unknown value "free" for attribute "plan" (allowed: enterprise, small_business, trial))j",
        R"j(p.json:1:177: attribute "os_generation" "max" must not be below "min")j",
        R"j(p.json:1:190: attribute "role" must be one of its values or a list of them (user, admin, organiser, participant))j",
        R"j(p.json:1:194: unknown key "wifi" in "when" (known: identity, domain_joined, device_managed, plan, os_generation, device_state, device_state_not, groups, role, account_creation, region, or <product>.<attribute>))j"}},
      {"when_not_object",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "mandatory", "value": false, "when": "managed"}]})j",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "mandatory", "value": false, "when": {}}]})j",
       {R"j(p.json:1:101: "when" must be an object)j"}},
      {"settings_not_array",
       R"j({"serial": 1, "settings": {"setting": "groove.ceip"}})j",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "mandatory", "value": true}]})j",
       {R"j(p.json:1:27: "settings" must be an array)j"}},
      {"critical_and_note_types",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "mandatory", "value": false, "critical": "yes", "note": 5}]})j",
       R"j({"serial": 1, "settings": [{"setting": "groove.ceip", "level": "mandatory", "value": false, "critical": true, "note": "5"}]})j",
       {R"j(p.json:1:105: "critical" must be true or false)j",
        R"j(p.json:1:120: "note" must be a string)j"}},
      {"target_bad",
       R"j({"serial": 1, "target": {"tenant": "contoso", "devices": ["d1", "d1", ""], "group": []}})j",
       R"j({"serial": 1, "target": {"tenant": "contoso", "devices": ["d1", "d2"], "groups": []}})j",
       {R"j(p.json:1:65: duplicate entry "d1" in "devices")j",
        R"j(p.json:1:71: "devices" entries must be non-empty strings)j",
        R"j(p.json:1:76: unknown key "group" in "target")j"}},
      {"many_errors",
       R"j({
  "serial": 0,
  "compliance": ["iso27001"],
  "settings": [
    {"setting": "groove.proxy_auth", "level": "mandatory", "value": "basic"},
    {"setting": "communicator.cepi", "level": "mandatory", "value": false}
  ],
  "data_use": [{"class": "personal_contact", "purpose": "billing", "effect": "allow"}],
  "schedules": [{"schedule": "genuine.validation_interval", "interval": "-7d"}]
})j",
       R"j({
  "serial": 9,
  "compliance": ["iso27001"],
  "settings": [
    {"setting": "groove.proxy_auth", "level": "mandatory", "value": "ntlm"},
    {"setting": "communicator.ceip", "level": "mandatory", "value": false}
  ],
  "data_use": [{"class": "customer_data", "purpose": "billing", "effect": "allow"}],
  "schedules": [{"schedule": "genuine.validation_interval", "interval": "7d"}]
})j",
       {R"j(p.json:2:13: "serial" must be an integer from 1 to 9223372036854775807)j",
        R"j(p.json:5:69: value "basic" of "groove.proxy_auth" is forbidden by compliance tag "iso27001")j",
        R"j(p.json:6:17: unknown setting "communicator.cepi")j",
        R"j(p.json:8:26: data use of "personal_contact" for "billing" is fixed: no policy may change it)j",
        R"j(p.json:9:73: "interval" must be a positive duration ("7d", "12h", "30m", "45s" or integer seconds))j"}},
  };
  return corpus;
}

class RejectedInput : public ::testing::TestWithParam<Rejected> {};

TEST_P(RejectedInput, ReportsEveryErrorWithItsLocation) {
  const Rejected& c = GetParam();
  const CompileResult r = Compile(c.bad, "p.json");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.payload.empty()) << "a payload was produced despite errors";
  EXPECT_EQ(r.Rendered(), c.errors);
}

TEST_P(RejectedInput, ValidNeighbourCompilesAndRoundTrips) {
  const Rejected& c = GetParam();
  const std::string payload = MustCompile(c.good, c.name);
  ASSERT_FALSE(payload.empty());
  ExpectRoundTrip(payload, c.name);
}

INSTANTIATE_TEST_SUITE_P(Corpus, RejectedInput, ::testing::ValuesIn(RejectedCorpus()),
                         [](const ::testing::TestParamInfo<Rejected>& info) {
                           return std::string(info.param.name);
                         });

TEST(RejectedCorpus, IsLargeAndReportsSeveralErrorsInOneRun) {
  EXPECT_GE(RejectedCorpus().size(), 25u);
  size_t multi = 0;
  for (const Rejected& c : RejectedCorpus()) multi += c.errors.size() > 1;
  EXPECT_GE(multi, 5u);
}

TEST(Rejected, TruncatedExample) {
  // Every strict prefix of a real policy is rejected, with one located error and no payload.
  const std::string text = ReadFile(ExamplesDir() + "/baseline.json");
  for (size_t n = 0; n + 1 < text.size(); n += 37) {
    const CompileResult r = Compile(text.substr(0, n), "baseline.json");
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes accepted";
    EXPECT_TRUE(r.payload.empty());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_GE(r.errors[0].location.line, 1);
    EXPECT_GE(r.errors[0].location.col, 1);
  }
}

// ---- conflicts ---------------------------------------------------------------------

// Two rules of the same setting and level with the given conditions.
std::string TwoRules(const std::string& when_a, const std::string& when_b) {
  return R"({"serial": 1, "settings": [
    {"setting": "groove.ceip", "level": "mandatory", "value": false, "when": )" +
         when_a + R"(},
    {"setting": "groove.ceip", "level": "mandatory", "value": true, "when": )" +
         when_b + "}]}";
}

TEST(Conflicts, DisjointConditionsDoNotConflict) {
  const std::vector<std::pair<std::string, std::string>> disjoint = {
      {R"({"identity": "managed"})", R"({"identity": "unmanaged"})"},
      {R"({"domain_joined": true})", R"({"domain_joined": false})"},
      {R"({"device_managed": true})", R"({"device_managed": false})"},
      {R"({"account_creation": true})", R"({"account_creation": false})"},
      {R"({"plan": ["enterprise"]})", R"({"plan": ["small_business", "trial"]})"},
      {R"({"role": ["admin"]})", R"({"role": ["user", "organiser"]})"},
      {R"({"os_generation": {"max": 60}})", R"({"os_generation": {"min": 61}})"},
      {R"({"os_generation": {"min": 60, "max": 60}})",
       R"({"os_generation": {"min": 61, "max": 70}})"},
      {R"({"device_state": ["tampered"]})", R"({"device_state_not": ["tampered", "not_genuine"]})"},
      {R"({"region": ["SE", "NO"]})", R"({"region": ["DK"]})"},
      {R"({"groups": ["a"], "identity": "managed"})",
       R"({"groups": ["a"], "identity": "unmanaged"})"},
  };
  for (const auto& [a, b] : disjoint) {
    const CompileResult r = Compile(TwoRules(a, b), "p.json");
    EXPECT_TRUE(r.ok()) << a << " vs " << b << ":\n" << Errors(r);
  }
}

TEST(Conflicts, OverlappingConditionsConflict) {
  const std::vector<std::pair<std::string, std::string>> overlapping = {
      {"{}", "{}"},
      {R"({"identity": "managed"})", R"({"identity": "managed"})"},
      {R"({"identity": "managed"})", R"({"domain_joined": true})"},
      {R"({"plan": ["enterprise", "trial"]})", R"({"plan": ["trial"]})"},
      {R"({"role": ["admin", "user"]})", R"({"role": ["user"]})"},
      {R"({"os_generation": {"max": 60}})", R"({"os_generation": {"min": 60}})"},
      {R"({"device_state": ["tampered"]})", R"({"device_state": ["not_genuine"]})"},
      {R"({"device_state": ["tampered"]})", R"({"device_state_not": ["not_genuine"]})"},
      {R"({"groups": ["a"]})", R"({"groups": ["b"]})"},  // one may be in both groups
      {R"({"region": ["SE", "NO"]})", R"({"region": ["NO"]})"},
  };
  for (const auto& [a, b] : overlapping) {
    const CompileResult r = Compile(TwoRules(a, b), "p.json");
    ASSERT_EQ(r.errors.size(), 1u) << a << " vs " << b << ":\n" << Errors(r);
    EXPECT_EQ(r.Rendered()[0],
              "p.json:3:5: conflicts with settings[0] (line 2): same setting, level and "
              "specificity, and both conditions can hold");
  }
}

TEST(Conflicts, DifferentSpecificityOrLevelOrSettingDoNotConflict) {
  EXPECT_TRUE(Compile(TwoRules("{}", R"({"identity": "managed"})"), "p").ok());
  EXPECT_TRUE(Compile(TwoRules(R"({"identity": "managed"})",
                               R"({"identity": "managed", "domain_joined": true})"),
                      "p")
                  .ok());
  EXPECT_TRUE(Compile(R"({"serial": 1, "settings": [
      {"setting": "groove.ceip", "level": "mandatory", "value": false},
      {"setting": "groove.ceip", "level": "recommended", "value": true},
      {"setting": "groove.error_reporting", "level": "mandatory", "value": false}]})",
                      "p")
                  .ok());
}

TEST(Conflicts, EachLaterRuleNamesTheFirstItConflictsWith) {
  const CompileResult r = Compile(R"({"serial": 1, "schedules": [
    {"schedule": "genuine.validation_interval", "interval": "1d"},
    {"schedule": "genuine.validation_interval", "interval": "2d"},
    {"schedule": "genuine.validation_interval", "interval": "3d"}]})",
                                  "s.json");
  EXPECT_EQ(r.Rendered(), (std::vector<std::string>{
                              "s.json:3:5: conflicts with schedules[0] (line 2): same schedule and "
                              "specificity, and both conditions can hold",
                              "s.json:4:5: conflicts with schedules[0] (line 2): same schedule and "
                              "specificity, and both conditions can hold"}));
}

// ---- inspect -------------------------------------------------------------------------

TEST(Inspect, RejectsWhatIsNotAPayload) {
  const std::string good = MustCompile(ReadFile(ExamplesDir() + "/groove.json"));
  ASSERT_FALSE(good.empty());

  EXPECT_EQ(Inspect("").status().message(), "not an edict payload (file identifier is not EDP1)");
  EXPECT_EQ(Inspect("{\"serial\": 1}").status().message(),
            "not an edict payload (file identifier is not EDP1)");
  std::string other_id = good;
  other_id[7] = '2';  // "EDP2"
  EXPECT_EQ(Inspect(other_id).status().code(), absl::StatusCode::kInvalidArgument);
  // Truncated: the identifier is intact but offsets point past the end. Only the final
  // alignment padding (under 4 bytes) may go unnoticed.
  for (size_t n = 8; n + 3 < good.size(); ++n) {
    const absl::StatusOr<std::string> r = Inspect(good.substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().message(), "malformed payload (FlatBuffers verification failed)");
  }
  // A root offset pointing outside the buffer.
  std::string bad_root = good;
  bad_root[0] = '\xff';
  bad_root[1] = '\xff';
  EXPECT_FALSE(Inspect(bad_root).ok());
  // A valid payload at an address that is not 8-byte aligned (fuzz finding F1).
  for (size_t offset = 1; offset < 8; ++offset) {
    const std::string shifted = std::string(offset, ' ') + good;  // heap: 16-byte aligned
    const std::string_view view(shifted.data() + offset, good.size());
    EXPECT_EQ(Inspect(view).status().message(), "payload does not start on an 8-byte boundary");
  }
  EXPECT_TRUE(Inspect(good).ok());
}

TEST(Inspect, RejectsOtherFormatVersions) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto header = fb::CreateHeader(fbb, /*format_version=*/2, catalog::kVersion, 1);
  fb::FinishPayloadBuffer(fbb, fb::CreatePayload(fbb, header));
  const std::string bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  const absl::StatusOr<std::string> r = Inspect(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unsupported payload format version 2 (expected 1)");
}

TEST(Inspect, SurvivesEveryByteFlip) {
  // Inspect must never crash on a damaged payload; whatever it prints is valid JSON for
  // the compiler to judge.
  const std::string good = MustCompile(ReadFile(ExamplesDir() + "/communicator.json"));
  ASSERT_FALSE(good.empty());
  size_t printed = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    std::string damaged = good;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
    const absl::StatusOr<std::string> r = Inspect(damaged);
    if (!r.ok()) continue;
    ++printed;
    EXPECT_TRUE(json::Parse(*r).ok()) << "byte " << i << ":\n" << *r;
  }
  EXPECT_GT(printed, 0u);
}

TEST(Durations, ParseAndFormat) {
  int64_t s = 0;
  EXPECT_TRUE(ParseDuration("7d", &s));
  EXPECT_EQ(s, 604800);
  EXPECT_TRUE(ParseDuration("12h", &s));
  EXPECT_EQ(s, 43200);
  EXPECT_TRUE(ParseDuration("30m", &s));
  EXPECT_EQ(s, 1800);
  EXPECT_TRUE(ParseDuration("45s", &s));
  EXPECT_EQ(s, 45);
  for (const char* bad :
       {"", "d", "7", "7w", "-7d", "+7d", "7.5d", " 7d", "7d ", "7D", "9999999999999999d"}) {
    EXPECT_FALSE(ParseDuration(bad, &s)) << bad;
  }
  EXPECT_EQ(FormatDuration(604800), "7d");
  EXPECT_EQ(FormatDuration(5400), "90m");
  EXPECT_EQ(FormatDuration(7200), "2h");
  EXPECT_EQ(FormatDuration(61), "61s");
  EXPECT_EQ(FormatDuration(0), "0s");
}

}  // namespace
}  // namespace edict::compiler
