// Unit tests for the pull client's pure parts: URL parsing, the HTTP/1.1 response parser
// and chunked decoder (malformed inputs, every limit), the index format, the status record
// and the poll scheduler (jitter bounds, backoff, Retry-After).
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "transport/pull/errors.h"
#include "transport/pull/fuzz_entry.h"
#include "transport/pull/http.h"
#include "transport/pull/index.h"
#include "transport/pull/scheduler.h"
#include "transport/pull/source.h"
#include "transport/pull/url.h"

namespace edict::transport::pull {
namespace {

std::string Name(const absl::Status& s) { return std::string(PullErrorName(PullErrorOf(s))); }

// ---- errors ----

TEST(PullErrors, NamesAreStableAndRoundTrip) {
  EXPECT_EQ(PullErrorName(PullError::kTlsHostname), "PULL_TLS_HOSTNAME");
  EXPECT_EQ(PullErrorName(PullError::kSlow), "PULL_SLOW");
  EXPECT_EQ(PullErrorName(PullError::kCount), "PULL_UNKNOWN");
  for (int i = 1; i < static_cast<int>(PullError::kCount); ++i) {
    auto e = static_cast<PullError>(i);
    absl::Status s = MakePullError(e, "detail");
    EXPECT_EQ(PullErrorOf(s), e);
    EXPECT_TRUE(absl::StartsWith(s.message(), PullErrorName(e)));
    EXPECT_FALSE(PullErrorAuditText(e).empty());
  }
  EXPECT_EQ(PullErrorOf(absl::OkStatus()), PullError::kOk);
  EXPECT_EQ(PullErrorOf(absl::InternalError("x")), PullError::kCount);
}

// ---- URLs ----

TEST(PullUrl, ParsesHttpsAndHttp) {
  auto u = ParseUrl("https://CDN.Example.com/edict/edict-index.json?x=1#frag");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "cdn.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/edict/edict-index.json?x=1");
  EXPECT_EQ(u->Authority(), "cdn.example.com");
  auto h = ParseUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->port, 8080);
  EXPECT_EQ(h->target, "/");
  EXPECT_EQ(h->Authority(), "127.0.0.1:8080");
  auto v6 = ParseUrl("https://[::1]:8443/a");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->Authority(), "[::1]:8443");
}

TEST(PullUrl, RefusesBadUrls) {
  for (const char* bad :
       {"ftp://x/y", "https:/x", "https://", "https://user@host/", "https://host:0/",
        "https://host:65536/", "https://host:12a/", "https://ho st/", "https://host/a b",
        "https://[::1/", "https://host/\x01", "file:///etc/passwd", "https://host:/x"}) {
    auto u = ParseUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
    if (!u.ok()) {
      EXPECT_EQ(Name(u.status()), "PULL_URL") << bad;
    }
  }
  EXPECT_FALSE(ParseUrl(std::string(3000, 'a')).ok());
}

TEST(PullUrl, ResolvesReferences) {
  Url base = *ParseUrl("https://h.test:8443/pub/edict-index.json?v=2");
  EXPECT_EQ(ResolveReference(base, "bundle-1.edict")->ToString(),
            "https://h.test:8443/pub/bundle-1.edict");
  EXPECT_EQ(ResolveReference(base, "/other/x")->ToString(), "https://h.test:8443/other/x");
  EXPECT_EQ(ResolveReference(base, "https://cdn.test/y")->ToString(), "https://cdn.test/y");
  EXPECT_FALSE(ResolveReference(base, "../etc/passwd").ok());
  EXPECT_FALSE(ResolveReference(base, "//evil.test/x").ok());
  EXPECT_FALSE(ResolveReference(base, "").ok());
}

// ---- requests ----

TEST(PullHttp, BuildsConditionalRequest) {
  Url u = *ParseUrl("https://h.test/edict-index.json");
  RequestOptions o;
  o.if_none_match = "\"abc\"";
  o.if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT";
  auto r = BuildGetRequest(u, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r,
            "GET /edict-index.json HTTP/1.1\r\nHost: h.test\r\nUser-Agent: edict-agent/0.1\r\n"
            "Accept: */*\r\nConnection: close\r\nIf-None-Match: \"abc\"\r\n"
            "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n");
  o.if_none_match = "\"a\"\r\nX-Injected: 1";
  EXPECT_FALSE(BuildGetRequest(u, o).ok());
}

// ---- response heads ----

absl::StatusOr<ResponseHead> Head(absl::string_view text, const HttpLimits& limits = {}) {
  auto end = FindHeadEnd(text, limits);
  if (!end.ok()) return end.status();
  if (*end == 0) return absl::OutOfRangeError("incomplete");
  return ParseResponseHead(text.substr(0, *end), limits, absl::FromUnixSeconds(1000));
}

TEST(PullHttp, ParsesA200) {
  auto h = Head(
      "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 42\r\nETag: \"64a-1f\"\r\n"
      "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\nBODY");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->reason, "OK");
  ASSERT_TRUE(h->content_length);
  EXPECT_EQ(*h->content_length, 42u);
  EXPECT_EQ(h->etag, "\"64a-1f\"");
  EXPECT_EQ(h->last_modified, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_TRUE(h->connection_close);
  EXPECT_FALSE(h->chunked);
  EXPECT_NE(h->Find("server"), nullptr);
  EXPECT_EQ(h->head_bytes, h->head_bytes);
}

TEST(PullHttp, ParsesRedirectRetryAfterAndChunked) {
  auto r = Head("HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->location, "/x");
  auto s = Head("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\n\r\n");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->retry_after);
  EXPECT_EQ(*s->retry_after, absl::Seconds(120));
  auto d = Head(
      "HTTP/1.1 429 Too Many\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
      "Retry-After: Sun, 06 Nov 1994 08:59:37 GMT\r\n\r\n");
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->retry_after);
  EXPECT_EQ(*d->retry_after, absl::Minutes(10));
  auto junk = Head("HTTP/1.1 503 x\r\nRetry-After: soon\r\n\r\n");
  ASSERT_TRUE(junk.ok());
  EXPECT_FALSE(junk->retry_after);
  auto c = Head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->chunked);
  auto ten = Head("HTTP/1.0 304 Not Modified\r\n\r\n");
  ASSERT_TRUE(ten.ok());
  EXPECT_EQ(ten->minor_version, 0);
}

TEST(PullHttp, RefusesMalformedHeads) {
  const char* bad[] = {
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/1.1 600 Odd\r\n\r\n",
      "HTTP/1.1 2OO OK\r\n\r\n",
      "HTTP/1.1 200OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
      "HTTP/1.1 200 OK\r\n: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\nb\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 301 Moved\r\nLocation: /a\r\nLocation: /b\r\n\r\n",
  };
  for (const char* b : bad) {
    auto h = Head(b);
    EXPECT_FALSE(h.ok()) << b;
    if (!h.ok()) {
      EXPECT_EQ(Name(h.status()), "PULL_HTTP_MALFORMED") << b;
    }
  }
  // Bare LF line endings never complete a head.
  auto lf = FindHeadEnd("HTTP/1.1 200 OK\nA: b\n\n", HttpLimits{});
  ASSERT_TRUE(lf.ok());
  EXPECT_EQ(*lf, 0u);
}

TEST(PullHttp, EnforcesHeadLimits) {
  HttpLimits limits;
  limits.max_head_bytes = 256;
  limits.max_headers = 4;
  std::string big = "HTTP/1.1 200 OK\r\nX: " + std::string(300, 'a') + "\r\n\r\n";
  auto h = Head(big, limits);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(Name(h.status()), "PULL_HEADERS_TOO_LARGE");
  // No terminator within the limit: refused once the limit is reached, not before.
  auto partial = FindHeadEnd(std::string(255, 'a'), limits);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(*partial, 0u);
  EXPECT_EQ(Name(FindHeadEnd(std::string(256, 'a'), limits).status()), "PULL_HEADERS_TOO_LARGE");
  std::string many = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 5; ++i) absl::StrAppend(&many, "H", i, ": v\r\n");
  many += "\r\n";
  EXPECT_EQ(Name(Head(many, limits).status()), "PULL_HEADERS_TOO_LARGE");
  HttpLimits small_value;
  small_value.max_value_bytes = 8;
  EXPECT_EQ(Name(Head("HTTP/1.1 200 OK\r\nX: 123456789\r\n\r\n", small_value).status()),
            "PULL_HEADERS_TOO_LARGE");
  // An over-long ETag is not kept (it would be echoed back), but is not an error.
  HttpLimits etag;
  etag.max_etag_bytes = 4;
  auto e = Head("HTTP/1.1 200 OK\r\nETag: \"123456\"\r\n\r\n", etag);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->etag, "");
}

TEST(PullHttp, HttpDates) {
  auto t = ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT");
  ASSERT_TRUE(t);
  EXPECT_EQ(absl::ToUnixSeconds(*t), 784111777);
  EXPECT_EQ(FormatHttpDate(*t), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_FALSE(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate("garbage"));
}

// ---- chunked bodies ----

absl::Status Dechunk(absl::string_view in, size_t cap, std::string* out, bool* done,
                     size_t piece = 1) {
  ChunkedDecoder d(cap, HttpLimits{});
  size_t off = 0;
  while (off < in.size() && !d.done()) {
    size_t used = 0;
    absl::string_view part = in.substr(off, piece);
    absl::Status s = d.Feed(part, &used, out);
    if (!s.ok()) return s;
    off += used;
    if (used < part.size()) break;
  }
  *done = d.done();
  return absl::OkStatus();
}

TEST(PullChunked, DecodesByteByByteAndWhole) {
  const std::string body = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
  for (size_t piece : {size_t{1}, size_t{3}, body.size()}) {
    std::string out;
    bool done = false;
    ASSERT_TRUE(Dechunk(body, 100, &out, &done, piece).ok());
    EXPECT_TRUE(done);
    EXPECT_EQ(out, "hello world");
  }
}

TEST(PullChunked, RefusesMalformedAndOversize) {
  struct Case {
    const char* in;
    const char* error;
  } cases[] = {
      {"z\r\n", "PULL_HTTP_MALFORMED"},
      {"\r\n", "PULL_HTTP_MALFORMED"},
      {"5\nhello\r\n", "PULL_HTTP_MALFORMED"},
      {"5\r\nhelloXX", "PULL_HTTP_MALFORMED"},
      {"fffffffffffffffff\r\n", "PULL_HTTP_MALFORMED"},
      {"65\r\n", "PULL_TOO_LARGE"},  // 101 > cap 100, refused before any data
      {"40\r\n", "PULL_TOO_LARGE"},  // (after the first chunk below)
  };
  for (const Case& c : cases) {
    std::string out;
    bool done = false;
    std::string in = c.in;
    if (std::string(c.in) == "40\r\n") in = "40\r\n" + std::string(64, 'a') + "\r\n40\r\n";
    absl::Status s = Dechunk(in, 100, &out, &done);
    EXPECT_EQ(Name(s), c.error) << c.in;
  }
  std::string out;
  bool done = false;
  std::string longline = "1;" + std::string(300, 'e') + "\r\n";
  EXPECT_EQ(Name(Dechunk(longline, 100, &out, &done)), "PULL_HTTP_MALFORMED");
  std::string trailer = "0\r\n";
  for (int i = 0; i < 200; ++i) trailer += "X-Trailer: " + std::string(40, 'v') + "\r\n";
  EXPECT_EQ(Name(Dechunk(trailer, 100, &out, &done)), "PULL_HEADERS_TOO_LARGE");
  // Incomplete input is not an error: the decoder simply is not done.
  out.clear();
  ASSERT_TRUE(Dechunk("5\r\nhel", 100, &out, &done).ok());
  EXPECT_FALSE(done);
}

// ---- index ----

std::string Sha(char c) { return std::string(64, c); }

std::string IndexText(const std::string& bundle_extra = "", const std::string& top_extra = "") {
  return absl::StrCat(R"({"edict_index": 1, "published_at": 5, "bundle": {"path": "bundle-1.edict",
      "size": 100, "sha256": ")",
                      Sha('a'), R"(", "serial": 7)", bundle_extra,
                      R"(}, "trust": {"path": "t/trust-v2.edt", "size": 50, "sha256": ")", Sha('b'),
                      R"(", "version": 2})", top_extra, "}");
}

TEST(PullIndex, ParsesAndRoundTrips) {
  auto i = ParseIndex(IndexText("", ", \"future_field\": [1, 2, {\"x\": null}]"));
  ASSERT_TRUE(i.ok()) << i.status();
  EXPECT_EQ(i->published_at, 5);
  EXPECT_EQ(i->bundle.path, "bundle-1.edict");
  EXPECT_EQ(i->bundle.size, 100u);
  EXPECT_EQ(i->bundle.serial, 7u);
  EXPECT_EQ(i->bundle.sha256[0], 0xaa);
  ASSERT_TRUE(i->trust);
  EXPECT_EQ(i->trust->serial, 2u);
  auto again = ParseIndex(SerializeIndex(*i));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(SerializeIndex(*again), SerializeIndex(*i));
}

TEST(PullIndex, RefusesMalformed) {
  const std::string bad[] = {
      "",
      "[]",
      "{\"edict_index\": 2, \"bundle\": {}}",
      "{\"edict_index\": 1}",
      absl::StrCat(R"({"edict_index": 1, "bundle": {"path": "../x", "size": 1, "sha256": ")",
                   Sha('a'), "\"}}"),
      absl::StrCat(R"({"edict_index": 1, "bundle": {"path": "/abs", "size": 1, "sha256": ")",
                   Sha('a'), "\"}}"),
      absl::StrCat(R"({"edict_index": 1, "bundle": {"path": "a//b", "size": 1, "sha256": ")",
                   Sha('a'), "\"}}"),
      absl::StrCat(R"({"edict_index": 1, "bundle": {"path": "x", "size": 0, "sha256": ")", Sha('a'),
                   "\"}}"),
      absl::StrCat(R"({"edict_index": 1, "bundle": {"path": "x", "size": 1, "sha256": ")", Sha('A'),
                   "\"}}"),
      R"({"edict_index": 1, "bundle": {"path": "x", "size": 1, "sha256": "abc"}})",
      absl::StrCat(R"({"edict_index": 1, "edict_index": 1, "bundle": {"path": "x", "size": 1,
                   "sha256": ")",
                   Sha('a'), "\"}}"),
      IndexText() + "x",
      IndexText(", \"size\": 3"),
      absl::StrCat(R"({"edict_index": 1, "bundle": {"path": "x", "size": 1.5, "sha256": ")",
                   Sha('a'), "\"}}"),
      "{\"edict_index\": 1, \"bundle\": " + std::string(20, '[') + std::string(20, ']') + "}",
      "{\"edict_index\": 1, \"bundle\": \"\\ud800\"}",
  };
  for (const std::string& b : bad) {
    auto i = ParseIndex(b);
    EXPECT_FALSE(i.ok()) << b;
    if (!i.ok()) {
      EXPECT_EQ(Name(i.status()), "PULL_INDEX") << b;
    }
  }
}

TEST(PullIndex, SizesAboveTheCapsAreRefusedBeforeDownloading) {
  IndexLimits limits;
  limits.max_bundle_bytes = 99;
  auto i = ParseIndex(IndexText(), limits);
  ASSERT_FALSE(i.ok());
  EXPECT_EQ(Name(i.status()), "PULL_TOO_LARGE");
  EXPECT_EQ(Name(ParseIndex(std::string(kMaxIndexBytes + 1, ' ')).status()), "PULL_TOO_LARGE");
}

TEST(PullIndex, FileNamesAreContentAddressed) {
  Digest d{};
  d[0] = 0x01;
  d[7] = 0xff;
  EXPECT_EQ(BundleFileName(d), "bundle-01000000000000ff.edict");
  EXPECT_EQ(TrustFileName(3, d), "trust-v3-01000000000000ff.edt");
}

// ---- status record ----

TEST(PullStatus, JsonRoundTrip) {
  SourceStatus s;
  s.name = "cdn \"one\"";
  s.url = "https://h.test/edict-index.json";
  s.last_attempt = 1800000000;
  s.last_success = 1799999000;
  s.last_result = "PULL_TLS_HOSTNAME";
  s.last_error = "PULL_TLS_HOSTNAME: wrong.test: line\nbreak";
  s.http_status = 304;
  s.etag = "\"64a-1f\"";
  s.bytes_received = 1234;
  s.bytes_total = 99999;
  s.polls = 12;
  s.consecutive_failures = 3;
  s.bundle_sha256 = Sha('c');
  s.index_serial = 42;
  auto back = SourceStatus::FromJson(s.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToJson(), s.ToJson());
  EXPECT_FALSE(SourceStatus::FromJson("{").ok());
}

// ---- scheduler ----

// Returns the scripted values in turn (then 0).
class ScriptRng : public Rng {
 public:
  explicit ScriptRng(std::deque<uint64_t> v) : v_(std::move(v)) {}
  uint64_t Next() override {
    if (v_.empty()) return 0;
    uint64_t x = v_.front();
    v_.pop_front();
    return x;
  }

 private:
  std::deque<uint64_t> v_;
};

constexpr uint64_t kMax = ~uint64_t{0};

TEST(PullScheduler, JitterStaysWithinBounds) {
  ScheduleOptions o;  // 15 min + U[0, 5 min)
  auto rng = NewSystemRng();
  PollScheduler s(o, rng.get());
  s.Start(absl::ZeroDuration());
  EXPECT_LT(s.next(), o.initial_splay);
  absl::Duration lo = absl::InfiniteDuration(), hi = absl::ZeroDuration();
  for (int i = 0; i < 10000; ++i) {
    absl::Duration d = s.Record(absl::Hours(1), true);
    EXPECT_GE(d, o.interval);
    EXPECT_LT(d, o.interval + o.jitter);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  // Spread over the whole window (10,000 draws: both ends within 1%).
  EXPECT_LT(lo, o.interval + o.jitter / 100);
  EXPECT_GT(hi, o.interval + o.jitter * 99 / 100);
  ScriptRng extremes({0, kMax});
  PollScheduler e(o, &extremes);
  EXPECT_EQ(e.Record(absl::ZeroDuration(), true), o.interval);
  EXPECT_LT(e.Record(absl::ZeroDuration(), true), o.interval + o.jitter);
}

TEST(PullScheduler, ExponentialBackoffWithCap) {
  ScheduleOptions o;
  o.backoff_base = absl::Seconds(30);
  o.backoff_cap = absl::Minutes(8);
  ScriptRng top({kMax, kMax, kMax, kMax, kMax, kMax, kMax, 0, 0});
  PollScheduler s(o, &top);
  const absl::Duration want[] = {absl::Seconds(30),  absl::Seconds(60),  absl::Seconds(120),
                                 absl::Seconds(240), absl::Seconds(480), absl::Seconds(480),
                                 absl::Seconds(480)};
  for (absl::Duration w : want) {
    absl::Duration d = s.Record(absl::ZeroDuration(), false);
    EXPECT_LE(d, w);
    EXPECT_GT(d, w - absl::Milliseconds(1));
  }
  EXPECT_EQ(s.consecutive_failures(), 7);
  // Lower end of the equal-jitter range: half the backoff.
  EXPECT_EQ(s.Record(absl::ZeroDuration(), false), absl::Seconds(240));
  // A success resets the backoff.
  EXPECT_EQ(s.Record(absl::ZeroDuration(), true), o.interval);
  EXPECT_EQ(s.consecutive_failures(), 0);
  EXPECT_EQ(s.Record(absl::ZeroDuration(), false), absl::Seconds(15));
  // Hundreds of failures neither overflow nor exceed the cap.
  for (int i = 0; i < 500; ++i) EXPECT_LE(s.Record(absl::ZeroDuration(), false), o.backoff_cap);
}

TEST(PullScheduler, RetryAfterIsHonouredAndCapped) {
  ScheduleOptions o;
  o.retry_after_cap = absl::Hours(2);
  ScriptRng zero({});
  PollScheduler s(o, &zero);
  s.Start(absl::ZeroDuration());
  // Longer than the backoff: wins.
  EXPECT_EQ(s.Record(absl::Seconds(100), false, absl::Minutes(10)), absl::Minutes(10));
  EXPECT_EQ(s.next(), absl::Seconds(100) + absl::Minutes(10));
  EXPECT_FALSE(s.Due(absl::Seconds(100) + absl::Minutes(10) - absl::Seconds(1)));
  EXPECT_TRUE(s.Due(absl::Seconds(100) + absl::Minutes(10)));
  // Shorter than the normal interval: never makes the poll earlier.
  EXPECT_EQ(s.Record(absl::ZeroDuration(), true, absl::Seconds(1)), o.interval);
  // Absurd values are capped.
  EXPECT_EQ(s.Record(absl::ZeroDuration(), false, absl::Hours(24 * 365)), absl::Hours(2));
  EXPECT_EQ(s.Wait(absl::Hours(1)), absl::Hours(1));
  EXPECT_EQ(s.Wait(absl::Hours(3)), absl::ZeroDuration());
}

TEST(PullScheduler, StartSplaysTheFleet) {
  ScheduleOptions o;
  o.initial_splay = absl::Minutes(10);
  ScriptRng mid({kMax / 2});
  PollScheduler s(o, &mid);
  s.Start(absl::Hours(1));
  EXPECT_GT(s.next(), absl::Hours(1) + absl::Minutes(4));
  EXPECT_LT(s.next(), absl::Hours(1) + absl::Minutes(6));
}

// ---- fuzz entry smoke ----

TEST(PullFuzzEntry, SurvivesSamples) {
  const std::string samples[] = {
      "",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
      "HTTP/1.1 302 Found\r\nLocation: ../../x\r\n\r\n",
      IndexText(),
      "HTTP/1.1 200 OK\r\n\r\n" + IndexText(),
      std::string(70000, '{')};
  for (const std::string& s : samples) {
    EXPECT_EQ(FuzzHttpResponse(reinterpret_cast<const uint8_t*>(s.data()), s.size()), 0);
  }
}

}  // namespace
}  // namespace edict::transport::pull
