// edict-agent and product catalogues (issue 18): catalogue directories, StrictModes, status,
// native stores writing product settings with their mappings, reload while running.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "policy/catalog/catalog_file.h"
#include "policy/catalog/catalog_source.h"
#include "policy/compiler/compiler.h"
#include "policy/compiler/json.h"
#include "tests/agent/fixture.h"
#include "tools/agent/agent.h"
#include "tools/agent/catalogs.h"
#include "tools/agent/config.h"

#ifndef EDICT_SOURCE_DIR
#error "EDICT_SOURCE_DIR must be defined"
#endif

namespace edict::agent::testing {
namespace {

void WriteBytes(const std::string& path, const std::vector<uint8_t>& b) {
  WriteFileOrDie(path, absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

std::string AcmeSource() {
  auto text = ReadFileOrNull(absl::StrCat(EDICT_SOURCE_DIR, "/examples/catalogs/acmevpn.json"));
  EXPECT_TRUE(text.has_value());
  return text.value_or("");
}

// acmevpn version 1 (the example), or version 2: the example plus acmevpn.extra_logging.
std::string AcmeCatalog(int version) {
  std::string src = AcmeSource();
  if (version == 2) {
    const size_t v = src.find("\"version\": 1,");
    EXPECT_NE(v, std::string::npos);
    src.replace(v, 13, "\"version\": 2,");
    const size_t settings = src.find("\"settings\": [");
    const size_t end = src.find("\n  ]", settings);
    EXPECT_NE(end, std::string::npos);
    src.insert(end, R"(,
    {
      "id": "acmevpn.extra_logging",
      "num": 47,
      "type": "Bool",
      "default": "false",
      "setters": "Admin",
      "scope": "Device",
      "description": "Verbose tunnel logs.",
      "source": "VPN-REQ-099"
    })");
  }
  auto built = catalogs::BuildCatalog(src, "acmevpn.json");
  EXPECT_TRUE(built.ok()) << built.status();
  return built.value_or("");
}

// A payload with built-in and acmevpn settings (`critical` marks acmevpn.always_on so).
std::vector<uint8_t> AcmePayload(uint64_t serial, bool critical = false) {
  namespace pf = edict::fb;
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<pf::SettingRule>> rules;
  auto add_bool = [&](const char* id, pf::Level level, bool v, bool crit = false) {
    auto setting = fbb.CreateString(id);
    auto value = pf::CreateBoolValue(fbb, v);
    rules.push_back(
        pf::CreateSettingRule(fbb, setting, level, pf::Value_BoolValue, value.Union(), 0, crit));
  };
  add_bool("communicator.ceip", pf::Level_Mandatory, true);
  add_bool("acmevpn.always_on", pf::Level_Mandatory, true, critical);  // explicit mapping
  add_bool("acmevpn.lockdown_mode", pf::Level_Recommended, true);      // derived names
  add_bool("acmevpn.extra_logging", pf::Level_Mandatory, true);        // only in version 2
  auto rules_vec = fbb.CreateVector(rules);
  auto t = fbb.CreateString("contoso");
  auto target = pf::CreateTarget(fbb, t);
  auto header = pf::CreateHeader(fbb, 1, 1, serial, kNow - 60, kNow + 30 * kDay, target);
  fbb.Finish(pf::CreatePayload(fbb, header, rules_vec), pf::PayloadIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

std::vector<uint8_t> AcmeBundle(uint64_t serial, bool critical = false) {
  const transport::PrivateSigningKey* keys[] = {Keys::Get().signer.get()};
  return *transport::SignBundle(AcmePayload(serial, critical), keys);
}

// `extra` (configuration lines) starts on line kExtraLine of test.conf.
constexpr int kExtraLine = 15;
AgentConfig CatalogConfig(const TempDir& t, const std::string& catalog_dirs,
                          const std::string& extra = "") {
  const std::string text = absl::StrCat(
      "state_dir = ", t.Sub("state"), "\n", "spool_dir = ", t.Sub("spool"), "\n",
      "lock_file = ", t.Sub("agent.lock"), "\n", "trust_pinned = ", t.Sub("trust.edt"), "\n",
      "audit_file = ", t.Sub("audit/audit.jsonl"), "\n", "audit_syslog = false\n",
      "tenant = contoso\n", "groups = finance\n", "device_id = device-1\n",
      "native_root = ", t.Sub("native"), "\n", "dconf_update = false\n", "settle_ms = 20\n",
      "catalog_poll_seconds = 1\n", "catalog_dirs = \"", catalog_dirs, "\"\n", extra);
  auto c = ParseConfig(text, "test.conf");
  EXPECT_TRUE(c.ok()) << c.status();
  WriteBytes(t.Sub("trust.edt"), Keys::Get().trust_v1);
  mkdir(t.Sub("spool").c_str(), 0755);
  return *c;
}

// A catalogue directory (mode 0755) holding acmevpn.edcat (0644).
std::string MakeCatalogDir(const TempDir& t, const std::string& name, int version = 1) {
  const std::string dir = t.Sub(name);
  mkdir(dir.c_str(), 0755);
  chmod(dir.c_str(), 0755);
  const std::string file = dir + "/acmevpn.edcat";
  WriteFileOrDie(file, AcmeCatalog(version));
  chmod(file.c_str(), 0644);
  return dir;
}

// Offers `bundle` through the spool (once).
void Deliver(Agent& agent, ports::FakeClock* clock, const TempDir& t,
             const std::vector<uint8_t>& bundle, const std::string& name) {
  WriteBytes(t.Sub("spool/" + name), bundle);
  if (clock) clock->Advance(absl::Seconds(120));
  SpoolReport r = agent.ProcessSpool(true);
  ASSERT_EQ(r.activated, 1) << absl::StrJoin(r.lines, "\n");
}

std::string Managed(const TempDir& t) {
  return ReadFileOrNull(t.Sub("native/etc/edict/policies/managed/edict.json")).value_or("<none>");
}
std::string Recommended(const TempDir& t) {
  return ReadFileOrNull(t.Sub("native/etc/edict/policies/recommended/edict.json"))
      .value_or("<none>");
}
std::string DconfKeyfile(const TempDir& t) {
  return ReadFileOrNull(t.Sub("native/etc/dconf/db/local.d/50-edict")).value_or("<none>");
}
std::string DconfLocks(const TempDir& t) {
  return ReadFileOrNull(t.Sub("native/etc/dconf/db/local.d/locks/50-edict")).value_or("<none>");
}

// Wall time from kNow on, advancing in real time; real monotonic time (the daemon's loop).
class ShiftedClock : public ports::Clock {
 public:
  absl::Time Now() override { return absl::FromUnixSeconds(kNow) + (absl::Now() - start_); }
  absl::Duration Monotonic() override { return system_->Monotonic(); }

 private:
  absl::Time start_ = absl::Now();
  std::unique_ptr<ports::Clock> system_ = ports::NewSystemClock();
};

// The value the active state gives `id` for the device (-1: unknown setting).
int64_t Answer(const transport::ActiveState& s, const char* id) {
  const int h = s.catalogs().FindSetting(id);
  if (h < 0) return -1;
  Context ctx;
  return s.snapshot().Resolve(h, ctx).value.number;
}

TEST(AgentCatalogs, ProductSettingsAreActivatedWrittenToNativeStoresAndListedByStatus) {
  TempDir t;
  const std::string dir = MakeCatalogDir(t, "catalogs");
  AgentConfig c = CatalogConfig(t, absl::StrCat(t.Sub("missing"), ", ", dir));
  ports::FakeClock clock(absl::FromUnixSeconds(kNow));
  auto agent = Agent::Open(c, {nullptr, nullptr, &clock, nullptr});
  ASSERT_TRUE(agent.ok()) << agent.status();
  EXPECT_TRUE((*agent)->catalog_errors().empty());
  ASSERT_EQ((*agent)->catalogs().size(), 1u);
  EXPECT_EQ((*agent)->catalogs()[0].product, "acmevpn");
  ASSERT_TRUE((*agent)->Start().ok());
  Deliver(**agent, &clock, t, AcmeBundle(5), "b5.edict");

  auto current = (*agent)->activation().Current();
  EXPECT_EQ(current->info().serial, 5u);
  EXPECT_EQ(current->catalogs().products().size(), 1u);
  EXPECT_EQ(Answer(*current, "acmevpn.always_on"), 1);
  EXPECT_EQ(Answer(*current, "acmevpn.extra_logging"), -1) << "not in version 1";
  // The in-process kernel publisher answers with the same set (it keeps the set alive).
  {
    SnapshotPublisher::Reader r((*agent)->publisher());
    EXPECT_EQ(r->serial(), 5u);
    ASSERT_EQ(r->skipped_count(), 1u);  // acmevpn.extra_logging, of version 2 only
    EXPECT_EQ(r->skipped()[0].name, "acmevpn.extra_logging");
    const int h = r->catalogs().FindSetting("acmevpn.always_on");
    ASSERT_GE(h, 0);
    EXPECT_EQ(r->Resolve(h, Context{}).value.number, 1);
  }

  // Managed JSON: the explicit managed_key and the derived one (the id); built-in as before.
  EXPECT_EQ(Managed(t), "{\n  \"AlwaysOn\": true,\n  \"communicator.ceip\": true\n}\n");
  EXPECT_EQ(Recommended(t), "{\n  \"acmevpn.lockdown_mode\": true\n}\n");
  // dconf: the explicit key, the derived /org/edict/acmevpn/lockdown-mode, locks for mandatory.
  const std::string keyfile = DconfKeyfile(t);
  EXPECT_TRUE(absl::StrContains(keyfile, "[com/acme/vpn]\nalways-on=true\n")) << keyfile;
  EXPECT_TRUE(absl::StrContains(keyfile, "[org/edict/acmevpn]\nlockdown-mode=true\n")) << keyfile;
  EXPECT_TRUE(absl::StrContains(keyfile, "[org/edict/communicator]\nceip=true\n")) << keyfile;
  const std::string locks = DconfLocks(t);
  EXPECT_TRUE(absl::StrContains(locks, "/com/acme/vpn/always-on\n")) << locks;
  EXPECT_FALSE(absl::StrContains(locks, "lockdown-mode")) << "recommended: no lock";

  // status (a separate reader, as `edict-agent status`): the catalogue, and the policy
  // activated against it.
  agent->reset();
  auto view = LoadStatus(c);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(Answer(*view->state, "acmevpn.always_on"), 1);
  const std::string text = RenderStatusText(c, *view);
  const std::string hash = catalogs::FormatHash(catalogs::Fnv1a64(AcmeCatalog(1)));
  EXPECT_TRUE(absl::StrContains(text, absl::StrCat("catalogue:       acmevpn version 1 hash ", hash,
                                                   " ", dir, "/acmevpn.edcat\n")))
      << text;
  const std::string json = RenderStatusJson(c, *view);
  EXPECT_TRUE(absl::StrContains(
      json, absl::StrCat("\"catalogs\":[{\"product\":\"acmevpn\",\"version\":1,\"hash\":\"", hash,
                         "\",\"file\":\"", dir, "/acmevpn.edcat\"}]")))
      << json;
  EXPECT_TRUE(absl::StrContains(json, "\"catalog_errors\":[]")) << json;
}

TEST(AgentCatalogs, NoCatalogueDirectoryBehavesAsBefore) {
  TempDir t;
  AgentConfig c = CatalogConfig(t, t.Sub("nowhere"));
  ports::FakeClock clock(absl::FromUnixSeconds(kNow));
  auto agent = Agent::Open(c, {nullptr, nullptr, &clock, nullptr});
  ASSERT_TRUE(agent.ok()) << agent.status();
  EXPECT_TRUE((*agent)->catalog_errors().empty());
  EXPECT_TRUE((*agent)->catalogs().empty());
  ASSERT_TRUE((*agent)->Start().ok());
  Deliver(**agent, &clock, t, Keys::Get().Bundle(3), "b3.edict");
  EXPECT_EQ(&(*agent)->activation().Current()->catalogs(), &CatalogSet::Builtin());
  EXPECT_EQ(Managed(t), ExpectedManaged(3));
  // A product policy without its catalogue: product rules are skipped, built-ins enforced.
  Deliver(**agent, &clock, t, AcmeBundle(4), "b4.edict");
  EXPECT_EQ(Managed(t), "{\n  \"communicator.ceip\": true\n}\n");
  EXPECT_EQ((*agent)->activation().Current()->info().skipped_rules, 3u);
}

TEST(AgentCatalogs, UnsafeCatalogueFilesAndDirectoriesAreRefusedWithTheReason) {
  struct Case {
    const char* what;
    std::function<void(const std::string& dir)> spoil;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"group-writable file",
       [](const std::string& d) { chmod((d + "/acmevpn.edcat").c_str(), 0664); },
       "/acmevpn.edcat: it is group-writable (mode 0664)"},
      {"world-writable file",
       [](const std::string& d) { chmod((d + "/acmevpn.edcat").c_str(), 0646); },
       "/acmevpn.edcat: it is world-writable (mode 0646)"},
      {"group-writable directory", [](const std::string& d) { chmod(d.c_str(), 0775); },
       "it is group-writable (mode 0775)"},
      {"symbolic link",
       [](const std::string& d) {
         ASSERT_EQ(rename((d + "/acmevpn.edcat").c_str(), (d + "/real").c_str()), 0);
         ASSERT_EQ(symlink((d + "/real").c_str(), (d + "/acmevpn.edcat").c_str()), 0);
       },
       "is a symbolic link, not a regular file"},
      {"FIFO",
       [](const std::string& d) {
         unlink((d + "/acmevpn.edcat").c_str());
         ASSERT_EQ(mkfifo((d + "/acmevpn.edcat").c_str(), 0644), 0);
       },
       "is a FIFO, not a regular file"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    TempDir t;
    const std::string dir = MakeCatalogDir(t, "catalogs");
    k.spoil(dir);
    AgentConfig c = CatalogConfig(t, dir);
    ports::MemoryAuditSink audit;
    ports::FakeClock clock(absl::FromUnixSeconds(kNow));
    auto agent = Agent::Open(c, {nullptr, nullptr, &clock, &audit});
    ASSERT_TRUE(agent.ok()) << agent.status();
    ASSERT_EQ((*agent)->catalog_errors().size(), 1u);
    const std::string& e = (*agent)->catalog_errors()[0];
    EXPECT_TRUE(absl::StrContains(e, k.want)) << e;
    EXPECT_TRUE(absl::StrContains(e, dir)) << e;
    EXPECT_TRUE((*agent)->catalogs().empty()) << "nothing of a refused load is used";
    bool audited = false;
    for (const auto& ev : audit.Events()) audited |= ev.code == "CATALOG";
    EXPECT_TRUE(audited);
    ASSERT_TRUE((*agent)->Start().ok());
    agent->reset();
    auto view = LoadStatus(c);
    ASSERT_TRUE(view.ok());
    const std::string text = RenderStatusText(c, *view);
    EXPECT_TRUE(absl::StrContains(text, "catalogue error: ")) << text;
    EXPECT_TRUE(absl::StrContains(text, k.want)) << text;
  }
}

// A chmod alone (no new content) must be noticed: it can make a catalogue directory
// acceptable or unsafe.
TEST(AgentCatalogs, FingerprintNoticesModeChanges) {
  TempDir t;
  const std::string dir = t.Sub("catalogs");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  WriteFileOrDie(dir + "/acmevpn.edcat", "x");
  ASSERT_EQ(chmod((dir + "/acmevpn.edcat").c_str(), 0644), 0);
  const std::string before = CatalogFingerprint({dir});
  EXPECT_EQ(CatalogFingerprint({dir}), before);
  ASSERT_EQ(chmod((dir + "/acmevpn.edcat").c_str(), 0664), 0);
  EXPECT_NE(CatalogFingerprint({dir}), before);
}

// Memory stays bounded whatever the directories hold: past kMaxCatalogFiles files the
// load fails (before reading any of them) and nothing of it is used.
TEST(AgentCatalogs, TooManyCatalogueFilesAreRefused) {
  TempDir t;
  const std::string dir = t.Sub("catalogs");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  for (size_t i = 0; i <= kMaxCatalogFiles; ++i) {
    const std::string path = absl::StrCat(dir, "/p", i, ".edcat");
    WriteFileOrDie(path, "");
    ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  }
  const CatalogLoad load = LoadCatalogs({dir});
  EXPECT_EQ(load.set, nullptr);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_TRUE(absl::StrContains(load.errors[0], "more than 256 catalogues")) << load.errors[0];
  // One fewer: the files are read (and, being empty, each refused on its own).
  unlink(absl::StrCat(dir, "/p0.edcat").c_str());
  const CatalogLoad fewer = LoadCatalogs({dir});
  EXPECT_EQ(fewer.errors.size(), kMaxCatalogFiles);
}

TEST(AgentCatalogs, OneProductInTwoFilesIsAnErrorNamingBoth) {
  TempDir t;
  const std::string a = MakeCatalogDir(t, "a");
  const std::string b = MakeCatalogDir(t, "b");
  AgentConfig c = CatalogConfig(t, absl::StrCat(a, ",", b));
  auto agent = Agent::Open(c, {nullptr, nullptr, nullptr, nullptr});
  ASSERT_TRUE(agent.ok());
  ASSERT_EQ((*agent)->catalog_errors().size(), 1u);
  EXPECT_EQ((*agent)->catalog_errors()[0],
            absl::StrCat("product acmevpn has two catalogues: ", a, "/acmevpn.edcat and ", b,
                         "/acmevpn.edcat (remove one)"));
  // Other names are ignored.
  TempDir t2;
  const std::string d = MakeCatalogDir(t2, "c");
  WriteFileOrDie(d + "/acmevpn.edcat.bak", AcmeCatalog(1));
  WriteFileOrDie(d + "/README", "not a catalogue");
  AgentConfig c2 = CatalogConfig(t2, d);
  auto agent2 = Agent::Open(c2, {nullptr, nullptr, nullptr, nullptr});
  ASSERT_TRUE(agent2.ok());
  EXPECT_TRUE((*agent2)->catalog_errors().empty());
  EXPECT_EQ((*agent2)->catalogs().size(), 1u);
}

TEST(AgentCatalogs, BrokenOrInsufficientCatalogueKeepsThePreviousSetAndPolicy) {
  TempDir t;
  const std::string dir = MakeCatalogDir(t, "catalogs");
  AgentConfig c = CatalogConfig(t, dir);
  ports::FakeClock clock(absl::FromUnixSeconds(kNow));
  ports::MemoryAuditSink audit;
  auto agent = Agent::Open(c, {nullptr, nullptr, &clock, &audit});
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->Start().ok());
  Deliver(**agent, &clock, t, AcmeBundle(6, /*critical=*/true), "b6.edict");
  const std::string managed = Managed(t);
  ASSERT_TRUE(absl::StrContains(managed, "AlwaysOn")) << managed;
  auto before = (*agent)->activation().Current();

  // Garbage in place of the catalogue: refused, nothing changes.
  WriteFileOrDie(dir + "/acmevpn.edcat", "this is not a catalogue at all, just some bytes...");
  chmod((dir + "/acmevpn.edcat").c_str(), 0644);
  EXPECT_FALSE((*agent)->CheckCatalogs());
  ASSERT_FALSE((*agent)->catalog_errors().empty());
  EXPECT_TRUE(absl::StrContains((*agent)->catalog_errors()[0], dir + "/acmevpn.edcat"))
      << (*agent)->catalog_errors()[0];
  EXPECT_EQ((*agent)->activation().Current(), before);
  EXPECT_EQ(Managed(t), managed);
  EXPECT_EQ((*agent)->catalogs().size(), 1u);

  // The catalogue removed: the active policy has a critical acmevpn rule, so the built-in set
  // alone cannot activate it; the previous set and policy stay.
  unlink((dir + "/acmevpn.edcat").c_str());
  EXPECT_FALSE((*agent)->CheckCatalogs());
  ASSERT_FALSE((*agent)->catalog_errors().empty());
  EXPECT_TRUE(absl::StrContains((*agent)->catalog_errors().back(), "the previous catalogues"))
      << (*agent)->catalog_errors().back();
  EXPECT_EQ((*agent)->activation().Current(), before);
  EXPECT_EQ(Answer(*(*agent)->activation().Current(), "acmevpn.always_on"), 1);
  EXPECT_EQ(Managed(t), managed);
  EXPECT_EQ((*agent)->activation().Info().serial, 6u);
  // Back again: accepted (same content, so the same answers).
  WriteFileOrDie(dir + "/acmevpn.edcat", AcmeCatalog(1));
  chmod((dir + "/acmevpn.edcat").c_str(), 0644);
  EXPECT_TRUE((*agent)->CheckCatalogs());
  EXPECT_TRUE((*agent)->catalog_errors().empty());
  EXPECT_EQ(Managed(t), managed);
}

TEST(AgentCatalogs, ReplacingTheCatalogueWhileTheDaemonRunsGivesAConsistentNewSnapshot) {
  TempDir t;
  const std::string dir = MakeCatalogDir(t, "catalogs");
  AgentConfig c = CatalogConfig(t, dir);
  ShiftedClock clock;
  auto agent = Agent::Open(c, {nullptr, nullptr, &clock, nullptr});
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->Start().ok());
  Deliver(**agent, nullptr, t, AcmeBundle(8), "b8.edict");
  ASSERT_EQ(Answer(*(*agent)->activation().Current(), "acmevpn.extra_logging"), -1);

  int stop[2];
  ASSERT_EQ(pipe(stop), 0);
  std::thread daemon([&] { EXPECT_TRUE((*agent)->Run(stop[0]).ok()); });

  // Readers: every state they see is whole: version 1 without the setting, or version 2 with
  // it enforced from the policy.
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, seen_v2{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!done.load()) {
        std::shared_ptr<const transport::ActiveState> s = (*agent)->activation().Current();
        const auto products = s->catalogs().products();
        if (products.size() != 1 || s->info().serial != 8) {
          ++torn;
          continue;
        }
        const int64_t extra = Answer(*s, "acmevpn.extra_logging");
        const bool ok = products[0].version == 1 ? extra == -1 : extra == 1;
        if (!ok) ++torn;
        if (products[0].version == 2) ++seen_v2;
        if (Answer(*s, "acmevpn.always_on") != 1) ++torn;
      }
    });
  }
  // Replace atomically (write + rename), as a package manager does.
  WriteFileOrDie(dir + "/.acmevpn.edcat.new", AcmeCatalog(2));
  chmod((dir + "/.acmevpn.edcat.new").c_str(), 0644);
  ASSERT_EQ(rename((dir + "/.acmevpn.edcat.new").c_str(), (dir + "/acmevpn.edcat").c_str()), 0);
  for (int i = 0; i < 200 && seen_v2.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  done = true;
  for (auto& r : readers) r.join();
  ASSERT_EQ(write(stop[1], "x", 1), 1);
  daemon.join();
  close(stop[0]);
  close(stop[1]);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(seen_v2.load(), 0) << "the daemon did not pick up version 2";
  EXPECT_EQ((*agent)->catalogs().at(0).version, 2u);
  EXPECT_EQ(Managed(t),
            "{\n  \"AlwaysOn\": true,\n  \"acmevpn.extra_logging\": true,\n"
            "  \"communicator.ceip\": true\n}\n");
  EXPECT_TRUE(absl::StrContains(DconfKeyfile(t), "extra-logging=true")) << DconfKeyfile(t);
}

// A bundle compiled (as edictctl does) against the acmevpn example catalogue, whose rules
// depend on the context attributes acmevpn.network_trust and acmevpn.on_battery.
std::vector<uint8_t> AttributeBundle(uint64_t serial) {
  auto set = CatalogSet::Create({{"acmevpn.edcat", AcmeCatalog(1)}});
  EXPECT_TRUE(set.ok()) << set.status();
  if (!set.ok()) return {};
  const std::string policy = absl::StrCat(R"({
  "format": 1, "serial": )",
                                          serial, R"(,
  "issued_at": "2027-01-15T07:59:00Z", "expires_at": "2027-02-14T08:00:00Z",
  "target": { "tenant": "contoso" },
  "settings": [
    { "setting": "acmevpn.always_on", "level": "mandatory", "value": true,
      "when": { "acmevpn.network_trust": ["untrusted", "captive"] } },
    { "setting": "acmevpn.always_on", "level": "mandatory", "value": false,
      "when": { "acmevpn.network_trust": "trusted" } },
    { "setting": "communicator.ceip", "level": "mandatory", "value": false,
      "when": { "acmevpn.on_battery": false } }
  ]
})");
  compiler::CompileResult r = compiler::Compile(policy, "attributes.json", **set);
  EXPECT_TRUE(r.ok()) << absl::StrJoin(r.Rendered(), "\n");
  const transport::PrivateSigningKey* keys[] = {Keys::Get().signer.get()};
  return *transport::SignBundle(
      absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(r.payload.data()),
                                r.payload.size()),
      keys);
}

// Native stores get the product attributes the configuration sets (context.<product>.<name>):
// the same policy writes different values for different configured attributes.
TEST(AgentCatalogs, ConfiguredProductAttributesDecideWhatNativeStoresHold) {
  struct Case {
    const char* what;
    std::string extra;
    std::string managed;
  };
  const std::vector<Case> cases = {
      {"untrusted network, on mains",
       "context.acmevpn.network_trust = untrusted\ncontext.acmevpn.on_battery = false\n",
       "{\n  \"AlwaysOn\": true,\n  \"communicator.ceip\": false\n}\n"},
      {"trusted network", "context.acmevpn.network_trust = \"trusted\"\n",
       "{\n  \"AlwaysOn\": false\n}\n"},
      {"nothing set: every rule's condition is unknown", "", "<none>"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    TempDir t;
    const std::string dir = MakeCatalogDir(t, "catalogs");
    AgentConfig c = CatalogConfig(t, dir, k.extra);
    ports::FakeClock clock(absl::FromUnixSeconds(kNow));
    auto agent = Agent::Open(c, {nullptr, nullptr, &clock, nullptr});
    ASSERT_TRUE(agent.ok()) << agent.status();
    EXPECT_TRUE((*agent)->context_errors().empty())
        << absl::StrJoin((*agent)->context_errors(), "\n");
    ASSERT_TRUE((*agent)->Start().ok());
    Deliver(**agent, &clock, t, AttributeBundle(9), "b9.edict");
    EXPECT_EQ(Managed(t), k.managed);
    // A catalogue change (a new set, new handles) resolves them again: same answers.
    WriteFileOrDie(dir + "/.acmevpn.edcat.new", AcmeCatalog(2));
    chmod((dir + "/.acmevpn.edcat.new").c_str(), 0644);
    ASSERT_EQ(rename((dir + "/.acmevpn.edcat.new").c_str(), (dir + "/acmevpn.edcat").c_str()), 0);
    ASSERT_TRUE((*agent)->CheckCatalogs(/*force=*/true));
    EXPECT_EQ((*agent)->catalogs().at(0).version, 2u);
    EXPECT_EQ(Managed(t), k.managed);
  }
}

// A line naming an attribute no loaded catalogue declares, or with a bad value, is reported
// (audit, stderr, status) with its line and left unknown; the rest of the context, the start
// and every activation go on. A catalogue arriving later makes it count.
TEST(AgentCatalogs, UnresolvableContextAttributesAreReportedAndLeftUnknown) {
  TempDir t;
  const std::string dir = t.Sub("catalogs");  // no catalogue yet
  AgentConfig c = CatalogConfig(t, dir,
                                "context.acmevpn.network_trust = untrusted\n"
                                "context.acmevpn.no_such_thing = 1\n"
                                "context.acmevpn.tunnel_count = 99\n"
                                "context.othervpn.mode = strict\n");
  ASSERT_EQ(c.product_context.size(), 4u);
  ports::MemoryAuditSink audit;
  ports::FakeClock clock(absl::FromUnixSeconds(kNow));
  auto agent = Agent::Open(c, {nullptr, nullptr, &clock, &audit});
  ASSERT_TRUE(agent.ok()) << agent.status();
  // Without the acmevpn catalogue, none of them resolves.
  ASSERT_EQ((*agent)->context_errors().size(), 4u);
  EXPECT_EQ((*agent)->context_errors()[0],
            absl::StrCat("test.conf:", kExtraLine,
                         ": context.acmevpn.network_trust: no loaded catalogue declares attribute "
                         "'acmevpn.network_trust' (product acmevpn is not loaded); the attribute "
                         "is left unknown"));
  ASSERT_TRUE((*agent)->Start().ok());
  Deliver(**agent, &clock, t, AttributeBundle(9), "b9.edict");
  EXPECT_EQ((*agent)->activation().Info().serial, 9u);
  EXPECT_EQ(Managed(t), "<none>");

  // The catalogue arrives: network_trust resolves (and is enforced); the others still do not.
  mkdir(dir.c_str(), 0755);
  chmod(dir.c_str(), 0755);
  WriteFileOrDie(dir + "/acmevpn.edcat", AcmeCatalog(1));
  chmod((dir + "/acmevpn.edcat").c_str(), 0644);
  ASSERT_TRUE((*agent)->CheckCatalogs());
  EXPECT_EQ(Managed(t), "{\n  \"AlwaysOn\": true\n}\n");
  const std::vector<std::string> e = (*agent)->context_errors();
  ASSERT_EQ(e.size(), 3u) << absl::StrJoin(e, "\n");
  EXPECT_EQ(e[0], absl::StrCat("test.conf:", kExtraLine + 1,
                               ": context.acmevpn.no_such_thing: catalogue acmevpn version 1 "
                               "declares no attribute 'acmevpn.no_such_thing'; the attribute is "
                               "left unknown"));
  EXPECT_TRUE(absl::StartsWith(
      e[1], absl::StrCat("test.conf:", kExtraLine + 2, ": context.acmevpn.tunnel_count: ")))
      << e[1];
  EXPECT_TRUE(absl::StrContains(e[1], "99")) << e[1];
  EXPECT_TRUE(absl::StrContains(e[2], "(product othervpn is not loaded)")) << e[2];
  int audited = 0;
  for (const auto& ev : audit.Events()) audited += ev.code == "CONTEXT";
  EXPECT_EQ(audited, 4 + 3);

  // status names each line and why, as text and JSON.
  agent->reset();
  auto view = LoadStatus(c);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->context_errors, e);
  const std::string text = RenderStatusText(c, *view);
  EXPECT_TRUE(absl::StrContains(text, absl::StrCat("context error:   ", e[0], "\n"))) << text;
  const std::string json = RenderStatusJson(c, *view);
  EXPECT_TRUE(absl::StrContains(json, absl::StrCat("\"context_errors\":[", json::Quote(e[0]), ",")))
      << json;
}

TEST(AgentCatalogs, ProductContextKeysAreCheckedForSyntaxOnlyAtParseTime) {
  auto ok = ParseConfig("context.acmevpn.network_trust = whatever\ncontext.a.b = \"\"\n", "x.conf");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->product_context.size(), 2u);
  EXPECT_EQ(ok->product_context[0].key, "acmevpn.network_trust");
  EXPECT_EQ(ok->product_context[0].value, "whatever");
  EXPECT_EQ(ok->product_context[0].line, 1);
  EXPECT_EQ(ok->product_context[1].value, "");
  for (const char* bad : {"context.acmevpn. = x", "context..x = y", "context.a..b = y",
                          "context.a.b c = y", "context.a.b/c = y"}) {
    auto c = ParseConfig(bad, "x.conf");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_TRUE(absl::StrContains(c.status().message(), "x.conf:1: bad key")) << c.status();
  }
  auto twice = ParseConfig("context.a.b = 1\ncontext.a.b = 2\n", "x.conf");
  ASSERT_FALSE(twice.ok());
  EXPECT_TRUE(absl::StrContains(twice.status().message(), "x.conf:2: duplicate key"))
      << twice.status();
  // Built-in keys are still parsed (and refused) at once.
  EXPECT_FALSE(ParseConfig("context.plan = gold\n", "x.conf").ok());
}

}  // namespace
}  // namespace edict::agent::testing
