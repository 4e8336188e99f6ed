// The pull index: a small JSON file naming the current bundle and trust document with
// their sizes and SHA-256 digests (the role of TUF's timestamp + snapshot metadata, minus
// their signatures: see "Security notes" in docs/pull.md).
//
//   {
//     "edict_index": 1,
//     "published_at": 1800000000,
//     "bundle": {"path": "bundle-0123456789abcdef.edict", "size": 1234,
//                "sha256": "<64 lower-case hex>", "serial": 10},
//     "trust":  {"path": "trust-v1-fedcba9876543210.edt", "size": 456,
//                "sha256": "<64 hex>", "version": 1}
//   }
//
// The agent downloads the index with a small cap (kMaxIndexBytes), then each document it
// does not have yet with the index's `size` as the hard cap (never above the transport's
// own cap) and compares the SHA-256 before the bytes reach transport. Document files are
// content-addressed (the name carries a digest prefix), so they never change under a name
// and can be cached for ever; only the index changes and is served with revalidation.
//
// Strict: `edict_index` must be 1; `bundle` is required and `trust` optional; paths are
// relative ([A-Za-z0-9._-] segments separated by '/', no "." or ".." segments, at most
// 200 bytes); sizes 1..cap; digests exactly 64 lower-case hex digits; unknown members are
// ignored (newer publishers may add some); duplicate members are refused.
#ifndef EDICT_TRANSPORT_PULL_INDEX_H_
#define EDICT_TRANSPORT_PULL_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/keys.h"

namespace edict::transport::pull {

inline constexpr char kIndexFileName[] = "edict-index.json";
inline constexpr size_t kMaxIndexBytes = 64 << 10;
inline constexpr int kIndexFormat = 1;

struct IndexEntry {
  std::string path;  // relative to the index URL
  uint64_t size = 0;
  Digest sha256{};
  uint64_t serial = 0;  // bundle serial / trust version (advisory: unsigned; display only)
};

struct Index {
  int64_t published_at = 0;
  IndexEntry bundle;
  std::optional<IndexEntry> trust;
};

struct IndexLimits {
  size_t max_bundle_bytes = size_t{4} << 20;  // transport's default caps
  size_t max_trust_bytes = size_t{512} << 10;
};

// PULL_INDEX for malformed input, PULL_TOO_LARGE when the text is over kMaxIndexBytes or
// an entry's size is over its cap (refused before anything is downloaded).
absl::StatusOr<Index> ParseIndex(absl::string_view text, const IndexLimits& limits = {});

// Canonical JSON (the form `edictctl publish` writes), ending with a newline.
std::string SerializeIndex(const Index& index);

// "bundle-<first 16 hex of SHA-256>.edict" / "trust-v<version>-<16 hex>.edt".
std::string BundleFileName(const Digest& sha256);
std::string TrustFileName(uint64_t version, const Digest& sha256);

// Lower-case hex digest parsing: exactly 64 hex digits.
bool ParseDigestHex(absl::string_view hex, Digest* out);

}  // namespace edict::transport::pull

#endif  // EDICT_TRANSPORT_PULL_INDEX_H_
