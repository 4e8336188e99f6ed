// edict-agent's spool handling, single-instance lock and configuration, in-process.
#include "tools/agent/agent.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/agent/fixture.h"
#include "tools/agent/config.h"

#ifndef EDICT_SOURCE_DIR
#error "EDICT_SOURCE_DIR must be defined"
#endif

namespace edict::agent::testing {
namespace {

void WriteBytes(const std::string& path, const std::vector<uint8_t>& b) {
  WriteFileOrDie(path, absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

// Sets a file's mtime (the tests run on a fake clock at kNow).
void SetMtime(const std::string& path, absl::Time t) {
  struct timespec ts[2];
  ts[0] = ts[1] = absl::ToTimespec(t);
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, 0), 0);
}

AgentConfig TestConfig(const TempDir& t) {
  const std::string text = absl::StrCat(
      "state_dir = ", t.Sub("state"), "\n", "spool_dir = ", t.Sub("spool"), "\n",
      "lock_file = ", t.Sub("agent.lock"), "\n", "trust_pinned = ", t.Sub("trust.edt"), "\n",
      "audit_file = ", t.Sub("audit/audit.jsonl"), "\n", "audit_max_bytes = 65536\n",
      "audit_keep_files = 50\n", "audit_syslog = false\n", "tenant = contoso\n",
      "groups = finance\n", "device_id = device-1\n", "native_root = ", t.Sub("native"), "\n",
      "dconf_update = false\n", "settle_ms = 50\n", "processed_keep = 5\n", "rejected_keep = 7\n");
  auto c = ParseConfig(text, "test.conf");
  EXPECT_TRUE(c.ok()) << c.status();
  WriteBytes(t.Sub("trust.edt"), Keys::Get().trust_v1);
  mkdir(t.Sub("spool").c_str(), 0755);
  return *c;
}

std::vector<std::string> List(const std::string& dir) { return ports::testing::ListDir(dir); }

TEST(AgentSpool, OnceActivatesMovesAsideAndAuditsEveryFile) {
  TempDir t;
  AgentConfig c = TestConfig(t);
  ports::FakeClock clock(absl::FromUnixSeconds(kNow));
  ports::MemoryAuditSink audit;
  auto agent = Agent::Open(c, {nullptr, nullptr, &clock, &audit});
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_TRUE((*agent)->Start().ok());
  WriteBytes(t.Sub("spool/b3.edict"), Keys::Get().Bundle(3));
  WriteBytes(t.Sub("spool/b2.edict"), Keys::Get().Bundle(2));
  WriteFileOrDie(t.Sub("spool/.hidden"), "ignored");
  WriteFileOrDie(t.Sub("spool/x.tmp"), "ignored");
  clock.Advance(absl::Seconds(120));  // the files are old enough to be judged
  SpoolReport r = (*agent)->ProcessSpool(true);
  EXPECT_EQ(r.activated, 1);
  EXPECT_EQ(r.rejected, 1);
  EXPECT_EQ((*agent)->activation().Info().serial, 3u);
  EXPECT_EQ(List(t.Sub("spool/processed")).size(), 1u);
  EXPECT_EQ(List(t.Sub("spool/rejected")).size(), 1u);
  EXPECT_TRUE(ports::testing::PathExists(t.Sub("spool/.hidden")));
  EXPECT_TRUE(ports::testing::PathExists(t.Sub("spool/x.tmp")));
  // Nothing left to do: a second pass handles nothing.
  r = (*agent)->ProcessSpool(true);
  EXPECT_EQ(r.activated + r.rejected + r.deferred + r.retry, 0);
  // The JSON-lines file has the same events.
  const std::string file = *ReadFileOrNull(t.Sub("audit/audit.jsonl"));
  EXPECT_TRUE(absl::StrContains(file, "\"code\":\"ERR_ROLLBACK\""));
  EXPECT_TRUE(absl::StrContains(file, "\"kind\":\"activation\""));
}

TEST(AgentSpool, TwoAgentsAtOnceTheSecondIsRefusedWithAClearMessage) {
  TempDir t;
  AgentConfig c = TestConfig(t);
  auto first = Agent::Open(c);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Agent::Open(c);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), "another edict instance holds"))
      << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), t.Sub("agent.lock")));
  first->reset();
  EXPECT_TRUE(Agent::Open(c).ok()) << "the lock must be released with the first agent";
}

TEST(AgentSpool, HalfWrittenBundleIsIgnoredUntilComplete) {
  TempDir t;
  AgentConfig c = TestConfig(t);
  ports::FakeClock clock(absl::FromUnixSeconds(kNow));
  ports::MemoryAuditSink audit;
  auto agent = Agent::Open(c, {nullptr, nullptr, &clock, &audit});
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->Start().ok());
  const std::vector<uint8_t> bundle = Keys::Get().Bundle(7);
  // Every prefix of the bundle, each written and left alone while young.
  for (size_t cut : {size_t{1}, size_t{8}, size_t{40}, bundle.size() / 2, bundle.size() - 1}) {
    WriteBytes(t.Sub("spool/b.edict"), std::vector<uint8_t>(bundle.begin(), bundle.begin() + cut));
    SetMtime(t.Sub("spool/b.edict"), clock.Now() - absl::Seconds(1));  // young
    const size_t events = audit.Events().size();
    SpoolReport r = (*agent)->ProcessSpool(true);
    EXPECT_EQ(r.deferred, 1) << "prefix " << cut;
    EXPECT_EQ(r.rejected, 0) << "prefix " << cut;
    EXPECT_EQ(audit.Events().size(), events) << "a half-written file was offered (" << cut << ")";
    EXPECT_TRUE(ports::testing::PathExists(t.Sub("spool/b.edict")));
    EXPECT_EQ((*agent)->activation().Info().serial, 0u);
  }
  WriteBytes(t.Sub("spool/b.edict"), bundle);
  SetMtime(t.Sub("spool/b.edict"), clock.Now());
  SpoolReport r = (*agent)->ProcessSpool(true);
  EXPECT_EQ(r.activated, 1);
  EXPECT_EQ((*agent)->activation().Info().serial, 7u);
  // A broken file that stays broken is rejected (and audited) once it is old.
  WriteFileOrDie(t.Sub("spool/junk.edict"), "EDB1 not really");
  SetMtime(t.Sub("spool/junk.edict"), clock.Now());
  r = (*agent)->ProcessSpool(true);
  EXPECT_EQ(r.deferred, 1);
  clock.Advance(absl::Seconds(c.incomplete_grace_seconds + 1));
  r = (*agent)->ProcessSpool(true);
  EXPECT_EQ(r.rejected, 1);
  EXPECT_FALSE(ports::testing::PathExists(t.Sub("spool/junk.edict")));
}

TEST(AgentSpool, FileStillBeingWrittenDuringTheSettleWindowIsLeft) {
  TempDir t;
  AgentConfig c = TestConfig(t);
  c.settle_ms = 300;
  ports::FakeClock clock(absl::FromUnixSeconds(kNow));
  auto agent = Agent::Open(c, {nullptr, nullptr, &clock, nullptr});
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->Start().ok());
  const std::vector<uint8_t> bundle = Keys::Get().Bundle(5);
  const std::string path = t.Sub("spool/slow.edict");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, bundle.data(), 10), 10);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (void)!::write(fd, bundle.data() + 10, bundle.size() - 10);
    ::close(fd);
  });
  SpoolReport r = (*agent)->ProcessSpool(true);
  writer.join();
  EXPECT_EQ(r.deferred, 1);
  EXPECT_EQ((*agent)->activation().Info().serial, 0u);
  r = (*agent)->ProcessSpool(true);
  EXPECT_EQ(r.activated, 1);
  EXPECT_EQ((*agent)->activation().Info().serial, 5u);
}

TEST(AgentSpool, DiskFullLeavesTheFileForARetryThatSucceeds) {
  TempDir t;
  AgentConfig c = TestConfig(t);
  c.retry_seconds = 10;
  ports::FakeClock clock(absl::FromUnixSeconds(kNow));
  ports::ScriptedFaultInjector full;
  ports::FaultRule rule;
  rule.times = -1;
  rule.error = std::errc::no_space_on_device;
  rule.path_contains = "/state/active";
  full.AddRule(rule);
  ArmableInjector faults(&full);
  auto agent = Agent::Open(c, {&faults, nullptr, &clock, nullptr});
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->Start().ok());
  WriteBytes(t.Sub("spool/b.edict"), Keys::Get().Bundle(4));
  clock.Advance(absl::Seconds(120));
  faults.Arm(true);
  SpoolReport r = (*agent)->ProcessSpool(true);
  EXPECT_EQ(r.retry, 1);
  EXPECT_TRUE(ports::testing::PathExists(t.Sub("spool/b.edict")));
  EXPECT_EQ((*agent)->activation().Info().serial, 0u);
  faults.Arm(false);
  r = (*agent)->ProcessSpool(true);  // too early: waits retry_seconds
  EXPECT_EQ(r.activated, 0);
  clock.Advance(absl::Seconds(11));
  r = (*agent)->ProcessSpool(true);
  EXPECT_EQ(r.activated, 1);
  EXPECT_EQ((*agent)->activation().Info().serial, 4u);
  const std::string file = *ReadFileOrNull(t.Sub("audit/audit.jsonl"));
  EXPECT_TRUE(absl::StrContains(file, "\"code\":\"STATE_IO\"")) << file;
}

TEST(AgentSpool, BurstOfAThousandBundlesNewestValidWinsNoneLostFromAudit) {
  TempDir t;
  AgentConfig c = TestConfig(t);
  c.audit_max_bytes = 1 << 20;
  ports::FakeClock clock(absl::FromUnixSeconds(kNow));
  ports::MemoryAuditSink audit;
  auto agent = Agent::Open(c, {nullptr, nullptr, &clock, &audit});
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->Start().ok());
  const long rss_before = PeakRssKiB();
  // 1,000 files: serials 1..990 valid, serials 991..1000 invalid in various ways (a forged
  // newest one must not win).
  std::vector<int> order(1000);
  for (int i = 0; i < 1000; ++i) order[i] = i + 1;
  std::shuffle(order.begin(), order.end(), std::mt19937(42));
  for (int serial : order) {
    std::vector<uint8_t> b;
    if (serial <= 990) {
      b = Keys::Get().Bundle(serial);
    } else if (serial % 3 == 0) {
      b = Keys::Get().BundleBy(*Keys::Get().signer2, serial);  // unknown key
    } else if (serial % 3 == 1) {
      b = Keys::Get().Bundle(serial, "fabrikam");  // wrong tenant
    } else {
      b = Keys::Get().Bundle(serial);
      b[b.size() - 5] ^= 0x20;  // tampered signature
    }
    WriteBytes(t.Sub(absl::StrCat("spool/bundle-", serial, ".edict")), b);
  }
  clock.Advance(absl::Seconds(120));
  const absl::Time start = absl::Now();
  SpoolReport r = (*agent)->ProcessSpool(true);
  const absl::Duration took = absl::Now() - start;
  const long rss_after = PeakRssKiB();
  EXPECT_EQ(r.activated, 1);
  EXPECT_EQ(r.rejected, 999);
  EXPECT_EQ((*agent)->activation().Info().serial, 990u);
  EXPECT_EQ(List(t.Sub("spool")).size(), 2u) << "only processed/ and rejected/ remain";
  // Every file is in the audit: one activation and 999 rejections, each naming why.
  int activations = 0, rejections = 0;
  std::set<std::string> codes;
  for (const auto& e : audit.Events()) {
    if (e.kind == ports::AuditKind::kActivation) ++activations;
    if (e.kind == ports::AuditKind::kRejection) {
      ++rejections;
      codes.insert(e.code);
    }
  }
  EXPECT_EQ(activations, 1);
  EXPECT_EQ(rejections, 999);
  EXPECT_TRUE(codes.count("ERR_ROLLBACK"));
  EXPECT_TRUE(codes.count("ERR_KEY_UNKNOWN"));
  EXPECT_TRUE(codes.count("ERR_TARGET_TENANT"));
  // The audit files on disk (rotated) hold them all too.
  int lines = 0;
  for (int i = 0; i < c.audit_keep_files; ++i) {
    const auto text = ReadFileOrNull(i == 0 ? c.audit_file : absl::StrCat(c.audit_file, ".", i));
    if (!text) continue;
    for (const char* kind : {"\"kind\":\"rejection\"", "\"kind\":\"activation\""}) {
      for (size_t p = text->find(kind); p != std::string::npos; p = text->find(kind, p + 1)) {
        ++lines;
      }
    }
  }
  EXPECT_EQ(lines, 1000);
  // Bounded retention.
  EXPECT_EQ(List(t.Sub("spool/processed")).size(), 1u);
  EXPECT_EQ(List(t.Sub("spool/rejected")).size(), 7u);
  // Memory: generating the bundles dominates; processing must not add per-file growth.
  std::printf("burst: 1000 files in %s, peak RSS %ld KiB before processing, %ld KiB after\n",
              absl::FormatDuration(took).c_str(), rss_before, rss_after);
  EXPECT_LT(rss_after - rss_before, 64 * 1024) << "processing grew the peak RSS by > 64 MiB";
}

TEST(AgentConfig, ExampleParsesAndEveryKeyIsDocumented) {
  const std::string src = EDICT_SOURCE_DIR;
  auto example = LoadConfig(src + "/packaging/agent.conf.example");
  ASSERT_TRUE(example.ok()) << example.status();
  EXPECT_EQ(example->tenant, "contoso");
  EXPECT_EQ(example->device_context.identity, Identity::kManaged);
  const std::string doc = *ReadFileOrNull(src + "/docs/agent.md");
  const std::string cc = *ReadFileOrNull(src + "/tools/agent/config.cc");
  // Every key the parser accepts appears in docs/agent.md's table and in the example.
  std::regex key_re("key == \"([a-z_]+)\"");
  const std::string ex = *ReadFileOrNull(src + "/packaging/agent.conf.example");
  int keys = 0;
  for (auto it = std::sregex_iterator(cc.begin(), cc.end(), key_re); it != std::sregex_iterator();
       ++it) {
    const std::string key = (*it)[1];
    ++keys;
    EXPECT_TRUE(absl::StrContains(doc, absl::StrCat("| `", key, "` |"))) << key;
    EXPECT_TRUE(absl::StrContains(ex, key)) << key;
  }
  EXPECT_GT(keys, 30);
  for (const char* k : {"identity", "domain_joined", "device_managed", "plan", "os_generation",
                        "device_state", "role", "region"}) {
    EXPECT_TRUE(absl::StrContains(doc, absl::StrCat("| `context.", k, "` |"))) << k;
  }
  EXPECT_TRUE(absl::StrContains(doc, "| `context.<product>.<name>` |"));
  EXPECT_TRUE(absl::StrContains(ex, "context.acmevpn."));
}

TEST(AgentConfig, ErrorsNameTheLine) {
  auto c = ParseConfig("# comment\n\nstate_dir = /x\nbogus = 1\n", "a.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), "a.conf:4")) << c.status();
  c = ParseConfig("state_dir = relative\n", "a.conf");
  EXPECT_FALSE(c.ok());
  c = ParseConfig("settle_ms = -5\n", "a.conf");
  EXPECT_FALSE(c.ok());
  c = ParseConfig("context.plan = galactic\n", "a.conf");
  EXPECT_FALSE(c.ok());
  c = ParseConfig("managed_json_target = a:../etc\n", "a.conf");
  EXPECT_FALSE(c.ok());
  c = ParseConfig("managed_json_target = chromium:etc/chromium/policies:chromium.:managed-only\n",
                  "a.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->managed_json_targets.size(), 1u);
  EXPECT_EQ(c->managed_json_targets[0].prefix, "chromium.");
  EXPECT_FALSE(c->managed_json_targets[0].recommended);
}

TEST(Packaging, SystemdUnitVerifies) {
  if (ports::testing::RunShell("command -v systemd-analyze >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "systemd-analyze not available";
  }
  const std::string src = EDICT_SOURCE_DIR;
  TempDir t;
  // The unit names /usr/bin/edict-agent; verify it against the binary this build made.
  std::string unit = *ReadFileOrNull(src + "/packaging/edict-agent.service");
  const std::string bin = EDICT_AGENT_BINARY;
  for (size_t p = unit.find("/usr/bin/edict-agent"); p != std::string::npos;
       p = unit.find("/usr/bin/edict-agent", p + bin.size())) {
    unit.replace(p, std::strlen("/usr/bin/edict-agent"), bin);
  }
  for (const char* k :
       {"ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes",
        "ReadWritePaths=/var/lib/edict", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"}) {
    EXPECT_TRUE(absl::StrContains(unit, k)) << k;
  }
  WriteFileOrDie(t.Sub("edict-agent.service"), unit);
  std::string out;
  const int rc = ports::testing::RunShell(
      absl::StrCat("systemd-analyze verify ", t.Sub("edict-agent.service"), " 2>&1"), &out);
  if (rc != 0 && absl::StrContains(out, "Failed to")) {
    // No systemd manager to talk to (containers): not a verdict on the unit.
    if (absl::StrContains(out, "bus") || absl::StrContains(out, "Bus")) {
      GTEST_SKIP() << "systemd-analyze cannot run here: " << out;
    }
  }
  EXPECT_EQ(rc, 0) << out;
}

}  // namespace
}  // namespace edict::agent::testing
