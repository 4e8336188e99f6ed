#include "transport/pull/fetcher.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "transport/pull/errors.h"
#include "transport/pull/url.h"

namespace edict::transport::pull {

using SteadyClock = std::chrono::steady_clock;

struct Fetcher::Tls {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_x509_crt ca;
  mbedtls_ssl_config conf;
  Tls() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_x509_crt_init(&ca);
    mbedtls_ssl_config_init(&conf);
  }
  ~Tls() {
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
};

namespace {

std::string MbedError(int ret) {
  char buf[160];
  mbedtls_strerror(ret, buf, sizeof(buf));
  return absl::StrCat(buf, " (-0x", absl::Hex(-ret), ")");
}

absl::Duration ToAbsl(SteadyClock::duration d) { return absl::FromChrono(d); }

// One TCP connection with deadlines, the slow-drip check and byte counters.
class Conn {
 public:
  Conn(const FetchOptions& o) : options_(o) {}
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Connect(const std::string& host, uint16_t port) {
    start_ = SteadyClock::now();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string service = absl::StrCat(port);
    int gai = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    if (gai != 0 || res == nullptr) {
      return MakePullError(PullError::kResolve, absl::StrCat(host, ": ", ::gai_strerror(gai)));
    }
    absl::Status last = MakePullError(PullError::kConnect, host);
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      last = ConnectOne(ai, host);
      if (last.ok()) break;
    }
    ::freeaddrinfo(res);
    if (!last.ok()) return last;
    start_ = SteadyClock::now();
    deadline_ = start_ + absl::ToChronoNanoseconds(options_.total_timeout);
    window_start_ = start_;
    return absl::OkStatus();
  }

  // > 0 bytes read; 0 EOF; -1 error (error() says which).
  ssize_t Recv(uint8_t* buf, size_t len) {
    auto idle_start = SteadyClock::now();
    while (true) {
      auto now = SteadyClock::now();
      if (!CheckClocks(now)) return -1;
      auto wait_until =
          std::min(deadline_, idle_start + absl::ToChronoNanoseconds(options_.read_timeout));
      if (RateOn()) wait_until = std::min(wait_until, WindowEnd());
      if (now >= idle_start + absl::ToChronoNanoseconds(options_.read_timeout)) {
        error_ = MakePullError(
            PullError::kTimeout,
            absl::StrCat("no data for ", absl::FormatDuration(options_.read_timeout)));
        return -1;
      }
      int ms = static_cast<int>(std::max<int64_t>(
          1, std::chrono::duration_cast<std::chrono::milliseconds>(wait_until - now).count()));
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, ms);
      if (r < 0 && errno != EINTR) return Fail(errno, "poll");
      if (r <= 0) continue;
      ssize_t n = ::recv(fd_, buf, len, 0);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        return Fail(errno, "recv");
      }
      received_ += static_cast<uint64_t>(n);
      window_bytes_ += static_cast<uint64_t>(n);
      return n;
    }
  }

  // Bytes written (> 0) or -1.
  ssize_t Send(const uint8_t* buf, size_t len) {
    auto idle_start = SteadyClock::now();
    while (true) {
      auto now = SteadyClock::now();
      if (now >= deadline_) {
        error_ = MakePullError(PullError::kTimeout, "total timeout while sending");
        return -1;
      }
      if (now >= idle_start + absl::ToChronoNanoseconds(options_.read_timeout)) {
        error_ = MakePullError(PullError::kTimeout, "could not send for the read timeout");
        return -1;
      }
      ssize_t n = ::send(fd_, buf, len, MSG_NOSIGNAL);
      if (n >= 0) {
        sent_ += static_cast<uint64_t>(n);
        return n;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return Fail(errno, "send");
      pollfd p{fd_, POLLOUT, 0};
      int r = ::poll(&p, 1, 100);
      if (r < 0 && errno != EINTR) return Fail(errno, "poll");
    }
  }

  const absl::Status& error() const { return error_; }
  uint64_t sent() const { return sent_; }
  uint64_t received() const { return received_; }

 private:
  bool RateOn() const {
    return options_.min_rate_bytes_per_second > 0 && options_.rate_window > absl::ZeroDuration();
  }
  SteadyClock::time_point WindowEnd() const {
    return window_start_ + absl::ToChronoNanoseconds(options_.rate_window);
  }
  bool CheckClocks(SteadyClock::time_point now) {
    if (now >= deadline_) {
      error_ = MakePullError(PullError::kTimeout,
                             absl::StrCat("not complete within the total timeout of ",
                                          absl::FormatDuration(options_.total_timeout)));
      return false;
    }
    if (RateOn() && now >= WindowEnd()) {
      double secs = absl::ToDoubleSeconds(ToAbsl(now - window_start_));
      double need = static_cast<double>(options_.min_rate_bytes_per_second) * secs;
      if (static_cast<double>(window_bytes_) < need) {
        error_ = MakePullError(
            PullError::kSlow,
            absl::StrCat(window_bytes_, " bytes in ",
                         absl::FormatDuration(ToAbsl(now - window_start_)), "; the minimum is ",
                         options_.min_rate_bytes_per_second, " bytes/s"));
        return false;
      }
      window_start_ = now;
      window_bytes_ = 0;
    }
    return true;
  }
  ssize_t Fail(int err, const char* what) {
    if (err == ECONNRESET || err == EPIPE) {
      error_ = MakePullError(
          PullError::kReset,
          absl::StrCat(what, ": ", std::strerror(err), " after ", received_, " bytes received"));
    } else {
      error_ = MakePullError(PullError::kIo, absl::StrCat(what, ": ", std::strerror(err)));
    }
    return -1;
  }

  absl::Status ConnectOne(addrinfo* ai, const std::string& host) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) return MakePullError(PullError::kIo, std::strerror(errno));
    int r = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r < 0 && errno != EINPROGRESS) {
      int e = errno;
      ::close(fd);
      return MakePullError(PullError::kConnect, absl::StrCat(host, ": ", std::strerror(e)));
    }
    if (r < 0) {
      pollfd p{fd, POLLOUT, 0};
      int64_t ms = absl::ToInt64Milliseconds(options_.connect_timeout);
      int pr;
      do {
        pr = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(ms, 1)));
      } while (pr < 0 && errno == EINTR);
      if (pr == 0) {
        ::close(fd);
        return MakePullError(PullError::kConnectTimeout,
                             absl::StrCat(host, ": no connection within ",
                                          absl::FormatDuration(options_.connect_timeout)));
      }
      int soerr = 0;
      socklen_t sl = sizeof(soerr);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
      if (pr < 0 || soerr != 0) {
        ::close(fd);
        return MakePullError(PullError::kConnect,
                             absl::StrCat(host, ": ", std::strerror(soerr ? soerr : errno)));
      }
    }
    fd_ = fd;
    return absl::OkStatus();
  }

  const FetchOptions& options_;
  int fd_ = -1;
  SteadyClock::time_point start_, deadline_, window_start_;
  uint64_t window_bytes_ = 0;
  uint64_t sent_ = 0, received_ = 0;
  absl::Status error_;
};

int BioSend(void* ctx, const unsigned char* buf, size_t len) {
  ssize_t n = static_cast<Conn*>(ctx)->Send(buf, len);
  return n < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : static_cast<int>(n);
}

int BioRecv(void* ctx, unsigned char* buf, size_t len) {
  ssize_t n = static_cast<Conn*>(ctx)->Recv(buf, len);
  return n < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : static_cast<int>(n);
}

// A byte stream over a Conn, plain or TLS.
class Stream {
 public:
  Stream(Conn* conn, Fetcher::Tls* tls) : conn_(conn), tls_(tls) {
    if (tls_) mbedtls_ssl_init(&ssl_);
  }
  ~Stream() {
    if (tls_) {
      if (handshake_done_) mbedtls_ssl_close_notify(&ssl_);
      mbedtls_ssl_free(&ssl_);
    }
  }

  absl::Status Handshake(const std::string& host, const TlsOptions& options) {
    if (!tls_) return absl::OkStatus();
    int ret = mbedtls_ssl_setup(&ssl_, &tls_->conf);
    if (ret != 0) return MakePullError(PullError::kTlsConfig, MbedError(ret));
    ret = mbedtls_ssl_set_hostname(&ssl_, host.c_str());
    if (ret != 0) return MakePullError(PullError::kTlsConfig, MbedError(ret));
    mbedtls_ssl_set_bio(&ssl_, conn_, BioSend, BioRecv, nullptr);
    do {
      ret = mbedtls_ssl_handshake(&ssl_);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    uint32_t flags = mbedtls_ssl_get_verify_result(&ssl_);
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) return CertError(flags, host);
    if (ret != 0) {
      if (!conn_->error().ok()) return conn_->error();
      return MakePullError(PullError::kTlsHandshake, MbedError(ret));
    }
    handshake_done_ = true;
    if (options.pins_only) {
      // The chain need not reach a CA; everything else about the certificate must hold.
      uint32_t rest = flags & ~static_cast<uint32_t>(MBEDTLS_X509_BADCERT_NOT_TRUSTED);
      if (rest != 0 && rest != static_cast<uint32_t>(-1)) return CertError(rest, host);
      if (flags == static_cast<uint32_t>(-1)) {
        return MakePullError(PullError::kTlsUntrusted, "certificate was not verified");
      }
    }
    if (!options.spki_pins.empty()) {
      const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(&ssl_);
      if (peer == nullptr) return MakePullError(PullError::kTlsPin, "no peer certificate");
      Digest d = Sha256::Hash(Bytes(peer->pk_raw.p, peer->pk_raw.len));
      bool match = false;
      for (const Digest& pin : options.spki_pins) match = match || pin == d;
      if (!match) {
        return MakePullError(
            PullError::kTlsPin,
            absl::StrCat("server key sha256/", Hex(Bytes(d.data(), d.size())), " is not pinned"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status WriteAll(absl::string_view data) {
    size_t off = 0;
    while (off < data.size()) {
      const auto* p = reinterpret_cast<const uint8_t*>(data.data()) + off;
      size_t len = data.size() - off;
      int n;
      if (tls_) {
        n = mbedtls_ssl_write(&ssl_, p, len);
        if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if (n < 0) {
          if (!conn_->error().ok()) return conn_->error();
          return MakePullError(PullError::kIo, MbedError(n));
        }
      } else {
        ssize_t s = conn_->Send(p, len);
        if (s < 0) return conn_->error();
        n = static_cast<int>(s);
      }
      off += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  // > 0 bytes; 0 end of stream (clean_eof() says whether TLS close_notify came); < 0 error.
  int Read(uint8_t* buf, size_t len) {
    if (!tls_) {
      ssize_t n = conn_->Recv(buf, len);
      if (n < 0) {
        error_ = conn_->error();
        return -1;
      }
      if (n == 0) clean_eof_ = true;
      return static_cast<int>(n);
    }
    while (true) {
      int n = mbedtls_ssl_read(&ssl_, buf, len);
      if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
      if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        clean_eof_ = true;
        return 0;
      }
      if (n == MBEDTLS_ERR_SSL_CONN_EOF || n == 0) return 0;
      if (n < 0) {
        error_ =
            !conn_->error().ok() ? conn_->error() : MakePullError(PullError::kIo, MbedError(n));
        return -1;
      }
      return n;
    }
  }

  const absl::Status& error() const { return error_; }
  bool clean_eof() const { return clean_eof_; }
  std::string Version() { return tls_ ? mbedtls_ssl_get_version(&ssl_) : ""; }
  std::string Suite() { return tls_ ? mbedtls_ssl_get_ciphersuite(&ssl_) : ""; }

 private:
  static absl::Status CertError(uint32_t flags, const std::string& host) {
    char info[512];
    int n = mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
    std::string text = n > 0 ? std::string(info, static_cast<size_t>(n)) : "";
    while (!text.empty() && text.back() == '\n') text.pop_back();
    for (char& c : text) {
      if (c == '\n') c = ';';
    }
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
      return MakePullError(PullError::kTlsUntrusted, text);
    }
    if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) {
      return MakePullError(PullError::kTlsExpired, text);
    }
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
      return MakePullError(PullError::kTlsHostname, absl::StrCat(host, ": ", text));
    }
    return MakePullError(PullError::kTlsUntrusted, text);
  }

  Conn* conn_;
  Fetcher::Tls* tls_;
  mbedtls_ssl_context ssl_;
  bool handshake_done_ = false;
  bool clean_eof_ = false;
  absl::Status error_;
};

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

Fetcher::Fetcher(const FetchOptions& options) : options_(options) {}
Fetcher::~Fetcher() = default;

absl::StatusOr<std::unique_ptr<Fetcher>> Fetcher::Create(const FetchOptions& options) {
  std::unique_ptr<Fetcher> f(new Fetcher(options));
  auto tls = std::make_unique<Tls>();
  static const char kPers[] = "edict pull";
  int ret = mbedtls_ctr_drbg_seed(&tls->drbg, mbedtls_entropy_func, &tls->entropy,
                                  reinterpret_cast<const unsigned char*>(kPers), sizeof(kPers));
  if (ret != 0) return MakePullError(PullError::kTlsConfig, MbedError(ret));
  const std::string& ca =
      options.tls.ca_file.empty() ? options.tls.system_ca_bundle : options.tls.ca_file;
  if (!(options.tls.pins_only && options.tls.ca_file.empty())) {
    ret = mbedtls_x509_crt_parse_file(&tls->ca, ca.c_str());
    // A positive value counts certificates that failed to parse (the system bundle may hold
    // a few mbedTLS cannot read); only "nothing usable" is fatal.
    if (ret < 0 || tls->ca.version == 0) {
      return MakePullError(PullError::kTlsConfig,
                           absl::StrCat(ca, ": ", ret < 0 ? MbedError(ret) : "no certificate"));
    }
  }
  if (options.tls.pins_only && options.tls.spki_pins.empty()) {
    return MakePullError(PullError::kTlsConfig, "pins_only without any pin");
  }
  ret = mbedtls_ssl_config_defaults(&tls->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) return MakePullError(PullError::kTlsConfig, MbedError(ret));
  mbedtls_ssl_conf_min_version(&tls->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                               MBEDTLS_SSL_MINOR_VERSION_3);  // TLS 1.2
  mbedtls_ssl_conf_authmode(&tls->conf, options.tls.pins_only ? MBEDTLS_SSL_VERIFY_OPTIONAL
                                                              : MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&tls->conf, &tls->ca, nullptr);
  mbedtls_ssl_conf_rng(&tls->conf, mbedtls_ctr_drbg_random, &tls->drbg);
  f->tls_ = std::move(tls);
  return f;
}

FetchResult Fetcher::Get(const FetchRequest& request, absl::Time now) {
  FetchResult out;
  auto first = ParseUrl(request.url);
  if (!first.ok()) {
    out.status = first.status();
    return out;
  }
  Url url = *first;
  if (!url.https() && !options_.allow_http) {
    out.status = MakePullError(PullError::kInsecure,
                               absl::StrCat(url.ToString(), ": plain HTTP is not allowed"));
    return out;
  }
  std::set<std::string> seen;
  const std::string first_host = url.host;
  while (true) {
    out.final_url = url.ToString();
    seen.insert(out.final_url);
    Conn conn(options_);
    const std::string& connect_to =
        !options_.connect_host.empty() && url.host == first_host ? options_.connect_host : url.host;
    absl::Status st = conn.Connect(connect_to, url.port);
    if (!st.ok()) {
      out.status = st;
      return out;
    }
    auto finish = [&](absl::Status s) {
      out.wire_sent += conn.sent();
      out.wire_received += conn.received();
      out.status = std::move(s);
    };
    Stream stream(&conn, url.https() ? tls_.get() : nullptr);
    st = stream.Handshake(url.host, options_.tls);
    if (!st.ok()) {
      finish(st);
      return out;
    }
    out.tls_version = stream.Version();
    out.tls_ciphersuite = stream.Suite();
    RequestOptions ro;
    ro.if_none_match = request.if_none_match;
    ro.if_modified_since = request.if_modified_since;
    ro.user_agent = options_.user_agent;
    auto req = BuildGetRequest(url, ro);
    if (!req.ok()) {
      finish(MakePullError(PullError::kUrl, req.status().message()));
      return out;
    }
    out.request_bytes += req->size();
    st = stream.WriteAll(*req);
    if (!st.ok()) {
      finish(st);
      return out;
    }

    // Head.
    std::string buf;
    size_t head_len = 0;
    uint8_t chunk[16384];
    while (true) {
      auto end = FindHeadEnd(buf, options_.http);
      if (!end.ok()) {
        finish(end.status());
        return out;
      }
      if (*end > 0) {
        head_len = *end;
        break;
      }
      size_t want = std::min(sizeof(chunk), options_.http.max_head_bytes + 1 - buf.size());
      int n = stream.Read(chunk, want);
      if (n < 0) {
        finish(stream.error());
        return out;
      }
      if (n == 0) {
        finish(MakePullError(
            PullError::kTruncated,
            absl::StrCat("connection closed after ", buf.size(), " bytes of the response head")));
        return out;
      }
      buf.append(reinterpret_cast<char*>(chunk), static_cast<size_t>(n));
    }
    auto head = ParseResponseHead(absl::string_view(buf).substr(0, head_len), options_.http, now);
    if (!head.ok()) {
      finish(head.status());
      return out;
    }
    out.http_status = head->status;
    out.response_head_bytes = head_len;
    out.retry_after = head->retry_after;
    buf.erase(0, head_len);

    if (IsRedirect(head->status)) {
      if (head->location.empty()) {
        finish(MakePullError(PullError::kRedirectScheme,
                             absl::StrCat(head->status, " without Location")));
        return out;
      }
      auto next = ResolveReference(url, head->location);
      if (!next.ok()) {
        finish(MakePullError(PullError::kRedirectScheme, next.status().message()));
        return out;
      }
      if (next->scheme != first->scheme) {
        finish(MakePullError(PullError::kRedirectScheme,
                             absl::StrCat(url.ToString(), " -> ", next->ToString())));
        return out;
      }
      if (out.redirects >= options_.max_redirects) {
        finish(MakePullError(PullError::kRedirectLimit,
                             absl::StrCat("more than ", options_.max_redirects,
                                          " redirects; last to ", next->ToString())));
        return out;
      }
      if (seen.count(next->ToString())) {
        finish(MakePullError(PullError::kRedirectLimit,
                             absl::StrCat("redirect loop at ", next->ToString())));
        return out;
      }
      ++out.redirects;
      out.wire_sent += conn.sent();
      out.wire_received += conn.received();
      url = *next;
      continue;
    }
    if (head->status == 304) {
      out.not_modified = true;
      out.etag = head->etag;
      out.last_modified = head->last_modified;
      finish(absl::OkStatus());
      return out;
    }
    if (head->status != 200) {
      finish(MakePullError(PullError::kHttpStatus, absl::StrCat(url.ToString(), ": HTTP ",
                                                                head->status, " ", head->reason)));
      return out;
    }
    out.etag = head->etag;
    out.last_modified = head->last_modified;

    // Body.
    const size_t cap = request.max_body_bytes;
    if (head->content_length && *head->content_length > cap) {
      finish(MakePullError(
          PullError::kTooLarge,
          absl::StrCat("Content-Length ", *head->content_length, " is over the cap of ", cap)));
      return out;
    }
    std::string body;
    uint64_t body_wire = buf.size();
    if (head->chunked) {
      ChunkedDecoder dec(cap, options_.http);
      absl::string_view pending = buf;
      while (true) {
        size_t used = 0;
        st = dec.Feed(pending, &used, &body);
        if (!st.ok()) {
          finish(st);
          return out;
        }
        if (dec.done()) break;
        int n = stream.Read(chunk, sizeof(chunk));
        if (n < 0) {
          finish(stream.error());
          return out;
        }
        if (n == 0) {
          finish(MakePullError(PullError::kTruncated,
                               absl::StrCat("connection closed inside the chunked body after ",
                                            body.size(), " bytes")));
          return out;
        }
        body_wire += static_cast<uint64_t>(n);
        pending = absl::string_view(reinterpret_cast<char*>(chunk), static_cast<size_t>(n));
      }
    } else if (head->content_length) {
      const uint64_t want = *head->content_length;
      body = buf.substr(0, want);
      body.reserve(want);
      while (body.size() < want) {
        size_t take = std::min<uint64_t>(sizeof(chunk), want - body.size());
        int n = stream.Read(chunk, take);
        if (n < 0) {
          finish(stream.error());
          return out;
        }
        if (n == 0) {
          finish(MakePullError(PullError::kTruncated,
                               absl::StrCat("connection closed after ", body.size(), " of ", want,
                                            " body bytes (Content-Length)")));
          return out;
        }
        body_wire += static_cast<uint64_t>(n);
        body.append(reinterpret_cast<char*>(chunk), static_cast<size_t>(n));
      }
    } else {
      // Delimited by the end of the connection.
      body = std::move(buf);
      if (body.size() > cap) {
        finish(MakePullError(PullError::kTooLarge, absl::StrCat("body over the cap of ", cap)));
        return out;
      }
      while (true) {
        int n = stream.Read(chunk, sizeof(chunk));
        if (n < 0) {
          finish(stream.error());
          return out;
        }
        if (n == 0) break;
        body_wire += static_cast<uint64_t>(n);
        if (body.size() + static_cast<size_t>(n) > cap) {
          finish(MakePullError(PullError::kTooLarge, absl::StrCat("body over the cap of ", cap)));
          return out;
        }
        body.append(reinterpret_cast<char*>(chunk), static_cast<size_t>(n));
      }
      if (url.https() && !stream.clean_eof()) {
        finish(MakePullError(PullError::kTruncated,
                             "body delimited by connection close ended without TLS "
                             "close_notify"));
        return out;
      }
    }
    out.body_wire_bytes = body_wire;
    out.body = std::move(body);
    finish(absl::OkStatus());
    return out;
  }
}

}  // namespace edict::transport::pull
