// Issue 17 "Hostile input at the edges", edictctl's classes: 6 (unbounded reads), 7 (output
// paths that are not regular files) and the edictctl part of 9 (messages that do not match the
// manual). Drives the real edictctl binary in a scratch directory, each run under an alarm
// (a regression that blocks on a FIFO fails instead of hanging) and, where memory is the
// point, under an address-space limit (RLIMIT_AS). Every expected message is written by hand
// from docs/policy-format.md ("Input limits and output paths").
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#ifndef EDICTCTL_BINARY
#error "EDICTCTL_BINARY must be defined"
#endif

// Address-space limits and sanitizers do not mix (the shadow memory alone is terabytes).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EDICT_TEST_NO_AS_LIMIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define EDICT_TEST_NO_AS_LIMIT 1
#endif
#endif

namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr rlim_t kMiB = rlim_t{1} << 20;

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  ASSERT_TRUE(out.good()) << path;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

mode_t TypeOf(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & S_IFMT;
}

// A sparse regular file of `size` bytes (no disk space used).
void MakeSparse(const std::string& path, off_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::ftruncate(fd, size), 0);
  ::close(fd);
}

class Scratch {
 public:
  Scratch() {
    std::string tmpl = ::testing::TempDir() + "/edictctl_hostile.XXXXXX";
    dir_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
    EXPECT_FALSE(dir_.empty());
  }
  ~Scratch() { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  const std::string& dir() const { return dir_; }
  std::string operator/(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

struct RunOptions {
  std::string cwd;
  std::string stdin_path = "/dev/null";
  rlim_t as_limit = 0;  // bytes; 0: none
  std::string binary = EDICTCTL_BINARY;
  bool stdout_terminal = false;  // stdout is a pseudo-terminal (nothing is captured)
};

// Runs edictctl with `args` in `options.cwd`; stdout and stderr are captured in files.
RunResult RunCtl(const std::vector<std::string>& args, const RunOptions& options) {
  RunResult r;
  const std::string out_path = options.cwd + "/.stdout";
  const std::string err_path = options.cwd + "/.stderr";
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    const int in = ::open(options.stdin_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (options.stdout_terminal) {
      const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
      if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) ::_exit(126);
      out = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
    }
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
#ifndef EDICT_TEST_NO_AS_LIMIT
    if (options.as_limit != 0) {
      const struct rlimit lim = {options.as_limit, options.as_limit};
      if (::setrlimit(RLIMIT_AS, &lim) != 0) ::_exit(126);
    }
#endif
    ::alarm(60);  // a run that blocks (a FIFO opened for reading) is killed, not waited for
    std::vector<char*> argv;
    std::string binary = options.binary;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = ReadAll(out_path);
  r.err = ReadAll(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return r;
}

std::string Describe(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + " signal " + std::to_string(r.signal) +
         "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// Keys, a trust document, a payload and a bundle shared by the tests (made with edictctl).
class HostileInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new Scratch();
    const RunOptions o{keys_->dir()};
    for (const char* name : {"root", "signer"}) {
      const RunResult k = RunCtl({"keygen", "--out", name}, o);
      ASSERT_EQ(k.exit_code, 0) << Describe(k);
    }
    RunResult t =
        RunCtl({"trust", "init", "--root", "root.pub", "--signer", "signer.pub", "--sign-key",
                "root", "--now", "2026-01-01T00:00:00Z", "--valid-days", "3650", "-o", "trust.edt"},
               o);
    ASSERT_EQ(t.exit_code, 0) << Describe(t);
    WriteAll(Key("policy.json"), kPolicy);
    t = RunCtl({"compile", "policy.json", "-o", "payload.bin"}, o);
    ASSERT_EQ(t.exit_code, 0) << Describe(t);
    t = RunCtl({"sign", "payload.bin", "--key", "signer", "-o", "bundle.edict"}, o);
    ASSERT_EQ(t.exit_code, 0) << Describe(t);
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }
  static std::string Key(const std::string& name) { return *keys_ / name; }

  RunResult In(const std::vector<std::string>& args, rlim_t as_limit = 0,
               const std::string& stdin_path = "/dev/null") {
    RunOptions o{s_.dir(), stdin_path, as_limit};
    return RunCtl(args, o);
  }
  std::string Path(const std::string& name) const { return s_ / name; }
  void Fifo(const std::string& name) { ASSERT_EQ(::mkfifo(Path(name).c_str(), 0644), 0); }
  // Nothing but `names` (and no temporary file) in the scratch directory.
  void ExpectOnly(const std::vector<std::string>& names) {
    std::vector<std::string> found;
    std::unique_ptr<FILE, int (*)(FILE*)> ls(::popen(("ls -A '" + s_.dir() + "'").c_str(), "r"),
                                             ::pclose);
    char line[4096];
    while (ls && std::fgets(line, sizeof line, ls.get())) {
      std::string n = line;
      if (!n.empty() && n.back() == '\n') n.pop_back();
      found.push_back(n);
    }
    EXPECT_THAT(found, ::testing::UnorderedElementsAreArray(names));
  }

  static constexpr char kPolicy[] =
      R"({"serial": 5, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2099-01-01T00:00:00Z",
          "target": {"tenant": "contoso"},
          "settings": [{"setting": "communicator.ceip", "level": "mandatory", "value": false}]})";
  static Scratch* keys_;
  Scratch s_;
};

Scratch* HostileInput::keys_ = nullptr;

// Class 6: every input is a regular file (or documented standard input), read through one
// capped reader; nothing grows with the input, nothing blocks.
TEST_F(HostileInput, UnboundedReads) {
  const rlim_t kSmall = 256 * kMiB;  // far below what reading /dev/zero to the end needs

  // compile / inspect of a character device: refused before reading, under a small limit.
  RunResult r = In({"compile", "/dev/zero"}, kSmall);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err, "edictctl compile: /dev/zero: is a character device, not a regular file\n");
  r = In({"inspect", "/dev/zero"}, kSmall);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err, "edictctl inspect: /dev/zero: is a character device, not a regular file\n");

  // Standard input is allowed where documented, and still capped.
  r = In({"compile", "-"}, kSmall, "/dev/zero");
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl compile: standard input: larger than the 4 MiB limit for policy JSON\n");
  r = In({"inspect", "-"}, kSmall, "/dev/zero");
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl inspect: standard input: larger than the 4 MiB limit for a policy, "
            "payload, bundle or trust document\n");

  // A FIFO never blocks (the alarm would kill the run with SIGALRM).
  Fifo("fifo.json");
  r = In({"compile", "fifo.json"});
  EXPECT_EQ(r.signal, 0) << Describe(r);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err, "edictctl compile: fifo.json: is a FIFO, not a regular file\n");

  // A regular file over the cap is refused from its size, in human units.
  MakeSparse(Path("huge.json"), 200 * 1024 * 1024);
  r = In({"compile", "huge.json"}, kSmall);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl compile: huge.json: larger than the 4 MiB limit for policy JSON (it is "
            "200 MiB)\n");
  MakeSparse(Path("just_over.json"), (4 << 20) + 1);
  r = In({"compile", "just_over.json"});
  EXPECT_EQ(r.err,
            "edictctl compile: just_over.json: larger than the 4 MiB limit for policy JSON (it "
            "is 4096.1 KiB)\n");

  // eval: --policy and --batch.
  r = In({"eval", "--policy", "/dev/zero", "setting", "communicator.ceip"}, kSmall);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("/dev/zero: is a character device, not a regular file"));
  MakeSparse(Path("huge.bin"), 200 * 1024 * 1024);
  r = In({"eval", "--policy", "huge.bin", "setting", "communicator.ceip"}, kSmall);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err,
              HasSubstr("huge.bin: larger than the 4 MiB limit for a payload (it is 200 MiB)"));
  r = In({"eval", "--batch", "/dev/zero"}, kSmall);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err, "edictctl eval: /dev/zero: is a character device, not a regular file\n");
  Fifo("queries.fifo");
  r = In({"explain", "--batch", "queries.fifo"});
  EXPECT_EQ(r.signal, 0) << Describe(r);
  EXPECT_EQ(r.err, "edictctl explain: queries.fifo: is a FIFO, not a regular file\n");
  // An endless line on standard input stops at the line cap: memory stays bounded.
  r = In({"eval", "--batch", "-"}, kSmall, "/dev/zero");
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl eval: standard input: line 1 is longer than the 64 KiB limit for one "
            "line\n");
  // A long stream of short lines is streamed: 200000 answers under the same small limit.
  {
    std::string q;
    for (int i = 0; i < 200000; ++i) q += "{\"setting\":\"communicator.ceip\"}\n";
    WriteAll(Path("many.jsonl"), q);
  }
  r = In({"eval", "--batch", "-"}, kSmall, Path("many.jsonl"));
  EXPECT_EQ(r.exit_code, 0) << Describe(r).substr(0, 2000);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 200000);
  EXPECT_THAT(r.err, MatchesRegex("200000 queries, [0-9]+ queries/s\n"));

  // sign, verify, trust rotate, publish: the transport's caps, same refusals.
  r = In({"sign", "/dev/zero", "--key", Key("signer"), "-o", "b.edict"}, kSmall);
  EXPECT_EQ(r.err, "edictctl sign: /dev/zero: is a character device, not a regular file\n");
  r = In({"sign", Key("payload.bin"), "--key", "/dev/zero", "-o", "b.edict"}, kSmall);
  EXPECT_EQ(r.err, "edictctl sign: /dev/zero: is a character device, not a regular file\n");
  MakeSparse(Path("huge.key"), 200 * 1024 * 1024);
  r = In({"sign", Key("payload.bin"), "--key", "huge.key", "-o", "b.edict"}, kSmall);
  EXPECT_EQ(r.err,
            "edictctl sign: huge.key: larger than the 64 KiB limit for a key file (it is 200 "
            "MiB)\n");
  EXPECT_FALSE(Exists(Path("b.edict")));
  r = In({"verify", "/dev/zero", "--trust", Key("trust.edt")}, kSmall);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err, "edictctl verify: /dev/zero: is a character device, not a regular file\n");
  MakeSparse(Path("huge.edict"), 200 * 1024 * 1024);
  r = In({"verify", "huge.edict", "--trust", Key("trust.edt"), "--tenant", "contoso"}, kSmall);
  EXPECT_EQ(r.exit_code, 10) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("\"error\":\"ERR_TOO_LARGE\""));
  EXPECT_EQ(r.err,
            "edictctl verify: ERR_TOO_LARGE: huge.edict: larger than the 4 MiB limit for a "
            "bundle (it is 200 MiB)\n");
  MakeSparse(Path("huge.edt"), 200 * 1024 * 1024);
  r = In({"verify", Key("bundle.edict"), "--trust", "huge.edt"}, kSmall);
  EXPECT_EQ(r.exit_code, 15) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl verify: ERR_TRUST_TOO_LARGE: huge.edt: larger than the 512 KiB limit for a "
            "trust document (it is 200 MiB)\n");
  r = In({"trust", "rotate", "--from", "/dev/zero", "--sign-key", Key("root"), "-o", "t2.edt"},
         kSmall);
  EXPECT_EQ(r.err, "edictctl trust: /dev/zero: is a character device, not a regular file\n");
  r = In({"publish", "--bundle", "/dev/zero", "www"}, kSmall);
  EXPECT_EQ(r.err, "edictctl publish: /dev/zero: is a character device, not a regular file\n");
  EXPECT_FALSE(Exists(Path("www")));
}

#ifdef EDICT_AGENT_BINARY
// Class 6, the agent's query --batch: the same streaming reader as edictctl eval --batch.
TEST_F(HostileInput, UnboundedReadsAgentQueryBatch) {
  WriteAll(Path("agent.conf"), "state_dir = " + Path("state") + "\nspool_dir = " + Path("spool") +
                                   "\nlock_file = " + Path("agent.lock") +
                                   "\naudit_syslog = false\ntenant = contoso\ndevice_id = d1\n");
  RunOptions o{s_.dir(), "/dev/zero", 256 * kMiB};
  o.binary = EDICT_AGENT_BINARY;
  RunResult r = RunCtl({"--config", "agent.conf", "query", "--batch", "-"}, o);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("edict-agent: standard input: line 1 is longer than the 64 KiB "
                               "limit for one line\n"));
  o.stdin_path = "/dev/null";
  r = RunCtl({"--config", "agent.conf", "query", "--batch", "/dev/zero"}, o);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err,
              HasSubstr("edict-agent: /dev/zero: is a character device, not a regular file\n"));
  Fifo("q.fifo");
  r = RunCtl({"--config", "agent.conf", "explain", "--batch", "q.fifo"}, o);
  EXPECT_EQ(r.signal, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("edict-agent: q.fifo: is a FIFO, not a regular file\n"));
  WriteAll(Path("q.jsonl"), "{\"setting\":\"communicator.ceip\"}\n");
  o.stdin_path = Path("q.jsonl");
  r = RunCtl({"--config", "agent.conf", "query", "--batch", "-"}, o);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("\"setting\":\"communicator.ceip\""));
}
#endif

// Class 6, memory: the largest policy JSON accepted, built to make the parser and the
// diagnostics as large as possible, stays within a fixed address-space limit, and only the
// first 100 errors are kept.
TEST_F(HostileInput, UnboundedReadsLargestPolicyIsBounded) {
  std::string p = "{\"serial\":1,\"settings\":[";
  while (p.size() + 4 < (size_t{4} << 20)) p += "0,";
  p += "0]}";
  ASSERT_LE(p.size(), size_t{4} << 20);
  WriteAll(Path("wide.json"), p);
  const RunResult r = In({"compile", "wide.json"}, 768 * kMiB);
  EXPECT_EQ(r.signal, 0) << Describe(r).substr(0, 2000);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 101);
  EXPECT_THAT(r.err, HasSubstr("wide.json:1:25: a setting rule must be an object\n"));
  EXPECT_THAT(r.err, MatchesRegex("(.|\n)*wide.json: [0-9]+ more errors not shown \\(at most 100 "
                                  "are reported\\)\n"));
}

// Class 7: an output path that is not a regular file is never replaced nor written through;
// "-" is standard output where the output is a stream.
TEST_F(HostileInput, OutputPathsNotRegular) {
  const std::string policy = Key("policy.json");

  // A FIFO at -o: refused before compiling, still a FIFO, no temporary file left.
  Fifo("out.fifo");
  RunResult r = In({"compile", policy, "-o", "out.fifo"});
  EXPECT_EQ(r.signal, 0) << Describe(r);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl compile: out.fifo: is a FIFO, not a regular file; refusing to replace it\n");
  EXPECT_EQ(TypeOf(Path("out.fifo")), S_IFIFO);
  // A directory, a symbolic link to a device, a symbolic link to a regular file.
  ASSERT_EQ(::mkdir(Path("out.dir").c_str(), 0755), 0);
  r = In({"compile", policy, "-o", "out.dir"});
  EXPECT_EQ(r.err,
            "edictctl compile: out.dir: is a directory, not a regular file; refusing to replace "
            "it\n");
  ASSERT_EQ(::symlink("/dev/null", Path("null.bin").c_str()), 0);
  r = In({"compile", policy, "-o", "null.bin"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "edictctl compile: null.bin: is a symbolic link; refusing to write through it (name "
            "the file itself)\n");
  EXPECT_EQ(TypeOf(Path("null.bin")), S_IFLNK);
  WriteAll(Path("target.bin"), "keep me");
  ASSERT_EQ(::symlink("target.bin", Path("link.bin").c_str()), 0);
  r = In({"compile", policy, "-o", "link.bin"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(ReadAll(Path("target.bin")), "keep me");
  EXPECT_EQ(TypeOf(Path("link.bin")), S_IFLNK);
  r = In({"compile", policy, "-o", "/dev/null"});
  EXPECT_EQ(r.err,
            "edictctl compile: /dev/null: is a character device, not a regular file; refusing "
            "to replace it\n");
  // As root: a device node of our own is not replaced (it was, before issue 17).
  if (::geteuid() == 0) {
    ASSERT_EQ(::mknod(Path("dev.bin").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
    r = In({"compile", policy, "-o", "dev.bin"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(TypeOf(Path("dev.bin")), S_IFCHR);
    ::unlink(Path("dev.bin").c_str());
  }
  ExpectOnly({"out.fifo", "out.dir", "null.bin", "target.bin", "link.bin"});

  // "-" is standard output: the payload, byte for byte; the summary goes to stderr; no file
  // named "-".
  r = In({"compile", policy, "-o", "-"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, ReadAll(Key("payload.bin")));
  EXPECT_THAT(r.err, MatchesRegex("wrote standard output \\([0-9]+ bytes, serial 5, .*\\)\n"));
  EXPECT_FALSE(Exists(Path("-")));
  // ... but not to a terminal: the payload is binary.
  RunOptions tty{s_.dir()};
  tty.stdout_terminal = true;
  r = RunCtl({"compile", policy, "-o", "-"}, tty);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl compile: standard output is a terminal; refusing to write binary data to it "
            "(redirect it, or name a file)\n");
  // A regular file is replaced atomically.
  WriteAll(Path("p.bin"), "old");
  r = In({"compile", policy, "-o", "p.bin"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(ReadAll(Path("p.bin")), ReadAll(Key("payload.bin")));

  // sign, trust init and rotate, keygen, publish use the same writer.
  r = In({"sign", Key("payload.bin"), "--key", Key("signer"), "-o", "out.fifo"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl sign: out.fifo: is a FIFO, not a regular file; refusing to replace it\n");
  r = In({"sign", Key("payload.bin"), "--key", Key("signer"), "-o", "-"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, ReadAll(Key("bundle.edict")));  // deterministic signatures
  EXPECT_THAT(r.err, HasSubstr("{\"bundle\":\"-\",\"bytes\":"));
  const std::vector<std::string> init = {
      "trust",      "init",      "--root", Key("root.pub"),        "--signer", Key("signer.pub"),
      "--sign-key", Key("root"), "--now",  "2026-01-01T00:00:00Z", "-o"};
  std::vector<std::string> a = init;
  a.push_back("out.fifo");
  r = In(a);
  EXPECT_EQ(r.signal, 0) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl trust: out.fifo: is a FIFO, not a regular file; refusing to replace it\n");
  a = init;
  a.push_back("-");
  r = In(a);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out.substr(4, 4), "EDT1");
  r = In(
      {"trust", "rotate", "--from", Key("trust.edt"), "--sign-key", Key("root"), "-o", "null.bin"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("null.bin: is a symbolic link"));
  r = In({"keygen", "--out", "out.fifo"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl keygen: out.fifo: is a FIFO, not a regular file; refusing to replace it; "
            "nothing written\n");
  EXPECT_FALSE(Exists(Path("out.fifo.pub")));
  r = In({"keygen", "--out", "-"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_FALSE(Exists(Path("-")));
  ASSERT_EQ(::mkdir(Path("www").c_str(), 0755), 0);
  Fifo("www/edict-index.json");
  r = In({"publish", "--bundle", Key("bundle.edict"), "www"});
  EXPECT_EQ(r.signal, 0) << Describe(r);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl publish: www/edict-index.json: is a FIFO, not a regular file; refusing to "
            "replace it\n");
  EXPECT_EQ(TypeOf(Path("www/edict-index.json")), S_IFIFO);
  EXPECT_EQ(TypeOf(Path("out.fifo")), S_IFIFO);
}

// Class 9, edictctl: messages say what is wrong in the manual's terms.
TEST_F(HostileInput, EdictctlMessages) {
  // keygen checks both names before writing anything.
  WriteAll(Path("k.pub"), "not mine");
  RunResult r = In({"keygen", "--out", "k"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl keygen: k.pub: already exists; refusing to overwrite it; nothing written\n");
  EXPECT_FALSE(Exists(Path("k")));
  EXPECT_EQ(ReadAll(Path("k.pub")), "not mine");
  WriteAll(Path("j"), "mine");
  r = In({"keygen", "--out", "j"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_FALSE(Exists(Path("j.pub")));
  EXPECT_EQ(ReadAll(Path("j")), "mine");

  // A directory is a directory, not "unexpected end of input".
  ASSERT_EQ(::mkdir(Path("policy.d").c_str(), 0755), 0);
  r = In({"compile", "policy.d"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "edictctl compile: policy.d: is a directory, not a file\n");

  // serial 2^63 states the allowed range.
  WriteAll(Path("big_serial.json"), "{\"serial\": 9223372036854775808}");
  r = In({"compile", "big_serial.json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "big_serial.json:1:12: \"serial\" must be an integer from 1 to "
            "9223372036854775807\n");

  // The kind of document given in place of another is named.
  r = In({"verify", Key("bundle.edict"), "--trust", Key("bundle.edict")});
  EXPECT_EQ(r.exit_code, 15) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("\"error\":\"ERR_TRUST_MALFORMED\""));
  EXPECT_EQ(r.err, "edictctl verify: ERR_TRUST_MALFORMED: " + Key("bundle.edict") +
                       " is a bundle (EDB1), not a trust document\n");
  r = In({"verify", Key("trust.edt"), "--trust", Key("trust.edt")});
  EXPECT_EQ(r.exit_code, 10) << Describe(r);
  EXPECT_EQ(r.err, "edictctl verify: ERR_ENVELOPE: " + Key("trust.edt") +
                       " is a trust document (EDT1), not a bundle\n");
  r = In({"sign", Key("bundle.edict"), "--key", Key("signer"), "-o", "b.edict"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "edictctl sign: " + Key("bundle.edict") +
                       " is a bundle (EDB1), not a compiled payload (EDP1)\n");

  // Times are RFC 3339 in human output; no epoch seconds.
  r = In({"verify", Key("bundle.edict"), "--trust", Key("trust.edt"), "--tenant", "contoso",
          "--now", "2040-01-01T00:00:00Z"});
  EXPECT_EQ(r.exit_code, 15) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl verify: ERR_TRUST_EXPIRED: trust version 1 expired at 2035-12-30T00:00:00Z; "
            "now is 2040-01-01T00:00:00Z\n");
  EXPECT_THAT(r.err, Not(MatchesRegex("(.|\n)*[0-9]{9,}(.|\n)*")));

  // The same latest time everywhere: 9999-12-31T23:59:59Z.
  const std::vector<std::string> init = {
      "trust",      "init",      "--root", Key("root.pub"),        "--signer", Key("signer.pub"),
      "--sign-key", Key("root"), "--now",  "2026-01-01T00:00:00Z", "-o",       "t.edt"};
  std::vector<std::string> a = init;
  a.insert(a.end(), {"--valid-days", "99999999"});
  r = In(a);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl trust: --valid-days 99999999: the document would expire after "
            "9999-12-31T23:59:59Z, the latest time edict accepts; at most 2912442 days from "
            "2026-01-01T00:00:00Z\n");
  a = init;
  a.insert(a.end(), {"--expires", "10000-01-01T00:00:00Z"});
  r = In(a);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(r.err,
            "edictctl trust: --expires '10000-01-01T00:00:00Z': outside 1970-01-01T00:00:01Z to "
            "9999-12-31T23:59:59Z\n");
  a = init;
  a.insert(a.end(), {"--valid-days", "2912442"});
  r = In(a);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_FALSE(Exists(Path("-")));

  // compile warns about a policy that has already expired (exit 0, payload written) ...
  WriteAll(Path("expired.json"),
           R"({"serial": 1, "issued_at": "2020-01-01T00:00:00Z",
               "expires_at": "2021-01-01T00:00:00Z"})");
  r = In({"compile", "expired.json", "-o", "expired.bin"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, MatchesRegex("edictctl compile: warning: expired.json: \"expires_at\" "
                                  "2021-01-01T00:00:00Z has passed \\(now is "
                                  "[0-9-]+T[0-9:]+Z\\): endpoints refuse this policy "
                                  "\\(ERR_EXPIRED\\)\n"));
  EXPECT_TRUE(Exists(Path("expired.bin")));
  // ... and refuses a payload larger than a signed bundle can carry (nothing written).
  std::string big = "{\"serial\": 1, \"description\": \"";
  big.append(4191000, 'x');
  big += "\"}";
  ASSERT_LE(big.size(), size_t{4} << 20);
  WriteAll(Path("big.json"), big);
  r = In({"compile", "big.json", "-o", "big.bin"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(
      r.err,
      "edictctl compile: big.json: the payload is 4092.9 KiB, larger than a signed bundle can "
      "carry (4092 KiB: the 4 MiB bundle limit less 4 KiB for signatures); nothing "
      "written\n");
  EXPECT_FALSE(Exists(Path("big.bin")));
}

}  // namespace
