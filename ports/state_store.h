// Durable, checksummed, named blobs: the agent's active bundle, trust document and state
// record survive crashes and power loss as either the old or the new content, never neither.

#ifndef EDICT_PORTS_STATE_STORE_H_
#define EDICT_PORTS_STATE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edict::ports {

// Which stored generation a read returned.
enum class StateGeneration {
  kCurrent,   // the last successful Write
  kPrevious,  // the last good content before it (fallback after corruption)
};

// The result of StateStore::ReadWithFallback.
struct StateRead {
  std::string bytes;
  StateGeneration generation = StateGeneration::kCurrent;
  // Why the current generation was not used (OK when generation == kCurrent). The agent audits
  // this: a DataLoss here means the current file was torn or tampered with.
  absl::Status current_error;
};

// A store of named blobs. Names are 1..64 characters of [A-Za-z0-9_-] ("active_bundle",
// "trust", "state"); the implementation derives its file names from them.
//
// Guarantees (tested with injected faults and crashes at every I/O step):
//  * Write is atomic: after a crash or power loss at any point, Read returns the old or the new
//    content, never a mix, never nothing when there was something before.
//  * Every blob is checksummed (SHA-256 over magic, format version, length, name and content);
//    a torn, truncated, extended or altered blob reads as DataLoss.
//  * The previous good generation is kept: a successful Write first preserves the current
//    content as the previous generation, but only if the current content verifies, so a
//    corrupt current blob never replaces the last good one.
//
// Thread-safe. Only one process may write a root at a time (use InstanceLock).
class StateStore {
 public:
  virtual ~StateStore() = default;

  // Atomically replaces blob `name` with `bytes`. On error the blob is unchanged, except for an
  // error from the final directory sync, after which it may be the new content (durability
  // unknown; write again). Errors: InvalidArgument (bad name, too large), ResourceExhausted
  // (disk full), PermissionDenied (read-only or not permitted), Unavailable (I/O error).
  virtual absl::Status Write(absl::string_view name, absl::string_view bytes) = 0;

  // Returns the current generation only. NotFound if never written, DataLoss if it does not
  // verify.
  virtual absl::StatusOr<std::string> Read(absl::string_view name) = 0;

  // Returns the current generation if it verifies, else the previous one. NotFound when
  // neither exists; DataLoss when whatever exists fails to verify.
  virtual absl::StatusOr<StateRead> ReadWithFallback(absl::string_view name) = 0;

  // Removes both generations of `name` (unenroll). OK if absent.
  virtual absl::Status Remove(absl::string_view name) = 0;

  // Where the blobs live, for messages ("/var/lib/edict").
  virtual std::string Location() const = 0;
};

// Checks a blob name: 1..64 characters of [A-Za-z0-9_-]. InvalidArgument otherwise.
absl::Status ValidateStateBlobName(absl::string_view name);

// When ReadWithFallback may use the previous generation.
enum class FallbackOn {
  kAnyError,          // the writing stores: any failure to read the current one
  kMissingOrDamaged,  // read-only readers: NotFound or DataLoss; another error (e.g. an
                      // unreadable file) is returned, not hidden behind an older policy
};
// The fallback rule every StateStore::ReadWithFallback shares: `current` if it read, else
// the previous generation (`read_previous`, called only then) with current's error kept.
// NotFound when neither exists; DataLoss naming both errors when neither is usable.
absl::StatusOr<StateRead> PickStateGeneration(
    absl::string_view name, absl::StatusOr<std::string> current,
    absl::FunctionRef<absl::StatusOr<std::string>()> read_previous, FallbackOn when);

// The on-disk encoding shared by all implementations (portable; little-endian):
//   magic "EDST" | u32 format version (1) | u64 content length |
//   SHA-256(magic | version | length | u32 name length | name | content) | content
inline constexpr size_t kStateBlobHeaderSize = 4 + 4 + 8 + 32;

// Encodes `content` as the file image for blob `name`.
std::string EncodeStateBlob(absl::string_view name, absl::string_view content);

// Verifies a file image for blob `name` and returns its content. DataLoss on any mismatch
// (bad magic, unknown version, wrong length, checksum, a blob stored under another name).
absl::StatusOr<std::string> DecodeStateBlob(absl::string_view name, absl::string_view image);

}  // namespace edict::ports

#endif  // EDICT_PORTS_STATE_STORE_H_
