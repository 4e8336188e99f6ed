// ports/linux/safe_dir.h (directories the agent writes or prunes, spool entries) and the text
// helpers every human-readable line and audit record goes through (ports/text.h). Issue 17,
// classes 1, 2 and 8; the agent-level tests are tests/agent/hostile_input_test.cc.
#include "ports/linux/safe_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "policy/compiler/json.h"
#include "ports/text.h"
#include "tests/ports/test_util.h"

namespace edict::ports::posix {
namespace {

using testing::PathExists;
using testing::ReadFileOrNull;
using testing::TempDir;
using testing::WriteFileOrDie;

void ExpectRefused(const absl::Status& s, const std::string& path, const std::string& why) {
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "refusing directory " + path + ": " + why)) << s;
}

TEST(SafeDir, RefusesLinksOtherFileTypesForeignOwnersAndWritableModes) {
  TempDir t;
  ASSERT_EQ(::mkdir(t.Sub("real").c_str(), 0750), 0);
  WriteFileOrDie(t.Sub("real/keep"), "mine");
  ASSERT_EQ(::symlink(t.Sub("real").c_str(), t.Sub("link").c_str()), 0);
  ExpectRefused(CheckSafeDir(t.Sub("link")), t.Sub("link"), "it is a symbolic link");
  WriteFileOrDie(t.Sub("file"), "x");
  ExpectRefused(CheckSafeDir(t.Sub("file")), t.Sub("file"), "it is a regular file");
  EXPECT_TRUE(absl::IsNotFound(CheckSafeDir(t.Sub("missing"))));
  ASSERT_EQ(::chmod(t.Sub("real").c_str(), 0770), 0);
  ExpectRefused(CheckSafeDir(t.Sub("real")), t.Sub("real"), "it is group-writable (mode 0770)");
  ASSERT_EQ(::chmod(t.Sub("real").c_str(), 0703), 0);
  ExpectRefused(CheckSafeDir(t.Sub("real")), t.Sub("real"), "it is world-writable (mode 0703)");
  ASSERT_EQ(::chmod(t.Sub("real").c_str(), 0750), 0);
  EXPECT_TRUE(CheckSafeDir(t.Sub("real")).ok());
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(t.Sub("real").c_str(), 65534, 65534), 0);
    ExpectRefused(CheckSafeDir(t.Sub("real")), t.Sub("real"),
                  "it is owned by uid 65534, not by the agent's uid 0 or root");
    ASSERT_EQ(::chown(t.Sub("real").c_str(), 0, 0), 0);
  }

  // Sub(): a link in place of a subdirectory is refused, a missing one created.
  auto top = SafeDir::Open(t.path());
  ASSERT_TRUE(top.ok()) << top.status();
  ExpectRefused(top->Sub("link").status(), t.Sub("link"), "it is a symbolic link");
  auto made = top->Sub("made", /*create=*/true, 0750);
  ASSERT_TRUE(made.ok()) << made.status();
  struct stat st;
  ASSERT_EQ(::lstat(t.Sub("made").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));

  // A link below a trusted root, anywhere on the way down.
  EXPECT_TRUE(CheckSafeDirTree(t.path(), "real/a/b").ok());  // a/b missing: fine
  ExpectRefused(CheckSafeDirTree(t.path(), "link/x"), t.Sub("link"), "it is a symbolic link");

  // RenameTo and Unlink act on the entry itself: a link is moved or removed, not followed.
  ASSERT_EQ(::symlink(t.Sub("real/keep").c_str(), t.Sub("made/l").c_str()), 0);
  ASSERT_TRUE(made->RenameTo("l", *top, "l2").ok());
  ASSERT_TRUE(top->Unlink("l2").ok());
  EXPECT_EQ(ReadFileOrNull(t.Sub("real/keep")).value_or(""), "mine");
}

TEST(SafeDir, ReadRegularFileNeverBlocksFollowsOrReadsPastTheCap) {
  TempDir t;
  ASSERT_EQ(::mkfifo(t.Sub("fifo").c_str(), 0600), 0);
  auto r = ReadRegularFile(AT_FDCWD, t.Sub("fifo"), 100, "fifo");  // returns: no writer needed
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "fifo is a FIFO, not a regular file");
  WriteFileOrDie(t.Sub("f"), "12345");
  ASSERT_EQ(::symlink(t.Sub("f").c_str(), t.Sub("l").c_str()), 0);
  r = ReadRegularFile(AT_FDCWD, t.Sub("l"), 100, "l");
  EXPECT_EQ(r.status().message(), "l is a symbolic link, not a regular file");
  r = ReadRegularFile(AT_FDCWD, t.Sub("f"), 4, "f");
  EXPECT_TRUE(absl::IsResourceExhausted(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "f is 5 bytes, larger than the limit of 4 bytes");
  r = ReadRegularFile(AT_FDCWD, t.Sub("f"), 5, "f");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "12345");
  EXPECT_TRUE(absl::IsNotFound(ReadRegularFile(AT_FDCWD, t.Sub("none"), 5, "none").status()));
  EXPECT_TRUE(PathExists(t.Sub("fifo")));
}

TEST(Text, EscapeForDisplayKeepsOneLineAndTheWholeValue) {
  EXPECT_EQ(EscapeForDisplay("plain name-1.edict"), "plain name-1.edict");
  EXPECT_EQ(EscapeForDisplay("a\nb\rc\td\\e"), "a\\nb\\rc\\td\\\\e");
  EXPECT_EQ(EscapeForDisplay(std::string("fab\0rikam", 9)), "fab\\x00rikam");
  EXPECT_EQ(EscapeForDisplay("\x1b[31m\x7f"), "\\x1b[31m\\x7f");
  EXPECT_EQ(EscapeForDisplay("bad\xff\xc3"), "bad\\xff\\xc3");
  EXPECT_EQ(EscapeForDisplay("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");  // kept
  EXPECT_EQ(EscapeForDisplay("\xc2\x85|\xe2\x80\xa8|\xe2\x80\xae"), "\\u0085|\\u2028|\\u202e");
}

TEST(Text, AppendJsonEscapedIsJsonQuote) {
  for (const std::string& s : {std::string("a\"b\\c\n\x01\x7f"), std::string("\xff\xfe ok"),
                               std::string("nul\0in", 6), std::string("\xe2\x82\xac\b\f")}) {
    std::string inner;
    AppendJsonEscaped(&inner, s);
    EXPECT_EQ("\"" + inner + "\"", json::Quote(s));
  }
}

}  // namespace
}  // namespace edict::ports::posix
