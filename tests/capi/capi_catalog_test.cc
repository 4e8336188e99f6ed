// tests/capi: product catalogues through the C API (edict.h "Product catalogues") and its
// C++ face: loading .edcat files and bytes, products, lookups, policies activated against a
// set, context builders with catalogue attributes, and the errors.
//
// The inputs are made in-process from the repository's examples: acmevpn.edcat with
// catalogs::BuildCatalog (what `edictctl catalog build` runs), the attribute policy with
// compiler::Compile against a CatalogSet of it (what `edictctl compile --catalog` runs).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "edict/edict.h"
#include "edict/edict.hpp"
#include "gtest/gtest.h"
#include "policy/catalog/catalog_file.h"
#include "policy/catalog/catalog_set.h"
#include "policy/catalog/catalog_source.h"
#include "policy/compiler/compiler.h"

namespace edict::capi_test {

// capi_test.cc: counts operator new calls between the two.
void StartCountingAllocations();
long StopCountingAllocations();

namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string& AcmeCatalog() {
  static const std::string* bytes = [] {
    const std::string path = std::string(EDICT_SOURCE_DIR) + "/examples/catalogs/acmevpn.json";
    absl::StatusOr<std::string> b = catalogs::BuildCatalog(ReadText(path), path);
    EXPECT_TRUE(b.ok()) << b.status();
    return new std::string(b.ok() ? *b : std::string());
  }();
  return *bytes;
}

// examples/catalogs/acmevpn-attributes-policy.json compiled against the Acme VPN catalogue.
const std::string& AttributePolicy() {
  static const std::string* payload = [] {
    auto set = CatalogSet::Create({CatalogSet::Input{"acmevpn.edcat", AcmeCatalog()}});
    EXPECT_TRUE(set.ok()) << set.status();
    const std::string path =
        std::string(EDICT_SOURCE_DIR) + "/examples/catalogs/acmevpn-attributes-policy.json";
    compiler::CompileResult r = compiler::Compile(ReadText(path), path, **set);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.Rendered()[0]);
    return new std::string(r.payload);
  }();
  return *payload;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/capi_catalog_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string Write(const std::string& name, const std::string& bytes) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// C handles as unique_ptrs.
struct CatalogsDeleter {
  void operator()(edict_catalogs* c) const { edict_catalogs_free(c); }
};
struct PolicyDeleter {
  void operator()(edict_policy* p) const { edict_close(p); }
};
struct BuilderDeleter {
  void operator()(edict_context_builder* b) const { edict_context_builder_free(b); }
};
using CatalogsPtr = std::unique_ptr<edict_catalogs, CatalogsDeleter>;
using PolicyPtr = std::unique_ptr<edict_policy, PolicyDeleter>;
using BuilderPtr = std::unique_ptr<edict_context_builder, BuilderDeleter>;

CatalogsPtr OpenAcme() {
  edict_catalogs* c = nullptr;
  edict_error error;
  EXPECT_EQ(edict_catalogs_open_memory(AcmeCatalog().data(), AcmeCatalog().size(), &c, &error),
            EDICT_OK)
      << error.message;
  return CatalogsPtr(c);
}

PolicyPtr OpenAttributePolicy(const edict_catalogs* c) {
  edict_policy* p = nullptr;
  edict_error error;
  EXPECT_EQ(edict_open_payload_with_catalogs(c, AttributePolicy().data(), AttributePolicy().size(),
                                             &p, &error),
            EDICT_OK)
      << error.message;
  return PolicyPtr(p);
}

TEST(CapiCatalogs, LoadFromFileAndMemoryListsTheProduct) {
  TempDir dir;
  const std::string path = dir.Write("acmevpn.edcat", AcmeCatalog());
  edict_error error;
  edict_catalogs* raw = nullptr;
  ASSERT_EQ(edict_catalogs_open_file(path.c_str(), &raw, &error), EDICT_OK) << error.message;
  CatalogsPtr from_file(raw);
  CatalogsPtr from_memory = OpenAcme();
  ASSERT_NE(from_memory, nullptr);

  for (const edict_catalogs* c : {from_file.get(), from_memory.get()}) {
    ASSERT_EQ(edict_catalogs_product_count(c), 1);
    edict_product_info info;
    edict_product_info_init(&info);
    ASSERT_EQ(edict_catalogs_product(c, 0, &info), EDICT_OK);
    EXPECT_STREQ(info.id, "acmevpn");
    EXPECT_STREQ(info.vendor, "Acme Networks");
    EXPECT_STREQ(info.display_name, "Acme VPN");
    EXPECT_GE(info.version, 1u);
    EXPECT_EQ(info.hash, catalogs::Fnv1a64(AcmeCatalog()));
    EXPECT_EQ(info.first_setting, edict_setting_count());
    EXPECT_EQ(info.setting_count, 47);
    EXPECT_STREQ(edict_catalogs_name(c, EDICT_ENTRY_SETTING, info.first_setting),
                 "acmevpn.always_on");
    EXPECT_EQ(edict_catalogs_product(c, 1, &info), EDICT_ERR_UNKNOWN_ID);
    EXPECT_EQ(edict_catalogs_product(c, -1, &info), EDICT_ERR_UNKNOWN_ID);
    info.struct_size = 4;  // older than the first release: refused
    EXPECT_EQ(edict_catalogs_product(c, 0, &info), EDICT_ERR_INVALID_ARGUMENT);
  }
  edict_product_info info;
  edict_product_info_init(&info);
  ASSERT_EQ(edict_catalogs_product(from_file.get(), 0, &info), EDICT_OK);
  EXPECT_EQ(info.origin, path);
  ASSERT_EQ(edict_catalogs_product(from_memory.get(), 0, &info), EDICT_OK);
  EXPECT_STREQ(info.origin, "");
  EXPECT_EQ(edict_catalogs_product_count(nullptr), 0);  // the built-in catalogue is no product
}

TEST(CapiCatalogs, BuiltinIdsStayValidAndProductEntriesAreFound) {
  CatalogsPtr c = OpenAcme();
  ASSERT_EQ(edict_catalogs_count(c.get(), EDICT_ENTRY_SETTING), edict_setting_count() + 47);
  for (int32_t i = 0; i < edict_setting_count(); ++i) {
    ASSERT_STREQ(edict_catalogs_name(c.get(), EDICT_ENTRY_SETTING, i), edict_setting_name(i));
    ASSERT_EQ(edict_catalogs_find(c.get(), EDICT_ENTRY_SETTING, edict_setting_name(i)), i);
    ASSERT_EQ(edict_catalogs_setting_type(c.get(), i), edict_setting_type(i));
  }
  for (int32_t i = 0; i < edict_data_class_count(); ++i) {
    ASSERT_EQ(edict_catalogs_find(c.get(), EDICT_ENTRY_DATA_CLASS, edict_data_class_name(i)), i);
  }
  EXPECT_EQ(edict_catalogs_find(nullptr, EDICT_ENTRY_SETTING, "communicator.ceip"),
            edict_setting_id("communicator.ceip"));
  EXPECT_EQ(edict_catalogs_find(nullptr, EDICT_ENTRY_SETTING, "acmevpn.always_on"), -1);

  const int32_t protocol = edict_catalogs_find(c.get(), EDICT_ENTRY_SETTING, "acmevpn.protocol");
  ASSERT_GE(protocol, edict_setting_count());
  EXPECT_EQ(edict_catalogs_setting_type(c.get(), protocol), EDICT_TYPE_ENUM);
  const int32_t wg = edict_catalogs_setting_symbol_index(c.get(), protocol, "wireguard");
  ASSERT_GE(wg, 0);
  EXPECT_STREQ(edict_catalogs_setting_symbol(c.get(), protocol, wg), "wireguard");
  EXPECT_EQ(edict_catalogs_setting_symbol_index(c.get(), protocol, "carrier_pigeon"), -1);
  EXPECT_GE(edict_catalogs_find(c.get(), EDICT_ENTRY_DATA_CLASS, "acmevpn.crash_dumps"), 0);
  EXPECT_GE(edict_catalogs_find(c.get(), EDICT_ENTRY_PURPOSE, "acmevpn.troubleshooting"), 0);
  EXPECT_GE(edict_catalogs_find(c.get(), EDICT_ENTRY_SCHEDULE, "acmevpn.posture_check_interval"),
            edict_schedule_count());

  // The 11 built-in attributes (identity, plan, ...) and the product's 4.
  ASSERT_EQ(edict_catalogs_count(c.get(), EDICT_ENTRY_ATTRIBUTE), 11 + 4);
  EXPECT_GE(edict_catalogs_find(c.get(), EDICT_ENTRY_ATTRIBUTE, "plan"), 0);
  EXPECT_EQ(edict_catalogs_count(nullptr, EDICT_ENTRY_ATTRIBUTE), 11);  // the built-in rows
  EXPECT_EQ(edict_catalogs_count(c.get(), 99), -1);
  const int32_t trust =
      edict_catalogs_find(c.get(), EDICT_ENTRY_ATTRIBUTE, "acmevpn.network_trust");
  ASSERT_GE(trust, 0);
  EXPECT_STREQ(edict_catalogs_name(c.get(), EDICT_ENTRY_ATTRIBUTE, trust), "acmevpn.network_trust");
  EXPECT_EQ(edict_catalogs_attribute_type(c.get(), trust), EDICT_ATTRIBUTE_ENUM);
  EXPECT_STREQ(edict_catalogs_attribute_value(c.get(), trust, 0), "trusted");
  EXPECT_STREQ(edict_catalogs_attribute_value(c.get(), trust, 2), "captive");
  EXPECT_EQ(edict_catalogs_attribute_value(c.get(), trust, 3), nullptr);
  const int32_t tunnels =
      edict_catalogs_find(c.get(), EDICT_ENTRY_ATTRIBUTE, "acmevpn.tunnel_count");
  int64_t min = -1, max = -1;
  ASSERT_EQ(edict_catalogs_attribute_range(c.get(), tunnels, &min, &max), EDICT_OK);
  EXPECT_EQ(min, 0);
  EXPECT_EQ(max, 16);
  EXPECT_EQ(edict_catalogs_attribute_range(c.get(), trust, &min, &max), EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_catalogs_attribute_type(c.get(), 11 + 4), -1);
  EXPECT_EQ(edict_catalogs_attribute_type(
                c.get(), edict_catalogs_find(c.get(), EDICT_ENTRY_ATTRIBUTE, "os_generation")),
            EDICT_ATTRIBUTE_INTEGER);
}

TEST(CapiCatalogs, AttributesFromTheBuilderChangeTheAnswers) {
  CatalogsPtr c = OpenAcme();
  PolicyPtr p = OpenAttributePolicy(c.get());
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(edict_serial(p.get()), 8u);
  EXPECT_EQ(edict_skipped_rules(p.get()), 0u);
  const edict_catalogs* pc = edict_policy_catalogs(p.get());
  ASSERT_NE(pc, nullptr);
  c.reset();  // the policy keeps its own reference to the set

  const int32_t always_on = edict_catalogs_find(pc, EDICT_ENTRY_SETTING, "acmevpn.always_on");
  const int32_t keepalive =
      edict_catalogs_find(pc, EDICT_ENTRY_SETTING, "acmevpn.keepalive_interval");
  const int32_t max_tunnels =
      edict_catalogs_find(pc, EDICT_ENTRY_SETTING, "acmevpn.max_concurrent_tunnels");
  const int32_t gateway = edict_catalogs_find(pc, EDICT_ENTRY_SETTING, "acmevpn.gateway_address");
  const int32_t posture =
      edict_catalogs_find(pc, EDICT_ENTRY_SCHEDULE, "acmevpn.posture_check_interval");
  const int32_t ceip = edict_setting_id("communicator.ceip");
  ASSERT_GE(always_on, 0);
  ASSERT_GE(posture, 0);

  edict_context_builder* raw = nullptr;
  ASSERT_EQ(edict_context_builder_new(pc, &raw), EDICT_OK);
  BuilderPtr b(raw);
  edict_resolution r;

  // Nothing known: no rule applies.
  ASSERT_EQ(edict_resolve_with(p.get(), always_on, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_DEFAULT);
  ASSERT_EQ(edict_resolve_with(p.get(), always_on, nullptr, nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_DEFAULT);
  // The fixed-struct context cannot give attributes: the same.
  ASSERT_EQ(edict_resolve(p.get(), always_on, nullptr, nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_DEFAULT);

  ASSERT_EQ(edict_context_builder_set_enum(b.get(), "acmevpn.network_trust", "captive"), EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), always_on, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);
  EXPECT_EQ(r.value.number, 1);
  EXPECT_EQ(r.rule, 0);
  ASSERT_EQ(edict_context_builder_set_enum(b.get(), "acmevpn.network_trust", "trusted"), EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), always_on, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);
  EXPECT_EQ(r.value.number, 0);
  EXPECT_EQ(r.rule, 1);
  ASSERT_EQ(edict_context_builder_unset(b.get(), "acmevpn.network_trust"), EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), always_on, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_DEFAULT);

  ASSERT_EQ(edict_context_builder_set_bool(b.get(), "acmevpn.on_battery", 1), EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), keepalive, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);
  EXPECT_EQ(r.value.number, 120);
  ASSERT_EQ(edict_resolve_with(p.get(), ceip, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_DEFAULT);  // the rule wants on_battery false
  ASSERT_EQ(edict_context_builder_set_bool(b.get(), "acmevpn.on_battery", 0), EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), ceip, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);
  EXPECT_EQ(r.locked, 1);
  EXPECT_EQ(r.value.number, 0);

  ASSERT_EQ(edict_context_builder_set_integer(b.get(), "acmevpn.tunnel_count", 1), EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), max_tunnels, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_DEFAULT);
  ASSERT_EQ(edict_context_builder_set_integer(b.get(), "acmevpn.tunnel_count", 2), EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), max_tunnels, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);
  EXPECT_EQ(r.value.number, 4);

  // Schedule: tunnel_count 1..3 and captive.
  edict_schedule s;
  ASSERT_EQ(edict_schedule_get_with(p.get(), posture, b.get(), &s), EDICT_OK);
  EXPECT_EQ(s.source, EDICT_SOURCE_DEFAULT);
  ASSERT_EQ(edict_context_builder_set_enum(b.get(), "acmevpn.network_trust", "captive"), EDICT_OK);
  ASSERT_EQ(edict_schedule_get_with(p.get(), posture, b.get(), &s), EDICT_OK);
  EXPECT_EQ(s.source, EDICT_SOURCE_MANDATORY);
  EXPECT_EQ(s.interval_seconds, 900);

  // String set plus a built-in field from the fixed context.
  const char* regions[] = {"US", "EU"};
  ASSERT_EQ(edict_context_builder_set_strings(b.get(), "acmevpn.gateway_regions", regions, 2),
            EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), gateway, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_DEFAULT);  // device_managed unknown
  edict_context ctx;
  edict_context_init(&ctx);
  ctx.device_managed = EDICT_TRI_YES;
  std::string region = "DE";
  ctx.region = region.c_str();
  ASSERT_EQ(edict_context_builder_set_base(b.get(), &ctx), EDICT_OK);
  region = "XX";  // copied by the builder
  ASSERT_EQ(edict_resolve_with(p.get(), gateway, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);
  EXPECT_STREQ(r.value.text, "eu.vpn.contoso.example");
  // Built-in attributes are rows of the same table: set by name, over the base.
  ASSERT_EQ(edict_context_builder_set_bool(b.get(), "device_managed", 0), EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), gateway, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_DEFAULT);
  ASSERT_EQ(edict_context_builder_set_bool(b.get(), "device_managed", 1), EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), gateway, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);
  const char* two[] = {"DE", "FR"};
  EXPECT_EQ(edict_context_builder_set_strings(b.get(), "region", two, 2),
            EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_context_builder_set_enum(b.get(), "device_state_not", "tampered"),
            EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_context_builder_set_enum(b.get(), "plan", "platinum"),
            EDICT_ERR_INVALID_ARGUMENT);
  ASSERT_EQ(edict_context_builder_unset(b.get(), "device_managed"), EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), gateway, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);  // the base's device_managed again
  const char* us[] = {"US"};
  ASSERT_EQ(edict_context_builder_set_strings(b.get(), "acmevpn.gateway_regions", us, 1), EDICT_OK);
  ASSERT_EQ(edict_resolve_with(p.get(), gateway, b.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_DEFAULT);

  // Explanations through the builder; by-name resolution finds product settings.
  char text[1024];
  size_t needed = 0;
  ASSERT_EQ(edict_explain_setting_with(p.get(), always_on, b.get(), nullptr, EDICT_EXPLAIN_SENTENCE,
                                       text, sizeof(text), &needed),
            EDICT_OK);
  EXPECT_NE(std::string(text).find("acmevpn.always_on"), std::string::npos) << text;
  ASSERT_EQ(edict_resolve_name(p.get(), "acmevpn.always_on", nullptr, nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.setting, always_on);
  const int32_t beyond = edict_catalogs_count(pc, EDICT_ENTRY_SETTING);
  EXPECT_EQ(edict_resolve_with(p.get(), beyond, b.get(), nullptr, &r), EDICT_ERR_UNKNOWN_ID);
}

TEST(CapiCatalogs, QueriesWithABuilderNeverAllocate) {
  CatalogsPtr c = OpenAcme();
  PolicyPtr p = OpenAttributePolicy(c.get());
  ASSERT_NE(p, nullptr);
  edict_context_builder* raw = nullptr;
  ASSERT_EQ(edict_context_builder_new(c.get(), &raw), EDICT_OK);
  BuilderPtr b(raw);
  edict_context ctx;
  edict_context_init(&ctx);
  const char* groups[] = {"finance"};
  ctx.groups = groups;
  ctx.group_count = 1;
  ctx.device_managed = EDICT_TRI_YES;
  ASSERT_EQ(edict_context_builder_set_base(b.get(), &ctx), EDICT_OK);
  ASSERT_EQ(edict_context_builder_set_enum(b.get(), "acmevpn.network_trust", "captive"), EDICT_OK);
  ASSERT_EQ(edict_context_builder_set_integer(b.get(), "acmevpn.tunnel_count", 2), EDICT_OK);
  const char* regions[] = {"EU"};
  ASSERT_EQ(edict_context_builder_set_strings(b.get(), "acmevpn.gateway_regions", regions, 1),
            EDICT_OK);
  const int32_t gateway =
      edict_catalogs_find(c.get(), EDICT_ENTRY_SETTING, "acmevpn.gateway_address");
  const int32_t posture =
      edict_catalogs_find(c.get(), EDICT_ENTRY_SCHEDULE, "acmevpn.posture_check_interval");
  const int32_t dumps = edict_catalogs_find(c.get(), EDICT_ENTRY_DATA_CLASS, "acmevpn.crash_dumps");
  const int32_t trouble =
      edict_catalogs_find(c.get(), EDICT_ENTRY_PURPOSE, "acmevpn.troubleshooting");
  edict_resolution r;
  edict_data_use d;
  edict_schedule s;
  char text[2048];
  size_t needed = 0;

  StartCountingAllocations();
  for (int i = 0; i < 10; ++i) {
    edict_resolve_with(p.get(), gateway, b.get(), nullptr, &r);
    edict_may_use_with(p.get(), dumps, trouble, b.get(), &d);
    edict_schedule_get_with(p.get(), posture, b.get(), &s);
    edict_explain_setting_with(p.get(), gateway, b.get(), nullptr, EDICT_EXPLAIN_WITH_CANDIDATES,
                               text, sizeof(text), &needed);
    edict_explain_data_use_with(p.get(), dumps, trouble, b.get(), EDICT_EXPLAIN_SENTENCE, text,
                                sizeof(text), &needed);
    edict_explain_schedule_with(p.get(), posture, b.get(), EDICT_EXPLAIN_SENTENCE, text,
                                sizeof(text), &needed);
    edict_catalogs_find(c.get(), EDICT_ENTRY_ATTRIBUTE, "acmevpn.on_battery");
  }
  EXPECT_EQ(StopCountingAllocations(), 0);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);
  EXPECT_STREQ(r.value.text, "eu.vpn.contoso.example");
  EXPECT_EQ(s.interval_seconds, 900);
}

TEST(CapiCatalogs, BuilderErrorsLeaveItUnchanged) {
  CatalogsPtr c = OpenAcme();
  edict_context_builder* raw = nullptr;
  ASSERT_EQ(edict_context_builder_new(c.get(), &raw), EDICT_OK);
  BuilderPtr b(raw);
  EXPECT_EQ(edict_context_builder_set_bool(b.get(), "acmevpn.no_such", 1), EDICT_ERR_UNKNOWN_ID);
  EXPECT_EQ(edict_context_builder_unset(b.get(), "acmevpn.no_such"), EDICT_ERR_UNKNOWN_ID);
  EXPECT_EQ(edict_context_builder_set_integer(b.get(), "acmevpn.network_trust", 1),
            EDICT_ERR_INVALID_ARGUMENT);  // wrong type
  EXPECT_EQ(edict_context_builder_set_bool(b.get(), "acmevpn.tunnel_count", 1),
            EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_context_builder_set_enum(b.get(), "acmevpn.network_trust", "hostile"),
            EDICT_ERR_INVALID_ARGUMENT);  // not one of its values
  EXPECT_EQ(edict_context_builder_set_enum(b.get(), "acmevpn.network_trust", nullptr),
            EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_context_builder_set_integer(b.get(), "acmevpn.tunnel_count", 17),
            EDICT_ERR_INVALID_ARGUMENT);  // outside 0..16
  EXPECT_EQ(edict_context_builder_set_integer(b.get(), "acmevpn.tunnel_count", -1),
            EDICT_ERR_INVALID_ARGUMENT);
  const char* with_null[] = {"EU", nullptr};
  EXPECT_EQ(edict_context_builder_set_strings(b.get(), "acmevpn.gateway_regions", with_null, 2),
            EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_context_builder_set_bool(b.get(), nullptr, 1), EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_context_builder_set_bool(nullptr, "acmevpn.on_battery", 1),
            EDICT_ERR_INVALID_ARGUMENT);
  edict_context bad;
  edict_context_init(&bad);
  bad.identity = 42;
  EXPECT_EQ(edict_context_builder_set_base(b.get(), &bad), EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_context_builder_new(c.get(), nullptr), EDICT_ERR_INVALID_ARGUMENT);

  // A builder of the built-in set knows no Acme attribute.
  ASSERT_EQ(edict_context_builder_new(nullptr, &raw), EDICT_OK);
  BuilderPtr builtin(raw);
  EXPECT_EQ(edict_context_builder_set_bool(builtin.get(), "acmevpn.on_battery", 1),
            EDICT_ERR_UNKNOWN_ID);

  // A builder only goes with policies of its own set.
  PolicyPtr p = OpenAttributePolicy(c.get());
  ASSERT_NE(p, nullptr);
  edict_resolution r;
  EXPECT_EQ(edict_resolve_with(p.get(), 0, builtin.get(), nullptr, &r), EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_resolve_with(p.get(), 0, b.get(), nullptr, &r), EDICT_OK);
  CatalogsPtr other = OpenAcme();  // the same bytes, another set: other handles
  ASSERT_EQ(edict_context_builder_new(other.get(), &raw), EDICT_OK);
  BuilderPtr b_other(raw);
  EXPECT_EQ(edict_resolve_with(p.get(), 0, b_other.get(), nullptr, &r), EDICT_ERR_INVALID_ARGUMENT);
  PolicyPtr defaults;
  edict_policy* d = nullptr;
  ASSERT_EQ(edict_open_defaults(&d), EDICT_OK);
  defaults.reset(d);
  EXPECT_EQ(edict_resolve_with(d, 0, builtin.get(), nullptr, &r), EDICT_OK);
  EXPECT_EQ(edict_resolve_with(d, 0, b.get(), nullptr, &r), EDICT_ERR_INVALID_ARGUMENT);
}

TEST(CapiCatalogs, BadCatalogueInputs) {
  TempDir dir;
  edict_error error;
  edict_catalogs* c = reinterpret_cast<edict_catalogs*>(&error);  // must be reset on failure

  const std::string garbage(512, 'x');
  EXPECT_EQ(edict_catalogs_open_memory(garbage.data(), garbage.size(), &c, &error),
            EDICT_ERR_CATALOG);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(error.status, EDICT_ERR_CATALOG);
  EXPECT_NE(error.message[0], '\0');
  EXPECT_STREQ(edict_strerror(EDICT_ERR_CATALOG), "product catalogue rejected");

  const std::string truncated = AcmeCatalog().substr(0, AcmeCatalog().size() / 2);
  const std::string truncated_path = dir.Write("truncated.edcat", truncated);
  EXPECT_EQ(edict_catalogs_open_file(truncated_path.c_str(), &c, &error), EDICT_ERR_CATALOG);
  EXPECT_NE(std::string(error.message).find(truncated_path), std::string::npos) << error.message;

  EXPECT_EQ(edict_catalogs_open_file((dir.path() + "/absent.edcat").c_str(), &c, &error),
            EDICT_ERR_NOT_FOUND);
  EXPECT_EQ(edict_catalogs_open_file(dir.path().c_str(), &c, &error), EDICT_ERR_IO);  // a directory

  // A FIFO with no writer: refused at once, not read (and no hang).
  const std::string fifo = dir.path() + "/fifo.edcat";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(edict_catalogs_open_file(fifo.c_str(), &c, &error), EDICT_ERR_IO);
  EXPECT_NE(std::string(error.message).find("not a regular file"), std::string::npos)
      << error.message;
  EXPECT_EQ(c, nullptr);

  // Two catalogues of one product: the set is refused.
  edict_catalog_builder* b = nullptr;
  ASSERT_EQ(edict_catalog_builder_new(&b), EDICT_OK);
  const std::string path = dir.Write("acmevpn.edcat", AcmeCatalog());
  ASSERT_EQ(edict_catalog_builder_add_file(b, path.c_str(), &error), EDICT_OK);
  EXPECT_EQ(edict_catalog_builder_add_memory(b, garbage.data(), garbage.size(), "junk", &error),
            EDICT_ERR_CATALOG);  // refused at once, builder unchanged
  EXPECT_NE(std::string(error.message).find("junk"), std::string::npos) << error.message;
  ASSERT_EQ(edict_catalog_builder_build(b, &c, &error), EDICT_OK) << error.message;
  EXPECT_EQ(edict_catalogs_product_count(c), 1);
  edict_catalogs_free(c);
  ASSERT_EQ(edict_catalog_builder_add_memory(b, AcmeCatalog().data(), AcmeCatalog().size(), "again",
                                             &error),
            EDICT_OK);
  EXPECT_EQ(edict_catalog_builder_build(b, &c, &error), EDICT_ERR_CATALOG);
  EXPECT_EQ(c, nullptr);
  EXPECT_NE(error.message[0], '\0');
  edict_catalog_builder_free(b);

  // NULLs.
  EXPECT_EQ(edict_catalogs_open_file(nullptr, &c, &error), EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_catalogs_open_memory(nullptr, 3, &c, &error), EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_catalogs_open_memory(AcmeCatalog().data(), AcmeCatalog().size(), nullptr, &error),
            EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_catalogs_find(nullptr, EDICT_ENTRY_SETTING, nullptr), -1);
  edict_catalogs_free(nullptr);
  edict_catalog_builder_free(nullptr);
  edict_context_builder_free(nullptr);
  EXPECT_EQ(edict_policy_catalogs(nullptr), nullptr);
}

TEST(CapiCatalogs, PolicyWithoutTheCatalogueSkipsItsRules) {
  // The payload names Acme VPN settings and attributes: the built-in catalogue skips them.
  edict_policy* p = nullptr;
  edict_error error;
  ASSERT_EQ(edict_open_payload(AttributePolicy().data(), AttributePolicy().size(), &p, &error),
            EDICT_OK)
      << error.message;
  PolicyPtr policy(p);
  EXPECT_GT(edict_skipped_rules(p), 0u);
  edict_resolution r;
  EXPECT_EQ(edict_resolve_name(p, "acmevpn.always_on", nullptr, nullptr, &r), EDICT_ERR_UNKNOWN_ID);
}

TEST(CapiCatalogs, DefaultsOfASetAndConcurrentQueries) {
  CatalogsPtr c = OpenAcme();
  edict_policy* p = nullptr;
  ASSERT_EQ(edict_open_defaults_with_catalogs(c.get(), &p), EDICT_OK);
  PolicyPtr policy(p);
  c.reset();
  const edict_catalogs* pc = edict_policy_catalogs(p);
  const int32_t protocol = edict_catalogs_find(pc, EDICT_ENTRY_SETTING, "acmevpn.protocol");
  edict_resolution r;
  ASSERT_EQ(edict_resolve(p, protocol, nullptr, nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_DEFAULT);
  EXPECT_EQ(r.serial, 0u);
  EXPECT_EQ(r.value.type, EDICT_TYPE_ENUM);

  // With the policy: many threads on one policy and one builder.
  PolicyPtr attrs;
  {
    CatalogsPtr c2 = OpenAcme();
    attrs = OpenAttributePolicy(c2.get());
  }
  ASSERT_NE(attrs, nullptr);
  const edict_catalogs* ac = edict_policy_catalogs(attrs.get());
  edict_context_builder* raw = nullptr;
  ASSERT_EQ(edict_context_builder_new(ac, &raw), EDICT_OK);
  BuilderPtr b(raw);
  ASSERT_EQ(edict_context_builder_set_enum(b.get(), "acmevpn.network_trust", "untrusted"),
            EDICT_OK);
  const int32_t always_on = edict_catalogs_find(ac, EDICT_ENTRY_SETTING, "acmevpn.always_on");
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        edict_resolution rr;
        if (edict_resolve_with(attrs.get(), always_on, b.get(), nullptr, &rr) != EDICT_OK ||
            rr.value.number != 1 || rr.source != EDICT_SOURCE_MANDATORY) {
          ++bad[t];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(bad[t], 0);
}

TEST(CapiCatalogs, CppFace) {
  TempDir dir;
  const std::string path = dir.Write("acmevpn.edcat", AcmeCatalog());
  api::StatusOr<api::Catalogs> catalogs = api::Catalogs::OpenFile(path.c_str());
  ASSERT_TRUE(catalogs.ok()) << catalogs.status().message();
  const std::vector<edict_product_info> products = catalogs->products();
  ASSERT_EQ(products.size(), 1u);
  EXPECT_STREQ(products[0].id, "acmevpn");
  EXPECT_EQ(catalogs->Setting("communicator.ceip").value, edict_setting_id("communicator.ceip"));
  EXPECT_TRUE(catalogs->Setting("acmevpn.always_on").known());
  EXPECT_GE(catalogs->Attribute("acmevpn.on_battery"), 0);

  const std::string& payload = AttributePolicy();
  api::StatusOr<api::Policy> policy = api::Policy::OpenUnverifiedPayload(
      *catalogs,
      api::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  api::ContextBuilder ctx(policy->catalogs());
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx.SetEnum("acmevpn.network_trust", "untrusted"), EDICT_OK);
  EXPECT_EQ(ctx.SetEnum("acmevpn.network_trust", "nope"), EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ctx.SetBool("acmevpn.nope", true), EDICT_ERR_UNKNOWN_ID);
  const api::SettingId always_on = policy->Setting("acmevpn.always_on");
  api::StatusOr<edict_resolution> r = policy->Resolve(always_on, ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source, EDICT_SOURCE_MANDATORY);
  EXPECT_EQ(r->value.number, 1);
  EXPECT_NE(policy->Explain(always_on, ctx).find("acmevpn.always_on"), std::string::npos);

  api::StatusOr<api::Catalogs> bad = api::Catalogs::OpenMemory(
      api::Span<const uint8_t>(reinterpret_cast<const uint8_t*>("junk"), 4));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), EDICT_ERR_CATALOG);
  EXPECT_FALSE(bad.status().message().empty());

  const std::string& bytes = AcmeCatalog();
  api::StatusOr<api::Catalogs> twice = api::Catalogs::Open(
      {path.c_str()},
      {api::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().code(), EDICT_ERR_CATALOG);

  api::StatusOr<api::Policy> defaults = api::Policy::Defaults(*catalogs);
  ASSERT_TRUE(defaults.ok());
  api::ContextBuilder other(*catalogs);
  // `catalogs` and the policy's set are the same set: builders of either fit.
  EXPECT_TRUE(defaults->Resolve(defaults->Setting("acmevpn.always_on"), other).ok());
}

}  // namespace
}  // namespace edict::capi_test
