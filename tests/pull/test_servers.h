// Test helpers for the real-server pull tests: a throw-away PKI made with mbedTLS's
// x509write API, an nginx started as the current user on 127.0.0.1 with everything in a
// temporary directory, and a tiny misbehaving HTTP(S) server for what nginx will not do
// (slow drip, reset mid-body, truncated body, huge headers, oversize chunks).
#ifndef EDICT_TESTS_PULL_TEST_SERVERS_H_
#define EDICT_TESTS_PULL_TEST_SERVERS_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "transport/keys.h"

namespace edict::pulltest {

// A certificate and its private key, PEM, plus the SHA-256 of its SubjectPublicKeyInfo.
struct CertPem {
  std::string cert;
  std::string key;
  transport::Digest spki_sha256{};
};

// A self-signed CA ("CN=<cn>"), valid 2020-2040.
absl::StatusOr<CertPem> MakeCa(const std::string& cn);
// A server certificate for `cn` signed by `ca`; validity "YYYYMMDDhhmmss" strings.
absl::StatusOr<CertPem> MakeLeaf(const CertPem& ca, const std::string& cn,
                                 const std::string& not_before = "20200101000000",
                                 const std::string& not_after = "20400101000000");

std::string MakeTempDir(const std::string& tag);
void RemoveTree(const std::string& dir);
bool WriteFile(const std::string& path, const std::string& data);
std::string ReadFile(const std::string& path);
// A port that was free a moment ago on 127.0.0.1.
int FreePort();
// Waits (bounded) until 127.0.0.1:port accepts connections.
bool WaitForPort(int port, int timeout_ms);
// Path of the nginx binary, or "" when not installed.
std::string FindNginx();

// nginx in the foreground (master_process off) as the current user; `Start` writes the
// given server blocks into an http {} block with logs, pid and temp paths under `dir`.
class Nginx {
 public:
  Nginx() = default;
  ~Nginx();
  // `servers`: server { ... } blocks; `ports`: the ports they listen on (waited for).
  bool Start(const std::string& dir, const std::string& servers, const std::vector<int>& ports,
             std::string* error);
  void Stop();
  std::string AccessLog() const;
  std::string ErrorLog() const;

 private:
  pid_t pid_ = -1;
  std::string dir_;
};

// A tiny HTTP(S) server on 127.0.0.1 for misbehaviour. One connection at a time; stops by
// itself in the destructor (every wait is bounded).
class MisbehavingServer {
 public:
  enum class Mode {
    kNormal,    // send everything, close cleanly
    kDrip,      // send the head, then one body byte every 20 ms
    kReset,     // send the head and part of the body, then RST (SO_LINGER 0)
    kTruncate,  // send the head and part of the body, then close cleanly
    kStall,     // send the head, then nothing (until the client gives up)
  };
  struct Route {
    std::string response;  // full response bytes (head + body)
    Mode mode = Mode::kNormal;
    size_t cut_at = 0;  // kReset / kTruncate: bytes of `response` sent before closing
  };

  // tls: nullptr for plain HTTP.
  explicit MisbehavingServer(const CertPem* tls);
  ~MisbehavingServer();
  int port() const { return port_; }
  void Set(const std::string& path, Route route);
  int connections() const { return connections_.load(); }

 private:
  void Loop();
  void Handle(int fd);
  struct TlsState;
  std::unique_ptr<TlsState> tls_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::map<std::string, Route> routes_;
  std::thread thread_;
};

}  // namespace edict::pulltest

#endif  // EDICT_TESTS_PULL_TEST_SERVERS_H_
