// Binary product catalogues (.edcat): verification, an immutable view, a content hash and
// the compatibility check between two versions of a product's catalogue.
//
// A .edcat file is a FlatBuffer of policy/catalog/catalog.fbs with file identifier "EDCT",
// as written by catalog_source.h BuildCatalog (docs/catalogs.md). Nothing here does I/O
// or throws; every entry point returns a Status.
#ifndef EDICT_POLICY_CATALOG_CATALOG_FILE_H_
#define EDICT_POLICY_CATALOG_CATALOG_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "policy/catalog_generated.h"

namespace edict::catalogs {

// The FlatBuffers file identifier of a binary catalogue.
inline constexpr char kFileIdentifier[] = "EDCT";

// Largest binary catalogue accepted (16 MiB). A catalogue built from the largest source
// (kMaxSourceBytes, 4 MiB) fits: FlatBuffers needs at most about 3 bytes per source byte
// (a 1-byte string costs ~12 bytes against ~4 of JSON).
inline constexpr size_t kMaxBinaryBytes = size_t{16} << 20;

// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of `bytes`.
// The catalogue's content hash: it identifies a catalogue version in listings, status
// and diagnostics and detects accidental change. It is NOT collision-resistant against
// an adversary; where one is needed (a signed record of the catalogue a bundle was
// compiled against), the caller hashes CatalogView::bytes() with SHA-256 (policy/ does
// not link a crypto library).
uint64_t Fnv1a64(absl::string_view bytes);

// "fnv1a64:" followed by 16 lower-case hex digits.
std::string FormatHash(uint64_t hash);

// A verified catalogue in memory it does not own.
class CatalogView {
 public:
  // Verifies `bytes` where they are: at most kMaxBinaryBytes; starting on an 8-byte
  // boundary (policy/aligned.h: the verifier only checks alignment relative to the start);
  // file identifier "EDCT"; the FlatBuffers verifier; then every rule of
  // catalog_validate.h. InvalidArgument saying what is wrong otherwise. The bytes must
  // outlive the view and not change.
  static absl::StatusOr<CatalogView> Open(absl::string_view bytes);

  const catalog_fb::Catalog& catalog() const { return *catalog_; }
  absl::string_view bytes() const { return bytes_; }
  uint64_t hash() const { return hash_; }
  absl::string_view product_id() const;
  uint32_t version() const { return catalog_->version(); }

 private:
  CatalogView(absl::string_view bytes, const catalog_fb::Catalog* cat, uint64_t hash)
      : bytes_(bytes), catalog_(cat), hash_(hash) {}

  absl::string_view bytes_;
  const catalog_fb::Catalog* catalog_;
  uint64_t hash_;
};

// A verified catalogue that owns an aligned copy of its bytes. Immutable; movable.
class CatalogFile {
 public:
  // Copies `bytes` into 8-byte aligned storage (any alignment of the input is fine) and
  // opens it as CatalogView::Open does.
  static absl::StatusOr<CatalogFile> FromBytes(absl::string_view bytes);

  const CatalogView& view() const { return view_; }
  const catalog_fb::Catalog& catalog() const { return view_.catalog(); }

 private:
  CatalogFile(std::unique_ptr<uint64_t[]> storage, CatalogView view)
      : storage_(std::move(storage)), view_(view) {}

  std::unique_ptr<uint64_t[]> storage_;  // the heap block does not move with the object
  CatalogView view_;
};

// Every way `next` breaks compatibility with `prev`, each naming the id concerned
// (docs/catalogs.md, "Compatibility"): the product must stay the same and the version
// grow; an existing setting keeps its type and num, its enum or flags values only grow at
// the end, and it may be removed only if `prev` marked it deprecated; a removed setting's
// num is never reused; data classes, purposes and schedules are never removed and keep
// their num; an attribute keeps its type, its enum values only grow at the end, its
// integer range only widens, and it is never removed. Empty if compatible.
std::vector<std::string> CompatibilityProblems(const catalog_fb::Catalog& prev,
                                               const catalog_fb::Catalog& next);

// OK if compatible; else FailedPrecondition with the problems, one per line.
absl::Status CheckCompatible(const CatalogView& prev, const CatalogView& next);

}  // namespace edict::catalogs

#endif  // EDICT_POLICY_CATALOG_CATALOG_FILE_H_
