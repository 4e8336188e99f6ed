// Binary product catalogues: verification, view, hash, compatibility (catalog_file.h).
#include "policy/catalog/catalog_file.h"

#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "policy/aligned.h"
#include "policy/catalog/catalog_validate.h"

namespace edict::catalogs {
namespace {

namespace cfb = catalog_fb;

absl::string_view Sv(const flatbuffers::String* s) {
  return s ? absl::string_view(s->c_str(), s->size()) : absl::string_view();
}

std::vector<absl::string_view> Values(
    const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
  std::vector<absl::string_view> out;
  if (v != nullptr) {
    for (const flatbuffers::String* s : *v) out.push_back(Sv(s));
  }
  return out;
}

// `next` must start with all of `prev`, in order. Empty if so; else why not.
std::string AppendOnly(const std::vector<absl::string_view>& prev,
                       const std::vector<absl::string_view>& next) {
  for (size_t i = 0; i < prev.size(); ++i) {
    if (i < next.size() && next[i] == prev[i]) continue;
    bool present = false;
    for (absl::string_view n : next) present = present || n == prev[i];
    if (!present) return absl::StrCat("value \"", prev[i], "\" was removed");
    return absl::StrCat("value \"", prev[i], "\" moved from position ", i,
                        "; values may only be appended at the end");
  }
  return "";
}

template <typename T>
std::map<absl::string_view, const T*> ById(const flatbuffers::Vector<flatbuffers::Offset<T>>* v) {
  std::map<absl::string_view, const T*> out;
  if (v != nullptr) {
    for (const T* e : *v) out.emplace(Sv(e->id()), e);
  }
  return out;
}

// Data classes, purposes, schedules: never removed, num fixed.
template <typename T>
void CheckKept(const flatbuffers::Vector<flatbuffers::Offset<T>>* prev,
               const flatbuffers::Vector<flatbuffers::Offset<T>>* next, const char* what,
               std::vector<std::string>* out) {
  auto now = ById(next);
  for (const auto& [id, p] : ById(prev)) {
    auto it = now.find(id);
    if (it == now.end()) {
      out->push_back(absl::StrCat(what, " ", id, ": removed; a ", what, " is never removed"));
    } else if (it->second->num() != p->num()) {
      out->push_back(
          absl::StrCat(what, " ", id, ": num changed from ", p->num(), " to ", it->second->num()));
    }
  }
}

}  // namespace

uint64_t Fnv1a64(absl::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string FormatHash(uint64_t hash) { return absl::StrFormat("fnv1a64:%016x", hash); }

absl::string_view CatalogView::product_id() const {
  return catalog_->product() ? Sv(catalog_->product()->id()) : absl::string_view();
}

absl::StatusOr<CatalogView> CatalogView::Open(absl::string_view bytes) {
  if (bytes.size() > kMaxBinaryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("catalogue is ", bytes.size(), " bytes; the cap is ", kMaxBinaryBytes));
  }
  if (!IsFlatBufferAligned(bytes.data())) {
    return absl::InvalidArgumentError(absl::StrCat("catalogue buffer does not start on an ",
                                                   kFlatBufferAlignment, "-byte boundary"));
  }
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() < 8 || !flatbuffers::BufferHasIdentifier(data, kFileIdentifier)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a binary catalogue (file identifier ", kFileIdentifier, ")"));
  }
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!verifier.VerifyBuffer<cfb::Catalog>(kFileIdentifier)) {
    return absl::InvalidArgumentError("catalogue is corrupt (FlatBuffers verifier)");
  }
  const cfb::Catalog* cat = flatbuffers::GetRoot<cfb::Catalog>(data);
  std::vector<Problem> problems = ValidateCatalog(*cat);
  if (!problems.empty()) {
    std::vector<std::string> lines;
    for (const Problem& p : problems) {
      std::string where = p.section;
      if (p.index >= 0) absl::StrAppend(&where, "[", p.index, "]");
      if (!p.field.empty()) absl::StrAppend(&where, ".", p.field);
      lines.push_back(where.empty() ? p.message : absl::StrCat(where, ": ", p.message));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("invalid catalogue:\n", absl::StrJoin(lines, "\n")));
  }
  return CatalogView(bytes, cat, Fnv1a64(bytes));
}

absl::StatusOr<CatalogFile> CatalogFile::FromBytes(absl::string_view bytes) {
  if (bytes.size() > kMaxBinaryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("catalogue is ", bytes.size(), " bytes; the cap is ", kMaxBinaryBytes));
  }
  const size_t words = (bytes.size() + 7) / 8;
  auto storage = std::make_unique<uint64_t[]>(words == 0 ? 1 : words);
  if (!bytes.empty()) std::memcpy(storage.get(), bytes.data(), bytes.size());
  absl::StatusOr<CatalogView> view = CatalogView::Open(
      absl::string_view(reinterpret_cast<const char*>(storage.get()), bytes.size()));
  if (!view.ok()) return view.status();
  return CatalogFile(std::move(storage), *view);
}

std::vector<std::string> CompatibilityProblems(const cfb::Catalog& prev, const cfb::Catalog& next) {
  std::vector<std::string> out;
  const absl::string_view prev_product = prev.product() ? Sv(prev.product()->id()) : "";
  const absl::string_view next_product = next.product() ? Sv(next.product()->id()) : "";
  if (prev_product != next_product) {
    out.push_back(absl::StrCat("product changed from \"", prev_product, "\" to \"", next_product,
                               "\": these are catalogues of different products"));
    return out;
  }
  if (next.version() <= prev.version()) {
    out.push_back(
        absl::StrCat("version ", next.version(), " does not increase on ", prev.version()));
  }

  auto now = ById(next.settings());
  std::map<uint16_t, absl::string_view> prev_nums;
  for (const auto& [id, p] : ById(prev.settings())) {
    prev_nums.emplace(p->num(), id);
    auto it = now.find(id);
    if (it == now.end()) {
      if (!p->deprecated()) {
        out.push_back(
            absl::StrCat("setting ", id, ": removed without first being marked deprecated"));
      }
      continue;
    }
    const cfb::Setting* n = it->second;
    if (n->type() != p->type()) {
      out.push_back(absl::StrCat("setting ", id, ": type changed from ",
                                 cfb::EnumNameSettingType(p->type()), " to ",
                                 cfb::EnumNameSettingType(n->type())));
      continue;
    }
    if (n->num() != p->num()) {
      out.push_back(
          absl::StrCat("setting ", id, ": num changed from ", p->num(), " to ", n->num()));
    }
    const std::string why = AppendOnly(Values(p->values()), Values(n->values()));
    if (!why.empty()) out.push_back(absl::StrCat("setting ", id, ": ", why));
  }
  for (const auto& [id, n] : now) {
    auto used = prev_nums.find(n->num());
    if (used != prev_nums.end() && used->second != id) {
      out.push_back(absl::StrCat("setting ", id, ": num ", n->num(), " was ", used->second,
                                 "'s; a num is never reused"));
    }
  }

  CheckKept(prev.data_classes(), next.data_classes(), "data class", &out);
  CheckKept(prev.purposes(), next.purposes(), "purpose", &out);
  CheckKept(prev.schedules(), next.schedules(), "schedule", &out);

  std::map<absl::string_view, const cfb::ContextAttribute*> attrs;
  if (next.attributes()) {
    for (const cfb::ContextAttribute* a : *next.attributes()) attrs.emplace(Sv(a->name()), a);
  }
  if (prev.attributes()) {
    for (const cfb::ContextAttribute* p : *prev.attributes()) {
      const absl::string_view name = Sv(p->name());
      auto it = attrs.find(name);
      if (it == attrs.end()) {
        out.push_back(absl::StrCat("attribute ", name, ": removed; an attribute is never removed"));
        continue;
      }
      const cfb::ContextAttribute* n = it->second;
      if (n->type() != p->type()) {
        out.push_back(absl::StrCat("attribute ", name, ": type changed from ",
                                   cfb::EnumNameAttributeType(p->type()), " to ",
                                   cfb::EnumNameAttributeType(n->type())));
        continue;
      }
      const std::string why = AppendOnly(Values(p->values()), Values(n->values()));
      if (!why.empty()) out.push_back(absl::StrCat("attribute ", name, ": ", why));
      if (p->type() == cfb::AttributeType_IntRange &&
          (n->min() > p->min() || n->max() < p->max())) {
        out.push_back(absl::StrCat("attribute ", name, ": range ", p->min(), "..", p->max(),
                                   " narrowed to ", n->min(), "..", n->max(),
                                   "; a range may only widen"));
      }
    }
  }
  return out;
}

absl::Status CheckCompatible(const CatalogView& prev, const CatalogView& next) {
  std::vector<std::string> problems = CompatibilityProblems(prev.catalog(), next.catalog());
  if (problems.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrJoin(problems, "\n"));
}

}  // namespace edict::catalogs
