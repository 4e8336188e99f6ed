// Issue 17 "Hostile input at the edges", the agent's classes 1 (special files in the spool),
// 2 (symbolic links in place of the agent's own directories) and 8 (names and values that
// forge output): in-process and through the real edict-agent binary (`once` under a timeout,
// so a regression fails instead of hanging; `run` must exit on SIGTERM with a FIFO in the
// spool). Each asserts the message names the file and the reason, the previous policy stays
// active, the native stores keep their content and nothing outside the agent's directories
// is touched. Runs as root or as a normal user.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "policy/compiler/json.h"
#include "tests/agent/fixture.h"
#include "tools/agent/agent.h"
#include "tools/agent/config.h"

#ifndef EDICT_AGENT_BINARY
#error "EDICT_AGENT_BINARY must be defined"
#endif

extern char** environ;

namespace edict::agent::testing {
namespace {

using ports::testing::PathExists;
using ports::testing::RunShell;

void Write(const std::string& path, const std::vector<uint8_t>& b) {
  WriteFileOrDie(path, absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

// A bundle valid on the real clock (for the binary) and on the fixture's (kNow): issued well
// before both, expiring well after both.
std::vector<uint8_t> Bundle(uint64_t serial, const std::string& tenant = "contoso") {
  const int64_t now = std::min<int64_t>(absl::ToUnixSeconds(absl::Now()), kNow);
  const transport::PrivateSigningKey* keys[] = {Keys::Get().signer.get()};
  return *transport::SignBundle(Payload(serial, tenant, now - 600, kNow + 60 * kDay), keys);
}

// An endpoint under a temporary directory, driven in-process (Open) or through the binary
// (Run), sharing one configuration file.
class Hostile {
 public:
  Hostile() {
    Write(t_.Sub("trust.edt"), Keys::Get().trust_v1);
    ::mkdir(t_.Sub("spool").c_str(), 0755);
    ::mkdir(t_.Sub("outside").c_str(), 0755);
    WriteFileOrDie(conf(), ConfigText());
  }

  std::string ConfigText() const {
    return absl::StrCat(
        "state_dir = ", t_.Sub("state"), "\nspool_dir = ", t_.Sub("spool"),
        "\nlock_file = ", t_.Sub("agent.lock"), "\ntrust_pinned = ", t_.Sub("trust.edt"),
        "\naudit_file = ", t_.Sub("audit/audit.jsonl"),
        "\naudit_syslog = false\ntenant = contoso\ngroups = finance\ndevice_id = device-1\n",
        "native_root = ", t_.Sub("native"),
        "\ndconf_update = false\nsettle_ms = 0\nincomplete_grace_seconds = 0\n",
        "retry_seconds = 1\nrejected_keep = 2\nprocessed_keep = 2\n",
        "max_bundle_bytes = 65536\nmax_trust_bytes = 65536\n");
  }
  AgentConfig Config() const {
    auto c = ParseConfig(ConfigText(), "test.conf");
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }
  std::string conf() const { return t_.Sub("agent.conf"); }
  std::string Sub(const std::string& rel) const { return t_.Sub(rel); }

  // `edict-agent --config CONF ARGS` under `timeout`: 124 if it hung.
  int Run(const std::string& args, std::string* out) const {
    return RunShell(
        absl::StrCat("timeout 30 ", EDICT_AGENT_BINARY, " --config ", conf(), " ", args, " 2>&1"),
        out);
  }

  // Serial 1 active and materialised; outside/ holds files a prune would delete first.
  void Enrol() {
    Write(Sub("spool/b1.edict"), Bundle(1));
    std::string out;
    ASSERT_EQ(Run("once", &out), 0) << out;
    ASSERT_EQ(Managed(), ExpectedManaged(1)) << out;
    for (int i = 0; i < 5; ++i) {
      WriteFileOrDie(Sub(absl::StrCat("outside/00000000000000000000-00000", i, "-keep")), "mine");
    }
  }

  uint64_t Serial() const {
    std::string out;
    EXPECT_EQ(
        RunShell(absl::StrCat(EDICT_AGENT_BINARY, " --config ", conf(), " status --json"), &out), 0)
        << out;
    auto j = json::Parse(out);
    if (!j.ok() || !j->is_object() || !j->Find("serial")) return ~uint64_t{0};
    return static_cast<uint64_t>(j->Find("serial")->integer());
  }
  std::string Managed() const {
    return ReadFileOrNull(Sub("native/etc/edict/policies/managed/edict.json")).value_or("<none>");
  }
  std::string Dconf() const {
    return ReadFileOrNull(Sub("native/etc/dconf/db/local.d/50-edict")).value_or("<none>");
  }
  std::string Audit() const { return ReadFileOrNull(Sub("audit/audit.jsonl")).value_or(""); }
  size_t OutsideCount() const { return ports::testing::ListDir(Sub("outside")).size(); }

 private:
  TempDir t_;
};

// Every line of the audit file is one JSON object.
void ExpectAuditParses(const std::string& audit) {
  for (absl::string_view l : absl::StrSplit(audit, '\n', absl::SkipEmpty())) {
    auto j = json::Parse(std::string(l));
    EXPECT_TRUE(j.ok() && j->is_object()) << l;
  }
}

// ---- Class 1 -------------------------------------------------------------------------------

TEST(HostileInput, SpecialFilesInSpool) {
  Hostile h;
  h.Enrol();
  const std::string managed = h.Managed(), dconf = h.Dconf();
  // A FIFO, a symbolic link to a valid newer bundle outside the spool, a link to a directory,
  // and a file over the size cap.
  ASSERT_EQ(::mkfifo(h.Sub("spool/fifo.edict").c_str(), 0644), 0);
  Write(h.Sub("outside/b5.edict"), Bundle(5));
  ASSERT_EQ(::symlink(h.Sub("outside/b5.edict").c_str(), h.Sub("spool/link.edict").c_str()), 0);
  ASSERT_EQ(::symlink(h.Sub("outside").c_str(), h.Sub("spool/dirlink.edict").c_str()), 0);
  WriteFileOrDie(h.Sub("spool/big.edict"), std::string(65537, 'E'));
  const size_t outside = h.OutsideCount();

  // `once` returns (no block in open()), names each file and why; exit 1 (refusals).
  std::string out;
  const int rc = h.Run("once", &out);
  ASSERT_NE(rc, 124) << "edict-agent once hung on a FIFO in the spool\n" << out;
  EXPECT_NE(rc, 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "fifo.edict")) << out;
  EXPECT_TRUE(absl::StrContains(out, "is a FIFO, not a regular file")) << out;
  EXPECT_TRUE(absl::StrContains(out, "link.edict")) << out;
  EXPECT_TRUE(absl::StrContains(out, "is a symbolic link, not a regular file")) << out;
  EXPECT_TRUE(absl::StrContains(out, "big.edict: rejected: ERR_TOO_LARGE")) << out;
  EXPECT_TRUE(absl::StrContains(out, "65537 bytes, larger than the limit of 65536")) << out;
  EXPECT_TRUE(absl::StrContains(out, "active serial 1")) << out;
  // Refused in place: the FIFO and the links stay (not read, followed or moved); the
  // oversized regular file went to rejected/.
  EXPECT_TRUE(PathExists(h.Sub("spool/fifo.edict")));
  EXPECT_TRUE(PathExists(h.Sub("spool/link.edict")));
  EXPECT_TRUE(PathExists(h.Sub("spool/dirlink.edict")));
  EXPECT_FALSE(PathExists(h.Sub("spool/big.edict")));
  EXPECT_EQ(h.OutsideCount(), outside);
  EXPECT_TRUE(PathExists(h.Sub("outside/b5.edict")));
  // Audited, naming the file and the reason.
  const std::string audit = h.Audit();
  EXPECT_TRUE(absl::StrContains(audit, "\"code\":\"NOT_A_REGULAR_FILE\"")) << audit;
  EXPECT_TRUE(absl::StrContains(audit, "spool file fifo.edict: ")) << audit;
  EXPECT_TRUE(absl::StrContains(audit, "spool file link.edict: ")) << audit;
  EXPECT_TRUE(absl::StrContains(audit, "spool file big.edict: ")) << audit;
  EXPECT_TRUE(absl::StrContains(audit, "\"code\":\"ERR_TOO_LARGE\"")) << audit;
  ExpectAuditParses(audit);
  // The previous policy stays; the native stores keep their content.
  EXPECT_EQ(h.Serial(), 1u);
  EXPECT_EQ(h.Managed(), managed);
  EXPECT_EQ(h.Dconf(), dconf);

  // In-process: ProcessSpool returns (bounded by a timeout) and reports the same.
  {
    ports::FakeClock clock(absl::FromUnixSeconds(kNow));
    auto agent = Agent::Open(h.Config(), {nullptr, nullptr, &clock, nullptr});
    ASSERT_TRUE(agent.ok()) << agent.status();
    ASSERT_TRUE((*agent)->Start().ok());
    auto pass = std::async(std::launch::async, [&] { return (*agent)->ProcessSpool(true); });
    if (pass.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      // Unblock the reader so the test fails instead of hanging.
      const int w = ::open(h.Sub("spool/fifo.edict").c_str(), O_WRONLY | O_NONBLOCK);
      if (w >= 0) ::close(w);
      FAIL() << "ProcessSpool blocked on a FIFO";
    }
    SpoolReport r = pass.get();
    EXPECT_EQ(r.rejected, 3);
    EXPECT_EQ(r.activated, 0);
    EXPECT_EQ((*agent)->activation().Info().serial, 1u);
  }

  // `run` with the FIFO present: processes a bundle dropped after it, and exits 0 on SIGTERM.
  const std::string bin = EDICT_AGENT_BINARY;
  const std::string cfg = h.conf();
  const char* argv[] = {bin.c_str(), "--config", cfg.c_str(), "run", nullptr};
  pid_t pid = -1;
  ASSERT_EQ(::posix_spawn(&pid, bin.c_str(), nullptr, nullptr, const_cast<char**>(argv), environ),
            0);
  auto wait_for = [&](const std::string& needle) {
    for (int i = 0; i < 200; ++i) {
      if (absl::StrContains(h.Audit(), needle)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  EXPECT_TRUE(wait_for("\"kind\":\"start\"")) << h.Audit();
  Write(h.Sub("spool/.b2.tmp"), Bundle(2));
  ASSERT_EQ(::rename(h.Sub("spool/.b2.tmp").c_str(), h.Sub("spool/b2.edict").c_str()), 0);
  EXPECT_TRUE(wait_for("\"kind\":\"activation\",\"code\":\"OK\",\"serial\":2")) << h.Audit();
  ::kill(pid, SIGTERM);
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 200 && !exited; ++i) {
    exited = ::waitpid(pid, &status, WNOHANG) == pid;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  EXPECT_TRUE(exited) << "edict-agent run ignored SIGTERM with a FIFO in the spool";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(h.Managed(), ExpectedManaged(2));
  EXPECT_TRUE(PathExists(h.Sub("spool/fifo.edict")));
}

// ---- Class 2 -------------------------------------------------------------------------------

TEST(HostileInput, SymlinkedAgentDirectories) {
  Hostile h;
  h.Enrol();
  const std::string managed = h.Managed(), dconf = h.Dconf();
  const size_t outside = h.OutsideCount();
  ASSERT_GT(outside, 0u);
  auto refused = [&](const std::string& dir, const std::string& why) {
    std::string out;
    const int rc = h.Run("once", &out);
    EXPECT_NE(rc, 124) << out;
    EXPECT_NE(rc, 0) << out;
    EXPECT_TRUE(absl::StrContains(out, absl::StrCat("refusing directory ", h.Sub(dir), ": ", why)))
        << out;
    // Nothing outside the agent's directories touched; the previous policy and the native
    // stores as they were.
    EXPECT_EQ(h.OutsideCount(), outside);
    EXPECT_EQ(h.Serial(), 1u);
    EXPECT_EQ(h.Managed(), managed);
    EXPECT_EQ(h.Dconf(), dconf);
  };

  // spool/rejected -> outside/: a refused bundle is neither moved there nor does the prune
  // delete there.
  ASSERT_EQ(::symlink(h.Sub("outside").c_str(), h.Sub("spool/rejected").c_str()), 0);
  Write(h.Sub("spool/foreign.edict"), Bundle(7, "fabrikam"));
  refused("spool/rejected", "it is a symbolic link");
  EXPECT_TRUE(PathExists(h.Sub("spool/foreign.edict")));

  // Swapped while the agent runs: the pass is refused, audited, files wait for a retry.
  ASSERT_EQ(::unlink(h.Sub("spool/rejected").c_str()), 0);
  {
    ports::FakeClock clock(absl::FromUnixSeconds(kNow));
    ports::MemoryAuditSink audit;
    auto agent = Agent::Open(h.Config(), {nullptr, nullptr, &clock, &audit});
    ASSERT_TRUE(agent.ok()) << agent.status();
    ASSERT_TRUE((*agent)->Start().ok());
    ASSERT_EQ(::symlink(h.Sub("outside").c_str(), h.Sub("spool/rejected").c_str()), 0);
    SpoolReport r = (*agent)->ProcessSpool(true);
    EXPECT_EQ(r.retry, 1);
    EXPECT_EQ(r.rejected, 0);
    ASSERT_FALSE(r.lines.empty());
    EXPECT_TRUE(absl::StrContains(r.lines[0], "spool not processed: refusing directory " +
                                                  h.Sub("spool/rejected") +
                                                  ": it is a symbolic link"))
        << r.lines[0];
    bool audited = false;
    for (const auto& e : audit.Events()) {
      audited |= e.code == "UNSAFE_DIR" && absl::StrContains(e.message, h.Sub("spool/rejected"));
    }
    EXPECT_TRUE(audited);
    EXPECT_EQ((*agent)->activation().Info().serial, 1u);
    EXPECT_EQ(h.OutsideCount(), outside);
    EXPECT_TRUE(PathExists(h.Sub("spool/foreign.edict")));
  }
  ASSERT_EQ(::unlink(h.Sub("spool/rejected").c_str()), 0);

  // spool/processed, the state directory, the audit directory and a native store directory
  // as links; then a directory writable by others.
  ASSERT_EQ(::rename(h.Sub("spool/processed").c_str(), h.Sub("processed.real").c_str()), 0);
  ASSERT_EQ(::symlink(h.Sub("outside").c_str(), h.Sub("spool/processed").c_str()), 0);
  refused("spool/processed", "it is a symbolic link");
  ASSERT_EQ(::unlink(h.Sub("spool/processed").c_str()), 0);
  ASSERT_EQ(::rename(h.Sub("processed.real").c_str(), h.Sub("spool/processed").c_str()), 0);

  for (const std::string dir : {"state", "audit", "native/etc/edict/policies/managed"}) {
    ASSERT_EQ(::rename(h.Sub(dir).c_str(), h.Sub("moved.real").c_str()), 0) << dir;
    ASSERT_EQ(::symlink(h.Sub("moved.real").c_str(), h.Sub(dir).c_str()), 0) << dir;
    refused(dir, "it is a symbolic link");
    ASSERT_EQ(::unlink(h.Sub(dir).c_str()), 0);
    ASSERT_EQ(::rename(h.Sub("moved.real").c_str(), h.Sub(dir).c_str()), 0);
  }
  // A link higher up, below native_root.
  ASSERT_EQ(::rename(h.Sub("native/etc/edict").c_str(), h.Sub("edict.real").c_str()), 0);
  ASSERT_EQ(::symlink(h.Sub("edict.real").c_str(), h.Sub("native/etc/edict").c_str()), 0);
  refused("native/etc/edict", "it is a symbolic link");
  ASSERT_EQ(::unlink(h.Sub("native/etc/edict").c_str()), 0);
  ASSERT_EQ(::rename(h.Sub("edict.real").c_str(), h.Sub("native/etc/edict").c_str()), 0);

  // The audit file itself replaced by a link to a file outside: not followed, not written.
  ASSERT_EQ(::rename(h.Sub("audit/audit.jsonl").c_str(), h.Sub("audit.real").c_str()), 0);
  WriteFileOrDie(h.Sub("outside/target"), "not an audit file");
  ASSERT_EQ(::symlink(h.Sub("outside/target").c_str(), h.Sub("audit/audit.jsonl").c_str()), 0);
  {
    std::string out;
    const int rc = h.Run("once", &out);
    EXPECT_NE(rc, 124) << out;
    EXPECT_NE(rc, 0) << out;
    EXPECT_TRUE(absl::StrContains(
        out, absl::StrCat("audit file ", h.Sub("audit/audit.jsonl"), " is not a regular file")))
        << out;
    EXPECT_EQ(ReadFileOrNull(h.Sub("outside/target")).value_or(""), "not an audit file");
    EXPECT_EQ(h.Managed(), managed);
  }
  ASSERT_EQ(::unlink(h.Sub("audit/audit.jsonl").c_str()), 0);
  ASSERT_EQ(::unlink(h.Sub("outside/target").c_str()), 0);
  ASSERT_EQ(::rename(h.Sub("audit.real").c_str(), h.Sub("audit/audit.jsonl").c_str()), 0);

  ASSERT_EQ(::chmod(h.Sub("spool/processed").c_str(), 0775), 0);
  refused("spool/processed", "it is group-writable (mode 0775)");
  ASSERT_EQ(::chmod(h.Sub("spool/processed").c_str(), 0757), 0);
  refused("spool/processed", "it is world-writable (mode 0757)");
  ASSERT_EQ(::chmod(h.Sub("spool/processed").c_str(), 0750), 0);
  if (::geteuid() == 0) {  // only root can give a directory away
    ASSERT_EQ(::chown(h.Sub("state").c_str(), 65534, 65534), 0);
    refused("state", "it is owned by uid 65534, not by the agent's uid 0 or root");
    ASSERT_EQ(::chown(h.Sub("state").c_str(), 0, 0), 0);
  }

  // All restored: the waiting bundle is refused normally and lands in the real rejected/.
  std::string out;
  EXPECT_NE(h.Run("once", &out), 124);
  EXPECT_TRUE(absl::StrContains(out, "foreign.edict: bundle rejected: ERR_TARGET_TENANT")) << out;
  EXPECT_EQ(ports::testing::ListDir(h.Sub("spool/rejected")).size(), 1u);
  EXPECT_EQ(h.OutsideCount(), outside);
  EXPECT_EQ(h.Managed(), managed);
}

// ---- Class 8 -------------------------------------------------------------------------------

TEST(HostileInput, ForgedNamesAndValues) {
  Hostile h;
  h.Enrol();
  const std::string managed = h.Managed();
  // A name that would print a second, forged result line; a tenant with a NUL inside; a name
  // that is not UTF-8 and carries an escape sequence.
  const std::string forged = "x.edict: bundle 1 rejected\nb9.edict: bundle 9 activated";
  Write(h.Sub("spool/" + forged), Bundle(9, std::string("fab\0rikam", 9)));
  const std::string odd = "bad\xff\x1b[31m.edict";
  Write(h.Sub("spool/" + odd), Bundle(8, "contoso\nthis device is in \"fabrikam\""));

  std::string out;
  const int rc = h.Run("once", &out);
  ASSERT_NE(rc, 124) << out;
  // One line per file; no line starts with the forged result; the NUL did not cut the message.
  for (absl::string_view l : absl::StrSplit(out, '\n')) {
    EXPECT_FALSE(absl::StartsWith(l, "b9.edict")) << out;
    EXPECT_FALSE(absl::StartsWith(l, "this device")) << out;
    EXPECT_EQ(l.find('\x1b'), absl::string_view::npos) << out;
  }
  for (const char* piece :
       {"x.edict: bundle 1 rejected\\nb9.edict: bundle 9 activated: bundle rejected: "
        "ERR_TARGET_TENANT (",
        "bundle for tenant \"fab\\x00rikam\", this device is in \"contoso\"",
        "bad\\xff\\x1b[31m.edict: bundle rejected: ERR_TARGET_TENANT (",
        "bundle for tenant \"contoso\\nthis device is in \"fabrikam\"\""}) {
    EXPECT_TRUE(absl::StrContains(out, piece)) << piece << "\n" << out;
  }
  EXPECT_EQ(out.find('\0'), std::string::npos);
  EXPECT_TRUE(absl::StrContains(out, "active serial 1")) << out;

  // The audit: valid JSON lines, each rejection naming its spool file (escaped) and carrying
  // the whole value.
  const std::string audit = h.Audit();
  ExpectAuditParses(audit);
  int rejections = 0;
  for (absl::string_view l : absl::StrSplit(audit, '\n', absl::SkipEmpty())) {
    auto j = json::Parse(std::string(l));
    if (!j.ok() || j->Find("kind") == nullptr || j->Find("kind")->string() != "rejection") {
      continue;
    }
    ++rejections;
    const std::string& m = j->Find("message")->string();
    EXPECT_TRUE(absl::StartsWith(m, "spool file x.edict: bundle 1 rejected\\nb9.edict") ||
                absl::StartsWith(m, "spool file bad\\xff\\x1b[31m.edict"))
        << m;
    if (absl::StrContains(m, "x.edict")) {
      EXPECT_TRUE(absl::StrContains(m, std::string("fab\0rikam", 9))) << m;
    }
  }
  EXPECT_EQ(rejections, 2) << audit;
  EXPECT_EQ(h.Serial(), 1u);
  EXPECT_EQ(h.Managed(), managed);

  // In-process: the report's lines are escaped the same way.
  Write(h.Sub("spool/" + forged), Bundle(9, std::string("fab\0rikam", 9)));
  ports::FakeClock clock(absl::FromUnixSeconds(kNow));
  auto agent = Agent::Open(h.Config(), {nullptr, nullptr, &clock, nullptr});
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_TRUE((*agent)->Start().ok());
  SpoolReport r = (*agent)->ProcessSpool(true);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].find('\n'), std::string::npos);
  EXPECT_EQ(r.lines[0].find('\0'), std::string::npos);
  EXPECT_TRUE(absl::StrContains(r.lines[0], "fab\\x00rikam")) << r.lines[0];
}

}  // namespace
}  // namespace edict::agent::testing
