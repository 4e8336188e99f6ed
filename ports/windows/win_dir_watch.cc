#include "ports/windows/win_dir_watch.h"

#include <windows.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ports/windows/win_io.h"

namespace edict::ports {
namespace {

class WinDirectoryWatcher : public DirectoryWatcher {
 public:
  WinDirectoryWatcher(HANDLE dir, HANDLE event, std::string path)
      : dir_(dir), event_(event), path_(std::move(path)) {}
  ~WinDirectoryWatcher() override {
    if (pending_) {
      ::CancelIoEx(dir_, &overlapped_);
      DWORD n = 0;
      ::GetOverlappedResult(dir_, &overlapped_, &n, TRUE);  // the buffer must outlive the read
    }
    ::CloseHandle(dir_);
    ::CloseHandle(event_);
  }

  void* event() const override { return event_; }

  absl::Status Start() {
    std::memset(&overlapped_, 0, sizeof(overlapped_));
    overlapped_.hEvent = event_;
    ::ResetEvent(event_);
    constexpr DWORD kFilter = FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_DIR_NAME |
                              FILE_NOTIFY_CHANGE_SIZE | FILE_NOTIFY_CHANGE_LAST_WRITE |
                              FILE_NOTIFY_CHANGE_CREATION | FILE_NOTIFY_CHANGE_ATTRIBUTES;
    if (!::ReadDirectoryChangesW(dir_, buffer_, sizeof(buffer_), FALSE, kFilter, nullptr,
                                 &overlapped_, nullptr)) {
      const DWORD e = ::GetLastError();
      if (e == ERROR_INVALID_FUNCTION || e == ERROR_NOT_SUPPORTED ||
          e == ERROR_CALL_NOT_IMPLEMENTED) {
        return absl::UnimplementedError(absl::StrCat("ReadDirectoryChangesW on ", path_,
                                                     ": not supported (Win32 error ", e, ")"));
      }
      return win::Win32ErrorStatus(e, "ReadDirectoryChangesW", path_);
    }
    pending_ = true;
    return absl::OkStatus();
  }

  absl::Status Collect(std::vector<DirectoryChange>* out, bool* overflow) override {
    *overflow = false;
    if (!pending_) return Start();
    DWORD n = 0;
    if (!::GetOverlappedResult(dir_, &overlapped_, &n, FALSE)) {
      const DWORD e = ::GetLastError();
      if (e == ERROR_IO_INCOMPLETE) return absl::OkStatus();  // nothing yet
      pending_ = false;
      if (e == ERROR_NOTIFY_ENUM_DIR) {
        *overflow = true;
        return Start();
      }
      return win::Win32ErrorStatus(e, "ReadDirectoryChangesW", path_);
    }
    pending_ = false;
    if (n == 0) {
      *overflow = true;  // the buffer was too small for what happened: rescan
    } else {
      const auto* base = reinterpret_cast<const uint8_t*>(buffer_);
      for (DWORD offset = 0;;) {
        const auto* info = reinterpret_cast<const FILE_NOTIFY_INFORMATION*>(base + offset);
        DirectoryChange c;
        c.name = win::Narrow(info->FileName, info->FileNameLength / sizeof(wchar_t));
        switch (info->Action) {
          case FILE_ACTION_ADDED:
            c.action = DirectoryChange::Action::kAdded;
            break;
          case FILE_ACTION_REMOVED:
            c.action = DirectoryChange::Action::kRemoved;
            break;
          case FILE_ACTION_RENAMED_OLD_NAME:
            c.action = DirectoryChange::Action::kRenamedFrom;
            break;
          case FILE_ACTION_RENAMED_NEW_NAME:
            c.action = DirectoryChange::Action::kRenamedTo;
            break;
          default:
            c.action = DirectoryChange::Action::kModified;
        }
        out->push_back(std::move(c));
        if (info->NextEntryOffset == 0) break;
        offset += info->NextEntryOffset;
        if (offset >= n) break;
      }
    }
    return Start();
  }

 private:
  HANDLE dir_;
  HANDLE event_;
  std::string path_;
  OVERLAPPED overlapped_ = {};
  bool pending_ = false;
  // DWORD-aligned, as ReadDirectoryChangesW requires; 64 KiB is the most a network share takes.
  DWORD buffer_[16384];
};

}  // namespace

absl::StatusOr<std::unique_ptr<DirectoryWatcher>> OpenDirectoryWatcher(const std::string& dir) {
  HANDLE h =
      ::CreateFileW(win::Widen(dir).c_str(), FILE_LIST_DIRECTORY,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                    FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OVERLAPPED, nullptr);
  if (h == INVALID_HANDLE_VALUE) return win::Win32ErrorStatus(::GetLastError(), "open", dir);
  HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (event == nullptr) {
    const DWORD e = ::GetLastError();
    ::CloseHandle(h);
    return win::Win32ErrorStatus(e, "CreateEventW", dir);
  }
  auto watcher = std::make_unique<WinDirectoryWatcher>(h, event, dir);
  if (absl::Status s = watcher->Start(); !s.ok()) return s;
  return std::unique_ptr<DirectoryWatcher>(std::move(watcher));
}

bool FileHasWriter(const std::string& path) {
  HANDLE h = ::CreateFileW(win::Widen(path).c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr,
                           OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (h == INVALID_HANDLE_VALUE) return ::GetLastError() == ERROR_SHARING_VIOLATION;
  ::CloseHandle(h);
  return false;
}

}  // namespace edict::ports
