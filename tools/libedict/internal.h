// libedict internals shared by its source files (never installed):
//   edict.cc     version, status, built-in catalogue lookups, opening and closing handles
//   query.cc     context conversion and the queries (no allocation)
//   catalogs.cc  catalogue sets (edict_catalogs), product info, context builders
// The rules of edict.cc's header comment hold in all three.
#ifndef EDICT_TOOLS_LIBEDICT_INTERNAL_H_
#define EDICT_TOOLS_LIBEDICT_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "edict/edict.h"
#include "kernel/kernel.h"
#include "policy/catalog/catalog_set.h"
#include "transport/bundle.h"

#if defined(EDICT_CAPI_HAVE_ACTIVATION)
#include "transport/activation.h"
#endif

namespace edict::capi {

inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Copies `text` into `buf` (truncated, always NUL-terminated when buf_size > 0).
void CopyText(std::string_view text, char* buf, size_t buf_size);
// Fills `error` (may be null) and returns `status`.
edict_status Fail(edict_error* error, edict_status status, int verify_error,
                  std::string_view message);
edict_status ClearError(edict_error* error);
edict_status FromCode(absl::StatusCode code);

// Reads a whole file (opening only; allocates). At most `cap` + 1 bytes are read, so size
// checks downstream still see an oversized input as oversized. `regular_only`: refuse
// anything but a regular file (FIFO, device, directory: Unavailable) without blocking.
absl::StatusOr<std::vector<uint8_t>> ReadWholeFile(const char* path, size_t cap,
                                                   bool regular_only = false);

inline constexpr size_t kMaxFileBytes = size_t{64} << 20;

// One stat() of a file; for edict_policy_changed. No allocation.
struct FileStamp {
  bool present = false;
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t size = 0;
  int64_t mtime_sec = 0;
  int64_t mtime_nsec = 0;
  int64_t ctime_sec = 0;
  int64_t ctime_nsec = 0;

  friend bool operator==(const FileStamp& a, const FileStamp& b) {
    return a.present == b.present && a.dev == b.dev && a.ino == b.ino && a.size == b.size &&
           a.mtime_sec == b.mtime_sec && a.mtime_nsec == b.mtime_nsec &&
           a.ctime_sec == b.ctime_sec && a.ctime_nsec == b.ctime_nsec;
  }
};
FileStamp StampOf(const char* path);

// The kernel context of a C context (query path: no allocation). NULL `in` is the
// all-unknown context.
struct ContextStorage {
  std::string_view groups[EDICT_MAX_GROUPS];
  edict::Context ctx;
};
edict_status ToContext(const edict_context* in, ContextStorage* s);

}  // namespace edict::capi

// A catalogue set. Copyable: a copy shares the set.
struct edict_catalogs {
  std::shared_ptr<const edict::CatalogSet> set;  // null: CatalogSet::Builtin()

  const edict::CatalogSet& get() const {
    return set != nullptr ? *set : edict::CatalogSet::Builtin();
  }
};

// The handle.
struct edict_policy {
  const edict::Snapshot* snapshot = &edict::Snapshot::Defaults();
  int origin = EDICT_ORIGIN_DEFAULTS;
  uint64_t trust_version = 0;
  std::string problems;  // one per line
  // The set the snapshot was activated against (edict_policy_catalogs).
  edict_catalogs catalogs;

  // edict_open_payload / defaults with catalogues: the payload copy and the arena the
  // snapshot lives in.
  std::unique_ptr<std::max_align_t[]> payload;
  std::unique_ptr<std::max_align_t[]> arena;
  // edict_open_bundle: the bundle copy the verified snapshot borrows.
  std::vector<uint8_t> bundle;
  std::unique_ptr<edict::transport::VerifiedBundle> verified;
#if defined(EDICT_CAPI_HAVE_ACTIVATION)
  // edict_open_state.
  std::unique_ptr<edict::transport::ActiveState> active;
#endif

  // edict_policy_changed: the files watched and their stamps at open.
  bool watch = false;
  std::string watch_paths[2];
  edict::capi::FileStamp stamps[2];
};

// A query context with catalogue attributes. `ctx` is ready for queries: its spans point
// into this object (Rebuild() re-points them after every change).
struct edict_context_builder {
  edict_catalogs catalogs;
  // Built-in fields (edict_context_builder_set_base), with owned strings.
  edict::Context base;
  std::vector<std::string> groups;
  std::string region;
  // Attribute values, one per attribute set.
  struct Attribute {
    int attribute = -1;
    int64_t number = 0;
    std::vector<std::string> strings;
    std::vector<std::string_view> views;  // into `strings`
  };
  std::vector<Attribute> attributes;

  std::vector<std::string_view> group_views;
  std::vector<edict::AttributeValue> values;
  edict::Context ctx;

  void Rebuild();
};

#endif  // EDICT_TOOLS_LIBEDICT_INTERNAL_H_
