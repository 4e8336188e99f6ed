// One HTTP(S) GET with every limit the pull client needs, over mbedTLS 2.28.
//
// TLS: TLS 1.2 is the minimum and, with Debian's mbedTLS 2.28 (built without the
// experimental TLS 1.3 support), also the maximum. The server certificate must chain to
// the system CA bundle, or to `ca_file` when one is configured, and must be valid for the
// URL's host (mbedtls_ssl_set_hostname: SNI and verification; an IP-literal URL must carry
// the IP as the certificate's name) and in its validity period. Pins (SHA-256 of the
// leaf's SubjectPublicKeyInfo DER, the HPKP form) add a check on top; with `pins_only`
// the chain is not required to reach a CA (self-signed servers) but dates and host name
// still are checked and the leaf key must match a pin.
//
// Limits, each with its own PULL_* error: connect timeout per address; read timeout (no
// byte for that long); total timeout per hop; minimum transfer rate over a sliding window
// (slow drip); header size/count (HttpLimits); body cap checked against Content-Length
// before the body is read, and against chunk sizes before each chunk; at most
// `max_redirects` redirects, same scheme only, loops detected; a body shorter than its
// Content-Length is PULL_TRUNCATED, a reset PULL_RESET; a TLS body delimited by connection
// close must end with close_notify.
//
// A Fetcher is not thread-safe (one per polling thread); it may be used for any number of
// requests. It opens one connection per request (Connection: close).
#ifndef EDICT_TRANSPORT_PULL_FETCHER_H_
#define EDICT_TRANSPORT_PULL_FETCHER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "transport/keys.h"
#include "transport/pull/http.h"

namespace edict::transport::pull {

inline constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

struct TlsOptions {
  std::string system_ca_bundle = kSystemCaBundle;  // used when ca_file is empty
  std::string ca_file;            // PEM file: trust exactly these CAs instead of the system's
  std::vector<Digest> spki_pins;  // SHA-256 of the leaf's SubjectPublicKeyInfo DER
  bool pins_only = false;         // with pins: accept a chain no CA vouches for
};

struct FetchOptions {
  TlsOptions tls;
  // http:// URLs are refused (PULL_INSECURE) unless this is set. Signatures still protect
  // the bundle's content; plain HTTP loses freshness (an on-path attacker can withhold
  // updates or replay the index) and privacy (the policy is readable on the wire).
  bool allow_http = false;
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration read_timeout = absl::Seconds(15);  // longest wait for any byte
  absl::Duration total_timeout = absl::Minutes(5);  // one hop, connect to last byte
  size_t min_rate_bytes_per_second = 512;           // 0 disables the slow-drip check
  absl::Duration rate_window = absl::Seconds(20);   // measured over consecutive windows
  int max_redirects = 3;
  HttpLimits http;
  // Connect to this address instead of resolving the URL's host (hostname verification
  // and SNI still use the URL's host). Tests, split-horizon set-ups.
  std::string connect_host;
  std::string user_agent = "edict-agent/0.1";
};

struct FetchRequest {
  std::string url;
  size_t max_body_bytes = 0;  // hard cap on the body (PULL_TOO_LARGE above it)
  std::string if_none_match;
  std::string if_modified_since;
};

struct FetchResult {
  absl::Status status;        // OK for 200 and 304; a PULL_* error otherwise
  int http_status = 0;        // of the last response (0 if none)
  bool not_modified = false;  // 304
  std::string body;           // 200 only
  std::string etag;
  std::string last_modified;
  std::optional<absl::Duration> retry_after;  // from the last response, if it had one
  std::string final_url;
  int redirects = 0;
  // Measured sizes: HTTP request bytes sent (all hops), response head bytes (last hop),
  // body bytes as received (incl. chunk framing), and bytes on the TCP connections
  // (TLS records and handshakes included).
  uint64_t request_bytes = 0;
  uint64_t response_head_bytes = 0;
  uint64_t body_wire_bytes = 0;
  uint64_t wire_sent = 0;
  uint64_t wire_received = 0;
  std::string tls_version;  // "TLSv1.2", "" for http
  std::string tls_ciphersuite;
};

class Fetcher {
 public:
  // Loads the CA bundle / CA file (PULL_TLS_CONFIG if it cannot) and seeds the DRBG.
  static absl::StatusOr<std::unique_ptr<Fetcher>> Create(const FetchOptions& options);
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // GET with redirects. `now` interprets an HTTP-date Retry-After without a Date header.
  FetchResult Get(const FetchRequest& request, absl::Time now = absl::Now());

  const FetchOptions& options() const { return options_; }

  struct Tls;

 private:
  explicit Fetcher(const FetchOptions& options);
  FetchOptions options_;
  std::unique_ptr<Tls> tls_;
};

}  // namespace edict::transport::pull

#endif  // EDICT_TRANSPORT_PULL_FETCHER_H_
