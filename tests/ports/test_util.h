// Helpers for the ports tests: temporary directories, whole-file I/O, a strict small JSON
// parser (to check that what we write parses).

#ifndef EDICT_TESTS_PORTS_TEST_UTIL_H_
#define EDICT_TESTS_PORTS_TEST_UTIL_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace edict::ports::testing {

// A fresh directory under $TMPDIR (or /tmp), removed recursively on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(absl::string_view rel) const { return path_ + "/" + std::string(rel); }

 private:
  std::string path_;
};

std::optional<std::string> ReadFileOrNull(const std::string& path);
void WriteFileOrDie(const std::string& path, absl::string_view content);
// Sorted names in `dir` (no . and ..); empty if it does not exist.
std::vector<std::string> ListDir(const std::string& dir);
bool PathExists(const std::string& path);
void RemoveTree(const std::string& path);
// Copies a whole directory tree (files and directories only).
void CopyTree(const std::string& from, const std::string& to);

// Minimal strict JSON value.
struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject } type = Type::kNull;
  bool b = false;
  double number = 0;
  std::string str;
  std::vector<Json> array;
  std::map<std::string, Json> object;
};
// Parses exactly one JSON value (whitespace around allowed); nullopt on any error.
std::optional<Json> ParseJson(absl::string_view text);

// Runs a shell command line, returns its exit status (-1 if it could not run) and stdout.
int RunShell(const std::string& command, std::string* out = nullptr);
bool HaveProgram(const std::string& name);

}  // namespace edict::ports::testing

#endif  // EDICT_TESTS_PORTS_TEST_UTIL_H_
