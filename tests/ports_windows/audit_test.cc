// Event Log and JSON-lines audit sinks.

#include <windows.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "ports/fault_injector.h"
#include "ports/windows/win_audit.h"
#include "tests/ports_windows/test_util.h"

namespace edict::ports {
namespace {

AuditEvent Event(AuditKind kind, std::string message, std::optional<uint64_t> serial = {}) {
  AuditEvent e;
  e.time = absl::FromUnixSeconds(1714564800);
  e.kind = kind;
  e.code = "OK";
  e.message = std::move(message);
  e.serial = serial;
  return e;
}

TEST(EventLogAudit, TypesIdsAndOneLinePerEvent) {
  std::vector<EventLogRecord> seen;
  EventLogAuditOptions options;
  options.emit = [&seen](const EventLogRecord& r) { seen.push_back(r); };
  auto sink = OpenEventLogAuditSink(options).value();
  ASSERT_TRUE(sink->Record(Event(AuditKind::kActivation, "bundle 7 active", 7)).ok());
  ASSERT_TRUE(sink->Record(Event(AuditKind::kRejection, "bad\r\nforged line")).ok());
  ASSERT_TRUE(sink->Record(Event(AuditKind::kStateFallback, "x")).ok());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].type, EVENTLOG_INFORMATION_TYPE);
  EXPECT_EQ(seen[0].event_id, 1002u);
  EXPECT_EQ(seen[0].text, "kind=activation code=OK serial=7 bundle 7 active");
  EXPECT_EQ(seen[1].type, EVENTLOG_WARNING_TYPE);
  EXPECT_EQ(seen[1].text, "kind=rejection code=OK bad  forged line");
  EXPECT_EQ(seen[2].type, EVENTLOG_ERROR_TYPE);
}

// ReportEventW through a real event source. Under wine, RegisterEventSourceW and
// ReportEventW succeed but the event is only traced (wine has no event log service to read
// back from); on Windows the event is in the Application log.
TEST(EventLogAudit, RealReportEventSucceeds) {
  EventLogAuditOptions options;
  options.source = "edict-test";
  absl::StatusOr<std::unique_ptr<AuditSink>> sink = OpenEventLogAuditSink(options);
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_TRUE((*sink)->Record(Event(AuditKind::kStart, "edict ports test")).ok());
  HANDLE log = ::OpenEventLogW(nullptr, L"Application");
  if (log == nullptr) {
    GTEST_SKIP() << "OpenEventLogW failed (error " << ::GetLastError()
                 << "): no readable event log here (wine); the write itself succeeded";
  }
  DWORD records = 0;
  const BOOL counted = ::GetNumberOfEventLogRecords(log, &records);
  ::CloseEventLog(log);
  if (!counted || records == 0) {
    GTEST_SKIP() << "the event log reports no records (wine does not store events); the "
                    "write itself succeeded";
  }
  EXPECT_GT(records, 0u);
}

TEST(JsonLinesAudit, WritesOneJsonLinePerEventAndRotates) {
  wintest::TempDir dir;
  WindowsJsonLinesAuditOptions options;
  options.path = dir.Sub("logs\\audit.jsonl");
  options.max_file_bytes = 400;
  options.keep_files = 3;
  options.sync_each_event = true;
  auto sink = OpenWindowsJsonLinesAuditSink(options).value();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(sink->Record(Event(AuditKind::kActivation, "activated", i)).ok());
  }
  const std::vector<std::string> files = wintest::ListDir(dir.Sub("logs"));
  EXPECT_EQ(files, (std::vector<std::string>{"audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"}));
  const std::string text = *wintest::ReadFileOrNull(options.path);
  EXPECT_FALSE(absl::StrContains(text, "\r")) << "lines end in LF only";
  ASSERT_TRUE(absl::EndsWith(text, "\n"));
  for (absl::string_view line : absl::StrSplit(absl::StripSuffix(text, "\n"), '\n')) {
    EXPECT_TRUE(
        absl::StartsWith(line, "{\"time\":\"2024-05-01T12:00:00Z\",\"kind\":\"activation\""))
        << line;
    EXPECT_LE(line.size() + 1, 400u);
  }
  EXPECT_TRUE(absl::StrContains(text, "\"serial\":19"));
  // Reopening appends.
  sink.reset();
  auto again = OpenWindowsJsonLinesAuditSink(options).value();
  ASSERT_TRUE(again->Record(Event(AuditKind::kStop, "bye")).ok());
  EXPECT_TRUE(absl::StrContains(*wintest::ReadFileOrNull(options.path), "\"kind\":\"stop\""));
}

TEST(JsonLinesAudit, InjectedWriteErrorIsReportedThenRecovers) {
  wintest::TempDir dir;
  ScriptedFaultInjector faults;
  FaultRule rule;
  rule.op = IoOp::kWrite;
  rule.error = std::errc::no_space_on_device;
  faults.AddRule(rule);
  WindowsJsonLinesAuditOptions options;
  options.path = dir.Sub("audit.jsonl");
  options.faults = &faults;
  auto sink = OpenWindowsJsonLinesAuditSink(options).value();
  EXPECT_TRUE(absl::IsResourceExhausted(sink->Record(Event(AuditKind::kError, "lost"))));
  EXPECT_TRUE(sink->Record(Event(AuditKind::kError, "kept")).ok());
  const std::string text = *wintest::ReadFileOrNull(options.path);
  EXPECT_FALSE(absl::StrContains(text, "lost"));
  EXPECT_TRUE(absl::StrContains(text, "kept"));
}

}  // namespace
}  // namespace edict::ports
