#include "transport/pull/http.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "transport/pull/errors.h"

namespace edict::transport::pull {
namespace {

absl::Status Malformed(absl::string_view why) {
  return MakePullError(PullError::kHttpMalformed, why);
}

// A bounded cursor (BoringSSL CBS in spirit): every read checks the remaining length.
class Cursor {
 public:
  explicit Cursor(absl::string_view data) : data_(data) {}
  bool empty() const { return data_.empty(); }
  size_t size() const { return data_.size(); }
  // Takes bytes up to (excluding) the next CRLF and skips the CRLF. False if there is none.
  bool GetLine(absl::string_view* line) {
    size_t i = data_.find("\r\n");
    if (i == absl::string_view::npos) return false;
    *line = data_.substr(0, i);
    data_.remove_prefix(i + 2);
    return true;
  }

 private:
  absl::string_view data_;
};

bool IsTokenChar(char c) {
  if (absl::ascii_isalnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// Field values: VCHAR, obs-text, SP, HTAB. No other controls, never CR/LF/NUL.
bool ValueCharOk(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

absl::string_view TrimOws(absl::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool SafeHeaderValue(absl::string_view v) {
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

constexpr char kHttpDateFormat[] = "%a, %d %b %Y %H:%M:%S GMT";

}  // namespace

absl::StatusOr<std::string> BuildGetRequest(const Url& url, const RequestOptions& options) {
  if (!SafeHeaderValue(options.if_none_match) || !SafeHeaderValue(options.if_modified_since) ||
      !SafeHeaderValue(options.user_agent) || options.if_none_match.size() > 1024 ||
      options.if_modified_since.size() > 128) {
    return absl::InvalidArgumentError("conditional header value has control characters");
  }
  std::string r = absl::StrCat("GET ", url.target, " HTTP/1.1\r\nHost: ", url.Authority(),
                               "\r\nUser-Agent: ", options.user_agent,
                               "\r\nAccept: */*\r\nConnection: close\r\n");
  if (!options.if_none_match.empty()) {
    absl::StrAppend(&r, "If-None-Match: ", options.if_none_match, "\r\n");
  }
  if (!options.if_modified_since.empty()) {
    absl::StrAppend(&r, "If-Modified-Since: ", options.if_modified_since, "\r\n");
  }
  r += "\r\n";
  return r;
}

const std::string* ResponseHead::Find(absl::string_view lower_name) const {
  for (const auto& [n, v] : headers) {
    if (n == lower_name) return &v;
  }
  return nullptr;
}

absl::StatusOr<size_t> FindHeadEnd(absl::string_view data, const HttpLimits& limits) {
  absl::string_view window = data.substr(0, limits.max_head_bytes);
  size_t i = window.find("\r\n\r\n");
  if (i != absl::string_view::npos) return i + 4;
  if (data.size() >= limits.max_head_bytes) {
    return MakePullError(
        PullError::kHeadersTooLarge,
        absl::StrCat("no end of headers within ", limits.max_head_bytes, " bytes"));
  }
  return size_t{0};
}

std::optional<absl::Time> ParseHttpDate(absl::string_view s) {
  if (s.size() != 29) return std::nullopt;  // IMF-fixdate is fixed width
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(kHttpDateFormat, std::string(s), absl::UTCTimeZone(), &t, &err)) {
    return std::nullopt;
  }
  return t;
}

std::string FormatHttpDate(absl::Time t) {
  return absl::FormatTime(kHttpDateFormat, t, absl::UTCTimeZone());
}

absl::StatusOr<ResponseHead> ParseResponseHead(absl::string_view head, const HttpLimits& limits,
                                               absl::Time now) {
  if (head.size() > limits.max_head_bytes) {
    return MakePullError(PullError::kHeadersTooLarge,
                         absl::StrCat("head of ", head.size(), " bytes"));
  }
  ResponseHead r;
  r.head_bytes = head.size();
  Cursor cur(head);
  absl::string_view line;
  if (!cur.GetLine(&line)) return Malformed("no status line");
  // HTTP/1.x SP 3DIGIT SP reason
  if (line.size() < 12 || !absl::StartsWith(line, "HTTP/1.") || line[8] != ' ' ||
      (line[7] != '0' && line[7] != '1') || (line.size() > 12 && line[12] != ' ')) {
    return Malformed("bad status line");
  }
  r.minor_version = line[7] - '0';
  absl::string_view code = line.substr(9, 3);
  if (!AllDigits(code) || code[0] < '1' || code[0] > '5') return Malformed("bad status code");
  r.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  absl::string_view reason = line.size() > 13 ? line.substr(13) : "";
  for (char c : reason) {
    if (!ValueCharOk(c)) return Malformed("control character in reason phrase");
  }
  r.reason = std::string(reason.substr(0, 128));

  absl::string_view te, retry_after;
  bool saw_te = false;
  while (true) {
    if (!cur.GetLine(&line)) return Malformed("head does not end with an empty line");
    if (line.empty()) break;
    if (r.headers.size() >= limits.max_headers) {
      return MakePullError(PullError::kHeadersTooLarge,
                           absl::StrCat("more than ", limits.max_headers, " headers"));
    }
    if (line[0] == ' ' || line[0] == '\t') return Malformed("obsolete line folding");
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0) return Malformed("header without a name");
    absl::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(c)) return Malformed("bad character in header name");
    }
    absl::string_view value = TrimOws(line.substr(colon + 1));
    if (value.size() > limits.max_value_bytes) {
      return MakePullError(PullError::kHeadersTooLarge, "header value too long");
    }
    for (char c : value) {
      if (!ValueCharOk(c)) return Malformed("control character in header value");
    }
    std::string lname = absl::AsciiStrToLower(name);
    if (lname == "content-length") {
      if (!AllDigits(value) || value.size() > 18) return Malformed("bad Content-Length");
      uint64_t n = 0;
      if (!absl::SimpleAtoi(value, &n)) return Malformed("bad Content-Length");
      if (r.content_length && *r.content_length != n) {
        return Malformed("conflicting Content-Length headers");
      }
      r.content_length = n;
    } else if (lname == "transfer-encoding") {
      if (saw_te) return Malformed("repeated Transfer-Encoding");
      saw_te = true;
      te = value;
    } else if (lname == "etag") {
      if (r.etag.empty() && value.size() <= limits.max_etag_bytes) r.etag = std::string(value);
    } else if (lname == "last-modified") {
      if (r.last_modified.empty() && value.size() <= 64) r.last_modified = std::string(value);
    } else if (lname == "location") {
      if (!r.location.empty()) return Malformed("repeated Location");
      r.location = std::string(value);
    } else if (lname == "date") {
      if (r.date.empty()) r.date = std::string(value);
    } else if (lname == "retry-after") {
      retry_after = value;  // the last one wins; interpreted below
    } else if (lname == "connection") {
      if (absl::AsciiStrToLower(value).find("close") != std::string::npos) {
        r.connection_close = true;
      }
    }
    r.headers.emplace_back(std::move(lname), std::string(value));
  }
  if (!cur.empty()) return Malformed("bytes after the end of the head");
  if (saw_te) {
    if (!absl::EqualsIgnoreCase(te, "chunked")) {
      return Malformed(absl::StrCat("unsupported Transfer-Encoding '", te.substr(0, 40), "'"));
    }
    if (r.content_length) return Malformed("both Transfer-Encoding and Content-Length");
    r.chunked = true;
  }
  if (!retry_after.empty()) {
    if (AllDigits(retry_after)) {
      int64_t secs = 0;
      if (retry_after.size() <= 9 && absl::SimpleAtoi(retry_after, &secs)) {
        r.retry_after = absl::Seconds(secs);
      }
    } else if (auto when = ParseHttpDate(retry_after)) {
      absl::Time base = now;
      if (auto d = ParseHttpDate(r.date)) base = *d;
      r.retry_after = std::max(absl::ZeroDuration(), *when - base);
    }
    // Anything else is ignored (RFC 9110: a recipient may ignore an invalid value).
  }
  return r;
}

absl::Status ChunkedDecoder::Feed(absl::string_view in, size_t* consumed, std::string* out) {
  size_t i = 0;
  while (i < in.size() && state_ != State::kDone) {
    switch (state_) {
      case State::kSize:
      case State::kTrailer: {
        char c = in[i++];
        if (state_ == State::kTrailer && ++trailer_bytes_ > limits_.max_trailer_bytes) {
          return MakePullError(PullError::kHeadersTooLarge, "chunked trailer too large");
        }
        if (c != '\n') {
          if (line_.size() >= limits_.max_chunk_line) {
            return MakePullError(PullError::kHttpMalformed, "chunk line too long");
          }
          line_.push_back(c);
          break;
        }
        if (line_.empty() || line_.back() != '\r') {
          return Malformed("chunk line not terminated by CRLF");
        }
        line_.pop_back();
        if (state_ == State::kTrailer) {
          if (line_.empty()) {
            state_ = State::kDone;
          } else {
            for (char t : line_) {
              if (!ValueCharOk(t)) return Malformed("control character in trailer");
            }
          }
          line_.clear();
          break;
        }
        absl::string_view size = line_;
        size_t semi = size.find(';');
        if (semi != absl::string_view::npos) size = size.substr(0, semi);
        size = TrimOws(size);
        if (size.empty() || size.size() > 15) return Malformed("bad chunk size");
        uint64_t n = 0;
        for (char h : size) {
          if (!absl::ascii_isxdigit(h)) return Malformed("bad chunk size");
          n = n * 16 +
              static_cast<uint64_t>(absl::ascii_isdigit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        line_.clear();
        if (n == 0) {
          state_ = State::kTrailer;
          break;
        }
        if (n > max_body_ - decoded_) {
          return MakePullError(PullError::kTooLarge,
                               absl::StrCat("chunk of ", n, " bytes after ", decoded_,
                                            " bytes exceeds the cap of ", max_body_));
        }
        remaining_ = n;
        state_ = State::kData;
        break;
      }
      case State::kData: {
        size_t take = std::min<uint64_t>(remaining_, in.size() - i);
        out->append(in.data() + i, take);
        i += take;
        decoded_ += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (in[i++] != '\r') return Malformed("chunk data not followed by CRLF");
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (in[i++] != '\n') return Malformed("chunk data not followed by CRLF");
        state_ = State::kSize;
        break;
      case State::kDone:
        break;
    }
  }
  *consumed = i;
  return absl::OkStatus();
}

}  // namespace edict::transport::pull
