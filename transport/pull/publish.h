// Publishing for pull delivery (`edictctl publish`): writes the bundle, the trust document
// and the index into a directory any static web server or CDN can serve.
//
// Document files are content-addressed (BundleFileName / TrustFileName), written first;
// the index is written last, so a client never sees an index naming a file that is not
// there yet. Every file is written atomically (temporary file in the same directory,
// fsync, rename, fsync of the directory). Older document files are kept (a client that
// read the previous index may still be downloading them); `keep` bounds how many.
#ifndef EDICT_TRANSPORT_PULL_PUBLISH_H_
#define EDICT_TRANSPORT_PULL_PUBLISH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "transport/describe.h"  // PeekBundleSerial, PeekTrustVersion: publishing is not verifying
#include "transport/keys.h"
#include "transport/pull/index.h"

namespace edict::transport::pull {

struct PublishOptions {
  int64_t published_at = 0;  // seconds since the Unix epoch
  // Keep at most this many older bundle-*.edict / trust-v*.edt files besides the current
  // ones (oldest removed first, by modification time). Negative: keep all.
  int keep = 5;
};

// Writes `bundle` (and `trust`, if given) and the index into `dir` (created if missing).
// Returns the index written.
absl::StatusOr<Index> PublishToDirectory(const std::string& dir, Bytes bundle,
                                         std::optional<Bytes> trust, const PublishOptions& options);

// Atomic file replacement as above (mode 0644). With `advance_mtime`, the new file's
// modification time is made strictly later (in whole seconds) than the file it replaces:
// web servers derive ETag and Last-Modified from mtime (nginx: "<mtime hex>-<size hex>"),
// so two publications within one second with indexes of equal size would otherwise keep the
// same validators and clients would be answered 304 for the new index.
absl::Status WriteFileAtomically(const std::string& path, Bytes data, bool advance_mtime = false);

}  // namespace edict::transport::pull

#endif  // EDICT_TRANSPORT_PULL_PUBLISH_H_
