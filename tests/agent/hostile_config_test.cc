// Issue 17 "Hostile input at the edges", the agent's classes 3 (configuration that parses but
// does not mean what the admin meant), 4 (a failed native-store write reported as success),
// 5 (a missing pinned trust file) and 9 (exit codes and messages), through the real
// edict-agent binary where the outcome is an exit code or a message. Each asserts the error
// names the file (and line) and the reason, the exit code, that the previous policy stays
// active and that the native stores keep their content. Runs as root or as a normal user.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/agent/fixture.h"
#include "tools/agent/agent.h"
#include "tools/agent/config.h"

#ifndef EDICT_AGENT_BINARY
#error "EDICT_AGENT_BINARY must be defined"
#endif

namespace edict::agent::testing {
namespace {

using ports::testing::PathExists;
using ports::testing::RunShell;

int64_t RealNow() { return absl::ToUnixSeconds(absl::Now()); }

// A bundle valid now (the real binary runs on the real clock).
std::vector<uint8_t> LiveBundle(uint64_t serial, int64_t issued_at = 0, int64_t expires_at = 0) {
  const int64_t now = RealNow();
  const transport::PrivateSigningKey* keys[] = {Keys::Get().signer.get()};
  return *transport::SignBundle(Payload(serial, "contoso", issued_at ? issued_at : now - 60,
                                        expires_at ? expires_at : now + 30 * kDay),
                                keys);
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& b) {
  WriteFileOrDie(path, absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

// One endpoint driven through the real binary: config, pinned trust, spool, native root and
// state under a temporary directory.
class Endpoint2 {
 public:
  Endpoint2() {
    WriteBytes(t_.Sub("trust.edt"), Keys::Get().trust_v1);
    ::mkdir(t_.Sub("spool").c_str(), 0755);
    WriteFileOrDie(conf(), Config());
  }

  // The configuration text; `tenant_line` replaces "tenant = contoso".
  std::string Config(const std::string& tenant_line = "tenant = contoso") const {
    return absl::StrCat("# test endpoint\n", "state_dir = ", t_.Sub("state"), "\n",
                        "spool_dir = ", t_.Sub("spool"), "\n", "lock_file = ", t_.Sub("agent.lock"),
                        "\n", "trust_pinned = ", t_.Sub("trust.edt"), "\n",
                        "audit_file = ", t_.Sub("audit.jsonl"), "\n", "audit_syslog = false\n",
                        tenant_line, "\n", "device_id = device-1\n", "groups = finance\n",
                        "native_root = ", t_.Sub("native"), "\n", "dconf_update = false\n",
                        "settle_ms = 0\n", "incomplete_grace_seconds = 0\n", "retry_seconds = 1\n");
  }
  std::string conf() const { return t_.Sub("agent.conf"); }
  std::string Sub(const std::string& rel) const { return t_.Sub(rel); }

  // Runs `edict-agent --config CONFIG ARGS`; stdout and stderr in *out; the exit status.
  int Agent(const std::string& args, std::string* out, const std::string& config = "") const {
    return RunShell(absl::StrCat("timeout 60 ", EDICT_AGENT_BINARY, " --config ",
                                 config.empty() ? conf() : config, " ", args, " 2>&1"),
                    out);
  }

  // Written aside and renamed in (the documented way: a daemon never sees half a file).
  void Drop(uint64_t serial) {
    const std::string tmp = t_.Sub(absl::StrCat("spool/.b", serial, ".tmp"));
    WriteBytes(tmp, LiveBundle(serial));
    ASSERT_EQ(::rename(tmp.c_str(), t_.Sub(absl::StrCat("spool/b", serial, ".edict")).c_str()), 0);
  }

  // Enrols: serial 1 active and materialised.
  void Enrol() {
    Drop(1);
    std::string out;
    ASSERT_EQ(Agent("once", &out), 0) << out;
    ASSERT_EQ(Serial(), 1u);
    ASSERT_EQ(Managed(), ExpectedManaged(1));
  }

  uint64_t Serial() const {
    std::string out;
    EXPECT_EQ(Agent("status --json", &out), 0) << out;
    std::smatch m;
    if (!std::regex_search(out, m, std::regex("\"serial\":([0-9]+)"))) return ~uint64_t{0};
    return std::stoull(m[1]);
  }
  std::string Managed() const {
    return ReadFileOrNull(t_.Sub("native/etc/edict/policies/managed/edict.json"))
        .value_or("<none>");
  }
  std::string Dconf() const {
    return ReadFileOrNull(t_.Sub("native/etc/dconf/db/local.d/50-edict")).value_or("<none>");
  }
  std::string Audit() const { return ReadFileOrNull(t_.Sub("audit.jsonl")).value_or(""); }

 private:
  TempDir t_;
};

// ---- Class 3: configuration that parses but does not mean what the admin meant ----------

TEST(HostileInput, ConfigurationMeaningQuotesAndParserRules) {
  // Quotes are syntax: a value wholly wrapped in matching quotes is the text inside.
  for (const char* line :
       {"tenant = \"contoso\"", "tenant = 'contoso'", "tenant=\"contoso\"", "tenant = contoso"}) {
    auto c = ParseConfig(absl::StrCat("# x\n", line, "\n"), "a.conf");
    ASSERT_TRUE(c.ok()) << line << ": " << c.status();
    EXPECT_EQ(c->tenant, "contoso") << line;
  }
  auto c = ParseConfig("tenant = \"\"\n", "a.conf");  // empty on purpose
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tenant, "");
  c = ParseConfig("groups = \"a, b\"\n", "a.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->groups, (std::vector<std::string>{"a", "b"}));
  c = ParseConfig("# windows editor\r\n\xEF\xBB\xBFtenant = contoso\r\n", "a.conf");
  EXPECT_FALSE(c.ok()) << "a BOM is only accepted at the very start";
  c = ParseConfig("\xEF\xBB\xBFtenant = contoso\r\ngroups = a\r\n", "a.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tenant, "contoso");

  struct Bad {
    std::string text;
    std::string where;
    std::string reason;
  };
  const std::vector<Bad> bad = {
      {"state_dir = /x\ntenant = \"contoso\n", "a.conf:2: ", "quote must wrap the whole value"},
      {"tenant = con\"toso\n", "a.conf:1: ", "quote must wrap the whole value"},
      {"tenant = \"con\"toso\"\n", "a.conf:1: ", "quote must wrap the whole value"},
      {"tenant = contoso # the tenant\n", "a.conf:1: ", "comments go on their own line"},
      {"tenant = contoso\n\ntenant = fabrikam\n", "a.conf:3: ", "duplicate key 'tenant'"},
      {"tenant = contoso\n\ntenant = fabrikam\n", "a.conf:3: ", "first set on line 1"},
      {"tenant = con\x01toso\n", "a.conf:1: ", "control character 0x01"},
      {std::string("tenant = con\0toso\n", 18), "a.conf:1: ", "control character 0x00"},
      {"tenant = con\x1b[2Jtoso\n", "a.conf:1: ", "control character 0x1B"},
      {"tenant = con\rtoso\n", "a.conf:1: ", "control character 0x0D"},
      {"tenant = \xff\xfe\n", "a.conf:1: ", "not valid UTF-8"},
      {absl::StrCat("tenant = ", std::string(5000, 'a'), "\n"),
       "a.conf:1: ", "line longer than 4096 bytes"},
      {"tennant = contoso\n", "a.conf:1: ", "unknown key 'tennant'"},
      {"= contoso\n", "a.conf:1: ", "the key is missing"},
      {"tenant =\n", "a.conf:1: ", "empty value for tenant (remove the line"},
  };
  for (const Bad& b : bad) {
    auto r = ParseConfig(b.text, "a.conf");
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_TRUE(absl::InvalidArgumentError("").code() == r.status().code()) << r.status();
    EXPECT_TRUE(absl::StartsWith(r.status().message(), b.where)) << r.status();
    EXPECT_TRUE(absl::StrContains(r.status().message(), b.reason)) << r.status();
  }
  // Repeatable keys stay repeatable.
  c = ParseConfig(
      "managed_json_target = a\nmanaged_json_target = b:etc/b/policies\n"
      "source.x.url = https://example.com/i.json\n"
      "source.x.pin = " +
          std::string(64, 'a') + "\nsource.x.pin = " + std::string(64, 'b') + "\n",
      "a.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->managed_json_targets.size(), 2u);
  ASSERT_EQ(c->sources.size(), 1u);
  EXPECT_EQ(c->sources[0].pins.size(), 2u);
  // Over the file cap.
  auto big = ParseConfig(std::string(kMaxConfigBytes + 1, '#'), "a.conf");
  ASSERT_FALSE(big.ok());
  EXPECT_TRUE(absl::StrContains(big.status().message(), "a.conf: larger than")) << big.status();
}

TEST(HostileInput, ConfigurationMeaningQuotedTenantMeansTheTenant) {
  Endpoint2 e;
  ASSERT_NO_FATAL_FAILURE(e.Enrol());
  // The admin quotes the tenant: it is the tenant contoso, and the next bundle activates.
  WriteFileOrDie(e.conf(), e.Config("tenant = \"contoso\""));
  e.Drop(2);
  std::string out;
  EXPECT_EQ(e.Agent("once", &out), 0) << out;
  EXPECT_EQ(e.Serial(), 2u);
  EXPECT_EQ(e.Managed(), ExpectedManaged(2));
}

TEST(HostileInput, ConfigurationMeaningErrorStopsTheAgentAndTouchesNothing) {
  Endpoint2 e;
  ASSERT_NO_FATAL_FAILURE(e.Enrol());
  const std::string managed = e.Managed(), dconf = e.Dconf(), audit = e.Audit();
  ASSERT_NE(dconf, "<none>");
  const std::string good = e.Config();
  e.Drop(2);
  // The tenant line is line 8 of Config().
  struct Case {
    std::string text;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {e.Config("tenant = \"contoso"), ":8: bad value for tenant: a quote must wrap"},
      {e.Config("tenant = contoso # ours"), ":8: bad value for tenant: comments go"},
      {e.Config("tenant = contoso\ntenant = fabrikam"), ":9: duplicate key 'tenant'"},
      {e.Config("tenant = con\x7ftoso"), ":8: control character 0x7F"},
      {e.Config("tennant = contoso"), ":8: unknown key 'tennant'"},
  };
  for (const Case& c : cases) {
    const std::string bad = e.Sub("bad.conf");
    WriteFileOrDie(bad, c.text);
    for (const char* cmd : {"once", "run", "status", "unenroll"}) {
      std::string out;
      EXPECT_EQ(e.Agent(cmd, &out, bad), kExitUsage) << cmd << ": " << out;
      EXPECT_TRUE(absl::StrContains(out, absl::StrCat("configuration error: ", bad, c.expect)))
          << cmd << ": " << out;
    }
  }
  // Special files and sizes in the config's place: refused without blocking, exit 2.
  ASSERT_EQ(::mkfifo(e.Sub("fifo.conf").c_str(), 0600), 0);
  ::mkdir(e.Sub("dir.conf").c_str(), 0755);
  WriteFileOrDie(e.Sub("big.conf"), good + std::string(kMaxConfigBytes, '#'));
  const std::vector<std::pair<std::string, std::string>> files = {
      {e.Sub("fifo.conf"), "not a regular file (a FIFO, socket or device)"},
      {"/dev/null", "not a regular file (a FIFO, socket or device)"},
      {e.Sub("dir.conf"), "not a regular file (a directory)"},
      {e.Sub("big.conf"), "larger than 1048576 bytes, the configuration cap"},
      {e.Sub("missing.conf"), "no such file"},
  };
  for (const auto& [path, reason] : files) {
    std::string out;
    const absl::Time start = absl::Now();
    EXPECT_EQ(e.Agent("once", &out, path), kExitUsage) << path << ": " << out;
    EXPECT_LT(absl::Now() - start, absl::Seconds(20)) << path << " blocked the agent";
    EXPECT_TRUE(absl::StrContains(out, absl::StrCat("configuration error: ", path, ": ", reason)))
        << out;
  }
  // Nothing was touched: the bundle waits in the spool, serial 1 and its native files stay,
  // no audit line was written.
  EXPECT_TRUE(PathExists(e.Sub("spool/b2.edict")));
  EXPECT_EQ(e.Managed(), managed);
  EXPECT_EQ(e.Dconf(), dconf);
  EXPECT_EQ(e.Audit(), audit);
  EXPECT_EQ(e.Serial(), 1u);
}

// ---- Class 4: a failed native-store write is not reported as success ----------------------

TEST(HostileInput, FailedNativeStoreWrite) {
  Endpoint2 e;
  ASSERT_NO_FATAL_FAILURE(e.Enrol());
  // A directory where the store writes its temporary file: the write fails for root too,
  // and the old file stays.
  const std::string blocker = e.Sub("native/etc/edict/policies/managed/edict.json.edict-tmp");
  ASSERT_EQ(::mkdir(blocker.c_str(), 0755), 0);
  WriteFileOrDie(blocker + "/keep", "x");
  e.Drop(2);
  std::string out;
  EXPECT_EQ(e.Agent("once", &out), kExitFailure) << out;
  EXPECT_TRUE(absl::StrContains(out,
                                "b2.edict: bundle 2 activated but not enforced (NATIVE_STORE: "
                                "managed-json: "))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "edict.json.edict-tmp")) << out;
  EXPECT_EQ(e.Managed(), ExpectedManaged(1)) << "the old value stays (it is all there is)";
  // status, text and JSON.
  EXPECT_EQ(e.Agent("status", &out), 0) << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex("problem: +NATIVE_STORE: managed-json: .*edict\\.json\\.edict-tmp.*"
                      "policy serial 2 not enforced there; failing since 20[0-9-]+T")))
      << out;
  EXPECT_EQ(e.Agent("status --json", &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"problems\":[\"NATIVE_STORE: managed-json: ")) << out;
  // The audit log: an event naming the store and the reason.
  EXPECT_TRUE(std::regex_search(e.Audit(),
                                std::regex("\"kind\":\"materialisation\",\"code\":\"NATIVE_STORE\""
                                           "[^\\n]*managed-json: [^\\n]*edict\\.json\\.edict-tmp")))
      << e.Audit();
  // The next `once` retries: still broken, still exit 1.
  EXPECT_EQ(e.Agent("once", &out), kExitFailure) << out;
  EXPECT_TRUE(absl::StrContains(out, "not enforced: NATIVE_STORE: managed-json")) << out;
  // Repaired: the retry at the next `once` converges, and the problem is gone.
  ports::testing::RemoveTree(blocker);
  EXPECT_EQ(e.Agent("once", &out), 0) << out;
  EXPECT_EQ(e.Managed(), ExpectedManaged(2));
  EXPECT_EQ(e.Agent("status --json", &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"problems\":[]")) << out;
}

TEST(HostileInput, FailedNativeStoreWriteIsRetriedByTheDaemon) {
  Endpoint2 e;
  ASSERT_NO_FATAL_FAILURE(e.Enrol());
  auto config = LoadConfig(e.conf());
  ASSERT_TRUE(config.ok()) << config.status();
  const std::string blocker = e.Sub("native/etc/edict/policies/managed/edict.json.edict-tmp");
  ASSERT_EQ(::mkdir(blocker.c_str(), 0755), 0);
  auto agent = Agent::Open(*config);
  ASSERT_TRUE(agent.ok()) << agent.status();
  (void)(*agent)->Start();
  int stop[2];
  ASSERT_EQ(::pipe(stop), 0);
  std::thread daemon([&] { EXPECT_TRUE((*agent)->Run(stop[0]).ok()); });
  e.Drop(2);
  auto wait_for = [&](auto done) {
    for (int i = 0; i < 100 && !done(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return done();
  };
  EXPECT_TRUE(wait_for([&] { return (*agent)->activation().Info().serial == 2; }));
  EXPECT_FALSE((*agent)->activation().native_error().ok());
  EXPECT_EQ(e.Managed(), ExpectedManaged(1));
  ports::testing::RemoveTree(blocker);
  // Retried after retry_seconds (1 s) without any new event.
  EXPECT_TRUE(wait_for([&] { return e.Managed() == ExpectedManaged(2); })) << e.Audit();
  EXPECT_TRUE(wait_for([&] { return (*agent)->activation().native_error().ok(); }));
  ASSERT_EQ(::write(stop[1], "x", 1), 1);
  daemon.join();
  ::close(stop[0]);
  ::close(stop[1]);
}

// ---- Class 5: a missing pinned trust file is noticed ----------------------------------------

TEST(HostileInput, MissingPinnedTrust) {
  Endpoint2 e;
  ASSERT_NO_FATAL_FAILURE(e.Enrol());
  const std::string managed = e.Managed(), dconf = e.Dconf();
  ASSERT_EQ(::unlink(e.Sub("trust.edt").c_str()), 0);
  e.Drop(2);
  std::string out;
  EXPECT_EQ(e.Agent("once", &out), kExitFailure) << out;
  EXPECT_TRUE(absl::StrContains(
      out, absl::StrCat("b2.edict: bundle rejected: NO_TRUST (bundle refused: the pinned trust "
                        "document ",
                        e.Sub("trust.edt"), " is missing")))
      << out;
  // The previous policy stays active and enforced.
  EXPECT_EQ(e.Serial(), 1u);
  EXPECT_EQ(e.Managed(), managed);
  EXPECT_EQ(e.Dconf(), dconf);
  EXPECT_EQ(e.Agent("status", &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("problem:         NO_TRUST: the pinned trust "
                                                  "document ",
                                                  e.Sub("trust.edt"), " is missing")))
      << out;
  EXPECT_EQ(e.Agent("status --json", &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("\"problems\":[\"NO_TRUST: the pinned trust "
                                                  "document ",
                                                  e.Sub("trust.edt"), " is missing")))
      << out;
  EXPECT_TRUE(absl::StrContains(e.Audit(), "\"code\":\"NO_TRUST\"")) << e.Audit();
  // Put back: bundles activate again.
  WriteBytes(e.Sub("trust.edt"), Keys::Get().trust_v1);
  e.Drop(3);
  EXPECT_EQ(e.Agent("once", &out), 0) << out;
  EXPECT_EQ(e.Serial(), 3u);
  EXPECT_EQ(e.Agent("status --json", &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"problems\":[]")) << out;
}

// ---- Class 9: exit codes and messages match the manual ---------------------------------------

TEST(HostileInput, AgentExitCodes) {
  Endpoint2 e;
  ASSERT_NO_FATAL_FAILURE(e.Enrol());
  std::string out;
  // A rejected bundle: exit 1.
  WriteBytes(e.Sub("spool/old.edict"), LiveBundle(1));
  EXPECT_EQ(e.Agent("once", &out), kExitFailure) << out;
  EXPECT_TRUE(absl::StrContains(out, "old.edict: bundle rejected: ERR_REPLAY")) << out;
  // Nothing to do: exit 0.
  EXPECT_EQ(e.Agent("once", &out), 0) << out;
  // An expired bundle: exit 1, and the times are RFC 3339, not epoch seconds.
  const int64_t now = RealNow();
  WriteBytes(e.Sub("spool/expired.edict"), LiveBundle(5, now - 2 * kDay, now - kDay));
  EXPECT_EQ(e.Agent("once", &out), kExitFailure) << out;
  EXPECT_TRUE(std::regex_search(
      out,
      std::regex("expired\\.edict: bundle rejected: ERR_EXPIRED \\(ERR_EXPIRED: bundle expired "
                 "at 20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z; now is "
                 "20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z")))
      << out;
  EXPECT_FALSE(std::regex_search(out, std::regex("[0-9]{10}"))) << out;
  // A STATE_IO retry (the commit cannot keep the previous generation): exit 1, file kept.
  ASSERT_EQ(::mkdir(e.Sub("state/active.prev").c_str(), 0700), 0);
  WriteFileOrDie(e.Sub("state/active.prev/keep"), "x");
  e.Drop(2);
  EXPECT_EQ(e.Agent("once", &out), kExitFailure) << out;
  EXPECT_TRUE(absl::StrContains(out, "b2.edict: bundle not applied yet (STATE_IO")) << out;
  EXPECT_TRUE(PathExists(e.Sub("spool/b2.edict")));
  EXPECT_EQ(e.Serial(), 1u);
  EXPECT_EQ(e.Managed(), ExpectedManaged(1));
  ports::testing::RemoveTree(e.Sub("state/active.prev"));
  EXPECT_EQ(e.Agent("once", &out), 0) << out;
  EXPECT_EQ(e.Serial(), 2u);
  // Only a held lock exits 3.
  {
    const int fd = ::open(e.Sub("agent.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    EXPECT_EQ(e.Agent("once", &out), kExitLocked) << out;
    EXPECT_TRUE(absl::StrContains(out, "not starting: another edict instance holds")) << out;
    ::close(fd);
  }
  // Other start-up failures exit 1: a state directory that is a file, an unreadable machine
  // id (a FailedPrecondition each, which used to exit 3 "lock held").
  WriteFileOrDie(e.Sub("statefile"), "x");
  WriteFileOrDie(
      e.Sub("c1.conf"),
      absl::StrReplaceAll(e.Config(), {{e.Sub("state") + "\n", e.Sub("statefile") + "\n"}}));
  EXPECT_EQ(e.Agent("once", &out, e.Sub("c1.conf")), kExitFailure) << out;
  EXPECT_TRUE(absl::StrContains(out, "cannot start")) << out;
  WriteFileOrDie(e.Sub("machine-id"), "00000000000000000000000000000000\n");
  WriteFileOrDie(
      e.Sub("c2.conf"),
      absl::StrReplaceAll(e.Config(),
                          {{"device_id = device-1\n",
                            absl::StrCat("machine_id_file = ", e.Sub("machine-id"), "\n")}}));
  EXPECT_EQ(e.Agent("once", &out, e.Sub("c2.conf")), kExitFailure) << out;
  EXPECT_TRUE(absl::StrContains(out, "cannot start")) << out;
  EXPECT_EQ(e.Serial(), 2u);
  EXPECT_EQ(e.Managed(), ExpectedManaged(2));
}

}  // namespace
}  // namespace edict::agent::testing
