#include "transport/pull/json.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace edict::transport::pull::json {
namespace {

constexpr int kMaxDepth = 8;
constexpr size_t kMaxMembers = 256;
constexpr size_t kMaxString = 4096;

class Parser {
 public:
  explicit Parser(absl::string_view s) : s_(s) {}

  absl::StatusOr<Value> Document() {
    Value v;
    if (!ParseValue(&v, 0)) return Error();
    SkipWs();
    if (pos_ != s_.size()) {
      why_ = "trailing data";
      return Error();
    }
    return v;
  }

 private:
  absl::Status Error() const {
    return absl::InvalidArgumentError(absl::StrCat("JSON: ", why_, " at byte ", pos_));
  }
  bool Fail(const char* why) {
    why_ = why;
    return false;
  }
  void SkipWs() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(absl::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return Fail("bad literal");
    pos_ += word.size();
    return true;
  }
  bool Hex4(uint32_t* out) {
    if (s_.size() - pos_ < 4) return Fail("short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      if (!absl::ascii_isxdigit(c)) return Fail("bad \\u escape");
      v = v * 16 + static_cast<uint32_t>(absl::ascii_isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    *out = v;
    return true;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  bool String(std::string* out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return Fail("unterminated string");
      if (out->size() > kMaxString) return Fail("string too long");
      char c = s_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return Fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xdc00 && cp <= 0xdfff) return Fail("lone low surrogate");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo = 0;
            if (s_.substr(pos_, 2) != "\\u") return Fail("lone high surrogate");
            pos_ += 2;
            if (!Hex4(&lo)) return false;
            if (lo < 0xdc00 || lo > 0xdfff) return Fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
  }
  bool Number(int64_t* out) {
    bool neg = false;
    if (s_[pos_] == '-') {
      neg = true;
      ++pos_;
    }
    size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < s_.size() && absl::ascii_isdigit(s_[pos_])) {
      if (pos_ - start >= 18) return Fail("integer too large");
      v = v * 10 + static_cast<uint64_t>(s_[pos_++] - '0');
    }
    if (pos_ == start) return Fail("bad number");
    if (pos_ - start > 1 && s_[start] == '0') return Fail("leading zero");
    if (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E')) {
      return Fail("only integers are supported");
    }
    *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return true;
  }
  bool ParseValue(Value* v, int depth) {
    if (depth > kMaxDepth) return Fail("nesting too deep");
    SkipWs();
    if (pos_ >= s_.size()) return Fail("unexpected end");
    char c = s_[pos_];
    switch (c) {
      case 'n':
        v->type = Value::Type::kNull;
        return Literal("null");
      case 't':
        v->type = Value::Type::kBool;
        v->boolean = true;
        return Literal("true");
      case 'f':
        v->type = Value::Type::kBool;
        v->boolean = false;
        return Literal("false");
      case '"':
        v->type = Value::Type::kString;
        return String(&v->string);
      case '[': {
        v->type = Value::Type::kArray;
        ++pos_;
        SkipWs();
        if (pos_ < s_.size() && s_[pos_] == ']') {
          ++pos_;
          return true;
        }
        while (true) {
          if (v->array.size() >= kMaxMembers) return Fail("too many elements");
          v->array.emplace_back();
          if (!ParseValue(&v->array.back(), depth + 1)) return false;
          SkipWs();
          if (pos_ >= s_.size()) return Fail("unterminated array");
          if (s_[pos_] == ',') {
            ++pos_;
            continue;
          }
          if (s_[pos_] == ']') {
            ++pos_;
            return true;
          }
          return Fail("expected , or ]");
        }
      }
      case '{': {
        v->type = Value::Type::kObject;
        ++pos_;
        SkipWs();
        if (pos_ < s_.size() && s_[pos_] == '}') {
          ++pos_;
          return true;
        }
        while (true) {
          if (v->object.size() >= kMaxMembers) return Fail("too many members");
          SkipWs();
          if (pos_ >= s_.size() || s_[pos_] != '"') return Fail("expected a key");
          std::string key;
          if (!String(&key)) return false;
          if (v->Get(key) != nullptr) return Fail("duplicate key");
          SkipWs();
          if (pos_ >= s_.size() || s_[pos_] != ':') return Fail("expected :");
          ++pos_;
          v->object.emplace_back(std::move(key), Value());
          if (!ParseValue(&v->object.back().second, depth + 1)) return false;
          SkipWs();
          if (pos_ >= s_.size()) return Fail("unterminated object");
          if (s_[pos_] == ',') {
            ++pos_;
            continue;
          }
          if (s_[pos_] == '}') {
            ++pos_;
            return true;
          }
          return Fail("expected , or }");
        }
      }
      default:
        if (c == '-' || absl::ascii_isdigit(c)) {
          v->type = Value::Type::kInt;
          return Number(&v->integer);
        }
        return Fail("unexpected character");
    }
  }

  absl::string_view s_;
  size_t pos_ = 0;
  const char* why_ = "";
};

}  // namespace

const Value* Value::Get(absl::string_view key) const {
  for (const auto& [k, v] : object) {
    if (k == key) return &v;
  }
  return nullptr;
}

absl::StatusOr<Value> Parse(absl::string_view text) { return Parser(text).Document(); }

std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace edict::transport::pull::json
