// Catalogue coverage: every setting docs/requirements.md asks for exists in the generated
// catalogue (policy/catalog.h) with the type, default and controllers the requirements
// state; plus structural checks of the generated tables.
#include "policy/catalog.h"

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "policy/edict_generated.h"

namespace edict {
namespace {

constexpr uint8_t U = kSetterUser;
constexpr uint8_t A = kSetterAdmin;
constexpr uint8_t O = kSetterOrganiser;

// A setting of docs/requirements.md sections 1-5 (and the fixed facts they name).
struct SettingRow {
  std::string_view id;
  SettingType type;
  // The default in policy-JSON syntax ("false", "nowhere"), or "" where the requirements do not
  // state one ("user's choice", "admin's").
  std::string_view default_value;
  uint8_t setters;  // 0 = fixed: nobody may change it
  std::vector<std::string_view> values = {};
};

const std::vector<SettingRow>& DomainSettings() {
  static const std::vector<SettingRow> rows = {
      // 1. Communicator
      {"communicator.presence_fields",
       SettingType::kFlags,
       "",
       U | A,
       {"status", "title", "phone", "note", "calendar"}},
      {"communicator.ceip", SettingType::kBool, "false", U | A},
      {"communicator.client_logging", SettingType::kBool, "false", U | A},
      {"communicator.event_log_logging", SettingType::kBool, "false", U | A},
      {"communicator.server_archiving", SettingType::kBool, "false", A},
      {"communicator.conversation_history", SettingType::kBool, "false", U | A},
      {"communicator.online_feedback", SettingType::kBool, "", U},
      {"communicator.log_message_content", SettingType::kBool, "false", 0},  // never logged
      // 2. Live Meeting
      {"livemeeting.participant_recording", SettingType::kBool, "true", A | O},
      {"livemeeting.hidden_participant", SettingType::kBool, "false", A | O},
      {"livemeeting.access_control", SettingType::kBool, "", O},
      {"livemeeting.info_email", SettingType::kBool, "true", U},
      {"livemeeting.service_email", SettingType::kBool, "true", 0},  // cannot opt out
      {"livemeeting.trial_recordings_deleted", SettingType::kBool, "true", 0},
      {"livemeeting.cookies", SettingType::kBool, "true", U},
      // 3. Groove
      {"groove.password_reset.unmanaged", SettingType::kBool, "false", U},
      {"groove.password_reset.managed", SettingType::kBool, "", A},
      {"groove.directory.public",
       SettingType::kEnum,
       "nowhere",
       U | A,
       {"nowhere", "name_only", "full_contact"}},
      {"groove.directory.local_network",
       SettingType::kEnum,
       "nowhere",
       U | A,
       {"nowhere", "name_only", "full_contact"}},
      {"groove.unmanaged_computer_data", SettingType::kBool, "", A},
      {"groove.support_as_domain_admin", SettingType::kBool, "false", A},
      {"groove.proxy_auth", SettingType::kEnum, "", A, {"basic", "ntlm"}},
      {"groove.save_proxy_password", SettingType::kBool, "", U | A},
      {"groove.invitation_confirmation", SettingType::kBool, "", U},
      {"groove.ceip", SettingType::kBool, "false", U | A},
      {"groove.error_reporting", SettingType::kBool, "false", U | A},
      {"groove.send_guids_ip", SettingType::kBool, "true", 0},  // cannot be disabled
      // 4. Genuine-software validation: the tools are a permanent part of the product.
      {"genuine.validation", SettingType::kBool, "true", 0},
      // 5. Online services: footnotes 3 and 4.
      {"online.personalisation_role_only", SettingType::kBool, "", A},
      {"online.correspondence", SettingType::kBool, "", U},
  };
  return rows;
}

std::string DefaultText(const SettingSpec& s) {
  switch (s.type) {
    case SettingType::kBool:
      return s.default_int ? "true" : "false";
    case SettingType::kEnum:
      return s.default_int >= 0 && s.default_int < s.value_count
                 ? std::string(s.values[s.default_int])
                 : "<out of range>";
    default:
      return std::to_string(s.default_int);
  }
}

const SettingSpec* Setting(std::string_view id) {
  const int i = catalog::FindSetting(id);
  return i < 0 ? nullptr : &catalog::kSettings[i];
}

TEST(CatalogCoverage, EverySettingOfTheDomain) {
  for (const SettingRow& row : DomainSettings()) {
    SCOPED_TRACE(std::string(row.id));
    const SettingSpec* s = Setting(row.id);
    ASSERT_NE(s, nullptr) << "missing from the catalogue";
    EXPECT_EQ(s->type, row.type);
    if (!row.default_value.empty()) {
      EXPECT_EQ(DefaultText(*s), row.default_value);
    }
    if (row.setters == 0) {
      EXPECT_TRUE(s->fixed);
      EXPECT_EQ(s->setters, 0);
    } else {
      EXPECT_FALSE(s->fixed);
      EXPECT_EQ(s->setters, row.setters);
    }
    if (!row.values.empty()) {
      ASSERT_EQ(s->value_count, row.values.size());
      for (size_t i = 0; i < row.values.size(); ++i) EXPECT_EQ(s->values[i], row.values[i]);
    }
  }
  // Nothing in the catalogue that the requirements do not ask for.
  EXPECT_EQ(catalog::kSettings.size(), DomainSettings().size());
}

TEST(CatalogCoverage, SettingDetailsTheDomainStates) {
  // CEIP is configured per device; password reset of unmanaged identities only at creation.
  EXPECT_EQ(Setting("communicator.ceip")->scope, Scope::kDevice);
  EXPECT_TRUE(Setting("groove.password_reset.unmanaged")->at_account_creation);
  EXPECT_FALSE(Setting("groove.password_reset.managed")->at_account_creation);
  // Obligations: tell contacts, indicator + tell participants, tell the user, irreversible.
  EXPECT_EQ(Setting("communicator.conversation_history")->obligations_if_enabled, kNotifyOthers);
  EXPECT_EQ(Setting("livemeeting.participant_recording")->obligations_if_enabled,
            kShowIndicator | kNotifyOthers);
  EXPECT_EQ(Setting("groove.password_reset.managed")->obligations_if_enabled, kNotifyUser);
  EXPECT_EQ(Setting("groove.directory.public")->obligations_if_enabled, kWarnIrreversible);
  EXPECT_EQ(Setting("groove.directory.local_network")->obligations_if_enabled, kWarnIrreversible);
  // Explanations the requirements ask for.
  EXPECT_NE(Setting("livemeeting.hidden_participant")->caveat.find("not anonymity"),
            std::string_view::npos);
  EXPECT_NE(Setting("groove.proxy_auth")->caveat.find("clear text"), std::string_view::npos);
  EXPECT_NE(Setting("communicator.client_logging")->caveat.find("never logged"),
            std::string_view::npos);
}

TEST(CatalogCoverage, DataClassesAndTheirObligations) {
  const std::vector<std::pair<std::string_view, Obligations>> classes = {
      {"standard_computer_info", 0},   // 1: travels with every feature
      {"im_content", 0},               // 1: never logged or sent
      {"groove_usage_statistics", 0},  // 3
      {"product_key", kHashField},     // 4: sent hashed
      {"disk_serial", kHashField},
      {"personal_contact", kNeverCollect},  // 4: never collected
      {"device_make_model", 0},
      {"device_guid", 0},
      {"product_id", 0},
      {"bios_info", 0},
      {"install_result", 0},
      {"validation_result", 0},
      {"oem_id", 0},
      {"boot_file", 0},
      {"usage_data", kAggregateOnly},  // 5, footnote 2
      {"account_address_book", 0},
      {"customer_data", 0},
      {"core_customer_data", 0},
      {"admin_contact", 0},                   // footnote 1
      {"browser_analytics", kAggregateOnly},  // footnote 2
  };
  for (const auto& [id, obligations] : classes) {
    SCOPED_TRACE(std::string(id));
    const int i = catalog::FindDataClass(id);
    ASSERT_GE(i, 0);
    EXPECT_EQ(catalog::kDataClasses[i].obligations, obligations);
  }
  EXPECT_EQ(catalog::kDataClasses.size(), classes.size());
}

TEST(CatalogCoverage, Purposes) {
  const std::vector<std::string_view> purposes = {
      "operate",          "security",       "improve", "personalisation",    "correspondence",
      "law_enforcement",  "advertising",    "billing", "licence_validation", "aggregate_statistics",
      "share_aggregates", "admin_reporting"};
  for (std::string_view id : purposes) EXPECT_GE(catalog::FindPurpose(id), 0) << id;
  EXPECT_EQ(catalog::kPurposes.size(), purposes.size());
}

// The built-in rule of a cell that applies when nothing else does (specificity 0).
const BuiltinDataUse* Unconditional(std::string_view data_class, std::string_view purpose) {
  const int c = catalog::FindDataClass(data_class);
  const int p = catalog::FindPurpose(purpose);
  if (c < 0 || p < 0) return nullptr;
  for (const BuiltinDataUse& b : catalog::BuiltinRulesFor(c, p)) {
    if (b.specificity == 0) return &b;
  }
  return nullptr;
}

std::vector<BuiltinDataUse> Conditional(std::string_view data_class, std::string_view purpose) {
  std::vector<BuiltinDataUse> out;
  for (const BuiltinDataUse& b : catalog::BuiltinRulesFor(catalog::FindDataClass(data_class),
                                                          catalog::FindPurpose(purpose))) {
    if (b.specificity != 0) out.push_back(b);
  }
  return out;
}

TEST(CatalogCoverage, OnlineServicesMatrix) {
  // Section 5, row by row: usage, account & address book, customer, core customer.
  const std::vector<std::string_view> classes = {"usage_data", "account_address_book",
                                                 "customer_data", "core_customer_data"};
  const std::vector<std::pair<std::string_view, std::vector<bool>>> matrix = {
      {"operate", {true, true, true, true}},
      {"security", {true, true, true, true}},
      {"improve", {true, true, true, false}},
      {"personalisation", {false, true, false, false}},
      {"correspondence", {false, false, false, false}},  // small business: see below
      {"law_enforcement", {false, false, false, false}},
      {"advertising", {false, false, false, false}},
  };
  for (const auto& [purpose, allowed] : matrix) {
    for (size_t i = 0; i < classes.size(); ++i) {
      SCOPED_TRACE(std::string(classes[i]) + " / " + std::string(purpose));
      const BuiltinDataUse* b = Unconditional(classes[i], purpose);
      ASSERT_NE(b, nullptr);
      EXPECT_EQ(b->allow, allowed[i]);
      // Law enforcement and advertising are "no" everywhere: no policy may change them.
      if (purpose == "law_enforcement" || purpose == "advertising") {
        EXPECT_TRUE(b->fixed);
      }
    }
  }
  // Footnote 4: account data may be used for correspondence on the small-business plan.
  bool small_business = false;
  for (const BuiltinDataUse& b : Conditional("account_address_book", "correspondence")) {
    if (b.when.plans == fb::Plan_SmallBusiness && b.allow) small_business = true;
  }
  EXPECT_TRUE(small_business);
}

TEST(CatalogCoverage, Footnotes) {
  // (1) Admin contact data: billing, law enforcement and extra correspondence.
  for (std::string_view p : {"billing", "law_enforcement", "correspondence"}) {
    const BuiltinDataUse* b = Unconditional("admin_contact", p);
    ASSERT_NE(b, nullptr) << p;
    EXPECT_TRUE(b->allow) << p;
  }
  // (2) Browser analytics: admin portal, non-admin users with a US address, small business.
  const BuiltinDataUse* base = Unconditional("browser_analytics", "improve");
  ASSERT_NE(base, nullptr);
  EXPECT_FALSE(base->allow);
  bool admin = false, us_user = false, small_business = false;
  for (const BuiltinDataUse& b : Conditional("browser_analytics", "improve")) {
    if (!b.allow) continue;
    admin |= b.when.roles == fb::Role_Admin;
    us_user |= b.when.roles == fb::Role_User && b.when.region == "US";
    small_business |= b.when.plans == fb::Plan_SmallBusiness;
  }
  EXPECT_TRUE(admin);
  EXPECT_TRUE(us_user);
  EXPECT_TRUE(small_business);
  // Trial and preview accounts consent to marketing contact (section 2).
  bool trial = false;
  for (const BuiltinDataUse& b : Conditional("account_address_book", "correspondence")) {
    trial |= b.when.plans == fb::Plan_Trial && b.allow;
  }
  EXPECT_TRUE(trial);
}

TEST(CatalogCoverage, GenuineValidationFlows) {
  const std::vector<std::string_view> fields = {
      "product_key",       "disk_serial", "device_make_model", "standard_computer_info",
      "device_guid",       "product_id",  "bios_info",         "install_result",
      "validation_result", "oem_id",      "boot_file"};
  for (std::string_view field : fields) {
    SCOPED_TRACE(std::string(field));
    for (std::string_view p : {"licence_validation", "aggregate_statistics", "share_aggregates"}) {
      const BuiltinDataUse* b = Unconditional(field, p);
      ASSERT_NE(b, nullptr) << p;
      EXPECT_TRUE(b->allow) << p;
    }
    // Aggregates only, when shared.
    EXPECT_TRUE(Unconditional(field, "share_aggregates")->obligations & kAggregateOnly);
  }
  // Name, address and e-mail are never collected, for any purpose.
  for (const PurposeSpec& p : catalog::kPurposes) {
    const BuiltinDataUse* b = Unconditional("personal_contact", p.id);
    ASSERT_NE(b, nullptr) << p.id;
    EXPECT_FALSE(b->allow);
    EXPECT_TRUE(b->fixed);
  }
}

TEST(CatalogCoverage, FixedFlows) {
  // IM content is never sent to the vendor (section 1).
  for (std::string_view p : {"improve", "personalisation", "advertising"}) {
    const BuiltinDataUse* b = Unconditional("im_content", p);
    ASSERT_NE(b, nullptr) << p;
    EXPECT_FALSE(b->allow);
    EXPECT_TRUE(b->fixed);
  }
  // Usage statistics of managed identities reach domain admins (section 3).
  bool admin_reporting = false;
  for (const BuiltinDataUse& b : Conditional("groove_usage_statistics", "admin_reporting")) {
    admin_reporting |=
        b.allow && b.when.identity == fb::IdentityKind_Managed && b.when.roles == fb::Role_Admin;
  }
  EXPECT_TRUE(admin_reporting);
}

TEST(CatalogCoverage, ValidationSchedule) {
  const int k = catalog::FindSchedule("genuine.validation_interval");
  ASSERT_GE(k, 0);
  bool every30 = false, every90 = false, every7_tampered = false;
  for (const BuiltinSchedule& b : catalog::BuiltinRulesFor(k)) {
    every30 |= b.interval_seconds == 30 * 86400 && b.when.os_min == 60 && b.when.state_all == 0;
    every90 |= b.interval_seconds == 90 * 86400 && b.when.os_min == 61 && b.when.state_all == 0;
    every7_tampered |=
        b.interval_seconds == 7 * 86400 && b.when.state_all == fb::DeviceState_Tampered;
  }
  EXPECT_TRUE(every30);
  EXPECT_TRUE(every90);
  EXPECT_TRUE(every7_tampered);
}

TEST(CatalogCoverage, ComplianceTags) {
  for (std::string_view id : {"iso27001", "eu_model_clauses", "hipaa_baa", "fisma_ato", "dpa"}) {
    EXPECT_GE(catalog::FindComplianceTag(id), 0) << id;
  }
  // Basic proxy authentication sends passwords in clear text: a tag can forbid it.
  const ComplianceTagSpec& iso = catalog::kComplianceTags[catalog::FindComplianceTag("iso27001")];
  bool forbids_basic = false;
  for (int i = 0; i < iso.forbid_count; ++i) {
    forbids_basic |= iso.forbids[i].setting == catalog::FindSetting("groove.proxy_auth") &&
                     iso.forbids[i].value_int == 0;  // "basic"
  }
  EXPECT_TRUE(forbids_basic);
}

template <typename Spec>
void ExpectDenseAndUnique(Table<Spec> specs, Table<uint16_t> by_name,
                          int (*find)(std::string_view)) {
  std::set<std::string_view> ids;
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(specs[i].num, i) << specs[i].id;
    EXPECT_TRUE(ids.insert(specs[i].id).second) << "duplicate id " << specs[i].id;
    EXPECT_EQ(find(specs[i].id), static_cast<int>(i)) << specs[i].id;
  }
  ASSERT_EQ(by_name.size(), specs.size());
  for (size_t i = 1; i < by_name.size(); ++i) {
    EXPECT_LT(specs[by_name[i - 1]].id, specs[by_name[i]].id);
  }
  EXPECT_EQ(find("no.such.id"), -1);
}

TEST(CatalogStructure, DenseNumsUniqueIds) {
  ExpectDenseAndUnique(catalog::kSettings, catalog::kSettingsByName, catalog::FindSetting);
  ExpectDenseAndUnique(catalog::kDataClasses, catalog::kDataClassesByName, catalog::FindDataClass);
  ExpectDenseAndUnique(catalog::kPurposes, catalog::kPurposesByName, catalog::FindPurpose);
  ExpectDenseAndUnique(catalog::kSchedules, catalog::kSchedulesByName, catalog::FindSchedule);
  std::set<std::string_view> tags;
  for (const ComplianceTagSpec& t : catalog::kComplianceTags) {
    EXPECT_TRUE(tags.insert(t.id).second) << t.id;
  }
}

TEST(CatalogStructure, SettingsAreConsistent) {
  for (const SettingSpec& s : catalog::kSettings) {
    SCOPED_TRACE(std::string(s.id));
    EXPECT_EQ(s.fixed, s.setters == 0);
    if (s.type == SettingType::kEnum) {
      EXPECT_GE(s.value_count, 2);
      EXPECT_LT(s.default_int, s.value_count);
    } else if (s.type == SettingType::kFlags) {
      EXPECT_LT(s.default_int, int64_t{1} << s.value_count);
    } else {
      EXPECT_EQ(s.value_count, 0);
    }
    if (s.atomic_group >= 0) {
      ASSERT_LT(static_cast<size_t>(s.atomic_group), catalog::kAtomicGroups.size());
      const AtomicGroupSpec& g = catalog::kAtomicGroups[s.atomic_group];
      bool member = false;
      for (int i = 0; i < g.member_count; ++i) member |= g.members[i] == s.num;
      EXPECT_TRUE(member);
    }
  }
}

TEST(CatalogStructure, BuiltinRulesMostSpecificFirst) {
  for (size_t c = 0; c < catalog::kDataClasses.size(); ++c) {
    for (size_t p = 0; p < catalog::kPurposes.size(); ++p) {
      const auto rules = catalog::BuiltinRulesFor(static_cast<int>(c), static_cast<int>(p));
      for (size_t i = 0; i < rules.size(); ++i) {
        EXPECT_EQ(rules[i].data_class, c);
        EXPECT_EQ(rules[i].purpose, p);
        if (i > 0) {
          EXPECT_GE(rules[i - 1].specificity, rules[i].specificity);
        }
      }
    }
  }
  for (size_t k = 0; k < catalog::kSchedules.size(); ++k) {
    const auto rules = catalog::BuiltinRulesFor(static_cast<int>(k));
    for (size_t i = 1; i < rules.size(); ++i) {
      EXPECT_GE(rules[i - 1].specificity, rules[i].specificity);
    }
  }
}

}  // namespace
}  // namespace edict
