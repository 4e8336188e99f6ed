#include "ports/windows/win_audit.h"

#include <windows.h>

#include <algorithm>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ports/windows/win_io.h"
#include "ports/windows/win_state_store.h"

namespace edict::ports {
namespace {

using win::WinIo;

class WindowsJsonLinesAuditSink : public AuditSink {
 public:
  explicit WindowsJsonLinesAuditSink(WindowsJsonLinesAuditOptions options)
      : options_(std::move(options)), io_(options_.faults) {}

  ~WindowsJsonLinesAuditSink() override {
    absl::MutexLock lock(&mu_);
    if (file_ != INVALID_HANDLE_VALUE) ::CloseHandle(file_);
  }

  absl::Status Open() {
    absl::MutexLock lock(&mu_);
    return OpenLocked();
  }

  absl::Status Record(const AuditEvent& event) override {
    std::string line = FormatAuditJson(event);
    line.push_back('\n');
    absl::MutexLock lock(&mu_);
    if (file_ == INVALID_HANDLE_VALUE) {
      if (absl::Status s = OpenLocked(); !s.ok()) return s;
    }
    if (size_ > 0 && size_ + line.size() > options_.max_file_bytes) {
      if (absl::Status s = RotateLocked(); !s.ok()) return s;
    }
    if (absl::Status s = io_.Check(IoOp::kWrite, options_.path, "write"); !s.ok()) return s;
    DWORD n = 0;
    if (!::WriteFile(file_, line.data(), static_cast<DWORD>(line.size()), &n, nullptr) ||
        n != line.size()) {
      const DWORD error = ::GetLastError();
      // Drop a partial line so the file stays parseable line by line.
      LARGE_INTEGER at;
      at.QuadPart = static_cast<LONGLONG>(size_);
      if (::SetFilePointerEx(file_, at, nullptr, FILE_BEGIN)) ::SetEndOfFile(file_);
      return win::Win32ErrorStatus(error, "write", options_.path);
    }
    size_ += line.size();
    if (options_.sync_each_event) {
      if (absl::Status s = io_.Check(IoOp::kFsync, options_.path, "flush"); !s.ok()) return s;
      if (!::FlushFileBuffers(file_)) {
        return win::Win32ErrorStatus(::GetLastError(), "flush", options_.path);
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status OpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (absl::Status s = io_.MakeDirs(win::DirName(options_.path)); !s.ok()) return s;
    if (absl::Status s = io_.Check(IoOp::kOpen, options_.path, "open"); !s.ok()) return s;
    // FILE_APPEND_DATA without FILE_WRITE_DATA: every write goes to the end of the file.
    file_ = ::CreateFileW(win::Widen(options_.path).c_str(), FILE_APPEND_DATA | SYNCHRONIZE,
                          FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr, OPEN_ALWAYS,
                          FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file_ == INVALID_HANDLE_VALUE) {
      return win::Win32ErrorStatus(::GetLastError(), "open", options_.path);
    }
    LARGE_INTEGER size;
    if (!::GetFileSizeEx(file_, &size)) {
      const DWORD error = ::GetLastError();
      ::CloseHandle(file_);
      file_ = INVALID_HANDLE_VALUE;
      return win::Win32ErrorStatus(error, "stat", options_.path);
    }
    size_ = static_cast<size_t>(size.QuadPart);
    return absl::OkStatus();
  }

  std::string Rotated(int n) const { return absl::StrCat(options_.path, ".", n); }

  // path.(k-1) is dropped, path.i -> path.(i+1), path -> path.1, fresh path.
  absl::Status RotateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ::CloseHandle(file_);  // Windows cannot rename a file this process holds without sharing
    file_ = INVALID_HANDLE_VALUE;
    if (options_.keep_files <= 1) {
      if (absl::Status s = io_.Unlink(options_.path, /*missing_ok=*/true); !s.ok()) return s;
      return OpenLocked();
    }
    const int last = options_.keep_files - 1;
    if (absl::Status s = io_.Unlink(Rotated(last), /*missing_ok=*/true); !s.ok()) return s;
    for (int i = last - 1; i >= 1; --i) {
      if (!WinIo::Exists(Rotated(i))) continue;
      if (absl::Status s = io_.Rename(Rotated(i), Rotated(i + 1)); !s.ok()) return s;
    }
    if (absl::Status s = io_.Rename(options_.path, Rotated(1)); !s.ok()) return s;
    return OpenLocked();
  }

  const WindowsJsonLinesAuditOptions options_;
  WinIo io_;
  absl::Mutex mu_;
  HANDLE file_ ABSL_GUARDED_BY(mu_) = INVALID_HANDLE_VALUE;
  size_t size_ ABSL_GUARDED_BY(mu_) = 0;
};

class EventLogAuditSink : public AuditSink {
 public:
  EventLogAuditSink(EventLogAuditOptions options, HANDLE source)
      : options_(std::move(options)), source_(source) {}
  ~EventLogAuditSink() override {
    if (source_ != nullptr) ::DeregisterEventSource(source_);
  }

  absl::Status Record(const AuditEvent& event) override {
    const EventLogRecord record = ToEventLogRecord(event);
    absl::MutexLock lock(&mu_);
    if (options_.emit) {
      options_.emit(record);
      return absl::OkStatus();
    }
    const std::wstring text = win::Widen(record.text);
    LPCWSTR strings[1] = {text.c_str()};
    if (!::ReportEventW(source_, record.type, /*wCategory=*/0, record.event_id, nullptr, 1, 0,
                        strings, nullptr)) {
      return win::Win32ErrorStatus(::GetLastError(), "ReportEventW for source", options_.source);
    }
    return absl::OkStatus();
  }

 private:
  const EventLogAuditOptions options_;
  const HANDLE source_;
  absl::Mutex mu_;
};

}  // namespace

EventLogRecord ToEventLogRecord(const AuditEvent& event) {
  EventLogRecord record;
  switch (event.kind) {
    case AuditKind::kRejection:
      record.type = EVENTLOG_WARNING_TYPE;
      break;
    case AuditKind::kError:
    case AuditKind::kStateFallback:
      record.type = EVENTLOG_ERROR_TYPE;
      break;
    default:
      record.type = EVENTLOG_INFORMATION_TYPE;
      break;
  }
  record.event_id = 1000 + static_cast<uint32_t>(event.kind);
  record.text = absl::StrCat("kind=", AuditKindName(event.kind), " code=", event.code);
  if (event.serial.has_value()) absl::StrAppend(&record.text, " serial=", *event.serial);
  record.text.push_back(' ');
  // One line per event: control characters would split or forge lines in log viewers.
  const size_t limit = std::min(event.message.size(), kMaxAuditMessageBytes);
  for (size_t i = 0; i < limit; ++i) {
    const unsigned char c = static_cast<unsigned char>(event.message[i]);
    record.text.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
  }
  return record;
}

absl::StatusOr<std::unique_ptr<AuditSink>> OpenWindowsJsonLinesAuditSink(
    const WindowsJsonLinesAuditOptions& options) {
  WindowsJsonLinesAuditOptions o = options;
  if (o.path.empty()) o.path = win::JoinPath(DefaultWindowsStateRoot(), "audit.jsonl");
  if (o.keep_files < 1) return absl::InvalidArgumentError("audit keep_files must be >= 1");
  if (o.max_file_bytes == 0) return absl::InvalidArgumentError("audit max_file_bytes must be > 0");
  auto sink = std::make_unique<WindowsJsonLinesAuditSink>(std::move(o));
  if (absl::Status s = sink->Open(); !s.ok()) return s;
  return std::unique_ptr<AuditSink>(std::move(sink));
}

absl::StatusOr<std::unique_ptr<AuditSink>> OpenEventLogAuditSink(EventLogAuditOptions options) {
  if (options.source.empty()) return absl::InvalidArgumentError("event source name is empty");
  HANDLE source = nullptr;
  if (!options.emit) {
    source = ::RegisterEventSourceW(nullptr, win::Widen(options.source).c_str());
    if (source == nullptr) {
      return win::Win32ErrorStatus(::GetLastError(), "RegisterEventSourceW", options.source);
    }
  }
  return std::unique_ptr<AuditSink>(new EventLogAuditSink(std::move(options), source));
}

}  // namespace edict::ports
