#include "transport/pull/fuzz_entry.h"

#include <string>

#include "absl/strings/string_view.h"
#include "transport/pull/http.h"
#include "transport/pull/index.h"
#include "transport/pull/source.h"
#include "transport/pull/url.h"

namespace edict::transport::pull {

int FuzzHttpResponse(const uint8_t* data, size_t size) {
  absl::string_view in(reinterpret_cast<const char*>(data), size);
  HttpLimits limits;
  limits.max_head_bytes = 4096;
  limits.max_headers = 32;
  constexpr size_t kCap = 64 << 10;
  (void)ParseIndex(in);
  (void)SourceStatus::FromJson(in);
  (void)ParseUrl(in.substr(0, 4096));
  auto end = FindHeadEnd(in, limits);
  if (!end.ok() || *end == 0) return 0;
  auto head = ParseResponseHead(in.substr(0, *end), limits);
  if (!head.ok()) return 0;
  if (!head->location.empty()) {
    static const Url kBase = *ParseUrl("https://example.test/edict/edict-index.json");
    (void)ResolveReference(kBase, head->location);
  }
  absl::string_view rest = in.substr(*end);
  std::string body;
  if (head->chunked) {
    ChunkedDecoder dec(kCap, limits);
    // Feed in two pieces to exercise the incremental state machine.
    size_t half = rest.size() / 2, used = 0, used2 = 0;
    if (!dec.Feed(rest.substr(0, half), &used, &body).ok()) return 0;
    if (!dec.done()) {
      if (!dec.Feed(rest.substr(used), &used2, &body).ok()) return 0;
    }
  } else if (head->content_length) {
    if (*head->content_length > kCap || *head->content_length > rest.size()) return 0;
    body = std::string(rest.substr(0, *head->content_length));
  } else {
    if (rest.size() > kCap) return 0;
    body = std::string(rest);
  }
  (void)ParseIndex(body);
  return 0;
}

}  // namespace edict::transport::pull
