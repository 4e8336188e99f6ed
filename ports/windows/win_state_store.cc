#include "ports/windows/win_state_store.h"

#include <windows.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ports/windows/win_io.h"

namespace edict::ports {
namespace {

using win::JoinPath;
using win::WinIo;

// A verified generation: its content and the exact file image it came from.
struct Generation {
  std::string content;
  std::string image;
};

class WindowsStateStore : public StateStore {
 public:
  WindowsStateStore(std::string root, const WindowsStateStoreOptions& options)
      : root_(std::move(root)), io_(options.faults), max_blob_bytes_(options.max_blob_bytes) {}

  absl::Status Write(absl::string_view name, absl::string_view bytes) override {
    if (absl::Status s = ValidateStateBlobName(name); !s.ok()) return s;
    if (bytes.size() > max_blob_bytes_) {
      return absl::InvalidArgumentError(absl::StrCat("state blob \"", name, "\" of ", bytes.size(),
                                                     " bytes exceeds the limit of ",
                                                     max_blob_bytes_));
    }
    absl::MutexLock lock(&mu_);
    const std::string image = EncodeStateBlob(name, bytes);
    const absl::string_view header = absl::string_view(image).substr(0, kStateBlobHeaderSize);
    const absl::string_view content = absl::string_view(image).substr(kStateBlobHeaderSize);
    const std::string current = Path(name, "");
    const std::string tmp = Path(name, ".tmp");
    if (absl::Status s = io_.WriteFileDurably(tmp, {header, content}); !s.ok()) return s;

    // Keep the current generation as the previous one, but only if it is good.
    if (absl::StatusOr<Generation> good = ReadGeneration(name, current); good.ok()) {
      const std::string prev_tmp = Path(name, ".prev-tmp");
      absl::Status s = io_.WriteFileDurably(prev_tmp, {good->image});
      if (s.ok()) s = io_.Rename(prev_tmp, Path(name, ".prev"));
      if (!s.ok()) {
        (void)io_.Unlink(prev_tmp, /*missing_ok=*/true);
        (void)io_.Unlink(tmp, /*missing_ok=*/true);
        return s;
      }
    }
    if (absl::Status s = io_.Rename(tmp, current); !s.ok()) {
      (void)io_.Unlink(tmp, /*missing_ok=*/true);
      return s;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Read(absl::string_view name) override {
    if (absl::Status s = ValidateStateBlobName(name); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    absl::StatusOr<Generation> g = ReadGeneration(name, Path(name, ""));
    if (!g.ok()) return g.status();
    return std::move(g->content);
  }

  absl::StatusOr<StateRead> ReadWithFallback(absl::string_view name) override {
    if (absl::Status s = ValidateStateBlobName(name); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    auto content = [&](const char* suffix) -> absl::StatusOr<std::string> {
      absl::StatusOr<Generation> g = ReadGeneration(name, Path(name, suffix));
      if (!g.ok()) return g.status();
      return std::move(g->content);
    };
    return PickStateGeneration(
        name, content(""), [&] { return content(".prev"); }, FallbackOn::kAnyError);
  }

  absl::Status Remove(absl::string_view name) override {
    if (absl::Status s = ValidateStateBlobName(name); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    for (const char* suffix : {"", ".prev", ".tmp", ".prev-tmp"}) {
      if (absl::Status s = io_.Unlink(Path(name, suffix), /*missing_ok=*/true); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  std::string Location() const override { return root_; }

  // Removes leftovers of interrupted writes.
  absl::Status RemoveTemporaries() {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> stale;
    WIN32_FIND_DATAW found;
    HANDLE h = ::FindFirstFileW(win::Widen(JoinPath(root_, "*")).c_str(), &found);
    if (h == INVALID_HANDLE_VALUE) {
      const DWORD error = ::GetLastError();
      if (error == ERROR_FILE_NOT_FOUND) return absl::OkStatus();
      return win::Win32ErrorStatus(error, "list directory", root_);
    }
    do {
      const std::string file = win::Narrow(found.cFileName);
      if (absl::EndsWith(file, ".tmp") || absl::EndsWith(file, ".prev-tmp")) {
        stale.push_back(JoinPath(root_, file));
      }
    } while (::FindNextFileW(h, &found));
    ::FindClose(h);
    for (const std::string& path : stale) {
      if (absl::Status s = io_.Unlink(path, /*missing_ok=*/true); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  std::string Path(absl::string_view name, absl::string_view suffix) const {
    return JoinPath(root_, absl::StrCat(name, suffix));
  }

  absl::StatusOr<Generation> ReadGeneration(absl::string_view name, const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::StatusOr<std::string> image =
        WinIo::ReadFile(path, max_blob_bytes_ + kStateBlobHeaderSize);
    if (!image.ok()) {
      if (absl::IsResourceExhausted(image.status())) {
        return absl::DataLossError(absl::StrCat("state file ", path, " is larger than any blob"));
      }
      return image.status();
    }
    absl::StatusOr<std::string> content = DecodeStateBlob(name, *image);
    if (!content.ok()) {
      return absl::DataLossError(absl::StrCat(path, ": ", content.status().message()));
    }
    return Generation{*std::move(content), *std::move(image)};
  }

  const std::string root_;
  WinIo io_;
  const size_t max_blob_bytes_;
  absl::Mutex mu_;
};

}  // namespace

std::string DefaultWindowsStateRoot() {
  wchar_t buf[MAX_PATH];
  const DWORD n = ::GetEnvironmentVariableW(L"ProgramData", buf, MAX_PATH);
  const std::string base = n > 0 && n < MAX_PATH ? win::Narrow(buf, n) : "C:\\ProgramData";
  return JoinPath(base, "edict");
}

absl::StatusOr<std::unique_ptr<StateStore>> OpenWindowsStateStore(
    const WindowsStateStoreOptions& options) {
  const std::string root = options.root.empty() ? DefaultWindowsStateRoot() : options.root;
  WinIo io(options.faults);
  if (absl::Status s = io.MakeDirs(root, options.root_sddl); !s.ok()) return s;
  auto store = std::make_unique<WindowsStateStore>(root, options);
  if (absl::Status s = store->RemoveTemporaries(); !s.ok()) return s;
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace edict::ports
