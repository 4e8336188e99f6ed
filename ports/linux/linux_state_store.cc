#include "ports/linux/linux_state_store.h"

#include <dirent.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ports/io_status.h"
#include "ports/linux/posix_io.h"

namespace edict::ports {
namespace {

using posix::JoinPath;
using posix::PosixIo;

class LinuxStateStore : public StateStore {
 public:
  explicit LinuxStateStore(const LinuxStateStoreOptions& options)
      : root_(options.root), io_(options.faults), max_blob_bytes_(options.max_blob_bytes) {}

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
    if (absl::Status s = io_.WriteFileDurably(tmp, {header, content}, 0600); !s.ok()) return s;

    // Keep the current generation as the previous one, but only if it is good.
    if (ReadGeneration(name, current).ok()) {
      const std::string prev_tmp = Path(name, ".prev-tmp");
      absl::Status s = io_.Unlink(prev_tmp, /*missing_ok=*/true);
      if (s.ok()) s = io_.Link(current, prev_tmp);
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
    return io_.FsyncDir(root_);
  }

  absl::StatusOr<std::string> Read(absl::string_view name) override {
    if (absl::Status s = ValidateStateBlobName(name); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    return ReadGeneration(name, Path(name, ""));
  }

  absl::StatusOr<StateRead> ReadWithFallback(absl::string_view name) override {
    if (absl::Status s = ValidateStateBlobName(name); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    return PickStateGeneration(
        name, ReadGeneration(name, Path(name, "")),
        [&] { return ReadGeneration(name, Path(name, ".prev")); }, FallbackOn::kAnyError);
  }

  absl::Status Remove(absl::string_view name) override {
    if (absl::Status s = ValidateStateBlobName(name); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    for (const char* suffix : {"", ".prev", ".tmp", ".prev-tmp"}) {
      if (absl::Status s = io_.Unlink(Path(name, suffix), /*missing_ok=*/true); !s.ok()) {
        return s;
      }
    }
    return io_.FsyncDir(root_);
  }

  std::string Location() const override { return root_; }

  // Removes leftovers of interrupted writes.
  absl::Status RemoveTemporaries() {
    absl::MutexLock lock(&mu_);
    DIR* dir = ::opendir(root_.c_str());
    if (dir == nullptr) return IoErrorStatus(errno, "open directory", root_);
    std::vector<std::string> stale;
    while (const dirent* entry = ::readdir(dir)) {
      const absl::string_view file = entry->d_name;
      if (absl::EndsWith(file, ".tmp") || absl::EndsWith(file, ".prev-tmp")) {
        stale.push_back(JoinPath(root_, file));
      }
    }
    ::closedir(dir);
    for (const std::string& path : stale) {
      if (absl::Status s = io_.Unlink(path, /*missing_ok=*/true); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  std::string Path(absl::string_view name, absl::string_view suffix) const {
    return JoinPath(root_, absl::StrCat(name, suffix));
  }

  absl::StatusOr<std::string> ReadGeneration(absl::string_view name, const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::StatusOr<std::string> image =
        PosixIo::ReadFile(path, max_blob_bytes_ + kStateBlobHeaderSize);
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
    return content;
  }

  const std::string root_;
  PosixIo io_;
  const size_t max_blob_bytes_;
  absl::Mutex mu_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<StateStore>> OpenLinuxStateStore(
    const LinuxStateStoreOptions& options) {
  if (options.root.empty()) return absl::InvalidArgumentError("state root is empty");
  PosixIo io(options.faults);
  if (absl::Status s = io.MakeDirs(options.root, 0700); !s.ok()) return s;
  auto store = std::make_unique<LinuxStateStore>(options);
  if (absl::Status s = store->RemoveTemporaries(); !s.ok()) return s;
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace edict::ports
