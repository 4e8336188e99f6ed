#include "tests/pull/test_servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

extern char** environ;

namespace edict::pulltest {
namespace {

struct Drbg {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  Drbg() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0);
  }
  ~Drbg() {
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
};

Drbg& Rng() {
  static Drbg* d = new Drbg();
  return *d;
}

absl::Status Mbed(const char* what, int ret) {
  return ret == 0 ? absl::OkStatus()
                  : absl::InternalError(absl::StrCat(what, " failed: -0x", absl::Hex(-ret)));
}

absl::StatusOr<CertPem> Issue(mbedtls_pk_context* subject, const std::string& subject_cn,
                              mbedtls_pk_context* issuer, const std::string& issuer_cn, bool is_ca,
                              const std::string& not_before, const std::string& not_after) {
  static int serial_counter = 1;
  mbedtls_x509write_cert crt;
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  mbedtls_mpi_lset(&serial, serial_counter++);
  std::string subj = absl::StrCat("CN=", subject_cn, ",O=edict test");
  std::string iss = absl::StrCat("CN=", issuer_cn, ",O=edict test");
  mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&crt, subject);
  mbedtls_x509write_crt_set_issuer_key(&crt, issuer);
  absl::Status st = Mbed("subject", mbedtls_x509write_crt_set_subject_name(&crt, subj.c_str()));
  if (st.ok()) st = Mbed("issuer", mbedtls_x509write_crt_set_issuer_name(&crt, iss.c_str()));
  if (st.ok()) st = Mbed("serial", mbedtls_x509write_crt_set_serial(&crt, &serial));
  if (st.ok()) {
    st = Mbed("validity",
              mbedtls_x509write_crt_set_validity(&crt, not_before.c_str(), not_after.c_str()));
  }
  if (st.ok()) {
    st = Mbed("basic", mbedtls_x509write_crt_set_basic_constraints(&crt, is_ca ? 1 : 0, -1));
  }
  if (st.ok()) {
    st = Mbed("ku", mbedtls_x509write_crt_set_key_usage(
                        &crt, is_ca ? (MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN)
                                    : MBEDTLS_X509_KU_DIGITAL_SIGNATURE));
  }
  CertPem out;
  if (st.ok()) {
    std::vector<unsigned char> buf(4096);
    st = Mbed("pem", mbedtls_x509write_crt_pem(&crt, buf.data(), buf.size(),
                                               mbedtls_ctr_drbg_random, &Rng().drbg));
    if (st.ok()) out.cert = reinterpret_cast<char*>(buf.data());
  }
  mbedtls_x509write_crt_free(&crt);
  mbedtls_mpi_free(&serial);
  if (!st.ok()) return st;
  std::vector<unsigned char> kbuf(2048);
  if (int r = mbedtls_pk_write_key_pem(subject, kbuf.data(), kbuf.size()); r != 0) {
    return Mbed("key pem", r);
  }
  out.key = reinterpret_cast<char*>(kbuf.data());
  unsigned char der[512];
  int n = mbedtls_pk_write_pubkey_der(subject, der, sizeof(der));
  if (n <= 0) return Mbed("spki", n);
  out.spki_sha256 =
      transport::Sha256::Hash(transport::Bytes(der + sizeof(der) - n, static_cast<size_t>(n)));
  return out;
}

absl::Status NewKey(mbedtls_pk_context* pk) {
  absl::Status s =
      Mbed("pk_setup", mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)));
  if (!s.ok()) return s;
  return Mbed("ecp_gen", mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                                             mbedtls_ctr_drbg_random, &Rng().drbg));
}

absl::Status ParseKey(const std::string& pem, mbedtls_pk_context* pk) {
  return Mbed("parse key",
              mbedtls_pk_parse_key(pk, reinterpret_cast<const unsigned char*>(pem.c_str()),
                                   pem.size() + 1, nullptr, 0));
}

std::string CaCn(const CertPem& ca) {
  mbedtls_x509_crt c;
  mbedtls_x509_crt_init(&c);
  std::string cn;
  if (mbedtls_x509_crt_parse(&c, reinterpret_cast<const unsigned char*>(ca.cert.c_str()),
                             ca.cert.size() + 1) == 0) {
    for (const mbedtls_x509_name* n = &c.subject; n; n = n->next) {
      if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
        cn.assign(reinterpret_cast<const char*>(n->val.p), n->val.len);
      }
    }
  }
  mbedtls_x509_crt_free(&c);
  return cn;
}

// mbedtls_net_send uses write(), which raises SIGPIPE on a closed peer; tests must not die.
int NoSigpipeSend(void* ctx, const unsigned char* buf, size_t len) {
  int fd = static_cast<mbedtls_net_context*>(ctx)->fd;
  ssize_t n = ::send(fd, buf, len, MSG_NOSIGNAL);
  if (n < 0) return MBEDTLS_ERR_NET_SEND_FAILED;
  return static_cast<int>(n);
}

}  // namespace

absl::StatusOr<CertPem> MakeCa(const std::string& cn) {
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  absl::Status s = NewKey(&pk);
  absl::StatusOr<CertPem> out =
      s.ok() ? Issue(&pk, cn, &pk, cn, true, "20200101000000", "20400101000000")
             : absl::StatusOr<CertPem>(s);
  mbedtls_pk_free(&pk);
  return out;
}

absl::StatusOr<CertPem> MakeLeaf(const CertPem& ca, const std::string& cn,
                                 const std::string& not_before, const std::string& not_after) {
  mbedtls_pk_context pk, ca_pk;
  mbedtls_pk_init(&pk);
  mbedtls_pk_init(&ca_pk);
  absl::Status s = NewKey(&pk);
  if (s.ok()) s = ParseKey(ca.key, &ca_pk);
  absl::StatusOr<CertPem> out = s.ok()
                                    ? Issue(&pk, cn, &ca_pk, CaCn(ca), false, not_before, not_after)
                                    : absl::StatusOr<CertPem>(s);
  mbedtls_pk_free(&pk);
  mbedtls_pk_free(&ca_pk);
  return out;
}

std::string MakeTempDir(const std::string& tag) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat(base && *base ? base : "/tmp", "/edict-pull-", tag, "-XXXXXX");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  char* d = ::mkdtemp(buf.data());
  return d ? std::string(d) : std::string();
}

void RemoveTree(const std::string& dir) {
  if (dir.size() < 8 || dir.find("/edict-pull-") == std::string::npos) return;  // paranoia
  std::string cmd = absl::StrCat("rm -rf '", dir, "'");
  int r = std::system(cmd.c_str());
  (void)r;
}

bool WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
  return static_cast<bool>(f);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool WaitForPort(int port, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    if (ok) return true;
    ::usleep(20000);
  }
  return false;
}

std::string FindNginx() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

Nginx::~Nginx() { Stop(); }

bool Nginx::Start(const std::string& dir, const std::string& servers, const std::vector<int>& ports,
                  std::string* error) {
  dir_ = dir;
  std::string nginx = FindNginx();
  if (nginx.empty()) {
    *error = "nginx is not installed";
    return false;
  }
  ::mkdir(dir.c_str(), 0700);
  ::mkdir((dir + "/tmp").c_str(), 0700);
  // $request_length and $bytes_sent are HTTP-level sizes (request incl. headers; response
  // incl. headers): the load estimate in docs/pull.md uses them.
  std::string conf = absl::StrCat(
      "daemon off;\nmaster_process off;\nworker_processes 1;\npid ", dir, "/nginx.pid;\n",
      "error_log ", dir, "/error.log info;\n", "events { worker_connections 64; }\n", "http {\n",
      "  log_format sizes '$server_port $status $request_length $bytes_sent \"$request\"';\n",
      "  access_log ", dir, "/access.log sizes;\n", "  client_body_temp_path ", dir, "/tmp/body;\n",
      "  proxy_temp_path ", dir, "/tmp/proxy;\n", "  fastcgi_temp_path ", dir, "/tmp/fastcgi;\n",
      "  uwsgi_temp_path ", dir, "/tmp/uwsgi;\n", "  scgi_temp_path ", dir, "/tmp/scgi;\n",
      "  types { application/json json; application/octet-stream edict edt; }\n",
      "  default_type application/octet-stream;\n", "  server_tokens off;\n", servers, "}\n");
  if (!WriteFile(dir + "/nginx.conf", conf)) {
    *error = "cannot write nginx.conf";
    return false;
  }
  std::string prefix = dir + "/";
  std::string conf_path = dir + "/nginx.conf";
  std::string err_path = dir + "/error.log";
  const char* argv[] = {nginx.c_str(),     "-p", prefix.c_str(),   "-c",
                        conf_path.c_str(), "-e", err_path.c_str(), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  std::string out_path = dir + "/stdout.log";
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  int r = ::posix_spawn(&pid_, nginx.c_str(), &fa, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (r != 0) {
    pid_ = -1;
    *error = absl::StrCat("posix_spawn nginx: ", std::strerror(r));
    return false;
  }
  for (int port : ports) {
    if (!WaitForPort(port, 5000)) {
      *error = absl::StrCat("nginx did not listen on ", port, ": ", ReadFile(err_path),
                            ReadFile(out_path));
      Stop();
      return false;
    }
  }
  return true;
}

void Nginx::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 150; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    ::usleep(20000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string Nginx::AccessLog() const { return ReadFile(dir_ + "/access.log"); }
std::string Nginx::ErrorLog() const { return ReadFile(dir_ + "/error.log"); }

// ---- MisbehavingServer ----

struct MisbehavingServer::TlsState {
  mbedtls_x509_crt crt;
  mbedtls_pk_context key;
  mbedtls_ssl_config conf;
  TlsState() {
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&key);
    mbedtls_ssl_config_init(&conf);
  }
  ~TlsState() {
    mbedtls_ssl_config_free(&conf);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&crt);
  }
};

MisbehavingServer::MisbehavingServer(const CertPem* tls) {
  if (tls) {
    tls_ = std::make_unique<TlsState>();
    mbedtls_x509_crt_parse(&tls_->crt, reinterpret_cast<const unsigned char*>(tls->cert.c_str()),
                           tls->cert.size() + 1);
    ParseKey(tls->key, &tls_->key).IgnoreError();
    mbedtls_ssl_config_defaults(&tls_->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_rng(&tls_->conf, mbedtls_ctr_drbg_random, &Rng().drbg);
    mbedtls_ssl_conf_own_cert(&tls_->conf, &tls_->crt, &tls_->key);
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  ::listen(listen_fd_, 8);
  thread_ = std::thread([this] { Loop(); });
}

MisbehavingServer::~MisbehavingServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

void MisbehavingServer::Set(const std::string& path, Route route) {
  std::lock_guard<std::mutex> l(mu_);
  routes_[path] = std::move(route);
}

void MisbehavingServer::Loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    Handle(fd);
  }
}

void MisbehavingServer::Handle(int fd) {
  mbedtls_net_context net;
  mbedtls_net_init(&net);
  net.fd = fd;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_init(&ssl);
  bool ok = true;
  if (tls_) {
    mbedtls_ssl_setup(&ssl, &tls_->conf);
    mbedtls_ssl_set_bio(&ssl, &net, NoSigpipeSend, mbedtls_net_recv, nullptr);
    int r;
    int spins = 0;
    do {
      r = mbedtls_ssl_handshake(&ssl);
    } while ((r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) && ++spins < 1000);
    ok = r == 0;
  }
  auto send = [&](const char* data, size_t n) -> bool {
    size_t off = 0;
    while (off < n) {
      int w = tls_ ? mbedtls_ssl_write(&ssl, reinterpret_cast<const unsigned char*>(data) + off,
                                       n - off)
                   : static_cast<int>(::send(fd, data + off, n - off, MSG_NOSIGNAL));
      if (w <= 0) return false;
      off += static_cast<size_t>(w);
    }
    return true;
  };
  std::string req;
  while (ok && req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
    unsigned char buf[1024];
    int n = tls_ ? mbedtls_ssl_read(&ssl, buf, sizeof(buf))
                 : static_cast<int>(::recv(fd, buf, sizeof(buf), 0));
    if (n <= 0) {
      ok = false;
      break;
    }
    req.append(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
  }
  bool clean_close = true;
  if (ok) {
    std::string path;
    size_t sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
    if (sp1 != std::string::npos && sp2 != std::string::npos) {
      path = req.substr(sp1 + 1, sp2 - sp1 - 1);
    }
    Route route;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = routes_.find(path);
      if (it != routes_.end()) {
        route = it->second;
      } else {
        route.response = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      }
    }
    const std::string& resp = route.response;
    size_t head = resp.find("\r\n\r\n");
    head = head == std::string::npos ? resp.size() : head + 4;
    switch (route.mode) {
      case Mode::kNormal:
        send(resp.data(), resp.size());
        break;
      case Mode::kDrip: {
        if (!send(resp.data(), head)) break;
        // One byte every 20 ms, for at most 10 s or until the client gives up.
        for (size_t i = head; i < resp.size() && i < head + 500 && !stop_; ++i) {
          if (!send(resp.data() + i, 1)) break;
          ::usleep(20000);
        }
        break;
      }
      case Mode::kReset: {
        send(resp.data(), std::min(route.cut_at, resp.size()));
        ::usleep(50000);
        linger lg{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        clean_close = false;
        break;
      }
      case Mode::kTruncate:
        send(resp.data(), std::min(route.cut_at, resp.size()));
        break;
      case Mode::kStall: {
        send(resp.data(), head);
        // Wait (bounded) for the client to give up.
        for (int i = 0; i < 250 && !stop_; ++i) {
          pollfd p{fd, POLLIN, 0};
          if (::poll(&p, 1, 20) > 0) {
            char c;
            if (::recv(fd, &c, 1, MSG_PEEK) <= 0) break;
          }
        }
        break;
      }
    }
  }
  if (tls_ && ok && clean_close) mbedtls_ssl_close_notify(&ssl);
  mbedtls_ssl_free(&ssl);
  ::close(fd);
}

}  // namespace edict::pulltest
