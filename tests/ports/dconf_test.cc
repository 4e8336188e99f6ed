// dconf store: exact keyfile and locks, profile handling, no tattoo, foreign files untouched,
// `dconf compile` accepts what we write, and `dconf update` picks up every change.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "ports/fault_injector.h"
#include "ports/linux/dconf_store.h"
#include "ports/linux/linux_state_store.h"
#include "ports/linux/process.h"
#include "tests/ports/test_util.h"

namespace edict::ports {
namespace {

using testing::ReadFileOrNull;
using testing::TempDir;

constexpr char kHeader[] = "# Written by edict; every change here is overwritten. Do not edit.\n";

class DconfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.Sub("root");
    state_ = OpenLinuxStateStore({dir_.Sub("state"), nullptr}).value();
  }

  DconfOptions Options(FaultInjector* faults = nullptr, StateStore* state = nullptr) {
    DconfOptions options;
    options.root = root_;
    options.update_command = {};
    options.state = state != nullptr ? state : state_.get();
    options.faults = faults;
    return options;
  }
  std::unique_ptr<NativePolicyStore> Store(FaultInjector* faults = nullptr,
                                           StateStore* state = nullptr) {
    auto store = OpenDconfStore(Options(faults, state));
    EXPECT_TRUE(store.ok()) << store.status();
    return *std::move(store);
  }

  std::string Db() const { return root_ + "/etc/dconf/db"; }
  std::string Keyfile() const { return Db() + "/local.d/50-edict"; }
  std::string Locks() const { return Db() + "/local.d/locks/50-edict"; }
  std::string Profile() const { return root_ + "/etc/dconf/profile/user"; }

  static std::vector<NativePolicyEntry> Full() {
    return {
        {"communicator.ceip", false, true},
        {"communicator.server-name", std::string("it's \\ \"here\"\n"), false},
        {"desktop.screensaver.idle-delay", int64_t{300}, true},
        {"desktop.screensaver.big", int64_t{5000000000}, false},
        {"apps.allowed", std::vector<std::string>{"a'b", "c"}, true},
        {"apps.blocked", std::vector<std::string>{}, false},
    };
  }

  // Compiles the keyfile directory with dconf; returns its exit status.
  int Compile() {
    return testing::RunShell("dconf compile " + dir_.Sub("compiled") + " " + Db() +
                             "/local.d 2>&1");
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<StateStore> state_;
};

TEST_F(DconfTest, ApplyWritesExactKeyfileLocksAndProfile) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  EXPECT_EQ(ReadFileOrNull(Keyfile()), absl::StrCat(kHeader,
                                                    "\n[org/edict/apps]\n"
                                                    "allowed=['a\\'b', 'c']\n"
                                                    "blocked=@as []\n"
                                                    "\n[org/edict/communicator]\n"
                                                    "ceip=false\n"
                                                    "server-name='it\\'s \\\\ \"here\"\\n'\n"
                                                    "\n[org/edict/desktop/screensaver]\n"
                                                    "big=int64 5000000000\n"
                                                    "idle-delay=300\n"));
  EXPECT_EQ(ReadFileOrNull(Locks()), absl::StrCat(kHeader,
                                                  "/org/edict/apps/allowed\n"
                                                  "/org/edict/communicator/ceip\n"
                                                  "/org/edict/desktop/screensaver/idle-delay\n"));
  EXPECT_EQ(ReadFileOrNull(Profile()), "user-db:user\nsystem-db:local\n");
  EXPECT_EQ(
      store->OwnedKeys().value(),
      (std::vector<std::string>{
          "/org/edict/apps/allowed", "/org/edict/apps/blocked", "/org/edict/communicator/ceip",
          "/org/edict/communicator/server-name", "/org/edict/desktop/screensaver/big",
          "/org/edict/desktop/screensaver/idle-delay"}));
}

TEST_F(DconfTest, DconfCompileAcceptsTheKeyfiles) {
  if (!testing::HaveProgram("dconf")) GTEST_SKIP() << "dconf (dconf-cli) not installed";
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  EXPECT_EQ(Compile(), 0);
  // Hostile strings still give a database dconf accepts.
  std::vector<NativePolicyEntry> hostile;
  const char* values[] = {"'",   "\\",           "\\'",       "[x]",
                          "a=b", "\x01\x1f\x7f", "ünïcødé €", "'\n[evil]\nk=1"};
  int i = 0;
  for (const char* v : values) {
    hostile.push_back({absl::StrCat("h.k", i++), std::string(v), true});
  }
  ASSERT_TRUE(store->Apply(hostile).ok());
  EXPECT_EQ(Compile(), 0) << *ReadFileOrNull(Keyfile());
  // The injected group header stayed inside its value.
  for (absl::string_view line : absl::StrSplit(*ReadFileOrNull(Keyfile()), '\n')) {
    EXPECT_NE(line, "[evil]");
  }
}

TEST_F(DconfTest, SmallerPolicyRemovesKeysAndLocksAndSparesForeignFiles) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  const std::string foreign = Db() + "/local.d/00-site";
  const std::string foreign_lock = Db() + "/local.d/locks/00-site";
  testing::WriteFileOrDie(foreign, "[org/site]\nx=1\n");
  testing::WriteFileOrDie(foreign_lock, "/org/site/x\n");
  ASSERT_TRUE(store
                  ->Apply({{"communicator.ceip", true, true},
                           {"desktop.screensaver.idle-delay", int64_t{600}, false}})
                  .ok());
  EXPECT_EQ(ReadFileOrNull(Keyfile()), absl::StrCat(kHeader,
                                                    "\n[org/edict/communicator]\n"
                                                    "ceip=true\n"
                                                    "\n[org/edict/desktop/screensaver]\n"
                                                    "idle-delay=600\n"));
  EXPECT_EQ(ReadFileOrNull(Locks()), absl::StrCat(kHeader, "/org/edict/communicator/ceip\n"));
  // No mandatory keys at all: no locks file.
  ASSERT_TRUE(store->Apply({{"communicator.ceip", true, false}}).ok());
  EXPECT_FALSE(testing::PathExists(Locks()));
  EXPECT_EQ(ReadFileOrNull(foreign), "[org/site]\nx=1\n");
  EXPECT_EQ(ReadFileOrNull(foreign_lock), "/org/site/x\n");
  if (testing::HaveProgram("dconf")) {
    EXPECT_EQ(Compile(), 0);
  }
}

TEST_F(DconfTest, ProductEntriesAreWrittenAtTheirWholeDconfPath) {
  auto store = Store();
  NativePolicyEntry always_on{"acmevpn.always-on", true, true};
  always_on.dconf_path = "/com/acme/vpn/always-on";
  NativePolicyEntry lockdown{"acmevpn.lockdown-mode", true, false};
  lockdown.dconf_path = "/org/edict/acmevpn/lockdown-mode";
  ASSERT_TRUE(store->Apply({{"communicator.ceip", true, true}, always_on, lockdown}).ok());
  EXPECT_EQ(ReadFileOrNull(Keyfile()), absl::StrCat(kHeader,
                                                    "\n[com/acme/vpn]\n"
                                                    "always-on=true\n"
                                                    "\n[org/edict/acmevpn]\n"
                                                    "lockdown-mode=true\n"
                                                    "\n[org/edict/communicator]\n"
                                                    "ceip=true\n"));
  EXPECT_EQ(ReadFileOrNull(Locks()),
            absl::StrCat(kHeader, "/com/acme/vpn/always-on\n/org/edict/communicator/ceip\n"));
  if (testing::HaveProgram("dconf")) {
    EXPECT_EQ(Compile(), 0);
  }
  // A malformed path is refused before anything is written.
  for (const char* bad : {"com/acme/x", "/com/acme/", "/x", "/com/a b/x", "/com/acme/Bad_Name"}) {
    NativePolicyEntry e{"acmevpn.x", true, true};
    e.dconf_path = bad;
    EXPECT_FALSE(store->Apply({e}).ok()) << bad;
  }
  EXPECT_TRUE(absl::StrContains(*ReadFileOrNull(Keyfile()), "always-on=true"));
}

TEST_F(DconfTest, ClearRemovesOursAndTheProfileItCreated) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  testing::WriteFileOrDie(Db() + "/local.d/00-site", "[org/site]\nx=1\n");
  ASSERT_TRUE(Store()->Clear().ok());
  EXPECT_FALSE(testing::PathExists(Keyfile()));
  EXPECT_FALSE(testing::PathExists(Locks()));
  EXPECT_FALSE(testing::PathExists(Profile()));
  EXPECT_TRUE(testing::PathExists(Db() + "/local.d/00-site"));
  EXPECT_TRUE(store->OwnedKeys().value().empty());
  // Clear twice is fine.
  EXPECT_TRUE(store->Clear().ok());
}

TEST_F(DconfTest, ExistingProfileIsExtendedOnceAndRestored) {
  ASSERT_EQ(testing::RunShell("mkdir -p " + root_ + "/etc/dconf/profile"), 0);
  const std::string original = "user-db:user\nsystem-db:site\n# comment\nservice-db:x";
  testing::WriteFileOrDie(Profile(), original);
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  EXPECT_EQ(ReadFileOrNull(Profile()), original + "\nsystem-db:local\n");
  ASSERT_TRUE(store->Apply(Full()).ok());
  ASSERT_TRUE(store->Apply({{"a.b", true, true}}).ok());
  EXPECT_EQ(ReadFileOrNull(Profile()), original + "\nsystem-db:local\n") << "not idempotent";
  ASSERT_TRUE(store->Clear().ok());
  EXPECT_EQ(ReadFileOrNull(Profile()), original + "\n");
}

TEST_F(DconfTest, ProfileThatAlreadyListsTheDbIsNotOurs) {
  ASSERT_EQ(testing::RunShell("mkdir -p " + root_ + "/etc/dconf/profile"), 0);
  const std::string original = "user-db:user\nsystem-db:local\nsystem-db:site\n";
  testing::WriteFileOrDie(Profile(), original);
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  ASSERT_TRUE(store->Clear().ok());
  EXPECT_EQ(ReadFileOrNull(Profile()), original);
}

TEST_F(DconfTest, CreatedProfileExtendedByAdminKeepsTheirLines) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  testing::WriteFileOrDie(Profile(), "user-db:user\nsystem-db:local\nsystem-db:site\n");
  ASSERT_TRUE(store->Clear().ok());
  EXPECT_EQ(ReadFileOrNull(Profile()), "user-db:user\nsystem-db:site\n");
}

TEST_F(DconfTest, RejectsInvalidKeysWithoutWritingAnything) {
  auto store = Store();
  ASSERT_TRUE(store->Apply(Full()).ok());
  const std::string before = *ReadFileOrNull(Keyfile());
  for (const char* key : {"communicator.CEIP", "communicator.ceip_enabled", "a.9lives", "a.b-",
                          "a.b--c", "a..b", "a.b c", "a.b=c", "a.[b]"}) {
    const absl::Status s = store->Apply({{key, true, true}});
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << key << ": " << s;
    EXPECT_TRUE(absl::StrContains(s.message(), key)) << s;
  }
  EXPECT_EQ(ReadFileOrNull(Keyfile()), before);
  // Entries that map to the same dconf key.
  DconfOptions options = Options();
  options.key_prefix = "gnome.";
  auto prefixed = OpenDconfStore(options).value();
  EXPECT_TRUE(prefixed->Apply({{"gnome.a.b", true, true}, {"gnome.x", false, true}}).ok());
}

TEST_F(DconfTest, RefusesToOverwriteAForeignKeyfileAtItsPath) {
  ASSERT_EQ(testing::RunShell("mkdir -p " + Db() + "/local.d"), 0);
  testing::WriteFileOrDie(Keyfile(), "[org/site]\nx=1\n");
  const absl::Status s = Store()->Apply(Full());
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_EQ(ReadFileOrNull(Keyfile()), "[org/site]\nx=1\n");
}

TEST_F(DconfTest, DirectoriesAreMadeNewerThanTheCompiledDatabase) {
  ASSERT_EQ(testing::RunShell("mkdir -p " + Db()), 0);
  testing::WriteFileOrDie(Db() + "/local", "compiled");
  // A compiled database from "the future" (clock skew, or same-second update).
  const absl::Time future = absl::Now() + absl::Seconds(30);
  const timespec ts[2] = {absl::ToTimespec(future), absl::ToTimespec(future)};
  ASSERT_EQ(::utimensat(AT_FDCWD, (Db() + "/local").c_str(), ts, 0), 0);
  ASSERT_TRUE(Store()->Apply(Full()).ok());
  for (const std::string& dir : {Db() + "/local.d", Db() + "/local.d/locks"}) {
    struct stat st;
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_GT(st.st_mtime, absl::ToUnixSeconds(future)) << dir;
  }
}

TEST_F(DconfTest, UpdateCommandFailureIsReported) {
  DconfOptions options = Options();
  options.update_command = {"sh", "-c", "echo cannot update >&2; exit 1", "sh"};
  auto store = OpenDconfStore(options).value();
  const absl::Status s = store->Apply(Full());
  EXPECT_TRUE(absl::IsInternal(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "cannot update")) << s;
  // The files are in place; the next successful run converges.
  EXPECT_TRUE(testing::PathExists(Keyfile()));
  EXPECT_TRUE(Store()->Apply(Full()).ok());
}

// Reads a key from the compiled database through a file-db profile, as applications would.
std::string DconfRead(const std::string& profile, const std::string& key) {
  std::string out;
  testing::RunShell("DCONF_PROFILE=" + profile + " dconf read " + key + " 2>/dev/null", &out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST_F(DconfTest, DconfUpdateSeesEveryChangeEvenWithinOneSecond) {
  if (!testing::HaveProgram("dconf")) GTEST_SKIP() << "dconf (dconf-cli) not installed";
  DconfOptions options = Options();
  options.update_command = {"dconf", "update"};
  auto store = OpenDconfStore(options).value();
  const std::string profile = dir_.Sub("read-profile");
  testing::WriteFileOrDie(profile, "file-db:" + Db() + "/local\n");

  ASSERT_TRUE(store->Apply(Full()).ok());
  EXPECT_EQ(DconfRead(profile, "/org/edict/communicator/ceip"), "false");
  EXPECT_EQ(DconfRead(profile, "/org/edict/desktop/screensaver/idle-delay"), "300");
  EXPECT_EQ(DconfRead(profile, "/org/edict/communicator/server-name"),
            "\"it's \\\\ \\\"here\\\"\\n\"");
  // Immediately (same second) a smaller policy: the removed keys must vanish from the
  // compiled database, the changed one must change.
  ASSERT_TRUE(store->Apply({{"communicator.ceip", true, true}}).ok());
  EXPECT_EQ(DconfRead(profile, "/org/edict/communicator/ceip"), "true");
  EXPECT_EQ(DconfRead(profile, "/org/edict/desktop/screensaver/idle-delay"), "");
  ASSERT_TRUE(store->Clear().ok());
  EXPECT_EQ(DconfRead(profile, "/org/edict/communicator/ceip"), "");
}

TEST_F(DconfTest, CrashAtEveryStepConverges) {
  std::vector<std::string> steps;
  {
    ScriptedFaultInjector recorder;
    TempDir scratch;
    auto state = OpenLinuxStateStore({scratch.Sub("state"), nullptr}).value();
    DconfOptions options = Options(nullptr, state.get());
    options.root = scratch.Sub("root");
    ASSERT_TRUE(OpenDconfStore(options).value()->Apply(Full()).ok());
    auto rec_state = OpenLinuxStateStore({scratch.Sub("state"), &recorder}).value();
    options.state = rec_state.get();
    options.faults = &recorder;
    ASSERT_TRUE(OpenDconfStore(options).value()->Clear().ok());
    ASSERT_TRUE(OpenDconfStore(options).value()->Apply(Full()).ok());
    steps = recorder.Log();
  }
  ASSERT_GT(steps.size(), 10u);
  // Crash during Clear and during the first Apply; then restart and converge.
  for (size_t k = 0; k < steps.size(); ++k) {
    SCOPED_TRACE(absl::StrCat("crash before step ", k, ": ", steps[k]));
    testing::RemoveTree(root_);
    testing::RemoveTree(dir_.Sub("state"));
    state_ = OpenLinuxStateStore({dir_.Sub("state"), nullptr}).value();
    ASSERT_TRUE(Store()->Apply(Full()).ok());
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ScriptedFaultInjector faults;
      faults.SetCrashAction([] { KillSelf(); });
      faults.CrashAtIndex(static_cast<int>(k));
      auto state = OpenLinuxStateStore({dir_.Sub("state"), &faults});
      if (!state.ok()) ::_exit(2);
      (void)Store(&faults, state->get())->Clear();
      (void)Store(&faults, state->get())->Apply(Full());
      ::_exit(3);
    }
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << wstatus;
    state_ = OpenLinuxStateStore({dir_.Sub("state"), nullptr}).value();
    ASSERT_TRUE(Store()->Apply({{"communicator.ceip", true, true}}).ok());
    EXPECT_EQ(ReadFileOrNull(Keyfile()),
              absl::StrCat(kHeader, "\n[org/edict/communicator]\nceip=true\n"));
    ASSERT_TRUE(Store()->Clear().ok());
    std::string left;
    testing::RunShell("find " + root_ + " -type f", &left);
    EXPECT_EQ(left, "") << "files left after unenroll";
  }
}

}  // namespace
}  // namespace edict::ports
