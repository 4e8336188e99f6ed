// edict-test-cert: a throw-away PKI for the pull demo and tests (tools/agent-demo.sh), made
// with the mbedTLS code of tests/pull/test_servers.cc. Test support only: never installed.
//
//   edict-test-cert DIR [HOST]
//
// writes DIR/ca.pem (a test CA), DIR/server.crt + DIR/server.key (a certificate for HOST,
// default 127.0.0.1, issued by that CA; the key 0600) and DIR/other-ca.pem (an unrelated CA,
// for "untrusted CA" checks), then prints the server key's pin (SHA-256 of its
// SubjectPublicKeyInfo, hex) on stdout.
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "tests/pull/test_servers.h"
#include "transport/keys.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: edict-test-cert DIR [HOST]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string host = argc == 3 ? argv[2] : "127.0.0.1";
  namespace pt = edict::pulltest;
  auto ca = pt::MakeCa("edict demo CA");
  auto other = pt::MakeCa("some other CA");
  if (!ca.ok() || !other.ok()) {
    std::fprintf(stderr, "edict-test-cert: cannot make a CA\n");
    return 1;
  }
  auto leaf = pt::MakeLeaf(*ca, host);
  if (!leaf.ok()) {
    std::fprintf(stderr, "edict-test-cert: cannot make the server certificate\n");
    return 1;
  }
  const std::string key = dir + "/server.key";
  if (!pt::WriteFile(dir + "/ca.pem", ca->cert) ||
      !pt::WriteFile(dir + "/other-ca.pem", other->cert) ||
      !pt::WriteFile(dir + "/server.crt", leaf->cert) || !pt::WriteFile(key, leaf->key) ||
      ::chmod(key.c_str(), 0600) != 0) {
    std::fprintf(stderr, "edict-test-cert: cannot write into %s\n", dir.c_str());
    return 1;
  }
  const auto& d = leaf->spki_sha256;
  std::printf("%s\n", edict::transport::Hex(edict::transport::Bytes(d.data(), d.size())).c_str());
  return 0;
}
