#include "transport/pull/url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "transport/pull/errors.h"

namespace edict::transport::pull {
namespace {

constexpr size_t kMaxUrl = 2048;

absl::Status Bad(absl::string_view text, absl::string_view why) {
  return MakePullError(PullError::kUrl, absl::StrCat("'", text.substr(0, 200), "': ", why));
}

bool TargetCharOk(char c) {
  // Printable ASCII except space, '#', '"', '<', '>', '\\', '^', '`', '{', '|', '}'.
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '#':
    case '"':
    case '<':
    case '>':
    case '\\':
    case '^':
    case '`':
    case '{':
    case '|':
    case '}':
      return false;
    default:
      return true;
  }
}

bool HostCharOk(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '.'; }

uint16_t DefaultPort(absl::string_view scheme) { return scheme == "https" ? 443 : 80; }

}  // namespace

std::string Url::Authority() const {
  std::string h = host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host;
  if (port == DefaultPort(scheme)) return h;
  return absl::StrCat(h, ":", port);
}

std::string Url::ToString() const { return absl::StrCat(scheme, "://", Authority(), target); }

absl::StatusOr<Url> ParseUrl(absl::string_view text) {
  if (text.size() > kMaxUrl) return Bad(text, "longer than 2048 characters");
  Url url;
  size_t colon = text.find("://");
  if (colon == absl::string_view::npos) return Bad(text, "no scheme");
  url.scheme = absl::AsciiStrToLower(text.substr(0, colon));
  if (url.scheme != "https" && url.scheme != "http") {
    return Bad(text, "scheme must be https or http");
  }
  absl::string_view rest = text.substr(colon + 3);
  size_t end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, end);
  absl::string_view target = end == absl::string_view::npos ? "" : rest.substr(end);
  if (authority.find('@') != absl::string_view::npos) return Bad(text, "user info not allowed");
  if (authority.empty()) return Bad(text, "no host");
  absl::string_view host, port;
  if (authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) return Bad(text, "unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Bad(text, "junk after IPv6 literal");
      port = after.substr(1);
    }
    if (host.empty()) return Bad(text, "empty IPv6 literal");
    for (char c : host) {
      if (!absl::ascii_isxdigit(c) && c != ':' && c != '.') return Bad(text, "bad IPv6 literal");
    }
  } else {
    size_t c = authority.rfind(':');
    host = authority.substr(0, c);
    if (c != absl::string_view::npos) port = authority.substr(c + 1);
    if (host.empty() || host.size() > 253) return Bad(text, "bad host length");
    for (char ch : host) {
      if (!HostCharOk(ch)) return Bad(text, "bad character in host");
    }
  }
  url.host = absl::AsciiStrToLower(host);
  url.port = DefaultPort(url.scheme);
  if (authority.find(':') != absl::string_view::npos && (authority[0] != '[' || !port.empty())) {
    uint32_t p = 0;
    if (port.empty() || port.size() > 5 || !absl::SimpleAtoi(port, &p) || p == 0 || p > 65535) {
      return Bad(text, "bad port");
    }
    for (char ch : port) {
      if (!absl::ascii_isdigit(ch)) return Bad(text, "bad port");
    }
    url.port = static_cast<uint16_t>(p);
  }
  size_t hash = target.find('#');
  if (hash != absl::string_view::npos) target = target.substr(0, hash);
  if (target.empty()) target = "/";
  if (target[0] == '?') return Bad(text, "query without a path");
  for (char ch : target) {
    if (!TargetCharOk(ch)) return Bad(text, "bad character in path");
  }
  url.target = std::string(target);
  return url;
}

absl::StatusOr<Url> ResolveReference(const Url& base, absl::string_view ref) {
  if (ref.empty()) return Bad(ref, "empty reference");
  if (ref.find("://") != absl::string_view::npos) return ParseUrl(ref);
  if (absl::StartsWith(ref, "//")) return Bad(ref, "scheme-relative references not allowed");
  for (char ch : ref) {
    if (!TargetCharOk(ch)) return Bad(ref, "bad character in reference");
  }
  Url out = base;
  if (ref[0] == '/') {
    out.target = std::string(ref);
  } else {
    if (absl::StartsWith(ref, "./") || absl::StartsWith(ref, "../") ||
        ref.find("/../") != absl::string_view::npos || ref == "..") {
      return Bad(ref, "dot segments not allowed");
    }
    std::string path = base.target.substr(0, base.target.find('?'));
    size_t slash = path.rfind('/');
    out.target = absl::StrCat(path.substr(0, slash + 1), ref);
  }
  size_t hash = out.target.find('#');
  if (hash != std::string::npos) out.target.resize(hash);
  return out;
}

}  // namespace edict::transport::pull
