// Audit: JSON lines that always parse, size-based rotation without losses, syslog lines.

#include "ports/audit.h"

#include <syslog.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "ports/fault_injector.h"
#include "ports/linux/linux_audit.h"
#include "tests/ports/test_util.h"

namespace edict::ports {
namespace {

using testing::Json;
using testing::ParseJson;
using testing::ReadFileOrNull;
using testing::TempDir;

AuditEvent Event(int n) {
  AuditEvent e;
  e.time = absl::FromUnixMillis(1714564800250 + n);
  e.kind = n % 2 ? AuditKind::kActivation : AuditKind::kRejection;
  e.code = n % 2 ? "OK" : "SIGNATURE_THRESHOLD";
  e.message = absl::StrCat("event ", n);
  e.serial = static_cast<uint64_t>(n);
  return e;
}

TEST(AuditFormat, ExactLine) {
  AuditEvent e;
  e.time = absl::FromUnixMillis(1714564800250);
  e.kind = AuditKind::kActivation;
  e.code = "OK";
  e.serial = 7;
  e.message = "bundle 7 active";
  EXPECT_EQ(FormatAuditJson(e),
            "{\"time\":\"2024-05-01T12:00:00.25Z\",\"kind\":\"activation\",\"code\":\"OK\","
            "\"serial\":7,\"message\":\"bundle 7 active\"}");
  e.serial.reset();
  e.kind = AuditKind::kStart;
  EXPECT_FALSE(absl::StrContains(FormatAuditJson(e), "serial"));
  EXPECT_TRUE(absl::StrContains(FormatAuditJson(e), "\"kind\":\"start\""));
}

TEST(AuditFormat, HostileMessagesStayOneValidLine) {
  AuditEvent e;
  e.time = absl::UnixEpoch();
  e.kind = AuditKind::kRejection;
  e.code = "BAD\"CODE";
  e.message = std::string("quote\" backslash\\ newline\n nul") + std::string(1, '\0') +
              " bad utf8 \xff\xfe tab\t del\x7f é";
  const std::string line = FormatAuditJson(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  std::optional<Json> json = ParseJson(line);
  ASSERT_TRUE(json.has_value()) << line;
  EXPECT_EQ(json->object["code"].str, "BAD\"CODE");
  EXPECT_TRUE(absl::StartsWith(json->object["message"].str, "quote\" backslash\\ newline\n nul"));
  EXPECT_TRUE(absl::StrContains(json->object["message"].str, "é"));
  // Very long messages are cut.
  e.message = std::string(3 * kMaxAuditMessageBytes, 'm');
  EXPECT_LT(FormatAuditJson(e).size(), kMaxAuditMessageBytes + 200);
}

// Reads every audit file (oldest first) and returns the parsed lines.
std::vector<Json> ReadAll(const std::string& path, int keep, size_t max_bytes) {
  std::vector<Json> out;
  for (int i = keep - 1; i >= 0; --i) {
    const std::string file = i == 0 ? path : absl::StrCat(path, ".", i);
    std::optional<std::string> text = ReadFileOrNull(file);
    if (!text.has_value()) continue;
    EXPECT_LE(text->size(), max_bytes) << file;
    EXPECT_TRUE(text->empty() || text->back() == '\n') << file;
    for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
      std::optional<Json> json = ParseJson(line);
      EXPECT_TRUE(json.has_value()) << line;
      if (json.has_value()) out.push_back(*json);
    }
  }
  return out;
}

TEST(JsonLinesAudit, RotatesBySizeAndLosesNothingWithinRetention) {
  TempDir dir;
  JsonLinesAuditOptions options;
  options.path = dir.Sub("log/audit.jsonl");
  options.max_file_bytes = 2000;
  options.keep_files = 50;
  auto sink = OpenJsonLinesAuditSink(options).value();
  const int kEvents = 500;  // about 120 bytes each: ~30 files
  for (int i = 0; i < kEvents; ++i) ASSERT_TRUE(sink->Record(Event(i)).ok());
  std::vector<Json> lines = ReadAll(options.path, options.keep_files, options.max_file_bytes);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) {
    EXPECT_EQ(lines[static_cast<size_t>(i)].object["serial"].number, i);
  }
  EXPECT_TRUE(testing::PathExists(options.path + ".20"));
}

TEST(JsonLinesAudit, KeepsOnlyTheNewestFiles) {
  TempDir dir;
  JsonLinesAuditOptions options;
  options.path = dir.Sub("audit.jsonl");
  options.max_file_bytes = 1000;
  options.keep_files = 3;
  auto sink = OpenJsonLinesAuditSink(options).value();
  const int kEvents = 300;
  for (int i = 0; i < kEvents; ++i) ASSERT_TRUE(sink->Record(Event(i)).ok());
  EXPECT_EQ(testing::ListDir(dir.path()),
            (std::vector<std::string>{"audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"}));
  std::vector<Json> lines = ReadAll(options.path, 10, options.max_file_bytes);
  ASSERT_FALSE(lines.empty());
  // What is kept is the newest contiguous run: nothing missing in the middle.
  const int first = static_cast<int>(lines.front().object["serial"].number);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].object["serial"].number, first + static_cast<int>(i));
  }
  EXPECT_EQ(lines.back().object["serial"].number, kEvents - 1);
  EXPECT_GT(lines.size(), 10u);
}

TEST(JsonLinesAudit, ReopenAppendsAndCountsExistingSize) {
  TempDir dir;
  JsonLinesAuditOptions options;
  options.path = dir.Sub("audit.jsonl");
  options.max_file_bytes = 1000;
  options.keep_files = 10;
  for (int round = 0; round < 3; ++round) {
    auto sink = OpenJsonLinesAuditSink(options).value();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(sink->Record(Event(round * 20 + i)).ok());
  }
  std::vector<Json> lines = ReadAll(options.path, options.keep_files, options.max_file_bytes);
  ASSERT_EQ(lines.size(), 60u);
  for (int i = 0; i < 60; ++i) EXPECT_EQ(lines[static_cast<size_t>(i)].object["serial"].number, i);
}

TEST(JsonLinesAudit, ConcurrentWritersInterleaveWholeLines) {
  TempDir dir;
  JsonLinesAuditOptions options;
  options.path = dir.Sub("audit.jsonl");
  options.max_file_bytes = 4000;
  options.keep_files = 100;
  auto sink = OpenJsonLinesAuditSink(options).value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&sink, t] {
      for (int i = 0; i < 100; ++i) EXPECT_TRUE(sink->Record(Event(t * 1000 + i)).ok());
    });
  }
  for (auto& th : threads) th.join();
  std::vector<Json> lines = ReadAll(options.path, options.keep_files, options.max_file_bytes);
  std::set<int> serials;
  for (Json& j : lines) serials.insert(static_cast<int>(j.object["serial"].number));
  EXPECT_EQ(serials.size(), 400u);
}

TEST(JsonLinesAudit, InjectedWriteErrorIsReportedThenRecovers) {
  TempDir dir;
  ScriptedFaultInjector faults;
  FaultRule rule;
  rule.op = IoOp::kWrite;
  rule.skip = 2;
  rule.error = std::errc::no_space_on_device;
  faults.AddRule(rule);
  JsonLinesAuditOptions options;
  options.path = dir.Sub("audit.jsonl");
  options.faults = &faults;
  auto sink = OpenJsonLinesAuditSink(options).value();
  EXPECT_TRUE(sink->Record(Event(0)).ok());
  EXPECT_TRUE(sink->Record(Event(1)).ok());
  EXPECT_TRUE(absl::IsResourceExhausted(sink->Record(Event(2))));
  EXPECT_TRUE(sink->Record(Event(3)).ok());
  std::vector<Json> lines = ReadAll(options.path, 1, options.max_file_bytes);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2].object["serial"].number, 3);
}

TEST(JsonLinesAudit, RejectsBadOptions) {
  JsonLinesAuditOptions options;
  options.path = "";
  EXPECT_TRUE(absl::IsInvalidArgument(OpenJsonLinesAuditSink(options).status()));
  options.path = "/tmp/x";
  options.keep_files = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(OpenJsonLinesAuditSink(options).status()));
}

TEST(SyslogAudit, PriorityAndOneLinePerEvent) {
  std::vector<std::pair<int, std::string>> got;
  SyslogAuditOptions options;
  options.emit = [&got](int priority, const std::string& line) {
    got.emplace_back(priority, line);
  };
  auto sink = OpenSyslogAuditSink(options).value();
  AuditEvent e = Event(4);
  e.message = "two\nlines";
  ASSERT_TRUE(sink->Record(e).ok());
  e.kind = AuditKind::kStateFallback;
  e.serial.reset();
  e.code = "STATE_DATA_LOSS";
  ASSERT_TRUE(sink->Record(e).ok());
  e.kind = AuditKind::kActivation;
  ASSERT_TRUE(sink->Record(e).ok());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].first, LOG_WARNING);
  EXPECT_EQ(got[0].second, "kind=rejection code=SIGNATURE_THRESHOLD serial=4 two lines");
  EXPECT_EQ(got[1].first, LOG_ERR);
  EXPECT_EQ(got[1].second, "kind=state_fallback code=STATE_DATA_LOSS two lines");
  EXPECT_EQ(got[2].first, LOG_INFO);
}

TEST(SyslogAudit, RealSyslogDoesNotFail) {
  auto sink = OpenSyslogAuditSink(SyslogAuditOptions{"edict-ports-test", LOG_USER, {}}).value();
  EXPECT_TRUE(sink->Record(Event(1)).ok());
}

class FailingSink : public AuditSink {
 public:
  absl::Status Record(const AuditEvent&) override { return absl::UnavailableError("down"); }
};

TEST(CompositeAudit, EverySinkGetsEveryEventEvenAfterAFailure) {
  auto memory1 = std::make_unique<MemoryAuditSink>();
  auto memory2 = std::make_unique<MemoryAuditSink>();
  MemoryAuditSink* m1 = memory1.get();
  MemoryAuditSink* m2 = memory2.get();
  std::vector<std::unique_ptr<AuditSink>> sinks;
  sinks.push_back(std::move(memory1));
  sinks.push_back(std::make_unique<FailingSink>());
  sinks.push_back(std::move(memory2));
  CompositeAuditSink composite(std::move(sinks));
  EXPECT_TRUE(absl::IsUnavailable(composite.Record(Event(1))));
  EXPECT_EQ(m1->Events().size(), 1u);
  EXPECT_EQ(m2->Events().size(), 1u);
  EXPECT_EQ(m2->Events()[0].message, "event 1");
}

}  // namespace
}  // namespace edict::ports
