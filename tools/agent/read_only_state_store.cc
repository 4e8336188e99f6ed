// The read-only StateStore over a state directory (OpenReadOnlyStateStore): what status,
// query, explain and any reader beside the daemon read the state through.
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ports/state_store.h"
#include "tools/agent/agent.h"
#include "tools/agent/platform.h"

namespace edict::agent {
namespace {

using platform::JoinPath;
using platform::ReadCapped;

// ---- Read-only state store ------------------------------------------------------------------

class ReadOnlyStateStore : public ports::StateStore {
 public:
  explicit ReadOnlyStateStore(std::string root) : root_(std::move(root)) {}

  absl::Status Write(absl::string_view name, absl::string_view) override {
    return absl::PermissionDeniedError(
        absl::StrCat("read-only view of ", root_, ": cannot write ", name));
  }
  absl::StatusOr<std::string> Read(absl::string_view name) override {
    if (absl::Status s = ports::ValidateStateBlobName(name); !s.ok()) return s;
    return ReadGeneration(name, "");
  }
  absl::StatusOr<ports::StateRead> ReadWithFallback(absl::string_view name) override {
    if (absl::Status s = ports::ValidateStateBlobName(name); !s.ok()) return s;
    return ports::PickStateGeneration(
        name, ReadGeneration(name, ""), [&] { return ReadGeneration(name, ".prev"); },
        ports::FallbackOn::kMissingOrDamaged);
  }
  absl::Status Remove(absl::string_view name) override { return Write(name, ""); }
  std::string Location() const override { return root_; }

 private:
  absl::StatusOr<std::string> ReadGeneration(absl::string_view name, absl::string_view suffix) {
    const std::string path = JoinPath(root_, absl::StrCat(name, suffix));
    auto image = ReadCapped(path, (size_t{64} << 20) + ports::kStateBlobHeaderSize);
    if (!image.ok()) {
      if (absl::IsNotFound(image.status())) {
        return absl::NotFoundError(absl::StrCat("no state file ", path));
      }
      return image.status();
    }
    auto content = ports::DecodeStateBlob(name, *image);
    if (!content.ok()) {
      return absl::DataLossError(absl::StrCat(path, ": ", content.status().message()));
    }
    return content;
  }
  std::string root_;
};

}  // namespace

std::unique_ptr<ports::StateStore> OpenReadOnlyStateStore(const std::string& root) {
  return std::make_unique<ReadOnlyStateStore>(root);
}

}  // namespace edict::agent
