// URLs the pull client accepts: `https://host[:port]/path` (and `http://` when a source
// allows it). Strict and small: no user info, no fragments kept, host names of
// [A-Za-z0-9.-], IPv4 literals and bracketed IPv6 literals; the path and query are kept
// verbatim but must be printable ASCII without spaces (they go into the request line).
#ifndef EDICT_TRANSPORT_PULL_URL_H_
#define EDICT_TRANSPORT_PULL_URL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edict::transport::pull {

struct Url {
  std::string scheme;  // "https" or "http"
  std::string host;    // lower case; IPv6 without brackets
  uint16_t port = 0;   // explicit or the scheme's default
  std::string target;  // path and query, starting with '/'

  bool https() const { return scheme == "https"; }
  // "host" or "host:port" (port omitted when default), IPv6 bracketed: the Host header.
  std::string Authority() const;
  // The canonical URL string.
  std::string ToString() const;
};

// PULL_URL (InvalidArgument) on anything else.
absl::StatusOr<Url> ParseUrl(absl::string_view text);

// Resolves `ref` against `base` (RFC 3986 subset): an absolute URL ("https://..."), an
// absolute path ("/x/y") or a relative path ("x", "../x" is refused) replacing the last
// segment of base's path. The query of `base` is dropped. PULL_URL on anything else.
absl::StatusOr<Url> ResolveReference(const Url& base, absl::string_view ref);

}  // namespace edict::transport::pull

#endif  // EDICT_TRANSPORT_PULL_URL_H_
