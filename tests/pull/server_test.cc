// Real-server tests for pull delivery: nginx (Debian's, started by the test as the current
// user on 127.0.0.1 with a test CA) serving an `edictctl publish` directory, and a tiny
// in-test server for the misbehaviour nginx cannot produce. Every fetched document goes to
// a fake offer sink that runs transport's BundleVerifier against a test trust store, so
// "nothing offered" and "rejected by the transport checks" are observable.
//
// Skipped (GTEST_SKIP, reported by ctest as skipped) when nginx is not installed; the
// in-test-server cases run regardless.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "ports/audit.h"
#include "tests/pull/test_servers.h"
#include "tests/transport/test_util.h"
#include "transport/pull/errors.h"
#include "transport/pull/index.h"
#include "transport/pull/publish.h"
#include "transport/pull/source.h"

namespace edict::transport::pull {
namespace {

using pulltest::CertPem;
using pulltest::MisbehavingServer;
using testing::kNow;

constexpr char kHost[] = "edict.test";

std::string Name(const absl::Status& s) { return std::string(PullErrorName(PullErrorOf(s))); }

Bytes AsBytes(const std::string& s) {
  return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

size_t LineCount(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

// Verifies bundles like an endpoint (BundleVerifier + anti-rollback state) and counts.
class FakeOfferSink : public OfferSink {
 public:
  explicit FakeOfferSink(std::shared_ptr<const TrustStore> trust)
      : verifier_(*BundleVerifier::Create(std::move(trust))) {}
  OfferResult OfferTrust(absl::Span<const uint8_t> d) override {
    ++trust_offers;
    OfferResult r;
    r.serial = PeekTrustVersion(d).value_or(0);
    r.code = "OK";
    return r;
  }
  OfferResult Offer(absl::Span<const uint8_t> b) override {
    ++bundle_offers;
    OfferResult r;
    auto v = verifier_->Verify(b, {"contoso", "device-1", {"finance"}}, state, kNow);
    r.status = v.status();
    r.code = std::string(ErrorName(ErrorOf(v.status())));
    if (v.ok()) {
      r.activated = true;
      r.serial = v->serial;
      state = v->next_state;
    }
    last_code = r.code;
    return r;
  }
  int trust_offers = 0;
  int bundle_offers = 0;
  std::string last_code;
  EndpointState state;

 private:
  std::unique_ptr<BundleVerifier> verifier_;
};

class PullServerTest : public testing::TransportTest {
 protected:
  static void SetUpTestSuite() {
    TransportTest::SetUpTestSuite();
    dir_ = new std::string(pulltest::MakeTempDir("srv"));
    ca_ = new CertPem(*pulltest::MakeCa("edict test CA"));
    other_ca_ = new CertPem(*pulltest::MakeCa("some other CA"));
    server_ = new CertPem(*pulltest::MakeLeaf(*ca_, kHost));
    expired_ = new CertPem(*pulltest::MakeLeaf(*ca_, kHost, "20200101000000", "20210101000000"));
    foreign_ = new CertPem(*pulltest::MakeLeaf(*other_ca_, kHost));
    pulltest::WriteFile(*dir_ + "/ca.pem", ca_->cert);
    pulltest::WriteFile(*dir_ + "/other-ca.pem", other_ca_->cert);
    for (auto [name, c] : {std::pair<const char*, CertPem*>{"good", server_},
                           {"expired", expired_},
                           {"foreign", foreign_}}) {
      pulltest::WriteFile(absl::StrCat(*dir_, "/", name, ".crt"), c->cert);
      pulltest::WriteFile(absl::StrCat(*dir_, "/", name, ".key"), c->key);
    }
    trust_doc_ = new std::vector<uint8_t>(Doc(BaseSpec(), {root_[0].get()}));
    if (pulltest::FindNginx().empty()) {
      nginx_error_ = new std::string("nginx is not installed (apt-get install nginx-light)");
      return;
    }
    ports_[0] = pulltest::FreePort();  // good certificate
    ports_[1] = pulltest::FreePort();  // expired
    ports_[2] = pulltest::FreePort();  // issued by another CA
    ports_[3] = pulltest::FreePort();  // plain http
    const std::string& d = *dir_;
    ::mkdir((d + "/www").c_str(), 0755);
    auto tls_server = [&](int port, const char* cert) {
      return absl::StrCat(
          "  server {\n    listen 127.0.0.1:", port, " ssl;\n    server_name ", kHost, ";\n",
          "    ssl_certificate ", d, "/", cert, ".crt;\n    ssl_certificate_key ", d, "/", cert,
          ".key;\n    ssl_protocols TLSv1.2 TLSv1.3;\n    root ", d, "/www;\n",
          "    location /loop/ { return 302 /loop/edict-index.json; }\n",
          "    location /moved/ { return 301 /pub/edict-index.json; }\n",
          "    location /tohttp/ { return 302 http://127.0.0.1:", ports_[3],
          "/pub/edict-index.json; }\n",
          "    location /busy/ { add_header Retry-After 120 always; return 503; }\n", "  }\n");
    };
    std::string servers = absl::StrCat(
        tls_server(ports_[0], "good"), tls_server(ports_[1], "expired"),
        tls_server(ports_[2], "foreign"), "  server {\n    listen 127.0.0.1:", ports_[3],
        ";\n    root ", d, "/www;\n  }\n");
    nginx_ = new pulltest::Nginx();
    std::string err;
    if (!nginx_->Start(d + "/nginx", servers, {ports_[0], ports_[1], ports_[2], ports_[3]}, &err)) {
      nginx_error_ = new std::string(err);
    }
  }
  static void TearDownTestSuite() {
    if (nginx_) nginx_->Stop();
    delete nginx_;
    nginx_ = nullptr;
    pulltest::RemoveTree(*dir_);
  }
  void SetUp() override {
    if (nginx_error_) GTEST_SKIP() << *nginx_error_;
  }

  static std::string Www(const std::string& sub) { return *dir_ + "/www/" + sub; }

  static std::vector<uint8_t> Bundle(uint64_t serial) {
    testing::PayloadSpec p;
    p.serial = serial;
    p.groups = {"finance"};
    return Sign(testing::MakePayload(p), {signer_[0].get()});
  }

  static void Publish(const std::string& sub, const std::vector<uint8_t>& bundle,
                      bool with_trust = true) {
    PublishOptions o;
    o.published_at = kNow;
    auto i = PublishToDirectory(Www(sub), bundle,
                                with_trust ? std::optional<Bytes>(*trust_doc_) : std::nullopt, o);
    ASSERT_TRUE(i.ok()) << i.status();
  }

  // A source for https://<host>:<port>/<sub>/edict-index.json trusting the test CA.
  static SourceConfig Config(const std::string& sub, int port = 0,
                             const std::string& host = kHost) {
    SourceConfig c;
    c.name = sub;
    c.index_url =
        absl::StrCat("https://", host, ":", port ? port : ports_[0], "/", sub, "/", kIndexFileName);
    c.fetch.tls.ca_file = *dir_ + "/ca.pem";
    c.fetch.connect_host = "127.0.0.1";
    c.fetch.connect_timeout = absl::Seconds(3);
    c.fetch.read_timeout = absl::Seconds(3);
    c.fetch.total_timeout = absl::Seconds(10);
    return c;
  }

  static std::unique_ptr<PullSource> Source(const SourceConfig& c) {
    auto s = PullSource::Create(c);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  FakeOfferSink Sink() { return FakeOfferSink(Store(*trust_doc_)); }

  static PollResult Poll(PullSource& s, FakeOfferSink& sink) {
    return s.PollAndOffer(absl::FromUnixSeconds(kNow), absl::Hours(1), sink);
  }

  static std::string* dir_;
  static CertPem *ca_, *other_ca_, *server_, *expired_, *foreign_;
  static std::vector<uint8_t>* trust_doc_;
  static int ports_[4];
  static pulltest::Nginx* nginx_;
  static std::string* nginx_error_;
};

std::string* PullServerTest::dir_ = nullptr;
CertPem* PullServerTest::ca_ = nullptr;
CertPem* PullServerTest::other_ca_ = nullptr;
CertPem* PullServerTest::server_ = nullptr;
CertPem* PullServerTest::expired_ = nullptr;
CertPem* PullServerTest::foreign_ = nullptr;
std::vector<uint8_t>* PullServerTest::trust_doc_ = nullptr;
int PullServerTest::ports_[4] = {0, 0, 0, 0};
pulltest::Nginx* PullServerTest::nginx_ = nullptr;
std::string* PullServerTest::nginx_error_ = nullptr;

// The sizes nginx logged for the last `n` requests: (status, request bytes, response bytes).
// nginx writes a log line when it finalises the request, which may be just after the client
// has its response: wait (bounded) until at least `total` lines are there.
std::vector<std::tuple<int, int, int>> LastLogged(pulltest::Nginx& nginx, size_t n, size_t total) {
  std::string log = nginx.AccessLog();
  for (int i = 0; i < 100 && LineCount(log) < total; ++i) {
    ::usleep(20000);
    log = nginx.AccessLog();
  }
  std::vector<std::tuple<int, int, int>> out;
  std::vector<std::string> lines = absl::StrSplit(log, '\n', absl::SkipEmpty());
  for (size_t i = lines.size() >= n ? lines.size() - n : 0; i < lines.size(); ++i) {
    int port, status, req, sent;
    if (std::sscanf(lines[i].c_str(), "%d %d %d %d", &port, &status, &req, &sent) == 4) {
      out.emplace_back(status, req, sent);
    }
  }
  return out;
}

TEST_F(PullServerTest, FirstFetchThen304ThenNewBundle) {
  Publish("pub", Bundle(10));
  ports::MemoryAuditSink audit;
  SourceConfig c = Config("pub");
  c.audit = &audit;
  auto src = Source(c);
  ASSERT_TRUE(src);
  FakeOfferSink sink = Sink();
  size_t lines = LineCount(nginx_->AccessLog());

  // 1. First fetch: index, trust document, bundle; the bundle verifies and activates.
  PollResult r1 = Poll(*src, sink);
  ASSERT_TRUE(r1.status.ok()) << r1.status;
  EXPECT_EQ(r1.code, "OK");
  EXPECT_EQ(r1.requests, 3);
  ASSERT_TRUE(r1.bundle && r1.trust);
  EXPECT_EQ(sink.bundle_offers, 1);
  EXPECT_EQ(sink.trust_offers, 1);
  EXPECT_EQ(sink.last_code, "OK");
  EXPECT_EQ(sink.state.last_serial, 10u);
  EXPECT_EQ(r1.bundle_serial, 10u);
  EXPECT_FALSE(src->status().etag.empty());
  auto full = LastLogged(*nginx_, 3, lines + 3);

  // 2. Unchanged: one conditional request, answered 304; nothing downloaded or offered.
  PollResult r2 = Poll(*src, sink);
  ASSERT_TRUE(r2.status.ok()) << r2.status;
  EXPECT_EQ(r2.code, "NOT_MODIFIED");
  EXPECT_EQ(r2.requests, 1);
  EXPECT_EQ(r2.http_status, 304);
  EXPECT_FALSE(r2.bundle || r2.trust);
  EXPECT_EQ(sink.bundle_offers, 1);
  auto not_modified = LastLogged(*nginx_, 1, lines + 4);
  ASSERT_EQ(not_modified.size(), 1u);
  EXPECT_EQ(std::get<0>(not_modified[0]), 304);

  // 3. A new bundle is published: index + bundle only (the trust document is unchanged).
  Publish("pub", Bundle(11));
  PollResult r3 = Poll(*src, sink);
  ASSERT_TRUE(r3.status.ok()) << r3.status;
  EXPECT_EQ(r3.code, "OK");
  EXPECT_EQ(r3.requests, 2);
  EXPECT_TRUE(r3.bundle);
  EXPECT_FALSE(r3.trust);
  EXPECT_EQ(sink.state.last_serial, 11u);
  EXPECT_EQ(sink.bundle_offers, 2);
  EXPECT_TRUE(audit.Events().empty());

  // Measurements for docs/pull.md (HTTP sizes from nginx's log, wire sizes from the client).
  ASSERT_EQ(full.size(), 3u);
  std::printf(
      "MEASURED index 200: request %d B, response %d B; trust: request %d B, response %d B; "
      "bundle (%zu B): request %d B, response %d B\n",
      std::get<1>(full[0]), std::get<2>(full[0]), std::get<1>(full[1]), std::get<2>(full[1]),
      r1.bundle->size(), std::get<1>(full[2]), std::get<2>(full[2]));
  std::printf(
      "MEASURED 304 poll: HTTP request %d B, HTTP response %d B; on the wire (TLS 1.2 "
      "full handshake + request + 304): sent %llu B, received %llu B\n",
      std::get<1>(not_modified[0]), std::get<2>(not_modified[0]),
      static_cast<unsigned long long>(r2.bytes_sent),
      static_cast<unsigned long long>(r2.bytes_received));
  std::printf("MEASURED first poll on the wire: sent %llu B, received %llu B (3 connections)\n",
              static_cast<unsigned long long>(r1.bytes_sent),
              static_cast<unsigned long long>(r1.bytes_received));
  RecordProperty("not_modified_request_bytes", std::get<1>(not_modified[0]));
  RecordProperty("not_modified_response_bytes", std::get<2>(not_modified[0]));
  RecordProperty("not_modified_wire_sent", static_cast<int>(r2.bytes_sent));
  RecordProperty("not_modified_wire_received", static_cast<int>(r2.bytes_received));

  // The status record says so, and survives a restart (the ETag spares the next download).
  SourceStatus st = src->status();
  EXPECT_EQ(st.last_result, "OK");
  EXPECT_EQ(st.polls, 3u);
  auto src2 = Source(c);
  src2->Restore(*SourceStatus::FromJson(st.ToJson()));
  PollResult r4 = Poll(*src2, sink);
  EXPECT_EQ(r4.code, "NOT_MODIFIED");
  EXPECT_EQ(sink.bundle_offers, 2);
}

TEST_F(PullServerTest, RestartDoesNotReofferTheActiveBundle) {
  Publish("restart", Bundle(10));
  auto src = Source(Config("restart"));
  FakeOfferSink sink = Sink();
  sink.state.last_serial = 10;
  src->NoteActive(10, 1);
  PollResult r = Poll(*src, sink);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.code, "UNCHANGED");
  EXPECT_EQ(r.requests, 1);
  EXPECT_EQ(sink.bundle_offers + sink.trust_offers, 0);
}

TEST_F(PullServerTest, WrongHostnameIsRejected) {
  Publish("host", Bundle(10));
  ports::MemoryAuditSink audit;
  SourceConfig c = Config("host", 0, "wrong.test");
  c.audit = &audit;
  auto src = Source(c);
  FakeOfferSink sink = Sink();
  PollResult r = Poll(*src, sink);
  EXPECT_EQ(r.code, "PULL_TLS_HOSTNAME") << r.status;
  EXPECT_EQ(sink.bundle_offers + sink.trust_offers, 0);
  auto events = audit.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].code, "PULL_TLS_HOSTNAME");
  EXPECT_NE(events[0].message.find("the active policy stays"), std::string::npos);
  EXPECT_EQ(src->status().last_result, "PULL_TLS_HOSTNAME");
  EXPECT_EQ(src->status().consecutive_failures, 1);
}

TEST_F(PullServerTest, UntrustedCaIsRejected) {
  Publish("ca", Bundle(10));
  FakeOfferSink sink = Sink();
  // A server certificate from a CA we do not trust.
  auto a = Source(Config("ca", ports_[2]));
  EXPECT_EQ(Poll(*a, sink).code, "PULL_TLS_UNTRUSTED");
  // Our server, but the client trusts another CA only.
  SourceConfig c = Config("ca");
  c.fetch.tls.ca_file = *dir_ + "/other-ca.pem";
  auto b = Source(c);
  EXPECT_EQ(Poll(*b, sink).code, "PULL_TLS_UNTRUSTED");
  // The system CA bundle does not know the test CA either.
  SourceConfig sys = Config("ca");
  sys.fetch.tls.ca_file.clear();
  auto s = PullSource::Create(sys);
  if (s.ok()) {
    EXPECT_EQ(Poll(**s, sink).code, "PULL_TLS_UNTRUSTED");
  } else {
    EXPECT_EQ(Name(s.status()), "PULL_TLS_CONFIG");  // no system bundle on this machine
  }
  EXPECT_EQ(sink.bundle_offers + sink.trust_offers, 0);
}

TEST_F(PullServerTest, ExpiredCertificateIsRejected) {
  Publish("exp", Bundle(10));
  FakeOfferSink sink = Sink();
  auto src = Source(Config("exp", ports_[1]));
  PollResult r = Poll(*src, sink);
  EXPECT_EQ(r.code, "PULL_TLS_EXPIRED") << r.status;
  EXPECT_EQ(sink.bundle_offers + sink.trust_offers, 0);
}

TEST_F(PullServerTest, PinnedPublicKey) {
  Publish("pin", Bundle(10));
  FakeOfferSink sink = Sink();
  SourceConfig good = Config("pin");
  good.fetch.tls.spki_pins = {server_->spki_sha256};
  EXPECT_EQ(Poll(*Source(good), sink).code, "OK");
  SourceConfig wrong = Config("pin");
  wrong.fetch.tls.spki_pins = {foreign_->spki_sha256};
  FakeOfferSink sink2 = Sink();
  EXPECT_EQ(Poll(*Source(wrong), sink2).code, "PULL_TLS_PIN");
  EXPECT_EQ(sink2.bundle_offers, 0);
  // pins_only: a server whose CA we do not trust, accepted on its pinned key alone...
  SourceConfig only = Config("pin", ports_[2]);
  only.fetch.tls.ca_file.clear();
  only.fetch.tls.pins_only = true;
  only.fetch.tls.spki_pins = {foreign_->spki_sha256};
  FakeOfferSink sink3 = Sink();
  EXPECT_EQ(Poll(*Source(only), sink3).code, "OK");
  // ...but still not for another host name, and not with another key.
  SourceConfig only_host = Config("pin", ports_[2], "wrong.test");
  only_host.fetch.tls = only.fetch.tls;
  EXPECT_EQ(Poll(*Source(only_host), sink3).code, "PULL_TLS_HOSTNAME");
  SourceConfig only_wrong = only;
  only_wrong.index_url = Config("pin").index_url;  // good server, different key
  EXPECT_EQ(Poll(*Source(only_wrong), sink3).code, "PULL_TLS_PIN");
}

TEST_F(PullServerTest, OversizeResponsesAreRefusedBeforeReading) {
  FakeOfferSink sink = Sink();
  // The index names a bundle larger than the transport cap: refused from the index alone.
  Publish("huge", Bundle(10));
  {
    std::string text = pulltest::ReadFile(Www("huge/edict-index.json"));
    auto index = ParseIndex(text);
    ASSERT_TRUE(index.ok());
    index->bundle.size = (size_t{4} << 20) + 1;
    pulltest::WriteFile(Www("huge/edict-index.json"), SerializeIndex(*index));
  }
  PollResult r = Poll(*Source(Config("huge")), sink);
  EXPECT_EQ(r.code, "PULL_TOO_LARGE") << r.status;
  EXPECT_EQ(r.requests, 1);
  // The server sends more than the index says: Content-Length is over the cap.
  Publish("bigger", Bundle(10));
  {
    auto index = *ParseIndex(pulltest::ReadFile(Www("bigger/edict-index.json")));
    std::string path = Www("bigger/" + index.bundle.path);
    pulltest::WriteFile(path, pulltest::ReadFile(path) + std::string(100000, 'x'));
  }
  PollResult r2 = Poll(*Source(Config("bigger")), sink);
  EXPECT_EQ(r2.code, "PULL_TOO_LARGE") << r2.status;
  // The 100 KB body was not read (at most the TLS record that carried the head).
  EXPECT_LT(r2.bytes_received, 60000u);
  EXPECT_EQ(sink.bundle_offers + sink.trust_offers, 0);
}

TEST_F(PullServerTest, Redirects) {
  Publish("pub", Bundle(10));
  FakeOfferSink sink = Sink();
  // Followed (same scheme), and documents resolve against the final URL.
  PollResult ok = Poll(*Source(Config("moved")), sink);
  EXPECT_EQ(ok.code, "OK") << ok.status;
  // A loop.
  FakeOfferSink sink2 = Sink();
  PollResult loop = Poll(*Source(Config("loop")), sink2);
  EXPECT_EQ(loop.code, "PULL_REDIRECT_LIMIT") << loop.status;
  // https -> http is refused even when the source allows http.
  SourceConfig c = Config("tohttp");
  c.fetch.allow_http = true;
  PollResult down = Poll(*Source(c), sink2);
  EXPECT_EQ(down.code, "PULL_REDIRECT_SCHEME") << down.status;
  EXPECT_EQ(sink2.bundle_offers + sink2.trust_offers, 0);
}

TEST_F(PullServerTest, PlainHttpOnlyWhenAllowed) {
  Publish("pub", Bundle(10));
  SourceConfig c;
  c.index_url = absl::StrCat("http://127.0.0.1:", ports_[3], "/pub/", kIndexFileName);
  auto refused = PullSource::Create(c);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(Name(refused.status()), "PULL_INSECURE");
  c.fetch.allow_http = true;
  FakeOfferSink sink = Sink();
  PollResult r = Poll(*Source(c), sink);
  EXPECT_EQ(r.code, "OK") << r.status;
  EXPECT_EQ(sink.last_code, "OK");  // the signature still protects the content
}

TEST_F(PullServerTest, ServerErrorsBackOffAndHonourRetryAfter) {
  FakeOfferSink sink = Sink();
  auto src = Source(Config("busy"));
  src->StartAt(absl::ZeroDuration());
  PollResult r = src->PollAndOffer(absl::FromUnixSeconds(kNow), absl::ZeroDuration(), sink);
  EXPECT_EQ(r.code, "PULL_HTTP_STATUS") << r.status;
  EXPECT_EQ(r.http_status, 503);
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(*r.retry_after, absl::Seconds(120));
  EXPECT_FALSE(src->Due(absl::Seconds(119)));
  EXPECT_GE(src->Wait(absl::ZeroDuration()), absl::Seconds(120));
  PollResult missing = Poll(*Source(Config("nothing-here")), sink);
  EXPECT_EQ(missing.code, "PULL_HTTP_STATUS");
  EXPECT_EQ(missing.http_status, 404);
  // Nothing listening.
  SourceConfig closed = Config("pub", pulltest::FreePort());
  EXPECT_EQ(Poll(*Source(closed), sink).code, "PULL_CONNECT");
  EXPECT_EQ(sink.bundle_offers, 0);
}

TEST_F(PullServerTest, AttackerServedOlderOrTamperedBundles) {
  FakeOfferSink sink = Sink();
  Publish("atk", Bundle(20));
  auto src = Source(Config("atk"));
  ASSERT_EQ(Poll(*src, sink).code, "OK");
  ASSERT_EQ(sink.state.last_serial, 20u);
  // An older bundle behind an honest index is not even downloaded (serial 15 <= 20).
  Publish("atk", Bundle(15));
  PollResult honest = Poll(*src, sink);
  EXPECT_EQ(honest.code, "UNCHANGED") << honest.status;
  EXPECT_EQ(honest.requests, 1);
  EXPECT_EQ(sink.bundle_offers, 1);
  // The server (attacker-controlled) serves a consistent index that lies about the serial:
  // the download checks pass, transport refuses it (anti-rollback); not offered again.
  {
    auto index = *ParseIndex(pulltest::ReadFile(Www("atk/edict-index.json")));
    index.bundle.serial = 99;
    ASSERT_TRUE(
        WriteFileAtomically(Www("atk/edict-index.json"), AsBytes(SerializeIndex(index)), true)
            .ok());
  }
  PollResult old = Poll(*src, sink);
  EXPECT_EQ(old.code, "OK");
  EXPECT_EQ(sink.last_code, "ERR_ROLLBACK");
  EXPECT_EQ(sink.state.last_serial, 20u);
  int offers = sink.bundle_offers;
  EXPECT_EQ(Poll(*src, sink).code, "NOT_MODIFIED");
  EXPECT_EQ(sink.bundle_offers, offers);
  // A tampered bundle with a consistent index: the signature check refuses it.
  std::vector<uint8_t> bad = Bundle(30);
  bad[bad.size() - 40] ^= 0x01;
  Publish("atk", bad, false);
  PollResult t = Poll(*src, sink);
  EXPECT_EQ(t.code, "OK");
  EXPECT_NE(sink.last_code, "OK");
  EXPECT_TRUE(sink.last_code == "ERR_SIGNATURE" || sink.last_code == "ERR_SIGNATURE_ENCODING" ||
              sink.last_code == "ERR_ENVELOPE" || sink.last_code == "ERR_PAYLOAD")
      << sink.last_code;
  EXPECT_EQ(sink.state.last_serial, 20u);
  // A bundle file swapped behind the index: the digest check refuses it; nothing offered.
  Publish("atk2", Bundle(40));
  auto index = *ParseIndex(pulltest::ReadFile(Www("atk2/edict-index.json")));
  std::vector<uint8_t> other = Bundle(41);
  other.resize(index.bundle.size, 0);
  pulltest::WriteFile(Www("atk2/" + index.bundle.path), std::string(other.begin(), other.end()));
  FakeOfferSink sink2 = Sink();
  PollResult swapped = Poll(*Source(Config("atk2")), sink2);
  EXPECT_EQ(swapped.code, "PULL_DIGEST") << swapped.status;
  EXPECT_EQ(sink2.bundle_offers + sink2.trust_offers, 0);
}

// ---- misbehaving servers (no nginx needed) ----

class PullMisbehaviourTest : public testing::TransportTest {
 protected:
  static void SetUpTestSuite() {
    TransportTest::SetUpTestSuite();
    dir_ = new std::string(pulltest::MakeTempDir("mis"));
    ca_ = new CertPem(*pulltest::MakeCa("edict test CA"));
    leaf_ = new CertPem(*pulltest::MakeLeaf(*ca_, kHost));
    pulltest::WriteFile(*dir_ + "/ca.pem", ca_->cert);
    trust_doc_ = new std::vector<uint8_t>(Doc(BaseSpec(), {root_[0].get()}));
    testing::PayloadSpec p;
    p.groups = {"finance"};
    bundle_ = new std::vector<uint8_t>(Sign(testing::MakePayload(p), {signer_[0].get()}));
  }
  static void TearDownTestSuite() { pulltest::RemoveTree(*dir_); }

  // Serves an index naming bundle_ at /b.edict with `mode` on the bundle.
  static void Serve(MisbehavingServer& s, MisbehavingServer::Mode mode, size_t cut_at = 0,
                    const std::string& bundle_response = "") {
    Index index;
    index.bundle.path = "b.edict";
    index.bundle.size = bundle_->size();
    index.bundle.sha256 = Sha256::Hash(*bundle_);
    index.bundle.serial = 10;
    std::string text = SerializeIndex(index);
    s.Set("/edict-index.json",
          {absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", text.size(), "\r\n\r\n", text)});
    std::string body(bundle_->begin(), bundle_->end());
    s.Set("/b.edict",
          {bundle_response.empty()
               ? absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(), "\r\n\r\n", body)
               : bundle_response,
           mode, cut_at});
  }

  static SourceConfig Config(int port, bool tls = true) {
    SourceConfig c;
    c.index_url = absl::StrCat(tls ? "https://" : "http://", kHost, ":", port, "/", kIndexFileName);
    c.fetch.allow_http = !tls;
    c.fetch.tls.ca_file = *dir_ + "/ca.pem";
    c.fetch.connect_host = "127.0.0.1";
    c.fetch.read_timeout = absl::Seconds(2);
    c.fetch.total_timeout = absl::Seconds(8);
    c.fetch.rate_window = absl::Seconds(1);
    c.fetch.min_rate_bytes_per_second = 2000;
    return c;
  }

  PollResult Run(const SourceConfig& c, FakeOfferSink* sink) {
    auto src = PullSource::Create(c);
    EXPECT_TRUE(src.ok()) << src.status();
    return (*src)->PollAndOffer(absl::FromUnixSeconds(kNow), absl::ZeroDuration(), *sink);
  }

  FakeOfferSink Sink() { return FakeOfferSink(Store(*trust_doc_)); }

  static std::string* dir_;
  static CertPem *ca_, *leaf_;
  static std::vector<uint8_t>* trust_doc_;
  static std::vector<uint8_t>* bundle_;
};

std::string* PullMisbehaviourTest::dir_ = nullptr;
CertPem* PullMisbehaviourTest::ca_ = nullptr;
CertPem* PullMisbehaviourTest::leaf_ = nullptr;
std::vector<uint8_t>* PullMisbehaviourTest::trust_doc_ = nullptr;
std::vector<uint8_t>* PullMisbehaviourTest::bundle_ = nullptr;

TEST_F(PullMisbehaviourTest, BaselineWorksOverTlsAndHttp) {
  for (bool tls : {true, false}) {
    MisbehavingServer s(tls ? leaf_ : nullptr);
    Serve(s, MisbehavingServer::Mode::kNormal);
    FakeOfferSink sink = Sink();
    PollResult r = Run(Config(s.port(), tls), &sink);
    EXPECT_EQ(r.code, "OK") << r.status;
    EXPECT_EQ(sink.last_code, "OK");
  }
}

TEST_F(PullMisbehaviourTest, SlowDripIsCutOff) {
  MisbehavingServer s(leaf_);
  Serve(s, MisbehavingServer::Mode::kDrip);
  FakeOfferSink sink = Sink();
  auto start = absl::Now();
  PollResult r = Run(Config(s.port()), &sink);
  EXPECT_EQ(r.code, "PULL_SLOW") << r.status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(sink.bundle_offers, 0);
}

TEST_F(PullMisbehaviourTest, ConnectionResetMidBody) {
  for (bool tls : {true, false}) {
    MisbehavingServer s(tls ? leaf_ : nullptr);
    Serve(s, MisbehavingServer::Mode::kReset, 120);
    FakeOfferSink sink = Sink();
    PollResult r = Run(Config(s.port(), tls), &sink);
    EXPECT_EQ(r.code, "PULL_RESET") << r.status;
    EXPECT_EQ(sink.bundle_offers, 0);
  }
}

TEST_F(PullMisbehaviourTest, TruncatedBodyWithMatchingLengthHeader) {
  for (bool tls : {true, false}) {
    MisbehavingServer s(tls ? leaf_ : nullptr);
    Serve(s, MisbehavingServer::Mode::kTruncate, 150);  // Content-Length = index size
    FakeOfferSink sink = Sink();
    PollResult r = Run(Config(s.port(), tls), &sink);
    EXPECT_EQ(r.code, "PULL_TRUNCATED") << r.status;
    EXPECT_EQ(sink.bundle_offers, 0);
  }
}

TEST_F(PullMisbehaviourTest, StalledServerTimesOut) {
  MisbehavingServer s(leaf_);
  Serve(s, MisbehavingServer::Mode::kStall);
  SourceConfig c = Config(s.port());
  c.fetch.min_rate_bytes_per_second = 0;  // the read timeout, not the rate, fires
  c.fetch.read_timeout = absl::Milliseconds(500);
  FakeOfferSink sink = Sink();
  PollResult r = Run(c, &sink);
  EXPECT_EQ(r.code, "PULL_TIMEOUT") << r.status;
  EXPECT_EQ(sink.bundle_offers, 0);
}

TEST_F(PullMisbehaviourTest, HugeHeadersAndOversizeChunks) {
  MisbehavingServer s(leaf_);
  std::string huge = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 100; ++i)
    absl::StrAppend(&huge, "X-Filler-", i, ": ", std::string(300, 'a'), "\r\n");
  huge += "\r\n";
  Serve(s, MisbehavingServer::Mode::kNormal, 0, huge);
  FakeOfferSink sink = Sink();
  EXPECT_EQ(Run(Config(s.port()), &sink).code, "PULL_HEADERS_TOO_LARGE");
  std::string chunked = absl::StrCat("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                     absl::Hex(bundle_->size() + 1), "\r\n");
  Serve(s, MisbehavingServer::Mode::kNormal, 0, chunked);
  EXPECT_EQ(Run(Config(s.port()), &sink).code, "PULL_TOO_LARGE");
  std::string no_length = "HTTP/1.1 200 OK\r\n\r\n" + std::string(bundle_->size() + 10, 'z');
  Serve(s, MisbehavingServer::Mode::kNormal, 0, no_length);
  EXPECT_EQ(Run(Config(s.port()), &sink).code, "PULL_TOO_LARGE");
  EXPECT_EQ(sink.bundle_offers, 0);
}

TEST_F(PullMisbehaviourTest, ChunkedBodyIsDecoded) {
  MisbehavingServer s(leaf_);
  std::string body(bundle_->begin(), bundle_->end());
  std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t off = 0; off < body.size(); off += 100) {
    std::string part = body.substr(off, 100);
    absl::StrAppend(&chunked, absl::Hex(part.size()), "\r\n", part, "\r\n");
  }
  chunked += "0\r\n\r\n";
  Serve(s, MisbehavingServer::Mode::kNormal, 0, chunked);
  FakeOfferSink sink = Sink();
  PollResult r = Run(Config(s.port()), &sink);
  EXPECT_EQ(r.code, "OK") << r.status;
  EXPECT_EQ(sink.last_code, "OK");
}

}  // namespace
}  // namespace edict::transport::pull
