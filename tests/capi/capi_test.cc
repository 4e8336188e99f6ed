// tests/capi: the C API of include/edict/edict.h through libedict.so (and edict.hpp).
//
// The test binary also links the internal libraries, to build inputs (compiled policies,
// keys, trust documents, signed bundles, an agent's state directory written by the real
// activation code) and to compare the C API's answers with the kernel's. libedict.so keeps
// its own copies of those internals local (version script), so the two never mix.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "edict/edict.h"
#include "edict/edict.hpp"
#include "gtest/gtest.h"
#include "kernel/kernel.h"
#include "kernel/publisher.h"
#include "policy/catalog.h"
#include "policy/compiler/compiler.h"
#include "ports/audit.h"
#include "ports/clock.h"
#include "ports/device_identity.h"
#include "ports/linux/linux_state_store.h"
#include "tests/transport/test_util.h"
#include "transport/activation.h"

// ---- Allocation counting (the query path must not allocate) --------------------------------
namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace edict::capi_test {

// For the other test files of this binary (capi_catalog_test.cc).
void StartCountingAllocations() {
  g_allocations = 0;
  g_counting = true;
}
long StopCountingAllocations() {
  g_counting = false;
  return g_allocations.load();
}

namespace {

using transport::testing::kDay;
using transport::testing::kNow;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A compiled example policy (policy/examples/NAME.json).
std::string CompileExample(const char* name) {
  const std::string path = std::string(EDICT_SOURCE_DIR) + "/policy/examples/" + name + ".json";
  compiler::CompileResult r = compiler::Compile(ReadText(path), path);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.Rendered()[0]);
  return r.payload;
}

// A policy JSON text with one mandatory CEIP rule, for bundles with chosen serials.
std::string CeipPolicy(uint64_t serial, bool value, const char* tenant = "contoso") {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                R"({"format":1,"serial":%llu,"issued_at":"2027-01-14T00:00:00Z",)"
                R"("expires_at":"2027-06-01T00:00:00Z","target":{"tenant":"%s"},)"
                R"("settings":[{"setting":"communicator.ceip","level":"mandatory","value":%s}]})",
                static_cast<unsigned long long>(serial), tenant, value ? "true" : "false");
  compiler::CompileResult r = compiler::Compile(buf, "ceip.json");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.Rendered()[0]);
  return r.payload;
}

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

edict_context ManagedDomainJoined() {
  edict_context ctx;
  edict_context_init(&ctx);
  ctx.identity = EDICT_IDENTITY_MANAGED;
  ctx.domain_joined = EDICT_TRI_YES;
  return ctx;
}

struct PolicyCloser {
  void operator()(edict_policy* p) const { edict_close(p); }
};
using PolicyPtr = std::unique_ptr<edict_policy, PolicyCloser>;

PolicyPtr OpenPayload(const std::string& payload) {
  edict_policy* p = nullptr;
  edict_error error;
  EXPECT_EQ(edict_open_payload(payload.data(), payload.size(), &p, &error), EDICT_OK)
      << error.message;
  return PolicyPtr(p);
}

std::string TempDir(const char* tag) {
  std::string tmpl = std::string(::testing::TempDir()) + "/capi_" + tag + "_XXXXXX";
  char* dir = ::mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

std::set<std::string> Listing(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) out.insert(e->d_name);
  ::closedir(d);
  return out;
}

// ---- Version, status, catalogue -------------------------------------------------------------

TEST(CapiVersion, HeaderMacrosMatchProjectAndLibrary) {
  EXPECT_STREQ(EDICT_VERSION_STRING, EDICT_PROJECT_VERSION);
  const char* s = nullptr;
  EXPECT_EQ(edict_version(&s), EDICT_VERSION_NUMBER);
  EXPECT_STREQ(s, EDICT_VERSION_STRING);
  EXPECT_EQ(edict_version(nullptr), EDICT_VERSION_NUMBER);
  EXPECT_EQ(edict_catalog_version(), catalog::kVersion);
}

TEST(CapiStatus, EveryStatusHasASentence) {
  for (int s = EDICT_OK; s <= EDICT_ERR_UNSUPPORTED; ++s) {
    EXPECT_STRNE(edict_strerror(s), "unknown status") << s;
  }
  EXPECT_STREQ(edict_strerror(-1), "unknown status");
  EXPECT_STREQ(edict_strerror(1000), "unknown status");
  EXPECT_STREQ(edict_source_name(EDICT_SOURCE_MANDATORY), "mandatory");
  EXPECT_STREQ(edict_source_name(99), "unknown");
}

TEST(CapiCatalog, IdsRoundTripAndNamesAreNulTerminated) {
  ASSERT_EQ(edict_setting_count(), static_cast<int32_t>(catalog::kSettings.size()));
  for (int32_t i = 0; i < edict_setting_count(); ++i) {
    const char* name = edict_setting_name(i);
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(std::strlen(name), catalog::kSettings[i].id.size());
    EXPECT_EQ(edict_setting_id(name), i);
    EXPECT_EQ(edict_setting_type(i), static_cast<int>(catalog::kSettings[i].type));
    for (int32_t v = 0; v < catalog::kSettings[i].value_count; ++v) {
      const char* sym = edict_setting_symbol(i, v);
      ASSERT_NE(sym, nullptr);
      EXPECT_EQ(std::strlen(sym), catalog::kSettings[i].values[v].size());
      EXPECT_EQ(edict_setting_symbol_index(i, sym), v);
    }
    EXPECT_EQ(edict_setting_symbol(i, catalog::kSettings[i].value_count), nullptr);
    // String defaults are handed out as NUL-terminated text.
    const std::string_view def = catalog::kSettings[i].default_string;
    if (!def.empty()) {
      EXPECT_EQ(def.data()[def.size()], '\0');
    }
  }
  for (int32_t i = 0; i < edict_data_class_count(); ++i) {
    EXPECT_EQ(edict_data_class_id(edict_data_class_name(i)), i);
  }
  for (int32_t i = 0; i < edict_purpose_count(); ++i) {
    EXPECT_EQ(edict_purpose_id(edict_purpose_name(i)), i);
  }
  for (int32_t i = 0; i < edict_schedule_count(); ++i) {
    EXPECT_EQ(edict_schedule_id(edict_schedule_name(i)), i);
  }
  EXPECT_EQ(edict_setting_id("no.such.setting"), -1);
  EXPECT_EQ(edict_setting_id(nullptr), -1);
  EXPECT_EQ(edict_setting_name(-1), nullptr);
  EXPECT_EQ(edict_setting_name(edict_setting_count()), nullptr);
  EXPECT_EQ(edict_setting_type(-5), -1);
  EXPECT_GE(edict_data_class_id("usage_data"), 0);
  EXPECT_GE(edict_purpose_id("correspondence"), 0);
  const int32_t dir = edict_setting_id("groove.directory.public");
  EXPECT_EQ(edict_setting_symbol_index(dir, "name_only"), 1);
  EXPECT_EQ(edict_setting_symbol_index(dir, "nope"), -1);
  EXPECT_EQ(edict_setting_symbol_index(dir, nullptr), -1);
}

// ---- Defaults and payloads ------------------------------------------------------------------

TEST(CapiDefaults, AnswersAreTheCatalogueDefaults) {
  edict_policy* raw = nullptr;
  ASSERT_EQ(edict_open_defaults(&raw), EDICT_OK);
  PolicyPtr p(raw);
  EXPECT_EQ(edict_serial(p.get()), 0u);
  EXPECT_EQ(edict_trust_version(p.get()), 0u);
  EXPECT_EQ(edict_policy_origin(p.get()), EDICT_ORIGIN_DEFAULTS);
  edict_resolution r;
  ASSERT_EQ(edict_resolve_name(p.get(), "communicator.ceip", nullptr, nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_DEFAULT);
  EXPECT_EQ(r.locked, 0);
  EXPECT_EQ(r.rule, -1);
  EXPECT_EQ(r.value.type, EDICT_TYPE_BOOL);
  EXPECT_EQ(r.value.text, nullptr);
  EXPECT_EQ(edict_resolve(p.get(), 100000, nullptr, nullptr, &r), EDICT_ERR_UNKNOWN_ID);
  EXPECT_EQ(r.setting, -1);
  EXPECT_TRUE(r.notes & EDICT_NOTE_UNKNOWN_SETTING);
  EXPECT_EQ(edict_resolve_name(p.get(), "no.such", nullptr, nullptr, &r), EDICT_ERR_UNKNOWN_ID);
  int changed = 7;
  EXPECT_EQ(edict_policy_changed(p.get(), &changed), EDICT_OK);
  EXPECT_EQ(changed, 0);
  EXPECT_EQ(edict_open_defaults(nullptr), EDICT_ERR_INVALID_ARGUMENT);
  edict_close(nullptr);  // ignored
}

TEST(CapiPayload, SeedQuestionsOnTheBaseline) {
  const std::string payload = CompileExample("baseline");
  PolicyPtr p = OpenPayload(payload);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(edict_policy_origin(p.get()), EDICT_ORIGIN_PAYLOAD);
  EXPECT_EQ(edict_serial(p.get()), 1001u);
  const edict_context ctx = ManagedDomainJoined();
  edict_resolution r;
  ASSERT_EQ(edict_resolve(p.get(), edict_setting_id("communicator.ceip"), &ctx, nullptr, &r),
            EDICT_OK);
  EXPECT_EQ(r.value.number, 0);
  EXPECT_EQ(r.locked, 1);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);
  EXPECT_EQ(r.rule, 0);
  EXPECT_EQ(r.serial, 1001u);
  // An unmanaged identity is not covered by the rule.
  edict_context home;
  edict_context_init(&home);
  home.identity = EDICT_IDENTITY_UNMANAGED;
  ASSERT_EQ(edict_resolve_name(p.get(), "communicator.ceip", &home, nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.locked, 0);

  edict_data_use d;
  ASSERT_EQ(edict_may_use(p.get(), edict_data_class_id("usage_data"),
                          edict_purpose_id("correspondence"), &ctx, &d),
            EDICT_OK);
  EXPECT_EQ(d.serial, 1001u);
  EXPECT_EQ(edict_may_use(p.get(), -1, 0, &ctx, &d), EDICT_ERR_UNKNOWN_ID);
  EXPECT_EQ(d.allowed, 0);
}

TEST(CapiPayload, InvalidPayloadIsAnActivationError) {
  edict_policy* p = reinterpret_cast<edict_policy*>(0x1);
  edict_error error;
  const char junk[] = "this is not a policy payload";
  EXPECT_EQ(edict_open_payload(junk, sizeof(junk), &p, &error), EDICT_ERR_ACTIVATION);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(error.status, EDICT_ERR_ACTIVATION);
  EXPECT_GT(std::strlen(error.message), 0u);
  EXPECT_EQ(edict_open_payload(nullptr, 10, &p, &error), EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_open_payload(junk, sizeof(junk), nullptr, nullptr), EDICT_ERR_INVALID_ARGUMENT);
  // A NULL error pointer is fine.
  EXPECT_EQ(edict_open_payload(junk, sizeof(junk), &p, nullptr), EDICT_ERR_ACTIVATION);
}

// C callers' buffers may sit at any address; the kernel itself refuses a payload that is not
// 8-byte aligned (fuzz finding F1), so the C API must copy before it activates.
TEST(CapiPayload, MisalignedBufferOpens) {
  const std::string payload = CompileExample("baseline");
  for (size_t offset = 1; offset < 8; ++offset) {
    std::vector<uint8_t> storage(payload.size() + 8);
    std::memcpy(storage.data() + offset, payload.data(), payload.size());
    const absl::Span<const uint8_t> view(storage.data() + offset, payload.size());
    EXPECT_EQ(Snapshot::ArenaSize(view).status().code(), absl::StatusCode::kInvalidArgument);
    edict_policy* p = nullptr;
    edict_error error;
    ASSERT_EQ(edict_open_payload(view.data(), view.size(), &p, &error), EDICT_OK)
        << "offset " << offset << ": " << error.message;
    EXPECT_EQ(edict_serial(p), 1001u);
    edict_close(p);
  }
}

// The C API gives exactly the kernel's answers, for every setting, cell and schedule of every
// example policy under a set of contexts.
TEST(CapiPayload, AnswersEqualTheKernelsForEveryExample) {
  const char* const kExamples[] = {"baseline", "communicator", "genuine",
                                   "groove",   "livemeeting",  "online-services"};
  const char* const kGroups[] = {"helpdesk", "finance"};
  for (const char* name : kExamples) {
    const std::string payload = CompileExample(name);
    PolicyPtr p = OpenPayload(payload);
    ASSERT_NE(p, nullptr) << name;
    std::vector<std::max_align_t> arena(*Snapshot::ArenaSize(Bytes(payload)) / 16 + 1);
    std::vector<uint8_t> bytes = Bytes(payload);
    auto snap =
        Snapshot::Activate(bytes, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(arena.data()),
                                                      arena.size() * sizeof(arena[0])));
    ASSERT_TRUE(snap.ok()) << snap.status();
    for (int variant = 0; variant < 4; ++variant) {
      edict_context c;
      edict_context_init(&c);
      Context k;
      const std::string_view kgroups[] = {"helpdesk", "finance"};
      if (variant & 1) {
        c.identity = EDICT_IDENTITY_MANAGED;
        c.domain_joined = EDICT_TRI_YES;
        c.plan = EDICT_PLAN_ENTERPRISE;
        c.os_generation = 61;
        k.identity = Identity::kManaged;
        k.domain_joined = TriState::kYes;
        k.plan = Plan::kEnterprise;
        k.os_generation = 61;
      }
      if (variant & 2) {
        c.groups = kGroups;
        c.group_count = 2;
        c.device_state = EDICT_DEVICE_TAMPERED;
        c.region = "US";
        c.role = EDICT_ROLE_ORGANISER;
        k.groups = kgroups;
        k.device_state = kDeviceTampered;
        k.region = "US";
        k.role = Role::kOrganiser;
      }
      for (int32_t s = 0; s < edict_setting_count(); ++s) {
        edict_resolution r;
        ASSERT_EQ(edict_resolve(p.get(), s, &c, nullptr, &r), EDICT_OK);
        const Resolution want = (*snap)->Resolve(s, k);
        EXPECT_EQ(r.value.number, want.value.number) << name << " " << s;
        EXPECT_EQ(r.source, static_cast<int32_t>(want.source)) << name << " " << s;
        EXPECT_EQ(r.locked, want.locked ? 1 : 0);
        EXPECT_EQ(r.rule, want.rule);
        EXPECT_EQ(r.obligations, want.obligations);
        EXPECT_EQ(r.notes, want.notes);
        EXPECT_EQ(r.serial, want.serial);
      }
      for (int32_t dc = 0; dc < edict_data_class_count(); ++dc) {
        for (int32_t pu = 0; pu < edict_purpose_count(); ++pu) {
          edict_data_use d;
          ASSERT_EQ(edict_may_use(p.get(), dc, pu, &c, &d), EDICT_OK);
          const DataUseDecision want = (*snap)->MayUse(dc, pu, k);
          EXPECT_EQ(d.allowed, want.allowed ? 1 : 0) << name << " " << dc << "," << pu;
          EXPECT_EQ(d.obligations, want.obligations);
          EXPECT_EQ(d.rule, want.rule);
          EXPECT_EQ(d.builtin, want.builtin);
          EXPECT_EQ(d.source, static_cast<int32_t>(want.source));
        }
      }
      for (int32_t sc = 0; sc < edict_schedule_count(); ++sc) {
        edict_schedule a;
        ASSERT_EQ(edict_schedule_get(p.get(), sc, &c, &a), EDICT_OK);
        const ScheduleAnswer want = (*snap)->Schedule(sc, k);
        EXPECT_EQ(a.interval_seconds, want.interval_seconds);
        EXPECT_EQ(a.rule, want.rule);
        EXPECT_EQ(a.builtin, want.builtin);
      }
    }
  }
}

TEST(CapiContext, InvalidContextsAreRejected) {
  edict_policy* raw = nullptr;
  ASSERT_EQ(edict_open_defaults(&raw), EDICT_OK);
  PolicyPtr p(raw);
  edict_resolution r;
  edict_context c;
  edict_context_init(&c);
  EXPECT_EQ(c.struct_size, sizeof(edict_context));
  c.struct_size = 8;
  EXPECT_EQ(edict_resolve(p.get(), 0, &c, nullptr, &r), EDICT_ERR_INVALID_ARGUMENT);
  edict_context_init(&c);
  c.plan = 3;  // not one plan
  EXPECT_EQ(edict_resolve(p.get(), 0, &c, nullptr, &r), EDICT_ERR_INVALID_ARGUMENT);
  edict_context_init(&c);
  c.identity = 9;
  EXPECT_EQ(edict_resolve(p.get(), 0, &c, nullptr, &r), EDICT_ERR_INVALID_ARGUMENT);
  edict_context_init(&c);
  c.group_count = 1;  // groups NULL
  EXPECT_EQ(edict_resolve(p.get(), 0, &c, nullptr, &r), EDICT_ERR_INVALID_ARGUMENT);
  std::vector<const char*> many(EDICT_MAX_GROUPS + 1, "g");
  c.groups = many.data();
  c.group_count = many.size();
  EXPECT_EQ(edict_resolve(p.get(), 0, &c, nullptr, &r), EDICT_ERR_INVALID_ARGUMENT);
  c.group_count = EDICT_MAX_GROUPS;
  EXPECT_EQ(edict_resolve(p.get(), 0, &c, nullptr, &r), EDICT_OK);
  const char* with_null[] = {"a", nullptr};
  c.groups = with_null;
  c.group_count = 2;
  EXPECT_EQ(edict_resolve(p.get(), 0, &c, nullptr, &r), EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_resolve(nullptr, 0, nullptr, nullptr, &r), EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_resolve(p.get(), 0, nullptr, nullptr, nullptr), EDICT_ERR_INVALID_ARGUMENT);
  edict_user_choice bad;
  std::memset(&bad, 0, sizeof(bad));
  bad.value.type = 42;
  EXPECT_EQ(edict_resolve(p.get(), 0, nullptr, &bad, &r), EDICT_ERR_INVALID_ARGUMENT);
}

TEST(CapiChoice, UserChoiceIsHonouredUnlessLocked) {
  PolicyPtr p = OpenPayload(CompileExample("baseline"));
  ASSERT_NE(p, nullptr);
  const int32_t ceip = edict_setting_id("communicator.ceip");
  edict_user_choice yes;
  std::memset(&yes, 0, sizeof(yes));
  yes.value.type = EDICT_TYPE_BOOL;
  yes.value.number = 1;
  edict_context home;
  edict_context_init(&home);
  home.identity = EDICT_IDENTITY_UNMANAGED;
  edict_resolution r;
  ASSERT_EQ(edict_resolve(p.get(), ceip, &home, &yes, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_USER);
  EXPECT_EQ(r.value.number, 1);
  const edict_context work = ManagedDomainJoined();
  ASSERT_EQ(edict_resolve(p.get(), ceip, &work, &yes, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);
  EXPECT_EQ(r.value.number, 0);
  EXPECT_TRUE(r.notes & EDICT_NOTE_CHOICE_OVERRIDDEN_BY_LOCK);
}

TEST(CapiContext, GroupsDecide) {
  PolicyPtr p = OpenPayload(CompileExample("baseline"));
  ASSERT_NE(p, nullptr);
  edict_context c;
  edict_context_init(&c);
  const char* groups[] = {"helpdesk"};
  edict_resolution r;
  ASSERT_EQ(edict_resolve_name(p.get(), "communicator.client_logging", &c, nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_RECOMMENDED);
  EXPECT_EQ(r.value.number, 0);
  c.groups = groups;
  c.group_count = 1;
  ASSERT_EQ(edict_resolve_name(p.get(), "communicator.client_logging", &c, nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.source, EDICT_SOURCE_MANDATORY);
  EXPECT_EQ(r.value.number, 1);
}

TEST(CapiExplain, SnprintfContract) {
  PolicyPtr p = OpenPayload(CompileExample("baseline"));
  ASSERT_NE(p, nullptr);
  const edict_context ctx = ManagedDomainJoined();
  const int32_t ceip = edict_setting_id("communicator.ceip");
  size_t needed = 0;
  EXPECT_EQ(edict_explain_setting(p.get(), ceip, &ctx, nullptr, EDICT_EXPLAIN_SENTENCE, nullptr, 0,
                                  &needed),
            EDICT_ERR_BUFFER_TOO_SMALL);
  ASSERT_GT(needed, 10u);
  std::string full(needed + 1, 'x');
  size_t again = 0;
  ASSERT_EQ(edict_explain_setting(p.get(), ceip, &ctx, nullptr, EDICT_EXPLAIN_SENTENCE, full.data(),
                                  full.size(), &again),
            EDICT_OK);
  EXPECT_EQ(again, needed);
  EXPECT_EQ(std::strlen(full.c_str()), needed);
  EXPECT_NE(full.find("mandatory"), std::string::npos) << full;
  char small[8];
  EXPECT_EQ(edict_explain_setting(p.get(), ceip, &ctx, nullptr, EDICT_EXPLAIN_SENTENCE, small,
                                  sizeof(small), nullptr),
            EDICT_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(std::strlen(small), sizeof(small) - 1);
  EXPECT_EQ(std::string(small), full.substr(0, sizeof(small) - 1));
  char buf[2048];
  EXPECT_EQ(edict_explain_setting(p.get(), ceip, &ctx, nullptr, EDICT_EXPLAIN_WITH_CANDIDATES, buf,
                                  sizeof(buf), &needed),
            EDICT_OK);
  EXPECT_EQ(edict_explain_data_use(p.get(), edict_data_class_id("usage_data"),
                                   edict_purpose_id("correspondence"), &ctx, EDICT_EXPLAIN_SENTENCE,
                                   buf, sizeof(buf), &needed),
            EDICT_OK);
  EXPECT_GT(std::strlen(buf), 0u);
  EXPECT_EQ(
      edict_explain_schedule(p.get(), 0, &ctx, EDICT_EXPLAIN_SENTENCE, buf, sizeof(buf), &needed),
      EDICT_OK);
  EXPECT_EQ(edict_explain_setting(p.get(), ceip, &ctx, nullptr, 7, buf, sizeof(buf), &needed),
            EDICT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(edict_explain_setting(p.get(), ceip, &ctx, nullptr, 0, nullptr, 5, &needed),
            EDICT_ERR_INVALID_ARGUMENT);
}

// ---- Signed bundles ---------------------------------------------------------------------------

class CapiBundle : public transport::testing::TransportTest {
 protected:
  void SetUp() override {
    trust_ = Doc(BaseSpec(), {root_[0].get()});
    bundle_ = Sign(Bytes(CeipPolicy(7, false)), {signer_[0].get()});
    edict_verify_options_init(&options_);
    options_.tenant = "contoso";
    options_.now = kNow;
  }

  edict_status Open(const std::vector<uint8_t>& bundle, PolicyPtr* out, edict_error* error) {
    edict_policy* p = nullptr;
    const edict_status s = edict_open_bundle(bundle.data(), bundle.size(), trust_.data(),
                                             trust_.size(), &options_, &p, error);
    out->reset(p);
    return s;
  }

  std::vector<uint8_t> trust_;
  std::vector<uint8_t> bundle_;
  edict_verify_options options_;
};

TEST_F(CapiBundle, ValidBundleOpens) {
  PolicyPtr p;
  edict_error error;
  ASSERT_EQ(Open(bundle_, &p, &error), EDICT_OK) << error.message;
  EXPECT_EQ(error.status, EDICT_OK);
  EXPECT_EQ(edict_policy_origin(p.get()), EDICT_ORIGIN_BUNDLE);
  EXPECT_EQ(edict_serial(p.get()), 7u);
  EXPECT_EQ(edict_trust_version(p.get()), 1u);
  edict_resolution r;
  ASSERT_EQ(edict_resolve_name(p.get(), "communicator.ceip", nullptr, nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.locked, 1);
  EXPECT_EQ(r.value.number, 0);
}

TEST_F(CapiBundle, MisalignedBundleAndTrustOpen) {
  for (size_t offset = 1; offset < 8; offset += 3) {
    std::vector<uint8_t> b(bundle_.size() + 8), t(trust_.size() + 8);
    std::memcpy(b.data() + offset, bundle_.data(), bundle_.size());
    std::memcpy(t.data() + offset, trust_.data(), trust_.size());
    edict_policy* p = nullptr;
    edict_error error;
    ASSERT_EQ(edict_open_bundle(b.data() + offset, bundle_.size(), t.data() + offset, trust_.size(),
                                &options_, &p, &error),
              EDICT_OK)
        << "offset " << offset << ": " << error.message;
    EXPECT_EQ(edict_serial(p), 7u);
    edict_close(p);
  }
}

TEST_F(CapiBundle, RejectionsCarryTheTransportError) {
  PolicyPtr p;
  edict_error error;
  std::vector<uint8_t> tampered = bundle_;
  tampered[tampered.size() / 2] ^= 0x55;
  const edict_status s = Open(tampered, &p, &error);
  EXPECT_TRUE(s == EDICT_ERR_VERIFY) << s;
  EXPECT_EQ(p, nullptr);
  EXPECT_GT(error.verify_error, 0);
  EXPECT_GT(std::strlen(error.message), 0u);

  options_.tenant = "fabrikam";
  EXPECT_EQ(Open(bundle_, &p, &error), EDICT_ERR_VERIFY);
  EXPECT_EQ(error.verify_error, 17);  // ERR_TARGET_TENANT
  EXPECT_NE(std::string(error.message).find("ERR_TARGET_TENANT"), std::string::npos)
      << error.message;
  options_.tenant = "contoso";
  options_.last_serial = 8;
  EXPECT_EQ(Open(bundle_, &p, &error), EDICT_ERR_VERIFY);
  EXPECT_EQ(error.verify_error, 13);  // ERR_ROLLBACK
  options_.last_serial = 7;
  EXPECT_EQ(Open(bundle_, &p, &error), EDICT_ERR_VERIFY);
  EXPECT_EQ(error.verify_error, 14);  // ERR_REPLAY
  options_.last_serial = 0;
  options_.now = kNow + 400 * kDay;  // trust expired
  EXPECT_EQ(Open(bundle_, &p, &error), EDICT_ERR_VERIFY);
  EXPECT_EQ(error.verify_error, 4);  // ERR_TRUST_EXPIRED
  options_.now = kNow;
  const std::vector<uint8_t> unsigned_bundle = Sign(Bytes(CeipPolicy(9, true)), {outsider_.get()});
  EXPECT_EQ(Open(unsigned_bundle, &p, &error), EDICT_ERR_VERIFY);
  EXPECT_EQ(error.verify_error, 5);  // ERR_KEY_UNKNOWN
  edict_verify_options uninitialised;
  std::memset(&uninitialised, 0, sizeof(uninitialised));
  edict_policy* raw = nullptr;
  EXPECT_EQ(edict_open_bundle(bundle_.data(), bundle_.size(), trust_.data(), trust_.size(),
                              &uninitialised, &raw, &error),
            EDICT_ERR_INVALID_ARGUMENT);
}

TEST_F(CapiBundle, FilesAndRotation) {
  const std::string dir = TempDir("files");
  const std::string b = dir + "/b.edict", t = dir + "/t.edict";
  std::ofstream(b, std::ios::binary)
      .write(reinterpret_cast<const char*>(bundle_.data()), bundle_.size());
  std::ofstream(t, std::ios::binary)
      .write(reinterpret_cast<const char*>(trust_.data()), trust_.size());
  edict_policy* raw = nullptr;
  edict_error error;
  ASSERT_EQ(edict_open_bundle_files(b.c_str(), t.c_str(), &options_, &raw, &error), EDICT_OK)
      << error.message;
  PolicyPtr p(raw);
  EXPECT_EQ(edict_serial(p.get()), 7u);
  EXPECT_EQ(edict_open_bundle_files((dir + "/missing").c_str(), t.c_str(), &options_, &raw, &error),
            EDICT_ERR_NOT_FOUND);
  EXPECT_EQ(raw, nullptr);

  // Trust version 2 revokes signer 0: its bundle is refused once the rotation is given.
  transport::TrustSpec v2 = BaseSpec();
  v2.version = 2;
  v2.keys[2].status = transport::KeyStatus::kRevoked;
  const std::vector<uint8_t> trust2 = Doc(v2, {root_[0].get()});
  const void* newer[] = {trust2.data()};
  const size_t sizes[] = {trust2.size()};
  options_.newer_trust = newer;
  options_.newer_trust_sizes = sizes;
  options_.newer_trust_count = 1;
  EXPECT_EQ(edict_open_bundle(bundle_.data(), bundle_.size(), trust_.data(), trust_.size(),
                              &options_, &raw, &error),
            EDICT_ERR_VERIFY);
  EXPECT_EQ(error.verify_error, 6);  // ERR_KEY_REVOKED
  const std::vector<uint8_t> by_s1 = Sign(Bytes(CeipPolicy(8, true)), {signer_[1].get()});
  ASSERT_EQ(edict_open_bundle(by_s1.data(), by_s1.size(), trust_.data(), trust_.size(), &options_,
                              &raw, &error),
            EDICT_OK)
      << error.message;
  PolicyPtr p2(raw);
  EXPECT_EQ(edict_trust_version(p2.get()), 2u);
}

// ---- The agent's state (written by the real activation code) ----------------------------------

class CapiState : public CapiBundle {
 protected:
  void SetUp() override {
    CapiBundle::SetUp();
    dir_ = TempDir("state");
    auto store = ports::OpenLinuxStateStore({dir_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto identity = ports::DeviceIdentity::Create("device-1", {"contoso", {}});
    ASSERT_TRUE(identity.ok()) << identity.status();
    identity_ = *std::move(identity);
    transport::ActivationOptions o;
    o.state = store_.get();
    o.audit = &audit_;
    o.clock = &clock_;
    o.identity = identity_.get();
    o.publisher = &publisher_;
    o.pinned_trust = trust_;
    auto activation = transport::Activation::Create(std::move(o));
    ASSERT_TRUE(activation.ok()) << activation.status();
    activation_ = *std::move(activation);
    ASSERT_TRUE(activation_->Start().ok());
  }

  void Offer(uint64_t serial, bool value) {
    const transport::OfferResult r =
        activation_->Offer(Sign(Bytes(CeipPolicy(serial, value)), {signer_[0].get()}));
    ASSERT_TRUE(r.activated) << r.code << " " << r.status;
  }

  PolicyPtr OpenState(const char* pinned = nullptr) {
    edict_policy* raw = nullptr;
    edict_error error;
    EXPECT_EQ(edict_open_state(dir_.c_str(), pinned, &raw, &error), EDICT_OK) << error.message;
    return PolicyPtr(raw);
  }

  std::string dir_;
  std::unique_ptr<ports::StateStore> store_;
  std::unique_ptr<ports::DeviceIdentity> identity_;
  ports::MemoryAuditSink audit_;
  ports::FakeClock clock_{absl::FromUnixSeconds(kNow)};
  SnapshotPublisher publisher_;
  std::unique_ptr<transport::Activation> activation_;
};

TEST_F(CapiState, NotEnrolledGivesTheDefaults) {
  PolicyPtr p = OpenState();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(edict_policy_origin(p.get()), EDICT_ORIGIN_DEFAULTS);
  EXPECT_EQ(edict_serial(p.get()), 0u);
  edict_policy* raw = nullptr;
  edict_error error;
  EXPECT_EQ(edict_open_state((dir_ + "/nope").c_str(), nullptr, &raw, &error), EDICT_ERR_NOT_FOUND);
  EXPECT_EQ(raw, nullptr);
}

TEST_F(CapiState, OpensTheActiveBundleReadOnlyAndNoticesActivations) {
  Offer(7, false);
  const std::set<std::string> before = Listing(dir_);
  PolicyPtr p = OpenState();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(Listing(dir_), before);  // nothing created or removed
  EXPECT_EQ(edict_policy_origin(p.get()), EDICT_ORIGIN_STATE_CURRENT);
  EXPECT_EQ(edict_serial(p.get()), 7u);
  EXPECT_EQ(edict_trust_version(p.get()), 1u);
  edict_resolution r;
  ASSERT_EQ(edict_resolve_name(p.get(), "communicator.ceip", nullptr, nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.value.number, 0);
  EXPECT_EQ(r.locked, 1);
  int changed = -1;
  ASSERT_EQ(edict_policy_changed(p.get(), &changed), EDICT_OK);
  EXPECT_EQ(changed, 0);

  Offer(8, true);
  ASSERT_EQ(edict_policy_changed(p.get(), &changed), EDICT_OK);
  EXPECT_EQ(changed, 1);
  PolicyPtr q = OpenState();
  EXPECT_EQ(edict_serial(q.get()), 8u);
  ASSERT_EQ(edict_policy_changed(q.get(), &changed), EDICT_OK);
  EXPECT_EQ(changed, 0);
  // The old handle still answers from its own (old) policy.
  ASSERT_EQ(edict_resolve_name(p.get(), "communicator.ceip", nullptr, nullptr, &r), EDICT_OK);
  EXPECT_EQ(r.serial, 7u);
}

TEST_F(CapiState, PinnedTrustFromAFile) {
  Offer(7, false);
  const std::string pinned = dir_ + "-pinned.edt";
  std::ofstream(pinned, std::ios::binary)
      .write(reinterpret_cast<const char*>(trust_.data()), trust_.size());
  PolicyPtr p = OpenState(pinned.c_str());
  EXPECT_EQ(edict_serial(p.get()), 7u);
  edict_policy* raw = nullptr;
  edict_error error;
  EXPECT_EQ(edict_open_state(dir_.c_str(), (dir_ + "-missing.edt").c_str(), &raw, &error),
            EDICT_ERR_NOT_FOUND);
  // A different pinned root: the stored bundle no longer verifies; defaults, with a reason.
  transport::TrustSpec other = BaseSpec();
  other.keys = {transport::testing::Entry(*root_[2], transport::KeyRole::kRoot),
                transport::testing::Entry(*signer_[2], transport::KeyRole::kSigner)};
  const std::vector<uint8_t> other_doc = Doc(other, {root_[2].get()});
  std::ofstream(pinned, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(other_doc.data()), other_doc.size());
  PolicyPtr q = OpenState(pinned.c_str());
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(edict_policy_origin(q.get()), EDICT_ORIGIN_DEFAULTS);
  size_t needed = 0;
  EXPECT_EQ(edict_policy_problems(q.get(), nullptr, 0, &needed), EDICT_ERR_BUFFER_TOO_SMALL);
  EXPECT_GT(needed, 0u);
}

TEST_F(CapiState, DamagedCurrentGenerationFallsBackToThePrevious) {
  Offer(7, false);
  Offer(8, true);
  {
    std::fstream f(dir_ + "/" + transport::kActiveBlobName,
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(60);
    f.put('\x7f');
  }
  PolicyPtr p = OpenState();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(edict_policy_origin(p.get()), EDICT_ORIGIN_STATE_PREVIOUS);
  EXPECT_EQ(edict_serial(p.get()), 7u);
  char buf[1024];
  size_t needed = 0;
  EXPECT_EQ(edict_policy_problems(p.get(), buf, sizeof(buf), &needed), EDICT_OK);
  EXPECT_NE(std::string(buf).find("STATE_CORRUPT"), std::string::npos) << buf;
}

// ---- Threads and allocation -------------------------------------------------------------------

TEST(CapiThreads, OneHandleManyReaders) {
  PolicyPtr p = OpenPayload(CompileExample("baseline"));
  ASSERT_NE(p, nullptr);
  const edict_context ctx = ManagedDomainJoined();
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      char buf[512];
      for (int i = 0; i < 2000; ++i) {
        edict_resolution r;
        if (edict_resolve(p.get(), i % edict_setting_count(), &ctx, nullptr, &r) != EDICT_OK) {
          ++mismatches;
        }
        if (i % edict_setting_count() == edict_setting_id("communicator.ceip") &&
            !(r.locked == 1 && r.value.number == 0)) {
          ++mismatches;
        }
        size_t needed;
        edict_explain_setting(p.get(), i % edict_setting_count(), &ctx, nullptr, 0, buf,
                              sizeof(buf), &needed);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(CapiAlloc, QueriesNeverAllocate) {
  PolicyPtr p = OpenPayload(CompileExample("baseline"));
  ASSERT_NE(p, nullptr);
  edict_context ctx = ManagedDomainJoined();
  const char* groups[] = {"helpdesk", "finance", "board"};
  ctx.groups = groups;
  ctx.group_count = 3;
  ctx.region = "US";
  edict_user_choice choice;
  std::memset(&choice, 0, sizeof(choice));
  choice.value.type = EDICT_TYPE_BOOL;
  choice.value.number = 1;
  char buf[4096];
  size_t needed;
  int changed;
  g_allocations = 0;
  g_counting = true;
  for (int32_t s = 0; s < edict_setting_count(); ++s) {
    edict_resolution r;
    edict_resolve(p.get(), s, &ctx, &choice, &r);
    edict_explain_setting(p.get(), s, &ctx, &choice, EDICT_EXPLAIN_WITH_CANDIDATES, buf,
                          sizeof(buf), &needed);
  }
  for (int32_t dc = 0; dc < edict_data_class_count(); ++dc) {
    for (int32_t pu = 0; pu < edict_purpose_count(); ++pu) {
      edict_data_use d;
      edict_may_use(p.get(), dc, pu, &ctx, &d);
      edict_explain_data_use(p.get(), dc, pu, &ctx, EDICT_EXPLAIN_WITH_CANDIDATES, buf, sizeof(buf),
                             &needed);
    }
  }
  for (int32_t sc = 0; sc < edict_schedule_count(); ++sc) {
    edict_schedule a;
    edict_schedule_get(p.get(), sc, &ctx, &a);
    edict_explain_schedule(p.get(), sc, &ctx, EDICT_EXPLAIN_WITH_CANDIDATES, buf, sizeof(buf),
                           &needed);
  }
  edict_resolution r;
  edict_resolve_name(p.get(), "communicator.ceip", &ctx, nullptr, &r);
  edict_serial(p.get());
  edict_policy_changed(p.get(), &changed);
  edict_setting_id("groove.directory.public");
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
}

// ---- edict.hpp ---------------------------------------------------------------------------------

TEST(CapiCpp, RaiiStatusOrAndSpans) {
  const std::string payload = CompileExample("baseline");
  const std::vector<uint8_t> bytes = Bytes(payload);
  edict::api::StatusOr<edict::api::Policy> policy =
      edict::api::Policy::OpenUnverifiedPayload(bytes);
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  EXPECT_EQ(policy->serial(), 1001u);
  EXPECT_EQ(policy->origin(), EDICT_ORIGIN_PAYLOAD);
  edict::api::Context ctx;
  ctx.get().identity = EDICT_IDENTITY_MANAGED;
  ctx.get().domain_joined = EDICT_TRI_YES;
  static const edict::api::SettingId kCeip = edict::api::SettingId::Of("communicator.ceip");
  ASSERT_TRUE(kCeip.known());
  auto r = policy->Resolve(kCeip, ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->locked);
  EXPECT_NE(policy->Explain(kCeip, ctx).find("mandatory"), std::string::npos);
  const auto usage = edict::api::DataClassId::Of("usage_data");
  const auto corr = edict::api::PurposeId::Of("correspondence");
  ASSERT_TRUE(policy->MayUse(usage, corr, ctx).ok());
  EXPECT_FALSE(policy->Explain(usage, corr, ctx).empty());
  char small[4];
  auto n = policy->Explain(kCeip, ctx, edict::api::Span<char>(small));
  EXPECT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), EDICT_ERR_BUFFER_TOO_SMALL);
  EXPECT_FALSE(policy->Resolve(edict::api::SettingId::Of("nope"), ctx).ok());
  EXPECT_FALSE(policy->changed());

  edict::api::Policy moved = std::move(policy.value());
  EXPECT_EQ(moved.serial(), 1001u);
  EXPECT_FALSE(static_cast<bool>(policy.value()));
  EXPECT_FALSE(policy->Resolve(kCeip, ctx).ok());  // empty handle: invalid argument

  auto bad = edict::api::Policy::OpenUnverifiedPayload(edict::api::Span<const uint8_t>());
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), EDICT_ERR_ACTIVATION);
  EXPECT_FALSE(bad.status().message().empty());
  auto defaults = edict::api::Policy::Defaults();
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->serial(), 0u);
  EXPECT_EQ(edict::api::Version(), EDICT_VERSION_STRING);
}

}  // namespace
}  // namespace edict::capi_test
