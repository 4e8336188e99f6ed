#include "tools/cli/policy.h"

#include <utility>

#include "absl/strings/str_join.h"
#include "policy/compiler/compiler.h"
#include "tools/cli/files.h"
#include "tools/cli/strings.h"

namespace edict::cli {

absl::StatusOr<std::unique_ptr<LoadedPolicy>> LoadedPolicy::FromPayload(
    std::string payload, const CatalogSet& catalogs) {
  std::unique_ptr<LoadedPolicy> p(new LoadedPolicy());
  p->payload_ = std::move(payload);
  const absl::Span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(p->payload_.data()),
                                        p->payload_.size());
  absl::StatusOr<size_t> size = Snapshot::ArenaSize(bytes, catalogs);
  if (!size.ok()) return size.status();
  const size_t words = (*size + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  p->arena_.reset(new std::max_align_t[words == 0 ? 1 : words]);
  absl::StatusOr<const Snapshot*> s =
      Snapshot::Activate(bytes,
                         absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(p->arena_.get()),
                                             words * sizeof(std::max_align_t)),
                         catalogs);
  if (!s.ok()) return s.status();
  p->snapshot_ = *s;
  return p;
}

absl::StatusOr<std::unique_ptr<LoadedPolicy>> LoadedPolicy::FromJson(std::string_view json_text,
                                                                     std::string_view filename,
                                                                     const CatalogSet& catalogs) {
  compiler::CompileResult r = compiler::Compile(json_text, filename, catalogs);
  if (!r.ok()) {
    return absl::InvalidArgumentError(absl::StrJoin(r.Rendered(), "\n"));
  }
  return FromPayload(std::move(r.payload), catalogs);
}

absl::StatusOr<std::unique_ptr<LoadedPolicy>> LoadedPolicy::FromFile(const std::string& path,
                                                                     const CatalogSet& catalogs) {
  const bool is_json = EndsWith(path, ".json");
  ReadOptions options;
  options.what = is_json ? "policy JSON" : "a payload";
  absl::StatusOr<std::string> data =
      ReadInputFile(path, is_json ? kMaxPolicyJsonBytes : kMaxPayloadBytes, options);
  if (!data.ok()) return data.status();
  if (is_json) return FromJson(*data, path, catalogs);
  return FromPayload(*std::move(data), catalogs);
}

absl::StatusOr<std::unique_ptr<LoadedPolicy>> LoadedPolicy::Defaults(const CatalogSet& catalogs) {
  std::unique_ptr<LoadedPolicy> p(new LoadedPolicy());
  const size_t size = Snapshot::DefaultsArenaSize(catalogs);
  const size_t words = (size + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  p->arena_.reset(new std::max_align_t[words == 0 ? 1 : words]);
  absl::StatusOr<const Snapshot*> s =
      Snapshot::Defaults(catalogs, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(p->arena_.get()),
                                                       words * sizeof(std::max_align_t)));
  if (!s.ok()) return s.status();
  p->snapshot_ = *s;
  return p;
}

}  // namespace edict::cli
