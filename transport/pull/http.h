// A bounded HTTP/1.1 client-side message layer: the GET request we send and a strict,
// incremental response parser. No I/O here: the fetcher feeds bytes in, so every limit
// can be unit-tested and fuzzed (transport/pull/fuzz_entry.h).
//
// Parsing is CBS-style: a cursor over the caller's bytes that never reads past its end,
// every length checked before use, every count bounded. Strictness (each a PULL_* error):
// status line `HTTP/1.x DDD reason` with CRLF; header names are RFC 9110 tokens with no
// space before ':'; no obsolete line folding; no control characters in values (HTAB
// allowed); at most `max_headers` headers in at most `max_head_bytes`; Content-Length is
// digits only, and repeated values must agree; Transfer-Encoding must be exactly
// "chunked" and must not come with Content-Length (request-smuggling shapes are refused,
// not resolved).
#ifndef EDICT_TRANSPORT_PULL_HTTP_H_
#define EDICT_TRANSPORT_PULL_HTTP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "transport/pull/url.h"

namespace edict::transport::pull {

struct HttpLimits {
  size_t max_head_bytes = 16 << 10;  // status line + headers + blank line
  size_t max_headers = 64;
  size_t max_value_bytes = 4096;    // one header value
  size_t max_etag_bytes = 256;      // an ETag we would echo back
  size_t max_chunk_line = 256;      // chunk size line incl. extensions
  size_t max_trailer_bytes = 4096;  // all trailer lines of a chunked body
};

struct RequestOptions {
  std::string if_none_match;      // an ETag from an earlier 200 (sent verbatim)
  std::string if_modified_since;  // a Last-Modified value from an earlier 200
  std::string user_agent = "edict-agent/0.1";
};

// "GET <target> HTTP/1.1" with Host, User-Agent, Accept, Connection: close and the
// conditional headers. InvalidArgument if a conditional value has CR, LF or controls.
absl::StatusOr<std::string> BuildGetRequest(const Url& url, const RequestOptions& options);

struct ResponseHead {
  int status = 0;         // 100..599
  int minor_version = 1;  // HTTP/1.0 or HTTP/1.1
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::optional<uint64_t> content_length;
  bool chunked = false;
  std::string etag;           // "" when absent (or longer than max_etag_bytes: not echoed)
  std::string last_modified;  // "" when absent
  std::string location;       // "" when absent
  std::string date;           // "" when absent
  // Retry-After: delta-seconds, or an HTTP-date converted against `Date:` (or `now`).
  std::optional<absl::Duration> retry_after;
  bool connection_close = false;
  size_t head_bytes = 0;  // bytes of the head including the blank line

  // First value of a header (name in lower case), or nullptr.
  const std::string* Find(absl::string_view lower_name) const;
};

// Looks for the end of the head ("\r\n\r\n") in `data`. Returns its length including the
// blank line, 0 if more bytes are needed, or PULL_HEADERS_TOO_LARGE once `data` holds
// max_head_bytes without one.
absl::StatusOr<size_t> FindHeadEnd(absl::string_view data, const HttpLimits& limits);

// Parses exactly one complete head (as delimited by FindHeadEnd). `now` converts an
// HTTP-date Retry-After when the response has no Date header.
absl::StatusOr<ResponseHead> ParseResponseHead(absl::string_view head, const HttpLimits& limits,
                                               absl::Time now = absl::UnixEpoch());

// Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); also the obsolete RFC 850 and
// asctime forms are refused (nullopt).
std::optional<absl::Time> ParseHttpDate(absl::string_view s);
// Formats an IMF-fixdate.
std::string FormatHttpDate(absl::Time t);

// Incremental decoder of a chunked body. Feed() consumes what it can and appends decoded
// bytes to `out`; it refuses (PULL_TOO_LARGE) a chunk whose declared size would take the
// body past `max_body` before any of it is read, and bad syntax with PULL_HTTP_MALFORMED.
class ChunkedDecoder {
 public:
  ChunkedDecoder(size_t max_body, const HttpLimits& limits)
      : max_body_(max_body), limits_(limits) {}
  // Consumes a prefix of `in` (all of it unless done() becomes true); sets *consumed.
  absl::Status Feed(absl::string_view in, size_t* consumed, std::string* out);
  bool done() const { return state_ == State::kDone; }
  size_t decoded() const { return decoded_; }

 private:
  enum class State { kSize, kData, kDataCr, kDataLf, kTrailer, kDone };
  size_t max_body_;
  HttpLimits limits_;
  State state_ = State::kSize;
  std::string line_;        // current size or trailer line (bounded)
  uint64_t remaining_ = 0;  // of the current chunk
  size_t decoded_ = 0;
  size_t trailer_bytes_ = 0;
};

}  // namespace edict::transport::pull

#endif  // EDICT_TRANSPORT_PULL_HTTP_H_
