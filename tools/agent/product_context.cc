#include "tools/agent/product_context.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tools/cli/query.h"

namespace edict::agent {
namespace {

// The values of one resolution, owning their strings (OwnedContext) and holding the set
// their handles belong to: while this object lives the set cannot be freed, so no later set
// can reuse its address and pass the activation's "same set" check by accident.
class ResolvedAttributes final : public transport::DeviceAttributes {
 public:
  explicit ResolvedAttributes(std::shared_ptr<const CatalogSet> catalogs)
      : catalogs_(std::move(catalogs)) {}
  const CatalogSet& catalogs() const override { return *catalogs_; }
  absl::Span<const AttributeValue> values() const override { return ctx_.get().attributes; }
  cli::OwnedContext& ctx() { return ctx_; }

 private:
  std::shared_ptr<const CatalogSet> catalogs_;
  cli::OwnedContext ctx_;
};

// Why `key` names no attribute of `catalogs`: its product is not loaded, or its catalogue
// does not declare it.
std::string Undeclared(absl::string_view key, const CatalogSet& catalogs) {
  const absl::string_view product = key.substr(0, key.find('.'));
  for (const ProductSpec& p : catalogs.products()) {
    if (absl::string_view(p.id.data(), p.id.size()) == product) {
      return absl::StrCat("catalogue ", product, " version ", p.version, " declares no attribute '",
                          key, "'");
    }
  }
  return absl::StrCat("no loaded catalogue declares attribute '", key, "' (product ", product,
                      " is not loaded)");
}

}  // namespace

ProductContext ResolveProductContext(const AgentConfig& config,
                                     std::shared_ptr<const CatalogSet> catalogs) {
  if (!catalogs) {
    catalogs = std::shared_ptr<const CatalogSet>(std::shared_ptr<void>(), &CatalogSet::Builtin());
  }
  auto resolved = std::make_shared<ResolvedAttributes>(catalogs);
  ProductContext out;
  const std::string file = config.path.empty() ? std::string("configuration") : config.path;
  for (const ProductContextEntry& e : config.product_context) {
    std::string why;
    if (catalogs->FindAttribute(e.key) < 0) {
      why = Undeclared(e.key, *catalogs);
    } else if (absl::Status s = resolved->ctx().SetFromText(e.key, e.value, *catalogs); !s.ok()) {
      why = std::string(s.message());
    }
    if (!why.empty()) {
      out.errors.push_back(absl::StrCat(file, ":", e.line, ": context.", e.key, ": ", why,
                                        "; the attribute is left unknown"));
    }
  }
  out.attributes = std::move(resolved);
  return out;
}

}  // namespace edict::agent
