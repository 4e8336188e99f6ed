// The activation state machine over the Linux ports: happy path, rejections, every fault of
// issue 7 that does not need the agent binary (crash at every step and every I/O point, torn
// and corrupted state, disk full / read-only, trust rotation revoking the active signer), and
// the read-only LoadActiveState.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "ports/linux/process.h"
#include "tests/agent/fixture.h"
#include "tools/agent/agent.h"

namespace edict::agent::testing {
namespace {

using transport::ActivationStep;
using transport::ActiveSource;

std::string StateFile(const TempDir& t, const std::string& name) {
  return t.Sub("ep/state/" + name);
}

TEST(Activation, HappyPathCommitsPublishesMaterialisesAndAudits) {
  TempDir t;
  Endpoint ep(t.Sub("ep"));
  ASSERT_TRUE(ep.activation->Start().ok());
  EXPECT_EQ(ep.publisher.serial(), 0u);
  EXPECT_EQ(ep.Count(ports::AuditKind::kStart), 1);

  auto r = ep.activation->Offer(Keys::Get().Bundle(2));
  ASSERT_TRUE(r.activated) << r.status;
  EXPECT_EQ(r.code, "OK");
  EXPECT_EQ(r.serial, 2u);
  EXPECT_EQ(ep.publisher.serial(), 2u);
  EXPECT_EQ(ep.Managed(), ExpectedManaged(2));
  ASSERT_TRUE(ep.Recommended().has_value());
  EXPECT_EQ(*ep.Recommended(), "{\n  \"communicator.client_logging\": true\n}\n");
  const auto keyfile = ReadFileOrNull(t.Sub("ep/native/etc/dconf/db/local.d/50-edict"));
  ASSERT_TRUE(keyfile.has_value());
  EXPECT_TRUE(absl::StrContains(*keyfile, "client-logging=true")) << *keyfile;
  const auto locks = ReadFileOrNull(t.Sub("ep/native/etc/dconf/db/local.d/locks/50-edict"));
  ASSERT_TRUE(locks.has_value());
  EXPECT_TRUE(absl::StrContains(*locks, "/org/edict/communicator/ceip"));
  EXPECT_FALSE(absl::StrContains(*locks, "client-logging")) << "recommended must not be locked";
  EXPECT_EQ(ep.Count(ports::AuditKind::kActivation, "OK"), 1);
  EXPECT_EQ(ep.Count(ports::AuditKind::kMaterialisation, "OK"), 2);  // start + activation
  const auto info = ep.activation->Info();
  EXPECT_EQ(info.serial, 2u);
  EXPECT_EQ(info.last_serial, 2u);
  EXPECT_EQ(info.trust_version, 1u);
  EXPECT_EQ(info.source, ActiveSource::kCurrent);

  // A newer bundle replaces the old one and removes what it no longer sets.
  r = ep.activation->Offer(Keys::Get().Bundle(3));
  ASSERT_TRUE(r.activated) << r.status;
  EXPECT_EQ(ep.Managed(), ExpectedManaged(3));
  EXPECT_FALSE(ep.Recommended().has_value()) << "stale recommended file left behind";

  // Restart: the same state, re-verified.
  Endpoint again(t.Sub("ep"));
  ASSERT_TRUE(again.activation->Start().ok());
  EXPECT_EQ(again.activation->Info().serial, 3u);
  EXPECT_EQ(again.publisher.serial(), 3u);
  EXPECT_EQ(again.Count(ports::AuditKind::kStateFallback), 0) << again.AuditText();
}

TEST(Activation, RejectionsLeaveThePolicyAndAreAudited) {
  TempDir t;
  Endpoint ep(t.Sub("ep"));
  ASSERT_TRUE(ep.activation->Start().ok());
  ASSERT_TRUE(ep.activation->Offer(Keys::Get().Bundle(5)).activated);

  std::vector<uint8_t> tampered = Keys::Get().Bundle(6);
  tampered[tampered.size() / 2] ^= 0x01;
  struct Case {
    std::vector<uint8_t> bytes;
    std::string code;
  } cases[] = {
      {Keys::Get().Bundle(4), "ERR_ROLLBACK"},
      {Keys::Get().Bundle(5), "ERR_REPLAY"},
      {Keys::Get().Bundle(7, "fabrikam"), "ERR_TARGET_TENANT"},
      {Keys::Get().BundleBy(*Keys::Get().signer2, 8), "ERR_KEY_UNKNOWN"},
      {std::vector<uint8_t>(100, 0x41), "ERR_ENVELOPE"},
  };
  for (const Case& c : cases) {
    auto r = ep.activation->Offer(c.bytes);
    EXPECT_FALSE(r.activated) << c.code;
    EXPECT_FALSE(r.retryable) << c.code;
    EXPECT_EQ(r.code, c.code) << r.status;
    EXPECT_EQ(ep.Count(ports::AuditKind::kRejection, c.code), 1) << c.code;
  }
  auto r = ep.activation->Offer(tampered);
  EXPECT_FALSE(r.activated);
  EXPECT_TRUE(absl::StartsWith(r.code, "ERR_")) << r.code;
  EXPECT_EQ(ep.publisher.serial(), 5u);
  EXPECT_EQ(ep.Managed(), ExpectedManaged(5));
  EXPECT_EQ(ep.activation->Info().last_serial, 5u);
}

TEST(Activation, NoPinnedTrustRefusesEverythingButRunsOnDefaults) {
  TempDir t;
  Endpoint ep(t.Sub("ep"), nullptr, /*pinned=*/{});
  ASSERT_TRUE(ep.activation->Start().ok());
  auto r = ep.activation->Offer(Keys::Get().Bundle(1));
  EXPECT_FALSE(r.activated);
  EXPECT_EQ(r.code, "NO_TRUST");
  EXPECT_EQ(ep.publisher.serial(), 0u);
}

// Sets up `dir` with serial 1 active, then offers serial 2 in a child process that is
// SIGKILLed at one fault point; returns true if the child died by SIGKILL.
bool CrashChild(const std::string& dir, int io_index, int step_index) {
  const pid_t pid = fork();
  if (pid == 0) {
    ports::ScriptedFaultInjector scripted;
    scripted.SetCrashAction([] { ports::KillSelf(); });
    if (io_index >= 0) scripted.CrashAtIndex(io_index);
    transport::StepHook hook;
    if (step_index >= 0) {
      hook = [step_index](ActivationStep s) {
        if (static_cast<int>(s) == step_index) ports::KillSelf();
        return absl::OkStatus();
      };
    }
    Endpoint ep(dir, hook);
    (void)ep.activation->Start();
    ep.faults.Set(&scripted);
    ep.faults.Arm(true);
    (void)ep.activation->Offer(Keys::Get().Bundle(2));
    std::_Exit(0);  // no crash happened
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// After a crash: old or new state, never neither; the serial never goes back; the native
// stores converge; the newer bundle can still be activated if the old one survived.
void CheckAfterCrash(const std::string& dir, const std::string& label) {
  Endpoint ep(dir);
  ASSERT_TRUE(ep.activation->Start().ok()) << label;
  const auto info = ep.activation->Info();
  EXPECT_TRUE(info.serial == 1 || info.serial == 2) << label << ": serial " << info.serial;
  EXPECT_EQ(info.source, ActiveSource::kCurrent) << label << "\n" << ep.AuditText();
  EXPECT_GE(info.last_serial, info.serial) << label;
  EXPECT_EQ(ep.Count(ports::AuditKind::kStateFallback), 0) << label << "\n" << ep.AuditText();
  EXPECT_EQ(ep.Managed(), ExpectedManaged(info.serial)) << label;
  if (info.serial == 1) {
    auto r = ep.activation->Offer(Keys::Get().Bundle(2));
    EXPECT_TRUE(r.activated) << label << ": " << r.status;
    EXPECT_EQ(ep.Managed(), ExpectedManaged(2)) << label;
  }
  auto r = ep.activation->Offer(Keys::Get().Bundle(1));
  EXPECT_EQ(r.code, "ERR_ROLLBACK") << label;
}

void PrepareSerialOne(const std::string& dir) {
  Endpoint ep(dir);
  ASSERT_TRUE(ep.activation->Start().ok());
  ASSERT_TRUE(ep.activation->Offer(Keys::Get().Bundle(1)).activated);
}

TEST(ActivationFaults, CrashAtEveryIoPointOfAnActivation) {
  Keys::Get();  // keys generated before forking
  // Count the I/O points of one activation.
  int points = 0;
  {
    TempDir t;
    PrepareSerialOne(t.Sub("ep"));
    ports::ScriptedFaultInjector counter;
    Endpoint ep(t.Sub("ep"));
    ASSERT_TRUE(ep.activation->Start().ok());
    ep.faults.Set(&counter);
    ep.faults.Arm(true);
    ASSERT_TRUE(ep.activation->Offer(Keys::Get().Bundle(2)).activated);
    points = counter.PointsSeen();
    for (const auto& l : counter.Log()) std::printf("  point: %s\n", l.c_str());
  }
  ASSERT_GT(points, 10);
  std::set<uint64_t> outcomes;
  for (int k = 0; k < points; ++k) {
    TempDir t;
    PrepareSerialOne(t.Sub("ep"));
    ASSERT_TRUE(CrashChild(t.Sub("ep"), k, -1)) << "point " << k << " did not crash";
    CheckAfterCrash(t.Sub("ep"), absl::StrCat("crash at I/O point ", k));
    Endpoint probe(t.Sub("ep"));
    (void)probe.activation->Start();
  }
  std::printf("crashed at each of %d I/O points\n", points);
}

TEST(ActivationFaults, CrashAtEveryActivationStep) {
  Keys::Get();
  for (int s = 0; s < static_cast<int>(ActivationStep::kCount); ++s) {
    TempDir t;
    PrepareSerialOne(t.Sub("ep"));
    ASSERT_TRUE(CrashChild(t.Sub("ep"), -1, s)) << "step " << s;
    CheckAfterCrash(t.Sub("ep"),
                    absl::StrCat("crash at step ",
                                 transport::ActivationStepName(static_cast<ActivationStep>(s))));
  }
}

TEST(ActivationFaults, InjectedStepFailuresAreAuditedAndRetryable) {
  for (int s = 0; s < static_cast<int>(ActivationStep::kCount); ++s) {
    TempDir t;
    PrepareSerialOne(t.Sub("ep"));
    bool fail = true;
    Endpoint ep(t.Sub("ep"), [&fail, s](ActivationStep step) {
      if (fail && static_cast<int>(step) == s) return absl::UnavailableError("test fault");
      return absl::OkStatus();
    });
    ASSERT_TRUE(ep.activation->Start().ok());
    auto r = ep.activation->Offer(Keys::Get().Bundle(2));
    const auto step = static_cast<ActivationStep>(s);
    if (step <= ActivationStep::kCommit) {
      EXPECT_FALSE(r.activated);
      EXPECT_TRUE(r.retryable);
      EXPECT_EQ(ep.publisher.serial(), 1u);
      fail = false;
      EXPECT_TRUE(ep.activation->Offer(Keys::Get().Bundle(2)).activated);
    } else {
      EXPECT_TRUE(r.committed) << transport::ActivationStepName(step);
    }
    fail = false;
    Endpoint again(t.Sub("ep"));
    ASSERT_TRUE(again.activation->Start().ok());
    EXPECT_EQ(again.activation->Info().serial, 2u) << transport::ActivationStepName(step);
    EXPECT_EQ(again.Managed(), ExpectedManaged(2));
  }
}

// Serial 1 then 2: "active" holds 2, "active.prev" holds 1. (Built in place: the native
// stores' ownership records name absolute paths, so a copied tree would not be "ours".)
void PrepareSerialTwo(const std::string& dir) {
  PrepareSerialOne(dir);
  Endpoint ep(dir);
  ASSERT_TRUE(ep.activation->Start().ok());
  ASSERT_TRUE(ep.activation->Offer(Keys::Get().Bundle(2)).activated);
}

TEST(ActivationFaults, TornOrCorruptedStateFallsBackAndIsAudited) {
  TempDir base;
  PrepareSerialTwo(base.Sub("ep"));
  const std::string image = *ReadFileOrNull(base.Sub("ep/state/active"));
  std::mt19937 rng(7);
  std::vector<std::string> damaged;
  for (size_t cut :
       {size_t{0}, size_t{1}, size_t{47}, size_t{48}, image.size() / 2, image.size() - 1}) {
    damaged.push_back(image.substr(0, cut));
  }
  for (int i = 0; i < 24; ++i) {
    std::string d = image;
    d[rng() % d.size()] ^= static_cast<char>(1 + rng() % 255);
    damaged.push_back(d);
  }
  damaged.push_back(image + "x");
  int n = 0;
  for (const std::string& d : damaged) {
    TempDir t;
    PrepareSerialTwo(t.Sub("ep"));
    WriteFileOrDie(StateFile(t, "active"), d);
    Endpoint ep(t.Sub("ep"));
    ASSERT_TRUE(ep.activation->Start().ok());
    const auto info = ep.activation->Info();
    EXPECT_EQ(info.source, ActiveSource::kPrevious) << "damage " << n;
    EXPECT_EQ(info.serial, 1u) << "damage " << n;
    EXPECT_EQ(info.last_serial, 2u) << "the serial went back (damage " << n << ")";
    EXPECT_GE(ep.Count(ports::AuditKind::kStateFallback, "STATE_CORRUPT"), 1) << n;
    EXPECT_EQ(ep.Managed(), ExpectedManaged(1)) << ep.AuditText();
    // The floor still refuses a replay of 2? No: 2 is legitimate and newer than the
    // fallback; it is refused as a replay because the floor remembers it. Serial 3 works.
    EXPECT_EQ(ep.activation->Offer(Keys::Get().Bundle(2)).code, "ERR_REPLAY");
    EXPECT_TRUE(ep.activation->Offer(Keys::Get().Bundle(3)).activated);
    ++n;
  }
  // Both generations damaged: defaults, audited, floor kept.
  {
    TempDir t;
    PrepareSerialTwo(t.Sub("ep"));
    WriteFileOrDie(StateFile(t, "active"), "garbage");
    WriteFileOrDie(StateFile(t, "active.prev"), image.substr(0, image.size() / 3));
    Endpoint ep(t.Sub("ep"));
    ASSERT_TRUE(ep.activation->Start().ok());
    EXPECT_EQ(ep.activation->Info().source, ActiveSource::kDefaults);
    EXPECT_EQ(ep.publisher.serial(), 0u);
    EXPECT_EQ(ep.activation->Info().last_serial, 2u);
    EXPECT_GE(ep.Count(ports::AuditKind::kStateFallback, "STATE_CORRUPT"), 1);
    EXPECT_EQ(ep.Managed(), "<none>") << "defaults are not written to native stores";
  }
  // Trust chain damaged: the pinned document alone still verifies the bundle.
  {
    TempDir t;
    PrepareSerialTwo(t.Sub("ep"));
    WriteFileOrDie(StateFile(t, "trust"), "garbage");
    WriteFileOrDie(StateFile(t, "trust.prev"), "garbage");
    Endpoint ep(t.Sub("ep"));
    ASSERT_TRUE(ep.activation->Start().ok());
    EXPECT_EQ(ep.activation->Info().serial, 2u);
    EXPECT_GE(ep.Count(ports::AuditKind::kStateFallback, "STATE_CORRUPT"), 1);
  }
}

TEST(ActivationFaults, AStoredBundleThatNoLongerVerifiesIsDropped) {
  TempDir t;
  PrepareSerialOne(t.Sub("ep"));
  // A different pinned trust (another root): the stored bundle is not signed by it.
  auto other_root = *transport::PrivateSigningKey::Generate();
  transport::TrustSpec spec;
  spec.version = 1;
  spec.issued_at = kNow - kDay;
  spec.expires_at = kNow + kDay;
  auto other_signer = *transport::PrivateSigningKey::Generate();
  spec.keys = {TK(*other_root, transport::KeyRole::kRoot),
               TK(*other_signer, transport::KeyRole::kSigner)};
  const transport::PrivateSigningKey* s[] = {other_root.get()};
  auto other = transport::BuildTrustDocument(spec, s);
  ASSERT_TRUE(other.ok()) << other.status();
  Endpoint ep(t.Sub("ep"), nullptr, *other);
  ASSERT_TRUE(ep.activation->Start().ok());
  EXPECT_EQ(ep.activation->Info().source, ActiveSource::kDefaults);
  EXPECT_GE(ep.Count(ports::AuditKind::kStateFallback, "ERR_KEY_UNKNOWN"), 1) << ep.AuditText();
  EXPECT_EQ(ep.Managed(), "<none>") << "native stores must drop the unverifiable policy";
}

TEST(ActivationFaults, DiskFullAndReadOnlyAreAuditedAndTheNextTrySucceeds) {
  for (std::errc error : {std::errc::no_space_on_device, std::errc::read_only_file_system}) {
    TempDir t;
    PrepareSerialOne(t.Sub("ep"));
    ports::ScriptedFaultInjector full;
    ports::FaultRule rule;
    rule.times = -1;
    rule.error = error;
    full.AddRule(rule);
    Endpoint ep(t.Sub("ep"));
    ASSERT_TRUE(ep.activation->Start().ok());
    ep.faults.Set(&full);
    ep.faults.Arm(true);
    auto r = ep.activation->Offer(Keys::Get().Bundle(2));
    EXPECT_FALSE(r.activated);
    EXPECT_TRUE(r.retryable);
    EXPECT_EQ(r.code, "STATE_IO");
    EXPECT_EQ(ep.Count(ports::AuditKind::kError, "STATE_IO"), 1) << ep.AuditText();
    EXPECT_EQ(ep.publisher.serial(), 1u) << "old policy must stay active";
    EXPECT_EQ(ep.Managed(), ExpectedManaged(1));
    // Space returns.
    ep.faults.Arm(false);
    r = ep.activation->Offer(Keys::Get().Bundle(2));
    EXPECT_TRUE(r.activated) << r.status;
    EXPECT_EQ(ep.Managed(), ExpectedManaged(2));
  }
}

TEST(ActivationFaults, NativeStoreFailureKeepsThePolicyAndConvergesOnRetry) {
  TempDir t;
  PrepareSerialOne(t.Sub("ep"));
  ports::ScriptedFaultInjector fail_native;
  ports::FaultRule rule;
  rule.path_contains = "native";
  rule.times = -1;
  rule.error = std::errc::no_space_on_device;
  fail_native.AddRule(rule);
  Endpoint ep(t.Sub("ep"));
  ASSERT_TRUE(ep.activation->Start().ok());
  ep.faults.Set(&fail_native);
  ep.faults.Arm(true);
  auto r = ep.activation->Offer(Keys::Get().Bundle(2));
  EXPECT_TRUE(r.activated) << r.status;
  EXPECT_EQ(ep.publisher.serial(), 2u);
  EXPECT_GE(ep.Count(ports::AuditKind::kMaterialisation, "NATIVE_STORE"), 1);
  ep.faults.Arm(false);
  ASSERT_TRUE(ep.activation->Rematerialise().ok());
  EXPECT_EQ(ep.Managed(), ExpectedManaged(2));
}

TEST(ActivationTrust, RotationRevokingTheActiveSignerDropsItsPolicy) {
  TempDir t;
  Endpoint ep(t.Sub("ep"));
  ASSERT_TRUE(ep.activation->Start().ok());
  ASSERT_TRUE(ep.activation->Offer(Keys::Get().Bundle(9)).activated);
  auto r = ep.activation->OfferTrust(Keys::Get().TrustV2RevokingSigner());
  ASSERT_TRUE(r.activated) << r.status;
  EXPECT_EQ(ep.activation->Info().trust_version, 2u);
  EXPECT_EQ(ep.activation->Info().source, ActiveSource::kDefaults);
  EXPECT_EQ(ep.publisher.serial(), 0u);
  EXPECT_GE(ep.Count(ports::AuditKind::kStateFallback, "ERR_KEY_REVOKED"), 1) << ep.AuditText();
  EXPECT_EQ(ep.Managed(), "<none>");
  // The same version again: refused.
  EXPECT_EQ(ep.activation->OfferTrust(Keys::Get().TrustV2RevokingSigner()).code,
            "ERR_TRUST_VERSION");
  // A bundle by the new signer works (serial above the floor).
  r = ep.activation->Offer(Keys::Get().BundleBy(*Keys::Get().signer2, 10));
  EXPECT_TRUE(r.activated) << r.status;
  // Restart: trust chain v1 -> v2 re-verified from the pinned v1.
  Endpoint again(t.Sub("ep"));
  ASSERT_TRUE(again.activation->Start().ok());
  EXPECT_EQ(again.activation->Info().trust_version, 2u);
  EXPECT_EQ(again.activation->Info().serial, 10u);
  EXPECT_EQ(again.Count(ports::AuditKind::kStateFallback), 0) << again.AuditText();
}

TEST(LoadActiveState, ReadOnlyViewMatchesTheAgentAndWritesNothing) {
  TempDir t;
  PrepareSerialOne(t.Sub("ep"));
  {
    Endpoint ep(t.Sub("ep"));
    ASSERT_TRUE(ep.activation->Start().ok());
    ASSERT_TRUE(ep.activation->Offer(Keys::Get().Bundle(4)).activated);
  }
  // A leftover temporary file must survive a read-only load (the daemon may be writing).
  WriteFileOrDie(StateFile(t, "active.tmp"), "in flight");
  auto store = OpenReadOnlyStateStore(t.Sub("ep/state"));
  transport::LoadActiveStateOptions o;  // no pinned bytes, no identity: the stored ones
  auto state = transport::LoadActiveState(*store, o);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ((*state)->info().serial, 4u);
  EXPECT_EQ((*state)->info().trust_version, 1u);
  EXPECT_TRUE((*state)->info().problems.empty());
  EXPECT_EQ((*state)->snapshot().serial(), 4u);
  EXPECT_TRUE(ports::testing::PathExists(StateFile(t, "active.tmp")));
  // With the pinned document and identity given explicitly.
  o.pinned_trust = Keys::Get().trust_v1;
  o.identity = transport::EndpointIdentity{"contoso", "device-1", {"finance"}};
  state = transport::LoadActiveState(*store, o);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ((*state)->info().serial, 4u);
  // Another identity: verified as defaults, with the reason.
  o.identity = transport::EndpointIdentity{"fabrikam", "device-1", {}};
  state = transport::LoadActiveState(*store, o);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ((*state)->info().source, ActiveSource::kDefaults);
  ASSERT_FALSE((*state)->info().problems.empty());
  EXPECT_TRUE(absl::StrContains((*state)->info().problems[0], "ERR_TARGET_TENANT"));
  // Empty directory: defaults, no problem, no error.
  TempDir empty;
  auto none = OpenReadOnlyStateStore(empty.path());
  state = transport::LoadActiveState(*none, {});
  ASSERT_TRUE(state.ok());
  EXPECT_EQ((*state)->info().source, ActiveSource::kDefaults);
  EXPECT_TRUE((*state)->info().problems.empty());
}

}  // namespace
}  // namespace edict::agent::testing
