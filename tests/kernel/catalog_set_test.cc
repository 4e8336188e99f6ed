// Catalogue sets in the kernel: product catalogues loaded at run time, their settings
// queried by handle, their context attributes in conditions, their data classes and
// schedules (issue 18).
#include "policy/catalog/catalog_set.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernel/kernel.h"
#include "kernel/publisher.h"
#include "policy/catalog/catalog_source.h"
#include "tests/kernel/payload_builder.h"

namespace edict {
namespace {

using ::edict::testing::Activated;
using ::edict::testing::Attr;
using ::edict::testing::BoolRule;
using ::edict::testing::Cond;
using ::edict::testing::DRule;
using ::edict::testing::KRule;
using ::edict::testing::Policy;
using ::testing::HasSubstr;

std::string ReadSource(const std::string& rel) {
  std::ifstream in(std::string(EDICT_SOURCE_DIR) + "/" + rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The acmevpn sample catalogue, compiled as `edictctl catalog build` does.
std::string AcmeBytes() {
  static const std::string* const kBytes = [] {
    auto b = catalogs::BuildCatalog(ReadSource("examples/catalogs/acmevpn.json"), "acmevpn.json");
    EXPECT_TRUE(b.ok()) << b.status();
    return new std::string(b.ok() ? *b : "");
  }();
  return *kBytes;
}

std::shared_ptr<const CatalogSet> AcmeSet() {
  auto set = CatalogSet::Create({{"/usr/share/edict/catalogs/acmevpn.edcat", AcmeBytes()}});
  EXPECT_TRUE(set.ok()) << set.status();
  return set.ok() ? *set : nullptr;
}

// A second product: the acmevpn source with its product id and every id renamed.
std::string RenamedBytes(const std::string& product) {
  std::string src = ReadSource("examples/catalogs/acmevpn.json");
  for (size_t at = 0; (at = src.find("acmevpn", at)) != std::string::npos; at += product.size()) {
    src.replace(at, 7, product);
  }
  auto b = catalogs::BuildCatalog(src, product + ".json");
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *b : "";
}

TEST(CatalogSet, BuiltinHandlesAreTheCatalogueNumbers) {
  const CatalogSet& b = CatalogSet::Builtin();
  ASSERT_EQ(b.settings().size(), catalog::kSettings.size());
  for (size_t i = 0; i < catalog::kSettings.size(); ++i) {
    EXPECT_EQ(b.FindSetting(catalog::kSettings[i].id), static_cast<int>(i));
  }
  EXPECT_EQ(b.FindSetting("acmevpn.always_on"), -1);
  EXPECT_TRUE(b.products().empty());
}

// The built-in condition terms are rows of the built-in catalogue's attribute table, one
// per BuiltinTerm, with the names, types and values the policy language uses.
TEST(CatalogSet, BuiltinTermsAreRowsOfTheAttributeTable) {
  const CatalogSet& b = CatalogSet::Builtin();
  ASSERT_EQ(b.attributes().size(), static_cast<size_t>(kBuiltinTermCount - 1));
  EXPECT_EQ(b.BuiltinAttribute(BuiltinTerm::kNone), -1);
  for (int t = 1; t < kBuiltinTermCount; ++t) {
    const int h = b.BuiltinAttribute(static_cast<BuiltinTerm>(t));
    ASSERT_GE(h, 0) << t;
    EXPECT_EQ(static_cast<int>(b.attributes()[h].term), t);
    EXPECT_EQ(b.FindAttribute(b.attributes()[h].name), h);
    EXPECT_EQ(b.attributes()[h].product, -1);
  }
  const AttributeSpec& plan = b.attributes()[b.FindAttribute("plan")];
  EXPECT_EQ(plan.term, BuiltinTerm::kPlan);
  EXPECT_EQ(plan.type, AttributeType::kEnum);
  ASSERT_EQ(plan.values.size(), 3u);
  EXPECT_EQ(plan.values[2], "trial");  // bit 2 of fb::Plan
  EXPECT_EQ(b.attributes()[b.FindAttribute("groups")].type, AttributeType::kStringSet);
  EXPECT_EQ(b.attributes()[b.FindAttribute("os_generation")].type, AttributeType::kIntRange);
  EXPECT_EQ(b.attributes()[b.FindAttribute("domain_joined")].type, AttributeType::kBool);
}

bool SameCondition(const ConditionSpec& a, const ConditionSpec& b) {
  return a.identity == b.identity && a.domain_joined == b.domain_joined &&
         a.device_managed == b.device_managed && a.plans == b.plans && a.roles == b.roles &&
         a.account_creation == b.account_creation && a.os_min == b.os_min && a.os_max == b.os_max &&
         a.state_all == b.state_all && a.state_none == b.state_none && a.region == b.region;
}

// The built-in catalogue is loaded from its embedded binary form through the path every
// product catalogue takes; it must say exactly what the generated constexpr tables say.
TEST(CatalogSet, BuiltinLoadedLikeAProductEqualsTheGeneratedTables) {
  const CatalogSet& b = CatalogSet::Builtin();
  ASSERT_EQ(b.settings().size(), catalog::kSettings.size());
  for (size_t i = 0; i < catalog::kSettings.size(); ++i) {
    const SettingSpec& x = b.settings()[i];
    const SettingSpec& y = catalog::kSettings[i];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.num, y.num);
    EXPECT_EQ(x.type, y.type) << y.id;
    EXPECT_EQ(x.setters, y.setters) << y.id;
    EXPECT_EQ(x.scope, y.scope) << y.id;
    EXPECT_EQ(x.at_account_creation, y.at_account_creation) << y.id;
    EXPECT_EQ(x.fixed, y.fixed) << y.id;
    ASSERT_EQ(x.value_count, y.value_count) << y.id;
    for (int v = 0; v < y.value_count; ++v) EXPECT_EQ(x.values[v], y.values[v]) << y.id;
    EXPECT_EQ(x.default_int, y.default_int) << y.id;
    EXPECT_EQ(x.default_string, y.default_string) << y.id;
    EXPECT_EQ(x.obligations_if_enabled, y.obligations_if_enabled) << y.id;
    EXPECT_EQ(x.atomic_group, y.atomic_group) << y.id;
    EXPECT_EQ(x.seed, y.seed) << y.id;
    EXPECT_EQ(x.description, y.description) << y.id;
    EXPECT_EQ(x.caveat, y.caveat) << y.id;
  }
  ASSERT_EQ(b.atomic_groups().size(), catalog::kAtomicGroups.size());
  for (size_t g = 0; g < catalog::kAtomicGroups.size(); ++g) {
    EXPECT_EQ(b.atomic_groups()[g].id, catalog::kAtomicGroups[g].id);
    ASSERT_EQ(b.atomic_groups()[g].member_count, catalog::kAtomicGroups[g].member_count);
    for (int m = 0; m < catalog::kAtomicGroups[g].member_count; ++m) {
      EXPECT_EQ(b.atomic_groups()[g].members[m], catalog::kAtomicGroups[g].members[m]);
    }
  }
  ASSERT_EQ(b.data_classes().size(), catalog::kDataClasses.size());
  for (size_t i = 0; i < catalog::kDataClasses.size(); ++i) {
    EXPECT_EQ(b.data_classes()[i].id, catalog::kDataClasses[i].id);
    EXPECT_EQ(b.data_classes()[i].obligations, catalog::kDataClasses[i].obligations);
    EXPECT_EQ(b.data_classes()[i].seed, catalog::kDataClasses[i].seed);
  }
  ASSERT_EQ(b.purposes().size(), catalog::kPurposes.size());
  for (size_t i = 0; i < catalog::kPurposes.size(); ++i) {
    EXPECT_EQ(b.purposes()[i].id, catalog::kPurposes[i].id);
  }
  ASSERT_EQ(b.schedules().size(), catalog::kSchedules.size());
  for (size_t c = 0; c < catalog::kDataClasses.size(); ++c) {
    for (size_t p = 0; p < catalog::kPurposes.size(); ++p) {
      const Table<BuiltinDataUse> x = b.BuiltinRulesFor(static_cast<int>(c), static_cast<int>(p));
      const Table<BuiltinDataUse> y =
          catalog::BuiltinRulesFor(static_cast<int>(c), static_cast<int>(p));
      ASSERT_EQ(x.size(), y.size()) << c << " x " << p;
      for (size_t i = 0; i < y.size(); ++i) {
        EXPECT_EQ(x[i].data_class, y[i].data_class);
        EXPECT_EQ(x[i].purpose, y[i].purpose);
        EXPECT_EQ(x[i].allow, y[i].allow);
        EXPECT_EQ(x[i].fixed, y[i].fixed);
        EXPECT_EQ(x[i].obligations, y[i].obligations);
        EXPECT_EQ(x[i].specificity, y[i].specificity);
        EXPECT_TRUE(SameCondition(x[i].when, y[i].when)) << c << " x " << p << " #" << i;
        EXPECT_EQ(x[i].seed, y[i].seed);
        EXPECT_EQ(x[i].note, y[i].note);
      }
    }
  }
  EXPECT_EQ(b.builtin_data_use().size(), catalog::kBuiltinDataUse.size());
  for (size_t k = 0; k < catalog::kSchedules.size(); ++k) {
    const Table<BuiltinSchedule> x = b.BuiltinRulesFor(static_cast<int>(k));
    const Table<BuiltinSchedule> y = catalog::BuiltinRulesFor(static_cast<int>(k));
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < y.size(); ++i) {
      EXPECT_EQ(x[i].interval_seconds, y[i].interval_seconds);
      EXPECT_EQ(x[i].specificity, y[i].specificity);
      EXPECT_TRUE(SameCondition(x[i].when, y[i].when));
      EXPECT_EQ(x[i].note, y[i].note);
    }
  }
  ASSERT_EQ(b.compliance_tags().size(), catalog::kComplianceTags.size());
  for (size_t t = 0; t < catalog::kComplianceTags.size(); ++t) {
    const ComplianceTagSpec& x = b.compliance_tags()[t];
    const ComplianceTagSpec& y = catalog::kComplianceTags[t];
    EXPECT_EQ(x.id, y.id);
    ASSERT_EQ(x.forbid_count, y.forbid_count) << y.id;
    for (int f = 0; f < y.forbid_count; ++f) {
      EXPECT_EQ(x.forbids[f].setting, y.forbids[f].setting);
      EXPECT_EQ(x.forbids[f].value_int, y.forbids[f].value_int);
    }
  }
}

TEST(CatalogSet, ProductSettingsFollowTheBuiltInOnes) {
  auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  // Built-in handles are unchanged.
  for (size_t i = 0; i < catalog::kSettings.size(); ++i) {
    EXPECT_EQ(set->FindSetting(catalog::kSettings[i].id), static_cast<int>(i));
  }
  ASSERT_EQ(set->products().size(), 1u);
  const ProductSpec& p = set->products()[0];
  EXPECT_EQ(p.id, "acmevpn");
  EXPECT_EQ(p.vendor, "Acme Networks");
  EXPECT_EQ(p.version, 1u);
  EXPECT_EQ(p.origin, "/usr/share/edict/catalogs/acmevpn.edcat");
  EXPECT_EQ(p.hash, catalogs::Fnv1a64(AcmeBytes()));
  EXPECT_EQ(p.first_setting, static_cast<int>(catalog::kSettings.size()));
  EXPECT_EQ(p.setting_count, 47);
  const int h = set->FindSetting("acmevpn.always_on");
  ASSERT_EQ(h, p.first_setting);
  EXPECT_EQ(set->ProductOfSetting(h), 0);
  EXPECT_EQ(set->ProductOfSetting(0), -1);
  ASSERT_NE(set->ProductSetting(h), nullptr);
  EXPECT_EQ(set->ProductSetting(0), nullptr);
  EXPECT_EQ(set->settings()[h].type, SettingType::kBool);
  EXPECT_EQ(set->attributes().size(), CatalogSet::Builtin().attributes().size() + 4u);
  const int trust = set->FindAttribute("acmevpn.network_trust");
  ASSERT_GE(trust, 0);
  EXPECT_EQ(set->attributes()[trust].type, AttributeType::kEnum);
  EXPECT_EQ(set->attributes()[trust].values.size(), 3u);
  EXPECT_GE(set->FindDataClass("acmevpn.connection_logs"), 0);
  EXPECT_GE(set->FindSchedule("acmevpn.posture_check_interval"), 0);
}

TEST(CatalogSet, HandlesDoNotDependOnLoadOrder) {
  const std::string other = RenamedBytes("zetavpn");
  auto ab = CatalogSet::Create({{"a", AcmeBytes()}, {"z", other}});
  auto ba = CatalogSet::Create({{"z", other}, {"a", AcmeBytes()}});
  ASSERT_TRUE(ab.ok()) << ab.status();
  ASSERT_TRUE(ba.ok()) << ba.status();
  ASSERT_EQ((*ab)->settings().size(), (*ba)->settings().size());
  for (size_t i = 0; i < (*ab)->settings().size(); ++i) {
    EXPECT_EQ((*ab)->settings()[i].id, (*ba)->settings()[i].id);
  }
  EXPECT_EQ((*ab)->products()[0].id, "acmevpn");
  EXPECT_EQ((*ab)->products()[1].id, "zetavpn");
}

TEST(CatalogSet, RefusesBadSets) {
  auto twice = CatalogSet::Create({{"one.edcat", AcmeBytes()}, {"two.edcat", AcmeBytes()}});
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(std::string(twice.status().message()),
              HasSubstr("a second catalogue of product \"acmevpn\""));
  auto garbage = CatalogSet::Create({{"bad.edcat", "not a catalogue at all"}});
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(std::string(garbage.status().message()), HasSubstr("bad.edcat: "));
  std::string flipped = AcmeBytes();
  flipped[flipped.size() / 2] ^= 0x5A;
  auto tampered = CatalogSet::Create({{"tampered.edcat", flipped}});
  // Either the verifier or a catalogue rule refuses it, or the byte was in a description;
  // the hash tells the two versions apart in any case.
  if (tampered.ok()) {
    EXPECT_NE((*tampered)->products()[0].hash, catalogs::Fnv1a64(AcmeBytes()));
  }
}

TEST(CatalogSet, ProductSettingsAnswerByHandleWithTheirDefaults) {
  auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  std::vector<std::max_align_t> arena(Snapshot::DefaultsArenaSize(*set) / sizeof(std::max_align_t) +
                                      1);
  auto defaults =
      Snapshot::Defaults(*set, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(arena.data()),
                                                   arena.size() * sizeof(std::max_align_t)));
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  for (size_t h = 0; h < set->settings().size(); ++h) {
    const SettingSpec& spec = set->settings()[h];
    const Resolution r = (*defaults)->Resolve(static_cast<int>(h), Context{});
    ASSERT_EQ(r.setting, static_cast<int>(h));
    EXPECT_EQ(r.value.type, spec.type) << spec.id;
    if (spec.type != SettingType::kString) {
      EXPECT_EQ(r.value.number, spec.default_int) << spec.id;
    }
    EXPECT_EQ(r.source, spec.fixed ? Source::kFixed : Source::kDefault) << spec.id;
  }
  const int always_on = set->FindSetting("acmevpn.always_on");
  EXPECT_EQ((*defaults)->Resolve(always_on, Context{}).value.number, 0);
  EXPECT_EQ((*defaults)->Resolve(static_cast<int>(set->settings().size()), Context{}).notes,
            kNoteUnknownSetting);
}

Context WithAttrs(absl::Span<const AttributeValue> values) {
  Context c;
  c.attributes = values;
  return c;
}

TEST(CatalogSet, AttributeTermsOfEveryType) {
  auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const int trust = set->FindAttribute("acmevpn.network_trust");
  const int tunnels = set->FindAttribute("acmevpn.tunnel_count");
  const int battery = set->FindAttribute("acmevpn.on_battery");
  const int regions = set->FindAttribute("acmevpn.gateway_regions");
  Policy p;
  Cond untrusted;  // rule 0
  untrusted.attributes = {Attr{"acmevpn.network_trust", 0, {"untrusted", "captive"}}};
  p.settings.push_back(BoolRule("acmevpn.always_on", 0, true, untrusted));
  Cond many;  // rule 1
  many.attributes = {Attr{"acmevpn.tunnel_count", 0, {}, 2, 16}};
  p.settings.push_back(BoolRule("acmevpn.lockdown_mode", 0, true, many));
  Cond on_battery;  // rule 2
  on_battery.attributes = {Attr{"acmevpn.on_battery", 1}};
  p.settings.push_back(BoolRule("acmevpn.auto_update", 0, false, on_battery));
  Cond eu;  // rule 3: two terms, both must hold
  eu.attributes = {Attr{"acmevpn.gateway_regions", 0, {"EU"}},
                   Attr{"acmevpn.network_trust", 0, {"trusted"}}};
  p.settings.push_back(BoolRule("acmevpn.dns_leak_protection", 0, false, eu));
  Activated a(p.Build(), *set);
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_EQ(a->skipped_count(), 0u);
  const int always_on = set->FindSetting("acmevpn.always_on");
  const int lockdown = set->FindSetting("acmevpn.lockdown_mode");
  const int auto_update = set->FindSetting("acmevpn.auto_update");
  const int dns = set->FindSetting("acmevpn.dns_leak_protection");

  // Unknown attributes never satisfy a term.
  EXPECT_EQ(a->Resolve(always_on, Context{}).source, Source::kDefault);
  EXPECT_EQ(a->Resolve(lockdown, Context{}).source, Source::kDefault);
  EXPECT_EQ(a->Resolve(auto_update, Context{}).source, Source::kDefault);

  const AttributeValue captive[] = {{trust, 2, {}}};
  EXPECT_EQ(a->Resolve(always_on, WithAttrs(captive)).value.number, 1);
  EXPECT_EQ(a->Resolve(always_on, WithAttrs(captive)).rule, 0);
  const AttributeValue trusted[] = {{trust, 0, {}}};
  EXPECT_EQ(a->Resolve(always_on, WithAttrs(trusted)).source, Source::kDefault);

  const AttributeValue three[] = {{tunnels, 3, {}}};
  const AttributeValue one[] = {{tunnels, 1, {}}};
  EXPECT_EQ(a->Resolve(lockdown, WithAttrs(three)).source, Source::kMandatory);
  EXPECT_EQ(a->Resolve(lockdown, WithAttrs(one)).source, Source::kDefault);

  const AttributeValue yes[] = {{battery, 1, {}}};
  const AttributeValue no[] = {{battery, 0, {}}};
  EXPECT_EQ(a->Resolve(auto_update, WithAttrs(yes)).source, Source::kMandatory);
  EXPECT_EQ(a->Resolve(auto_update, WithAttrs(no)).source, Source::kDefault);

  const std::string_view eu_us[] = {"US", "EU"};
  const std::string_view us[] = {"US"};
  const AttributeValue in_eu_trusted[] = {{regions, 0, eu_us}, {trust, 0, {}}};
  const AttributeValue in_us_trusted[] = {{regions, 0, us}, {trust, 0, {}}};
  const AttributeValue in_eu_untrusted[] = {{trust, 1, {}}, {regions, 0, eu_us}};
  EXPECT_EQ(a->Resolve(dns, WithAttrs(in_eu_trusted)).source, Source::kMandatory);
  EXPECT_EQ(a->Resolve(dns, WithAttrs(in_us_trusted)).source, Source::kDefault);
  EXPECT_EQ(a->Resolve(dns, WithAttrs(in_eu_untrusted)).source, Source::kDefault);

  // Explain names the failed attribute term, as the compiled matcher found it.
  char text[1024];
  const Resolution r = a->Resolve(dns, WithAttrs(in_eu_untrusted));
  a->Explain(r, WithAttrs(in_eu_untrusted), nullptr, ExplainDetail::kWithCandidates, text);
  EXPECT_THAT(std::string(text),
              HasSubstr("attribute acmevpn.network_trust is untrusted, rule needs "
                        "acmevpn.network_trust trusted"));
  const Resolution won = a->Resolve(always_on, WithAttrs(captive));
  a->Explain(won, WithAttrs(captive), nullptr, ExplainDetail::kSentence, text);
  EXPECT_THAT(std::string(text), HasSubstr("acmevpn.network_trust untrusted or captive"));
}

TEST(CatalogSet, MoreAttributeTermsMeanMoreSpecific) {
  auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const int trust = set->FindAttribute("acmevpn.network_trust");
  Policy p;
  p.settings.push_back(BoolRule("acmevpn.always_on", 0, false));
  Cond c;
  c.attributes = {Attr{"acmevpn.network_trust", 0, {"untrusted"}}};
  p.settings.push_back(BoolRule("acmevpn.always_on", 0, true, c));
  Activated a(p.Build(), *set);
  ASSERT_TRUE(a.status.ok()) << a.status;
  const AttributeValue untrusted[] = {{trust, 1, {}}};
  EXPECT_EQ(a->Resolve(set->FindSetting("acmevpn.always_on"), WithAttrs(untrusted)).rule, 1);
  EXPECT_EQ(a->Resolve(set->FindSetting("acmevpn.always_on"), Context{}).rule, 0);
}

TEST(CatalogSet, OlderEndpointsSkipWhatTheyDoNotKnow) {
  auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  Policy p;
  p.settings.push_back(BoolRule("acmevpn.always_on", 0, true));
  Cond c;
  c.attributes = {Attr{"acmevpn.future_attribute", 1}};
  p.settings.push_back(BoolRule("communicator.ceip", 0, false, c));
  Cond bad_bool;  // a bool term without `is`
  bad_bool.attributes = {Attr{"acmevpn.on_battery", 0}};
  p.settings.push_back(BoolRule("communicator.ceip", 0, false, bad_bool));
  // A built-in attribute has its own Condition field: as an attribute term it is malformed.
  Cond builtin_row;
  builtin_row.attributes = {Attr{"domain_joined", 1}};
  p.settings.push_back(BoolRule("communicator.ceip", 0, false, builtin_row));
  // The built-in catalogue alone: the product setting and the attribute are unknown.
  Activated builtin(p.Build());
  ASSERT_TRUE(builtin.status.ok()) << builtin.status;
  ASSERT_EQ(builtin->skipped_count(), 4u);
  EXPECT_EQ(builtin->skipped()[0].reason, SkipReason::kUnknownSetting);
  EXPECT_EQ(builtin->skipped()[1].reason, SkipReason::kUnknownAttribute);
  EXPECT_EQ(builtin->skipped()[2].reason, SkipReason::kUnknownAttribute);
  EXPECT_EQ(builtin->skipped()[3].reason, SkipReason::kUnknownAttribute);
  EXPECT_EQ(SkipReasonName(SkipReason::kUnknownAttribute), "unknown context attribute");
  // With the catalogue: only the unknown attribute and the malformed term are skipped.
  Activated with(p.Build(), *set);
  ASSERT_TRUE(with.status.ok()) << with.status;
  ASSERT_EQ(with->skipped_count(), 3u);
  EXPECT_EQ(with->skipped()[0].index, 1u);
  EXPECT_EQ(with->skipped()[1].index, 2u);
  EXPECT_EQ(with->skipped()[2].index, 3u);
  EXPECT_EQ(with->Resolve(set->FindSetting("acmevpn.always_on"), Context{}).value.number, 1);
  // A critical rule the endpoint cannot honour refuses the whole payload.
  p.settings[1].critical = true;
  Activated critical(p.Build(), *set);
  EXPECT_EQ(critical.status.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CatalogSet, ProductDataUseAndSchedules) {
  auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const int logs = set->FindDataClass("acmevpn.connection_logs");
  const int troubleshooting = set->FindPurpose("acmevpn.troubleshooting");
  const int trace = set->FindDataClass("acmevpn.network_trace");
  const int advertising = set->FindPurpose("advertising");
  const int posture = set->FindSchedule("acmevpn.posture_check_interval");
  ASSERT_GE(logs, 0);
  ASSERT_GE(troubleshooting, 0);
  ASSERT_GE(trace, 0);
  ASSERT_GE(advertising, 0);
  ASSERT_GE(posture, 0);
  Policy p;
  p.data_use.push_back(DRule{"acmevpn.connection_logs", "acmevpn.troubleshooting", false});
  p.data_use.push_back(DRule{"acmevpn.network_trace", "advertising", true});  // fixed cell
  Cond managed;
  managed.device_managed = 1;
  p.schedules.push_back(KRule{"acmevpn.posture_check_interval", 600, managed});
  Activated a(p.Build(), *set);
  ASSERT_TRUE(a.status.ok()) << a.status;
  ASSERT_EQ(a->skipped_count(), 1u);
  EXPECT_EQ(a->skipped()[0].reason, SkipReason::kFixedCell);
  const DataUseDecision d = a->MayUse(logs, troubleshooting, Context{});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.source, Source::kMandatory);
  EXPECT_FALSE(a->MayUse(trace, advertising, Context{}).allowed);
  // Built-in default of the product: allowed without a policy.
  EXPECT_TRUE(Activated(Policy{}.Build(), *set)->MayUse(logs, troubleshooting, Context{}).allowed);
  Context unmanaged;
  unmanaged.device_managed = TriState::kNo;
  Context is_managed;
  is_managed.device_managed = TriState::kYes;
  EXPECT_EQ(a->Schedule(posture, unmanaged).interval_seconds, 3600);  // product default
  EXPECT_EQ(a->Schedule(posture, Context{}).interval_seconds, 4 * 3600);
  EXPECT_EQ(a->Schedule(posture, is_managed).interval_seconds, 600);  // the admin's rule
  // Built-in cells of the built-in catalogue keep their answers in a larger set.
  const CatalogSet& b = CatalogSet::Builtin();
  Activated plain(Policy{}.Build());
  for (size_t c = 0; c < b.data_classes().size(); ++c) {
    for (size_t q = 0; q < b.purposes().size(); ++q) {
      Context ctx;
      ctx.identity = Identity::kManaged;
      EXPECT_EQ(plain->MayUse(static_cast<int>(c), static_cast<int>(q), ctx).allowed,
                a->MayUse(static_cast<int>(c), static_cast<int>(q), ctx).allowed)
          << b.data_classes()[c].id << " x " << b.purposes()[q].id;
    }
  }
}

// The publisher keeps the set of the current snapshot alive, and its readers query with
// that set's handles.
TEST(CatalogSet, PublisherKeepsTheSetOfTheCurrentSnapshot) {
  auto set = AcmeSet();
  ASSERT_NE(set, nullptr);
  const int always_on = set->FindSetting("acmevpn.always_on");
  std::weak_ptr<const CatalogSet> watch = set;
  Policy p;
  p.serial = 3;
  p.settings.push_back(BoolRule("acmevpn.always_on", 0, true));
  SnapshotPublisher pub;
  ASSERT_TRUE(pub.Publish(p.Build(), set).ok());
  set.reset();  // only the publisher holds it now
  ASSERT_FALSE(watch.expired());
  {
    SnapshotPublisher::Reader r(pub);
    EXPECT_EQ(r->catalogs().FindSetting("acmevpn.always_on"), always_on);
    EXPECT_EQ(r->Resolve(always_on, Context{}).value.number, 1);
    EXPECT_EQ(r->Resolve(always_on, Context{}).source, Source::kMandatory);
  }
  // The same payload against the built-in catalogue: the rule is skipped, the set freed.
  p.serial = 4;
  ASSERT_TRUE(pub.Publish(p.Build()).ok());
  EXPECT_TRUE(watch.expired());
  SnapshotPublisher::Reader r(pub);
  EXPECT_EQ(&r->catalogs(), &CatalogSet::Builtin());
  EXPECT_EQ(r->skipped_count(), 1u);
}

}  // namespace
}  // namespace edict
