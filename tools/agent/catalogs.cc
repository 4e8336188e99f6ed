#include "tools/agent/catalogs.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "policy/catalog/catalog_file.h"
#include "tools/agent/platform.h"

namespace edict::agent {
namespace {

bool IsCatalogName(const std::string& name) {
  return name.size() > 6 && name[0] != '.' && absl::EndsWith(name, ".edcat");
}

std::vector<std::string> CatalogNames(const std::string& dir) {
  std::vector<std::string> names = platform::ListDir(dir);
  names.erase(std::remove_if(names.begin(), names.end(),
                             [](const std::string& n) { return !IsCatalogName(n); }),
              names.end());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

CatalogLoad LoadCatalogs(const std::vector<std::string>& dirs) {
  CatalogLoad out;
  std::vector<CatalogSet::Input> inputs;
  std::map<std::string, std::string> file_of_product;
  size_t files = 0, total_bytes = 0;
  for (const std::string& dir : dirs) {
    if (absl::Status s = platform::CheckTrustedDir(dir); !s.ok()) {
      out.errors.push_back(absl::StrCat("catalogue directory: ", s.message()));
      continue;
    }
    // A missing directory passes the check and lists nothing.
    const std::vector<std::string> names = CatalogNames(dir);
    files += names.size();
    if (files > kMaxCatalogFiles) {
      out.errors.push_back(absl::StrCat("catalogue directories: more than ", kMaxCatalogFiles,
                                        " catalogues (", dir, " brings the count to ", files,
                                        "); none is loaded"));
      return out;
    }
    for (const std::string& name : names) {
      const std::string path = platform::JoinPath(dir, name);
      absl::StatusOr<std::string> bytes = platform::ReadTrusted(path, catalogs::kMaxBinaryBytes);
      if (bytes.ok()) {
        total_bytes += bytes->size();
        if (total_bytes > kMaxCatalogTotalBytes) {
          out.errors.push_back(absl::StrCat("catalogue directories: more than ",
                                            kMaxCatalogTotalBytes >> 20, " MiB of catalogues (at ",
                                            path, "); none is loaded"));
          return out;
        }
      }
      if (!bytes.ok()) {
        const absl::string_view why = bytes.status().message();
        out.errors.push_back(absl::StrContains(why, path)
                                 ? absl::StrCat("catalogue: ", why)
                                 : absl::StrCat("catalogue ", path, ": ", why));
        continue;
      }
      absl::StatusOr<catalogs::CatalogFile> file = catalogs::CatalogFile::FromBytes(*bytes);
      if (!file.ok()) {
        out.errors.push_back(absl::StrCat(path, ": ", file.status().message()));
        continue;
      }
      const std::string product(file->view().product_id());
      auto [it, fresh] = file_of_product.emplace(product, path);
      if (!fresh) {
        out.errors.push_back(absl::StrCat("product ", product, " has two catalogues: ", it->second,
                                          " and ", path, " (remove one)"));
        continue;
      }
      inputs.push_back({path, *std::move(bytes)});
    }
  }
  if (!out.errors.empty()) return out;
  if (inputs.empty()) {
    out.set = std::shared_ptr<const CatalogSet>(std::shared_ptr<void>(), &CatalogSet::Builtin());
    return out;
  }
  absl::StatusOr<std::shared_ptr<const CatalogSet>> set = CatalogSet::Create(std::move(inputs));
  if (!set.ok()) {
    out.errors.push_back(std::string(set.status().message()));
    return out;
  }
  out.set = *std::move(set);
  for (const ProductSpec& p : out.set->products()) {
    out.catalogs.push_back({std::string(p.id), p.version, p.hash, std::string(p.origin)});
  }
  return out;
}

std::string CatalogFingerprint(const std::vector<std::string>& dirs) {
  std::string out;
  auto add = [&out](const std::string& path) {
    platform::FileStat st;
    const bool ok = platform::StatFile(path, &st);
    absl::StrAppend(&out, path, "|", ok, "|", st.regular, "|", st.size, "|", st.mtime_ns, "|",
                    st.ino, "|", st.ctime_ns, "\n");
  };
  for (const std::string& dir : dirs) {
    add(dir);
    for (const std::string& name : CatalogNames(dir)) add(platform::JoinPath(dir, name));
  }
  return out;
}

}  // namespace edict::agent
