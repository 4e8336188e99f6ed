// edict-agent with pull sources (issue 8), through the real binaries: `edictctl publish`
// into a directory served by nginx (Debian's, started by the test as the current user on
// 127.0.0.1 with a test CA; tests/pull/test_servers.h), then `edict-agent once --source`.
// The nginx cases are skipped (GTEST_SKIP) when nginx is not installed; the configuration
// cases always run.
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/ports/test_util.h"
#include "tests/pull/test_servers.h"
#include "tools/agent/agent.h"
#include "tools/agent/config.h"

#ifndef EDICT_AGENT_BINARY
#error "EDICT_AGENT_BINARY must be defined"
#endif
#ifndef EDICT_CTL_BINARY
#error "EDICT_CTL_BINARY must be defined"
#endif

namespace edict::agent::testing {
namespace {

using ports::testing::ReadFileOrNull;
using ports::testing::RunShell;
using ports::testing::TempDir;
using ports::testing::WriteFileOrDie;

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) {
    ++n;
  }
  return n;
}

TEST(AgentPullConfig, SourceKeysParse) {
  const std::string pin(64, 'a');
  auto c = ParseConfig(absl::StrCat("source.cdn.url = https://policy.example.com/edict-index.json\n"
                                    "source.cdn.ca_file = /etc/edict/ca.pem\n"
                                    "source.cdn.pin = ",
                                    pin,
                                    "\n"
                                    "source.cdn.pins_only = true\n"
                                    "source.lan.url = http://10.0.0.1/edict-index.json\n"
                                    "source.lan.allow_http = yes\n"
                                    "poll_interval = 600\npoll_jitter = 60\npoll_splay = 0\n"),
                       "a.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->sources.size(), 2u);
  EXPECT_EQ(c->sources[0].name, "cdn");
  EXPECT_EQ(c->sources[0].ca_file, "/etc/edict/ca.pem");
  ASSERT_EQ(c->sources[0].pins.size(), 1u);
  EXPECT_EQ(c->sources[0].pins[0][0], 0xaa);
  EXPECT_TRUE(c->sources[0].pins_only);
  EXPECT_TRUE(c->sources[1].allow_http);
  EXPECT_EQ(c->poll_interval_seconds, 600);
  EXPECT_EQ(c->poll_jitter_seconds, 60);
  EXPECT_EQ(c->poll_splay_seconds, 0);

  std::array<uint8_t, 32> p{};
  EXPECT_TRUE(ParsePin("sha256/qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=", &p));
  EXPECT_EQ(p[0], 0xaa);
  EXPECT_FALSE(ParsePin("abc", &p));

  for (const char* bad :
       {"source.cdn.ca_file = /x\n",  // no url
        "source.cdn.url = ftp://x/\n", "source..url = https://x/\n", "source.cdn.bogus = 1\n",
        "source.cdn.url = https://x/\nsource.cdn.pins_only = true\n",
        "source.cdn.url = https://x/\nsource.cdn.pin = 12\n", "poll_interval = 1\n"}) {
    EXPECT_FALSE(ParseConfig(bad, "b.conf").ok()) << bad;
  }
}

TEST(AgentPullConfig, EverySourceKeyIsDocumented) {
  const std::string src = EDICT_SOURCE_DIR;
  const std::string doc = *ReadFileOrNull(src + "/docs/agent.md");
  const std::string ex = *ReadFileOrNull(src + "/packaging/agent.conf.example");
  for (const char* k : {"url", "ca_file", "pin", "pins_only", "allow_http"}) {
    EXPECT_TRUE(absl::StrContains(doc, absl::StrCat("| `source.NAME.", k, "` |"))) << k;
    EXPECT_TRUE(absl::StrContains(ex, absl::StrCat(".", k, " ="))) << k;
  }
  auto example = LoadConfig(src + "/packaging/agent.conf.example");
  ASSERT_TRUE(example.ok()) << example.status();
}

TEST(AgentPullConfig, UnusableSourceIsAConfigurationError) {
  TempDir t;
  WriteFileOrDie(t.Sub("agent.conf"),
                 absl::StrCat("state_dir = ", t.Sub("state"), "\nspool_dir = ", t.Sub("spool"),
                              "\nlock_file = ", t.Sub("lock"), "\ntrust_pinned = ", t.Sub("t.edt"),
                              "\naudit_file = ", t.Sub("audit.jsonl"),
                              "\naudit_syslog = false\ndevice_id = d\nnative_root = ", t.Sub("n"),
                              "\ndconf_update = false\nsettle_ms = 0\n",
                              "source.cdn.url = https://127.0.0.1:1/edict-index.json\n",
                              "source.cdn.ca_file = ", t.Sub("missing-ca.pem"), "\n"));
  std::string out;
  const int rc = RunShell(
      absl::StrCat(EDICT_AGENT_BINARY, " --config ", t.Sub("agent.conf"), " once 2>&1"), &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_TRUE(absl::StrContains(out, "PULL_TLS_CONFIG")) << out;
  // A plain http:// source without allow_http: PULL_INSECURE, also exit 2.
  const int rc2 = RunShell(absl::StrCat(EDICT_AGENT_BINARY, " --config ", t.Sub("agent.conf"),
                                        " once --source http://127.0.0.1:1/edict-index.json 2>&1"),
                           &out);
  EXPECT_EQ(rc2, 2) << out;
  EXPECT_TRUE(absl::StrContains(out, "PULL_INSECURE")) << out;
}

// The real thing: nginx on 127.0.0.1 serving an `edictctl publish` directory over HTTPS.
class AgentPullServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (pulltest::FindNginx().empty()) {
      GTEST_SKIP() << "nginx is not installed (apt-get install nginx-light): pull part skipped";
    }
    d_ = t_.path();
    const std::string ctl = EDICT_CTL_BINARY;
    const std::string now = std::to_string(absl::ToUnixSeconds(absl::Now()));
    // Keys, trust, bundles serial 1 and 2 (edictctl, as an administrator would).
    const std::string script = absl::StrCat(
        "set -e; cd ", d_, "; C=", ctl, "; now=", now,
        "; iso() { date -u -d \"@$1\" +%Y-%m-%dT%H:%M:%SZ; }\n"
        "$C keygen --out root >/dev/null; $C keygen --out signer >/dev/null\n"
        "$C trust init --root root.pub --signer signer.pub --sign-key root --valid-days 30 "
        "-o trust.edt >/dev/null\n"
        "for s in 1 2; do\n"
        "cat > p$s.json <<EOF\n"
        "{ \"format\": 1, \"serial\": $s, \"issued_at\": \"$(iso $((now - 3600)))\",\n"
        "  \"expires_at\": \"$(iso $((now + 86400)))\", \"target\": { \"tenant\": \"contoso\" },\n"
        "  \"settings\": [ { \"setting\": \"communicator.ceip\", \"level\": \"mandatory\", "
        "\"value\": false } ] }\n"
        "EOF\n"
        "$C compile p$s.json -o p$s.bin >/dev/null; $C sign p$s.bin --key signer -o b$s.edict "
        ">/dev/null\n"
        "done\n"
        "mkdir -p www/pub spool\n"
        "$C publish --bundle b1.edict --trust trust.edt www/pub >/dev/null\n");
    std::string out;
    ASSERT_EQ(RunShell(absl::StrCat("sh -c '", Escape(script), "' 2>&1"), &out), 0) << out;

    auto ca = pulltest::MakeCa("edict agent test CA");
    auto other = pulltest::MakeCa("some other CA");
    ASSERT_TRUE(ca.ok() && other.ok());
    auto leaf = pulltest::MakeLeaf(*ca, "127.0.0.1");
    ASSERT_TRUE(leaf.ok());
    pulltest::WriteFile(d_ + "/ca.pem", ca->cert);
    pulltest::WriteFile(d_ + "/other-ca.pem", other->cert);
    pulltest::WriteFile(d_ + "/server.crt", leaf->cert);
    pulltest::WriteFile(d_ + "/server.key", leaf->key);
    ::chmod((d_ + "/server.key").c_str(), 0600);

    port_ = pulltest::FreePort();
    const std::string server = absl::StrCat(
        "  server {\n    listen 127.0.0.1:", port_, " ssl;\n    server_name 127.0.0.1;\n",
        "    ssl_certificate ", d_, "/server.crt;\n    ssl_certificate_key ", d_,
        "/server.key;\n    ssl_protocols TLSv1.2 TLSv1.3;\n    root ", d_, "/www;\n  }\n");
    std::string error;
    ASSERT_TRUE(nginx_.Start(d_ + "/nginx", server, {port_}, &error)) << error;
    url_ = absl::StrCat("https://127.0.0.1:", port_, "/pub/edict-index.json");

    WriteFileOrDie(
        d_ + "/agent.conf",
        absl::StrCat("state_dir = ", d_, "/state\nspool_dir = ", d_, "/spool\nlock_file = ", d_,
                     "/agent.lock\ntrust_pinned = ", d_, "/trust.edt\naudit_file = ", d_,
                     "/audit.jsonl\naudit_syslog = false\ntenant = contoso\n"
                     "device_id = pull-test-device\nnative_root = ",
                     d_, "/native\ndconf_update = false\nsettle_ms = 0\n"));
  }

  static std::string Escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    return out;
  }

  // edict-agent --config agent.conf ARGS; returns the exit status, output in *out.
  int Agent(const std::string& args, std::string* out) {
    return RunShell(
        absl::StrCat(EDICT_AGENT_BINARY, " --config ", d_, "/agent.conf ", args, " 2>&1"), out);
  }
  std::string Status() {
    std::string out;
    Agent("status --json", &out);
    return out;
  }
  std::string Audit() { return ReadFileOrNull(d_ + "/audit.jsonl").value_or(""); }

  TempDir t_;
  std::string d_;
  pulltest::Nginx nginx_;
  int port_ = 0;
  std::string url_;
};

TEST_F(AgentPullServerTest, OnceActivatesThen304ThenNewBundleAndWrongCaKeepsThePolicy) {
  const std::string ca = absl::StrCat(" --ca-file ", d_, "/ca.pem");
  std::string out;

  // 1. First fetch: index, (trust skipped: the pinned version) bundle; activated.
  EXPECT_EQ(Agent(absl::StrCat("once --source ", url_, ca), &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("source ", url_, ": OK"))) << out;
  EXPECT_TRUE(absl::StrContains(out, "bundle serial 1: activated")) << out;
  EXPECT_TRUE(absl::StrContains(Status(), "\"serial\":1,")) << Status();
  const size_t activations = Count(Audit(), "\"kind\":\"activation\"");
  EXPECT_EQ(activations, 1u) << Audit();

  // 2. Unchanged: one conditional request, 304, nothing downloaded or re-activated.
  const size_t bundle_gets = Count(nginx_.AccessLog(), "GET /pub/bundle-");
  EXPECT_EQ(bundle_gets, 1u) << nginx_.AccessLog();
  EXPECT_EQ(Agent(absl::StrCat("once --source ", url_, ca), &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "NOT_MODIFIED; HTTP 304, 1 request(s)")) << out;
  EXPECT_EQ(Count(nginx_.AccessLog(), "GET /pub/bundle-"), bundle_gets) << nginx_.AccessLog();
  EXPECT_EQ(Count(nginx_.AccessLog(), " 304 "), 1u) << nginx_.AccessLog();
  EXPECT_EQ(Count(Audit(), "\"kind\":\"activation\""), activations) << Audit();

  // 3. status shows the source (JSON and text).
  const std::string st = Status();
  EXPECT_TRUE(absl::StrContains(st, absl::StrCat("\"sources\":[{\"name\":\"", url_, "\""))) << st;
  EXPECT_TRUE(absl::StrContains(st, "\"last_result\":\"NOT_MODIFIED\"")) << st;
  EXPECT_TRUE(absl::StrContains(st, "\"http_status\":304")) << st;
  EXPECT_TRUE(absl::StrContains(st, "\"consecutive_failures\":0")) << st;
  EXPECT_EQ(Agent("status", &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("source:          ", url_, "\n"))) << out;
  EXPECT_TRUE(absl::StrContains(out, "last result:   NOT_MODIFIED (HTTP 304)")) << out;

  // 4. A newer bundle is published, but the agent is told to trust another CA: the TLS
  //    handshake fails, PULL_TLS_UNTRUSTED is audited, serial 1 stays active.
  std::string sh;
  ASSERT_EQ(RunShell(absl::StrCat("cd ", d_, " && ", EDICT_CTL_BINARY,
                                  " publish --bundle b2.edict --trust trust.edt www/pub 2>&1"),
                     &sh),
            0)
      << sh;
  EXPECT_EQ(Agent(absl::StrCat("once --source ", url_, " --ca-file ", d_, "/other-ca.pem"), &out),
            1)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "PULL_TLS_UNTRUSTED")) << out;
  EXPECT_TRUE(absl::StrContains(Audit(), "\"code\":\"PULL_TLS_UNTRUSTED\"")) << Audit();
  EXPECT_TRUE(absl::StrContains(Status(), "\"serial\":1,")) << Status();
  EXPECT_TRUE(absl::StrContains(Status(), "\"last_result\":\"PULL_TLS_UNTRUSTED\"")) << Status();
  EXPECT_TRUE(absl::StrContains(Status(), "\"consecutive_failures\":1")) << Status();

  // 5. With the right CA the new bundle is fetched and activated.
  EXPECT_EQ(Agent(absl::StrCat("once --source ", url_, ca), &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "bundle serial 2: activated")) << out;
  EXPECT_TRUE(absl::StrContains(Status(), "\"serial\":2,")) << Status();

  // 6. The same source from the configuration file (source.NAME.*), polled by a plain
  //    `once`: shares the saved record (same URL), so it is unchanged.
  const std::string conf = *ReadFileOrNull(d_ + "/agent.conf");
  WriteFileOrDie(d_ + "/agent.conf", absl::StrCat(conf, "source.origin.url = ", url_,
                                                  "\nsource.origin.ca_file = ", d_, "/ca.pem\n"));
  EXPECT_EQ(Agent("once", &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("source origin (", url_, "): NOT_MODIFIED")))
      << out;
  EXPECT_EQ(Agent("status", &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("source:          origin ", url_))) << out;

  // 7. unenroll forgets the saved source status too (a re-enrolment fetches everything).
  EXPECT_EQ(Agent("unenroll", &out), 0) << out;
  EXPECT_FALSE(absl::StrContains(Status(), "\"last_result\":\"NOT_MODIFIED\"")) << Status();
  EXPECT_EQ(Agent("once", &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "bundle serial 2: activated")) << out;
}

}  // namespace
}  // namespace edict::agent::testing
