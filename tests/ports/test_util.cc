#include "tests/ports/test_util.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace edict::ports::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr && *base ? base : "/tmp", "/edict-ports-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() { RemoveTree(path_); }

std::optional<std::string> ReadFileOrNull(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileOrDie(const std::string& path, absl::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) std::abort();
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

void RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    ::chmod(path.c_str(), 0700);
    for (const std::string& name : ListDir(path)) RemoveTree(path + "/" + name);
    ::rmdir(path.c_str());
  } else {
    ::unlink(path.c_str());
  }
}

void CopyTree(const std::string& from, const std::string& to) {
  struct stat st;
  if (::lstat(from.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    ::mkdir(to.c_str(), st.st_mode & 07777);
    for (const std::string& name : ListDir(from)) CopyTree(from + "/" + name, to + "/" + name);
  } else if (S_ISREG(st.st_mode)) {
    WriteFileOrDie(to, *ReadFileOrNull(from));
    ::chmod(to.c_str(), st.st_mode & 07777);
  }
}

namespace {

class Parser {
 public:
  explicit Parser(absl::string_view s) : s_(s) {}

  std::optional<Json> Document() {
    auto v = Value(0);
    Ws();
    if (!v || i_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  bool Lit(absl::string_view lit) {
    if (s_.substr(i_, lit.size()) != lit) return false;
    i_ += lit.size();
    return true;
  }
  std::optional<std::string> String() {
    if (i_ >= s_.size() || s_[i_] != '"') return std::nullopt;
    ++i_;
    std::string out;
    while (i_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return out;
      if (c < 0x20) return std::nullopt;
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      const char e = s_[i_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return std::nullopt;
          unsigned cp = 0;
          for (int k = 0; k < 4; ++k) {
            const char h = s_[i_++];
            cp <<= 4;
            if (h >= '0' && h <= '9')
              cp |= h - '0';
            else if (h >= 'a' && h <= 'f')
              cp |= h - 'a' + 10;
            else if (h >= 'A' && h <= 'F')
              cp |= h - 'A' + 10;
            else
              return std::nullopt;
          }
          if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
          } else {
            out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
          }
          break;
        }
        default:
          return std::nullopt;
      }
    }
    return std::nullopt;
  }
  std::optional<Json> Value(int depth) {
    if (depth > 64) return std::nullopt;
    Ws();
    if (i_ >= s_.size()) return std::nullopt;
    Json v;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      v.type = Json::Type::kObject;
      Ws();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return v;
      }
      while (true) {
        Ws();
        auto key = String();
        if (!key) return std::nullopt;
        Ws();
        if (!Lit(":")) return std::nullopt;
        auto member = Value(depth + 1);
        if (!member || v.object.count(*key)) return std::nullopt;
        v.object[*key] = *member;
        Ws();
        if (Lit("}")) return v;
        if (!Lit(",")) return std::nullopt;
      }
    }
    if (c == '[') {
      ++i_;
      v.type = Json::Type::kArray;
      Ws();
      if (Lit("]")) return v;
      while (true) {
        auto item = Value(depth + 1);
        if (!item) return std::nullopt;
        v.array.push_back(*item);
        Ws();
        if (Lit("]")) return v;
        if (!Lit(",")) return std::nullopt;
      }
    }
    if (c == '"') {
      auto s = String();
      if (!s) return std::nullopt;
      v.type = Json::Type::kString;
      v.str = *s;
      return v;
    }
    if (Lit("true")) {
      v.type = Json::Type::kBool;
      v.b = true;
      return v;
    }
    if (Lit("false")) {
      v.type = Json::Type::kBool;
      return v;
    }
    if (Lit("null")) return v;
    const size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    while (i_ < s_.size() &&
           (absl::ascii_isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
            s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-'))
      ++i_;
    if (i_ == start) return std::nullopt;
    if (!absl::SimpleAtod(s_.substr(start, i_ - start), &v.number)) return std::nullopt;
    v.type = Json::Type::kNumber;
    return v;
  }

  absl::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<Json> ParseJson(absl::string_view text) { return Parser(text).Document(); }

int RunShell(const std::string& command, std::string* out) {
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  const int status = ::pclose(p);
  if (out != nullptr) *out = text;
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

bool HaveProgram(const std::string& name) {
  return RunShell(absl::StrCat("command -v ", name, " >/dev/null 2>&1")) == 0;
}

}  // namespace edict::ports::testing
