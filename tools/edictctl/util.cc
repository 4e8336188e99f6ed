// Helpers shared by edictctl's commands (tools/edictctl/util.h).
#include "tools/edictctl/util.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "policy/compiler/compiler.h"
#include "transport/errors.h"

namespace edict::ctl {

namespace tp = edict::transport;

bool ParseTimeArg(std::string_view option, const std::string& text, int64_t* out,
                  std::string* why) {
  absl::Time t;
  std::string err;
  const std::string opt(option);
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err) || t == absl::InfiniteFuture() ||
      t == absl::InfinitePast()) {
    *why = absl::StrCat(opt, " '", text, "': not an RFC 3339 time such as 2027-01-15T08:00:00Z");
    return false;
  }
  const int64_t s = absl::ToUnixSeconds(t);
  if (s < compiler::kMinTime || s > compiler::kMaxTime) {
    *why = absl::StrCat(opt, " '", text, "': outside ", tp::Rfc3339(compiler::kMinTime), " to ",
                        tp::Rfc3339(compiler::kMaxTime));
    return false;
  }
  *out = s;
  return true;
}

std::string_view DocumentName(tp::DocumentKind kind) {
  switch (kind) {
    case tp::DocumentKind::kBundle:
      return "a bundle (EDB1)";
    case tp::DocumentKind::kTrust:
      return "a trust document (EDT1)";
    case tp::DocumentKind::kPayload:
      return "a compiled payload (EDP1)";
    case tp::DocumentKind::kUnknown:
      break;
  }
  return "not an edict bundle, trust document or payload";
}

std::string WrongDocument(const std::string& path, const std::string& bytes,
                          tp::DocumentKind want) {
  const tp::DocumentKind got =
      tp::DetectDocument(tp::Bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  if (got == want || got == tp::DocumentKind::kUnknown) return "";
  std::string_view wanted = "a compiled payload";
  if (want == tp::DocumentKind::kBundle) wanted = "a bundle";
  if (want == tp::DocumentKind::kTrust) wanted = "a trust document";
  return absl::StrCat(path, " is ", std::string(DocumentName(got)), ", not ", std::string(wanted));
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line = " ";
    for (size_t i = 0; i < row.size(); ++i) {
      line += " ";
      line += row[i];
      if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 1, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    std::printf("%s\n", line.c_str());
  }
}

absl::StatusOr<catalogs::CatalogFile> ReadCatalogFile(const std::string& path) {
  cli::ReadOptions options;
  options.what = "a binary catalogue";
  absl::StatusOr<std::string> bytes = cli::ReadInputFile(path, catalogs::kMaxBinaryBytes, options);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<catalogs::CatalogFile> file = catalogs::CatalogFile::FromBytes(*bytes);
  if (!file.ok()) {
    return absl::Status(file.status().code(), absl::StrCat(path, ": ", file.status().message()));
  }
  return file;
}

absl::StatusOr<std::shared_ptr<const CatalogSet>> LoadCatalogSet(
    const std::vector<std::string>& paths) {
  if (paths.empty()) {
    return std::shared_ptr<const CatalogSet>(&CatalogSet::Builtin(), [](const CatalogSet*) {});
  }
  std::vector<CatalogSet::Input> inputs;
  for (const std::string& path : paths) {
    cli::ReadOptions options;
    options.what = "a binary catalogue";
    absl::StatusOr<std::string> bytes =
        cli::ReadInputFile(path, catalogs::kMaxBinaryBytes, options);
    if (!bytes.ok()) return bytes.status();
    inputs.push_back(CatalogSet::Input{path, *std::move(bytes)});
  }
  // Create prefixes each error with the input's origin, the path.
  return CatalogSet::Create(std::move(inputs));
}

}  // namespace edict::ctl
