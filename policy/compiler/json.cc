#include "policy/compiler/json.h"

#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace edict::json {

const Value* Value::Find(std::string_view key) const {
  for (const Member& m : members_) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

namespace {

// Length of the valid UTF-8 sequence at s[i] (strict: no overlong forms, no surrogates,
// nothing above U+10FFFF), or 0 if there is none.
size_t Utf8Length(std::string_view s, size_t i) {
  const unsigned char b0 = static_cast<unsigned char>(s[i]);
  size_t len;
  uint32_t cp;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    const unsigned char b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

}  // namespace

// Recursive-descent parser over a byte string; tracks line and column as it advances.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<Value> ParseDocument() {
    SkipWhitespace();
    Value v;
    if (!ParseValue(&v, 0)) return Error();
    SkipWhitespace();
    if (!error_.empty()) return Error();
    if (pos_ < text_.size()) {
      Fail(Here(), "unexpected data after the JSON value");
      return Error();
    }
    return v;
  }

 private:
  Location Here() const { return loc_; }

  bool AtEnd() const { return pos_ >= text_.size(); }
  unsigned char Peek() const { return static_cast<unsigned char>(text_[pos_]); }

  void Advance() {
    if (text_[pos_] == '\n') {
      ++loc_.line;
      loc_.col = 1;
    } else {
      ++loc_.col;
    }
    ++pos_;
  }

  // Records the first error only.
  bool Fail(Location at, std::string message) {
    if (error_.empty()) {
      error_loc_ = at;
      error_ = std::move(message);
    }
    return false;
  }

  absl::Status Error() const {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d:%d: %s", error_loc_.line, error_loc_.col, error_));
  }

  // Whitespace per RFC 8259; a comment is reported as such rather than as a bad token.
  void SkipWhitespace() {
    while (!AtEnd()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        Advance();
      } else {
        return;
      }
    }
  }

  static std::string Describe(unsigned char c) {
    if (c >= 0x20 && c < 0x7f) return absl::StrFormat("'%c'", c);
    return absl::StrFormat("byte 0x%02X", c);
  }

  bool UnexpectedHere(std::string_view expected) {
    if (AtEnd())
      return Fail(Here(), absl::StrFormat("unexpected end of input, expected %s", expected));
    const unsigned char c = Peek();
    if (c == '/' && pos_ + 1 < text_.size() && (text_[pos_ + 1] == '/' || text_[pos_ + 1] == '*')) {
      return Fail(Here(), "comments are not allowed in JSON");
    }
    return Fail(Here(), absl::StrFormat("unexpected %s, expected %s", Describe(c), expected));
  }

  bool ConsumeLiteral(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    for (size_t i = 0; i < word.size(); ++i) Advance();
    return true;
  }

  bool ParseValue(Value* out, int depth) {
    out->location_ = Here();
    if (AtEnd()) return UnexpectedHere("a value");
    const unsigned char c = Peek();
    switch (c) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"':
        out->kind_ = Value::Kind::kString;
        return ParseString(&out->text_);
      case 't':
        if (ConsumeLiteral("true")) {
          out->kind_ = Value::Kind::kBool;
          out->boolean_ = true;
          return true;
        }
        break;
      case 'f':
        if (ConsumeLiteral("false")) {
          out->kind_ = Value::Kind::kBool;
          out->boolean_ = false;
          return true;
        }
        break;
      case 'n':
        if (ConsumeLiteral("null")) {
          out->kind_ = Value::Kind::kNull;
          return true;
        }
        break;
      case 'N':
      case 'I':
        if (text_.substr(pos_, 3) == "NaN" || text_.substr(pos_, 8) == "Infinity") {
          return Fail(Here(), "NaN and Infinity are not allowed in JSON");
        }
        break;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
        break;
    }
    return UnexpectedHere("a value");
  }

  bool ParseNumber(Value* out) {
    const Location start = Here();
    const size_t begin = pos_;
    auto digit = [&] { return !AtEnd() && Peek() >= '0' && Peek() <= '9'; };
    bool integral = true;
    if (Peek() == '-') {
      Advance();
      if (!AtEnd() && Peek() == 'I') return Fail(start, "NaN and Infinity are not allowed in JSON");
    }
    if (!digit()) return Fail(start, "invalid number: expected a digit");
    if (Peek() == '0') {
      Advance();
      if (digit()) return Fail(start, "invalid number: leading zero");
    } else {
      while (digit()) Advance();
    }
    if (!AtEnd() && Peek() == '.') {
      integral = false;
      Advance();
      if (!digit()) return Fail(start, "invalid number: expected a digit after '.'");
      while (digit()) Advance();
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      integral = false;
      Advance();
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) Advance();
      if (!digit()) return Fail(start, "invalid number: expected a digit in the exponent");
      while (digit()) Advance();
    }
    out->kind_ = Value::Kind::kNumber;
    out->text_ = std::string(text_.substr(begin, pos_ - begin));
    double d = 0;
    if (!absl::SimpleAtod(out->text_, &d) || !std::isfinite(d)) {
      return Fail(start, "number out of range");
    }
    out->number_ = d;
    int64_t i = 0;
    if (integral && absl::SimpleAtoi(out->text_, &i)) {
      out->is_integer_ = true;
      out->integer_ = i;
    }
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // Four hex digits after "\u"; pos_ is at the first digit.
  bool ParseHex4(Location esc, uint32_t* out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      if (AtEnd()) return Fail(esc, "invalid \\u escape: expected 4 hex digits");
      const unsigned char c = Peek();
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return Fail(esc, "invalid \\u escape: expected 4 hex digits");
      }
      v = v * 16 + d;
      Advance();
    }
    *out = v;
    return true;
  }

  // One UTF-8 encoded code point starting at pos_ (a byte >= 0x80), validated strictly.
  bool CopyUtf8(std::string* out) {
    const size_t len = Utf8Length(text_, pos_);
    if (len == 0) return Fail(Here(), "invalid UTF-8 in string");
    out->append(text_.substr(pos_, len));
    for (size_t i = 0; i < len; ++i) Advance();
    return true;
  }

  // pos_ is at the opening quote.
  bool ParseString(std::string* out) {
    const Location start = Here();
    Advance();
    while (true) {
      if (AtEnd()) return Fail(start, "unterminated string");
      const unsigned char c = Peek();
      if (c == '"') {
        Advance();
        return true;
      }
      if (c < 0x20) {
        return Fail(Here(), absl::StrFormat("control character U+%04X in string", c));
      }
      if (c >= 0x80) {
        if (!CopyUtf8(out)) return false;
        continue;
      }
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        Advance();
        continue;
      }
      const Location esc = Here();
      Advance();
      if (AtEnd()) return Fail(start, "unterminated string");
      const char e = static_cast<char>(Peek());
      Advance();
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
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
          uint32_t cp;
          if (!ParseHex4(esc, &cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Fail(esc, absl::StrFormat("lone surrogate \\u%04X in string", cp));
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") {
              return Fail(esc, absl::StrFormat("lone surrogate \\u%04X in string", cp));
            }
            Advance();
            Advance();
            uint32_t low;
            if (!ParseHex4(esc, &low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) {
              return Fail(esc, absl::StrFormat("lone surrogate \\u%04X in string", cp));
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Fail(esc, "invalid escape sequence in string");
      }
    }
  }

  bool ParseArray(Value* out, int depth) {
    if (depth > kMaxDepth) {
      return Fail(Here(), absl::StrFormat("nesting deeper than %d", kMaxDepth));
    }
    out->kind_ = Value::Kind::kArray;
    Advance();  // '['
    SkipWhitespace();
    if (!AtEnd() && Peek() == ']') {
      Advance();
      return true;
    }
    while (true) {
      out->items_.emplace_back();
      if (!ParseValue(&out->items_.back(), depth)) return false;
      SkipWhitespace();
      if (AtEnd()) return UnexpectedHere("',' or ']'");
      if (Peek() == ']') {
        Advance();
        return true;
      }
      if (Peek() != ',') return UnexpectedHere("',' or ']'");
      const Location comma = Here();
      Advance();
      SkipWhitespace();
      if (!AtEnd() && Peek() == ']') return Fail(comma, "trailing comma");
    }
  }

  bool ParseObject(Value* out, int depth) {
    if (depth > kMaxDepth) {
      return Fail(Here(), absl::StrFormat("nesting deeper than %d", kMaxDepth));
    }
    out->kind_ = Value::Kind::kObject;
    Advance();  // '{'
    SkipWhitespace();
    if (!AtEnd() && Peek() == '}') {
      Advance();
      return true;
    }
    std::set<std::string, std::less<>> keys;
    while (true) {
      if (AtEnd() || Peek() != '"') return UnexpectedHere("a string key");
      Value::Member member;
      member.key_location = Here();
      if (!ParseString(&member.key)) return false;
      if (!keys.insert(member.key).second) {
        return Fail(member.key_location, absl::StrFormat("duplicate key %s", Quote(member.key)));
      }
      SkipWhitespace();
      if (AtEnd() || Peek() != ':') return UnexpectedHere("':'");
      Advance();
      SkipWhitespace();
      out->members_.push_back(std::move(member));
      if (!ParseValue(&out->members_.back().value, depth)) return false;
      SkipWhitespace();
      if (AtEnd()) return UnexpectedHere("',' or '}'");
      if (Peek() == '}') {
        Advance();
        return true;
      }
      if (Peek() != ',') return UnexpectedHere("',' or '}'");
      const Location comma = Here();
      Advance();
      SkipWhitespace();
      if (!AtEnd() && Peek() == '}') return Fail(comma, "trailing comma");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  Location loc_;
  Location error_loc_;
  std::string error_;
};

absl::StatusOr<Value> Parse(std::string_view text) { return Parser(text).ParseDocument(); }

std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8Length(s, i);
      if (len == 0) {
        out += "\\ufffd";  // not UTF-8: U+FFFD REPLACEMENT CHARACTER
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
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
        if (c < 0x20 || c == 0x7f) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace edict::json
