// Tests of the policy compiler against a catalogue set (compiler.h Compile(..., catalogs)):
// product settings, conditions on context attributes, Header.catalogs, located errors and
// the inspect round trip. The set is built here from examples/catalogs/acmevpn.json.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "gtest/gtest.h"
#include "policy/catalog.h"
#include "policy/catalog/catalog_set.h"
#include "policy/catalog/catalog_source.h"
#include "policy/compiler/compiler.h"
#include "policy/condition.h"
#include "policy/edict_generated.h"

namespace edict::compiler {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Example(const std::string& name) {
  return std::string(EDICT_SOURCE_DIR) + "/examples/catalogs/" + name;
}

std::string Errors(const CompileResult& r) {
  std::string out;
  for (const std::string& line : r.Rendered()) out += line + "\n";
  return out;
}

const fb::Payload* Root(const std::string& payload) {
  return fb::GetPayload(reinterpret_cast<const uint8_t*>(payload.data()));
}

class CatalogCompile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string source = ReadFile(Example("acmevpn.json"));
    absl::StatusOr<std::string> bytes = catalogs::BuildCatalog(source, "acmevpn.json");
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    absl::StatusOr<std::shared_ptr<const CatalogSet>> set =
        CatalogSet::Create({CatalogSet::Input{"acmevpn.edcat", *bytes}});
    ASSERT_TRUE(set.ok()) << set.status();
    set_ = new std::shared_ptr<const CatalogSet>(*set);
  }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }

  static const CatalogSet& set() { return **set_; }

  // Compiles against the acmevpn set; checks success and the round trip.
  std::string MustCompile(const std::string& text, const std::string& name = "p.json") {
    const CompileResult r = Compile(text, name, set());
    EXPECT_TRUE(r.ok()) << Errors(r);
    if (!r.ok()) return "";
    EXPECT_EQ(Compile(text, name, set()).payload, r.payload) << "not deterministic";
    const absl::StatusOr<std::string> canonical = Inspect(r.payload, set());
    EXPECT_TRUE(canonical.ok()) << canonical.status();
    if (canonical.ok()) {
      const CompileResult again = Compile(*canonical, name + " (canonical)", set());
      EXPECT_TRUE(again.ok()) << *canonical << Errors(again);
      EXPECT_EQ(again.payload, r.payload) << "canonical form compiles to other bytes:\n"
                                          << *canonical;
      EXPECT_EQ(Inspect(again.payload, set()).value_or(""), *canonical);
    }
    return r.payload;
  }

  // The rendered errors of a policy that must not compile against `catalogs`.
  static std::string MustFail(const std::string& text, const CatalogSet& catalogs) {
    const CompileResult r = Compile(text, "p.json", catalogs);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.payload.empty());
    return Errors(r);
  }

  static std::string Policy(const std::string& rules) {
    return "{\n\"serial\": 1,\n\"settings\": [\n" + rules + "\n]\n}\n";
  }

  static std::shared_ptr<const CatalogSet>* set_;
};

std::shared_ptr<const CatalogSet>* CatalogCompile::set_ = nullptr;

TEST_F(CatalogCompile, ProductSettingsOfEveryType) {
  const std::string payload = MustCompile(Policy(
      R"({"setting": "acmevpn.always_on", "level": "mandatory", "value": true},
{"setting": "acmevpn.cipher_suite", "level": "mandatory", "value": "aes256_gcm"},
{"setting": "acmevpn.trusted_network_types", "level": "mandatory", "value": ["cellular", "wired"]},
{"setting": "acmevpn.mtu", "level": "recommended", "value": 1380},
{"setting": "acmevpn.idle_timeout", "level": "mandatory", "value": "90m"},
{"setting": "acmevpn.support_url", "level": "mandatory", "value": "https://help.example"})"));
  ASSERT_FALSE(payload.empty());
  const fb::Payload* p = Root(payload);
  ASSERT_EQ(p->settings()->size(), 6u);
  EXPECT_TRUE(p->settings()->Get(0)->value_as_BoolValue()->value());
  EXPECT_EQ(p->settings()->Get(1)->value_as_EnumValue()->symbol()->str(), "aes256_gcm");
  const auto* flags = p->settings()->Get(2)->value_as_FlagsValue()->symbols();
  ASSERT_EQ(flags->size(), 2u);  // catalogue order
  EXPECT_EQ(flags->Get(0)->str(), "wired");
  EXPECT_EQ(flags->Get(1)->str(), "cellular");
  EXPECT_EQ(p->settings()->Get(3)->value_as_IntValue()->value(), 1380);
  EXPECT_EQ(p->settings()->Get(4)->value_as_IntValue()->value(), 90 * 60);
  EXPECT_EQ(p->settings()->Get(5)->value_as_StringValue()->value()->str(), "https://help.example");
  // Inspect prints the product's duration as a duration.
  EXPECT_NE(Inspect(payload, set())->find("\"value\": \"90m\""), std::string::npos);
}

TEST_F(CatalogCompile, ProductValuesAreChecked) {
  const std::string errors =
      MustFail(Policy(
                   R"({"setting": "acmevpn.cipher_suite", "level": "mandatory", "value": "rot13"},
{"setting": "acmevpn.mtu", "level": "mandatory", "value": "big"},
{"setting": "acmevpn.log_traffic_content", "level": "mandatory", "value": true},
{"setting": "acmevpn.show_privacy_notice", "level": "mandatory", "value": true})"),
               set());
  EXPECT_NE(errors.find("p.json:4:68: unknown value \"rot13\" for \"acmevpn.cipher_suite\""),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("p.json:5:59: value of \"acmevpn.mtu\" must be an integer"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("p.json:6:13: setting \"acmevpn.log_traffic_content\" is fixed"),
            std::string::npos)
      << errors;
  EXPECT_NE(
      errors.find("p.json:7:13: an administrator may not set \"acmevpn.show_privacy_notice\""),
      std::string::npos)
      << errors;
}

TEST_F(CatalogCompile, ProductComplianceTagForbidsValues) {
  const std::string errors = MustFail(
      "{\"serial\": 1, \"compliance\": [\"acmevpn.fips_140\"],\n\"settings\": [\n"
      "{\"setting\": \"acmevpn.fips_mode\", \"level\": \"mandatory\", \"value\": false}]}",
      set());
  EXPECT_NE(errors.find("p.json:3:65: value false of \"acmevpn.fips_mode\" is forbidden by "
                        "compliance tag \"acmevpn.fips_140\""),
            std::string::npos)
      << errors;
}

TEST_F(CatalogCompile, AttributeTermsOfEveryType) {
  const std::string payload = MustCompile(Policy(
      R"({"setting": "acmevpn.always_on", "level": "mandatory", "value": true, "when": {
  "acmevpn.tunnel_count": {"min": 2, "max": 5}, "acmevpn.on_battery": false,
  "acmevpn.network_trust": ["captive", "trusted"], "acmevpn.gateway_regions": ["US", "EU"],
  "device_managed": true}})"));
  ASSERT_FALSE(payload.empty());
  const fb::Condition* when = Root(payload)->settings()->Get(0)->when();
  ASSERT_NE(when, nullptr);
  EXPECT_EQ(Specificity(when), 5);
  const auto* terms = when->attributes();
  ASSERT_NE(terms, nullptr);
  ASSERT_EQ(terms->size(), 4u);
  // Sorted by name.
  EXPECT_EQ(terms->Get(0)->name()->str(), "acmevpn.gateway_regions");
  EXPECT_EQ(terms->Get(1)->name()->str(), "acmevpn.network_trust");
  EXPECT_EQ(terms->Get(2)->name()->str(), "acmevpn.on_battery");
  EXPECT_EQ(terms->Get(3)->name()->str(), "acmevpn.tunnel_count");
  // String set: sorted; enum: the attribute's order (trusted, untrusted, captive).
  ASSERT_EQ(terms->Get(0)->values()->size(), 2u);
  EXPECT_EQ(terms->Get(0)->values()->Get(0)->str(), "EU");
  EXPECT_EQ(terms->Get(0)->values()->Get(1)->str(), "US");
  ASSERT_EQ(terms->Get(1)->values()->size(), 2u);
  EXPECT_EQ(terms->Get(1)->values()->Get(0)->str(), "trusted");
  EXPECT_EQ(terms->Get(1)->values()->Get(1)->str(), "captive");
  EXPECT_EQ(terms->Get(2)->is(), fb::Tri_No);
  EXPECT_EQ(terms->Get(2)->values(), nullptr);
  EXPECT_EQ(terms->Get(3)->min(), 2);
  EXPECT_EQ(terms->Get(3)->max(), 5);
  EXPECT_EQ(terms->Get(3)->is(), fb::Tri_Any);
}

TEST_F(CatalogCompile, SingleValuesAndOmittedBounds) {
  const std::string payload = MustCompile(Policy(
      R"({"setting": "acmevpn.mtu", "level": "mandatory", "value": 1300,
  "when": {"acmevpn.network_trust": "untrusted", "acmevpn.gateway_regions": "EU",
           "acmevpn.tunnel_count": {"min": 3}}},
{"setting": "acmevpn.mtu", "level": "recommended", "value": 1200,
  "when": {"acmevpn.tunnel_count": {"max": 1}, "acmevpn.on_battery": true}})"));
  ASSERT_FALSE(payload.empty());
  const auto* a = Root(payload)->settings()->Get(0)->when()->attributes();
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ(a->Get(0)->values()->Get(0)->str(), "EU");
  EXPECT_EQ(a->Get(1)->values()->Get(0)->str(), "untrusted");
  EXPECT_EQ(a->Get(2)->min(), 3);
  EXPECT_EQ(a->Get(2)->max(), 16);  // the attribute's bound
  const auto* b = Root(payload)->settings()->Get(1)->when()->attributes();
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ(b->Get(0)->is(), fb::Tri_Yes);
  EXPECT_EQ(b->Get(1)->min(), 0);
  EXPECT_EQ(b->Get(1)->max(), 1);
}

TEST_F(CatalogCompile, AttributeErrorsAreLocated) {
  const std::string errors = MustFail(
      Policy(R"({"setting": "acmevpn.always_on", "level": "mandatory", "value": true, "when": {
  "acmevpn.no_such": true,
  "acmevpn.network_trust": ["trusted", "home"],
  "acmevpn.tunnel_count": {"min": 1, "max": 17},
  "acmevpn.on_battery": "yes",
  "acmevpn.gateway_regions": []}},
{"setting": "acmevpn.mtu", "level": "mandatory", "value": 1, "when": {
  "acmevpn.tunnel_count": {"min": 5, "max": 4}, "acmevpn.network_trust": 2,
  "acmevpn.gateway_regions": ["EU", "EU"]}},
{"setting": "acmevpn.idle_timeout", "level": "mandatory", "value": "1h", "when": {
  "acmevpn.tunnel_count": {"min": -1, "low": 2}, "other.thing": true}})"),
      set());
  for (const char* want : {
           "p.json:5:3: unknown context attribute \"acmevpn.no_such\"\n",
           "p.json:6:40: unknown value \"home\" for attribute \"acmevpn.network_trust\" "
           "(allowed: trusted, untrusted, captive)",
           "p.json:7:45: attribute \"acmevpn.tunnel_count\" \"max\" must be an integer in 0..16",
           "p.json:8:25: attribute \"acmevpn.on_battery\" must be true or false",
           "p.json:9:30: attribute \"acmevpn.gateway_regions\" must be a string or a non-empty "
           "list of strings",
           "p.json:11:45: attribute \"acmevpn.tunnel_count\" \"max\" must not be below \"min\"",
           "p.json:11:74: attribute \"acmevpn.network_trust\" must be one of its values",
           "p.json:12:37: duplicate value \"EU\" for attribute \"acmevpn.gateway_regions\"",
           "p.json:14:35: attribute \"acmevpn.tunnel_count\" \"min\" must be an integer in 0..16",
           "p.json:14:39: unknown key \"low\" in attribute \"acmevpn.tunnel_count\"",
           "p.json:14:50: unknown context attribute \"other.thing\" (no catalogue of product "
           "\"other\" is loaded)",
       }) {
    EXPECT_NE(errors.find(want), std::string::npos) << "missing: " << want << "\n" << errors;
  }
}

TEST_F(CatalogCompile, WithoutTheCatalogueProductNamesAreUnknown) {
  const std::string text = ReadFile(Example("acmevpn-attributes-policy.json"));
  ASSERT_TRUE(Compile(text, "p.json", set()).ok());
  const std::string errors = MustFail(text, CatalogSet::Builtin());
  EXPECT_NE(errors.find("p.json:7:18: unknown setting \"acmevpn.always_on\" (no catalogue of "
                        "product \"acmevpn\" is loaded)"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("p.json:8:17: unknown context attribute \"acmevpn.network_trust\" (no "
                        "catalogue of product \"acmevpn\" is loaded)"),
            std::string::npos)
      << errors;
  // The two-argument Compile is the built-in catalogue alone.
  EXPECT_EQ(Errors(Compile(text, "p.json")), errors);
  // A built-in product's unknown setting gets no hint.
  const std::string builtin = MustFail(
      Policy(R"({"setting": "communicator.nope", "level": "mandatory", "value": true})"), set());
  EXPECT_NE(builtin.find("unknown setting \"communicator.nope\"\n"), std::string::npos) << builtin;
}

TEST_F(CatalogCompile, CatalogRefsNameTheProductsUsed) {
  ASSERT_EQ(set().products().size(), 1u);
  const ProductSpec& acme = set().products()[0];
  struct Case {
    const char* what;
    std::string policy;
    bool refers;
  };
  const std::vector<Case> cases = {
      {"built-in only", Policy(R"({"setting": "communicator.ceip", "level": "mandatory",
                               "value": false})"),
       false},
      {"setting", Policy(R"({"setting": "acmevpn.always_on", "level": "mandatory",
                         "value": true})"),
       true},
      {"attribute", Policy(R"({"setting": "communicator.ceip", "level": "mandatory",
                           "value": false, "when": {"acmevpn.on_battery": true}})"),
       true},
      {"compliance tag", R"({"serial": 1, "compliance": ["acmevpn.fips_140"]})", true},
      {"data class", R"({"serial": 1, "data_use": [{"class": "acmevpn.crash_dumps",
                     "purpose": "security", "effect": "deny"}]})",
       true},
      {"purpose", R"({"serial": 1, "data_use": [{"class": "usage_data",
                  "purpose": "acmevpn.troubleshooting", "effect": "deny"}]})",
       true},
      {"schedule", R"({"serial": 1, "schedules": [{"schedule": "acmevpn.posture_check_interval",
                   "interval": "2h"}]})",
       true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string payload = MustCompile(c.policy);
    ASSERT_FALSE(payload.empty());
    const fb::Header* h = Root(payload)->header();
    EXPECT_EQ(h->catalog_version(), catalog::kVersion);
    if (!c.refers) {
      EXPECT_EQ(h->catalogs(), nullptr);
      continue;
    }
    ASSERT_NE(h->catalogs(), nullptr);
    ASSERT_EQ(h->catalogs()->size(), 1u);
    const fb::CatalogRef* ref = h->catalogs()->Get(0);
    EXPECT_EQ(ref->product()->str(), "acmevpn");
    EXPECT_EQ(ref->version(), acme.version);
    EXPECT_EQ(ref->hash(), acme.hash);
    EXPECT_NE(ref->hash(), 0u);
  }
}

TEST_F(CatalogCompile, ConflictsSeeAttributeTerms) {
  // Disjoint enum values, bools and ranges: no conflict.
  MustCompile(Policy(
      R"({"setting": "acmevpn.mtu", "level": "mandatory", "value": 1, "when": {"acmevpn.network_trust": "trusted"}},
{"setting": "acmevpn.mtu", "level": "mandatory", "value": 2, "when": {"acmevpn.network_trust": ["untrusted", "captive"]}},
{"setting": "acmevpn.idle_timeout", "level": "mandatory", "value": 1, "when": {"acmevpn.on_battery": true}},
{"setting": "acmevpn.idle_timeout", "level": "mandatory", "value": 2, "when": {"acmevpn.on_battery": false}},
{"setting": "acmevpn.local_proxy_port", "level": "mandatory", "value": 1, "when": {"acmevpn.tunnel_count": {"max": 2}}},
{"setting": "acmevpn.local_proxy_port", "level": "mandatory", "value": 2, "when": {"acmevpn.tunnel_count": {"min": 3}}})"));
  // Overlapping values, overlapping ranges, string sets (a context may hold both): conflict.
  const std::string errors = MustFail(
      Policy(
          R"({"setting": "acmevpn.mtu", "level": "mandatory", "value": 1, "when": {"acmevpn.network_trust": "trusted"}},
{"setting": "acmevpn.mtu", "level": "mandatory", "value": 2, "when": {"acmevpn.network_trust": ["trusted", "captive"]}},
{"setting": "acmevpn.local_proxy_port", "level": "mandatory", "value": 1, "when": {"acmevpn.tunnel_count": {"max": 2}}},
{"setting": "acmevpn.local_proxy_port", "level": "mandatory", "value": 2, "when": {"acmevpn.tunnel_count": {"min": 2}}},
{"setting": "acmevpn.support_url", "level": "mandatory", "value": "a", "when": {"acmevpn.gateway_regions": "EU"}},
{"setting": "acmevpn.support_url", "level": "mandatory", "value": "b", "when": {"acmevpn.gateway_regions": "US"}})"),
      set());
  EXPECT_NE(errors.find("p.json:5:1: conflicts with settings[0]"), std::string::npos) << errors;
  EXPECT_NE(errors.find("p.json:7:1: conflicts with settings[2]"), std::string::npos) << errors;
  EXPECT_NE(errors.find("p.json:9:1: conflicts with settings[4]"), std::string::npos) << errors;
}

TEST_F(CatalogCompile, ExamplesCompileAndRoundTrip) {
  for (const char* name : {"acmevpn-policy.json", "acmevpn-attributes-policy.json"}) {
    SCOPED_TRACE(name);
    const std::string payload = MustCompile(ReadFile(Example(name)), name);
    ASSERT_FALSE(payload.empty());
    const fb::Header* h = Root(payload)->header();
    ASSERT_NE(h->catalogs(), nullptr);
    EXPECT_EQ(h->catalogs()->Get(0)->product()->str(), "acmevpn");
  }
  const std::string payload = MustCompile(ReadFile(Example("acmevpn-attributes-policy.json")));
  const absl::StatusOr<std::string> text = Inspect(payload, set());
  ASSERT_TRUE(text.ok());
  // Printed back in policy syntax.
  for (const char* want : {R"("acmevpn.network_trust": ["untrusted", "captive"])",
                           R"("acmevpn.network_trust": "trusted")", R"("acmevpn.on_battery": true)",
                           R"("acmevpn.tunnel_count": {"min": 2, "max": 16})",
                           R"("device_managed": true, "acmevpn.gateway_regions": "EU")"}) {
    EXPECT_NE(text->find(want), std::string::npos) << want << "\n" << *text;
  }
}

}  // namespace
}  // namespace edict::compiler
