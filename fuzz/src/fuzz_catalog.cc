// Product catalogue loader (policy/catalog/catalog_{source,file,validate}.h,
// docs/catalogs.md), with a differential check: a catalogue loaded from binary and the
// same catalogue built again from its JSON answer identically.
// Input: one mode byte, then bytes.
//   even mode: a catalogue source (JSON). What builds must open, print as JSON that builds
//              to the same bytes (canonical), hold what the JSON says (counts, ids,
//              version, product), and pass the checks on every opened catalogue below.
//   odd mode:  a binary catalogue (.edcat), in an aligned copy. What opens must print as
//              JSON that builds into a catalogue equal field by field to the opened one,
//              whose bytes are a fixed point of print + build.
// Checks on every opened catalogue: the hash is Fnv1a64 of the bytes; compared with itself
// exactly one compatibility problem (the version does not increase); with its version
// raised by one, none; every setting's effective native names are non-empty and unique per
// store; a misaligned start is refused; a catalogue set built from it (the kernel's path)
// either refuses it with InvalidArgument or finds every id at its handle and answers every
// setting with its default.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "fuzz/src/common.h"
#include "kernel/kernel.h"
#include "policy/catalog/catalog_file.h"
#include "policy/catalog/catalog_set.h"
#include "policy/catalog/catalog_source.h"
#include "policy/catalog/catalog_validate.h"
#include "policy/compiler/json.h"

namespace {

namespace cat = edict::catalogs;
namespace cfb = edict::catalog_fb;
using edict::fuzz::Check;

// absl::string_view is not std::string_view in every build (ABSL_OPTION_USE_STD_STRING_VIEW).
std::string_view Std(absl::string_view s) { return std::string_view(s.data(), s.size()); }

std::string_view Sv(const flatbuffers::String* s) {
  return s ? std::string_view(s->c_str(), s->size()) : std::string_view();
}

absl::string_view Asv(const flatbuffers::String* s) {
  return s ? absl::string_view(s->c_str(), s->size()) : absl::string_view();
}

using StringVector = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;

std::vector<std::string_view> Strings(const StringVector* v) {
  std::vector<std::string_view> out;
  if (v != nullptr) {
    for (const flatbuffers::String* s : *v) out.push_back(Sv(s));
  }
  return out;
}

template <typename T>
size_t Count(const flatbuffers::Vector<flatbuffers::Offset<T>>* v) {
  return v ? v->size() : 0;
}

// ---- Checks on one opened catalogue -------------------------------------------------

void CheckNative(const cfb::Catalog& c) {
  std::set<std::string> registry, dconf, managed;
  for (const cfb::Setting* s : *c.settings()) {
    const cat::NativeNames n = cat::EffectiveNative(*s);
    Check(!n.registry_value.empty() && !n.dconf_key.empty() && !n.managed_key.empty(),
          "EffectiveNative gives an empty name", Sv(s->id()));
    Check(registry.insert(n.registry_value).second && dconf.insert(n.dconf_key).second &&
              managed.insert(n.managed_key).second,
          "an opened catalogue has a native name twice in one store", Sv(s->id()));
    Check(n.registry_type == (s->native() ? s->native()->registry_type() : cfb::RegistryType_Auto),
          "EffectiveNative changes the registry type", Sv(s->id()));
  }
}

// The kernel's path: the catalogue in a set, its settings queried on the set's defaults.
void CheckInSet(const cat::CatalogView& v) {
  auto set = edict::CatalogSet::Create({{"fuzz.edcat", std::string(Std(v.bytes()))}});
  if (!set.ok()) {
    Check(set.status().code() == absl::StatusCode::kInvalidArgument,
          "CatalogSet::Create fails with another code than InvalidArgument");
    return;
  }
  const edict::CatalogSet& s = **set;
  const size_t builtin = edict::CatalogSet::Builtin().settings().size();
  Check(s.products().size() == 1 && s.products()[0].id == Std(v.product_id()),
        "the set does not hold the catalogue's product");
  Check(s.settings().size() == builtin + Count(v.catalog().settings()),
        "the set's settings are not built-in + the catalogue's");
  std::vector<std::max_align_t> arena(
      edict::Snapshot::DefaultsArenaSize(s) / sizeof(std::max_align_t) + 1);
  auto defaults =
      edict::Snapshot::Defaults(s, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(arena.data()),
                                                       arena.size() * sizeof(std::max_align_t)));
  Check(defaults.ok(), "Defaults(set) fails");
  for (size_t h = builtin; h < s.settings().size(); ++h) {
    const edict::SettingSpec& spec = s.settings()[h];
    Check(s.FindSetting(spec.id) == static_cast<int>(h), "a setting is not at its handle", spec.id);
    const edict::Resolution r = (*defaults)->Resolve(static_cast<int>(h), edict::Context{});
    Check(r.setting == static_cast<int>(h) && r.value.type == spec.type,
          "a product setting does not resolve to its own type", spec.id);
    char text[512];
    (*defaults)->Explain(r, edict::Context{}, nullptr, edict::ExplainDetail::kWithCandidates,
                         absl::Span<char>(text));
  }
  for (size_t a = 0; a < s.attributes().size(); ++a) {
    Check(s.FindAttribute(s.attributes()[a].name) == static_cast<int>(a),
          "an attribute is not at its handle", s.attributes()[a].name);
  }
}

void CheckOpened(const cat::CatalogView& v, const std::string& json) {
  const cfb::Catalog& c = v.catalog();
  Check(v.hash() == cat::Fnv1a64(v.bytes()), "the view's hash is not Fnv1a64 of its bytes");
  Check(v.version() >= 1 && !v.product_id().empty() && c.settings() != nullptr &&
            c.settings()->size() != 0,
        "an opened catalogue has no version, product or setting");
  CheckNative(c);
  CheckInSet(v);

  // Against itself: the version does not increase, and nothing else is wrong.
  const std::vector<std::string> self = cat::CompatibilityProblems(c, c);
  Check(self.size() == 1 && absl::StartsWith(self[0], "version "),
        "a catalogue compared with itself has other problems than its version",
        self.empty() ? std::string("(none)") : absl::StrJoin(self, "\n"));
  const absl::Status same = cat::CheckCompatible(v, v);
  Check(same.code() == absl::StatusCode::kFailedPrecondition,
        "CheckCompatible(x, x) is not FailedPrecondition");

  // The same catalogue one version later is compatible. The canonical JSON starts with
  // the version (schema order, two-space indent).
  if (v.version() == UINT32_MAX) return;
  const std::string head = absl::StrCat("{\n  \"version\": ", v.version(), ",\n");
  Check(absl::StartsWith(json, head), "the canonical JSON does not start with the version", json);
  const std::string next_json =
      absl::StrCat("{\n  \"version\": ", v.version() + 1, ",\n", json.substr(head.size()));
  const absl::StatusOr<std::string> next_bytes = cat::BuildCatalog(next_json, "next.json");
  Check(next_bytes.ok(), "the catalogue one version later does not build",
        next_bytes.ok() ? "" : Std(next_bytes.status().message()));
  const absl::StatusOr<cat::CatalogFile> next = cat::CatalogFile::FromBytes(*next_bytes);
  Check(next.ok(), "the catalogue one version later does not open");
  const std::vector<std::string> up = cat::CompatibilityProblems(c, next->catalog());
  Check(up.empty(), "the same catalogue one version later is incompatible",
        absl::StrJoin(up, "\n"));
}

// The bytes of an opened catalogue: its canonical JSON must build back to them.
std::string CheckCanonical(const cat::CatalogView& v) {
  const absl::StatusOr<std::string> json = cat::CatalogToJson(v);
  Check(json.ok(), "CatalogToJson fails on an opened catalogue",
        json.ok() ? "" : Std(json.status().message()));
  const absl::StatusOr<std::string> again = cat::BuildCatalog(*json, "canonical.json");
  Check(again.ok(), "the canonical JSON of an opened catalogue does not build",
        again.ok() ? *json : absl::StrCat(again.status().message(), "\n", *json));
  Check(absl::string_view(*again) == v.bytes(), "BuildCatalog(CatalogToJson(b)) != b", *json);
  return *json;
}

// ---- JSON mode: what the JSON says -------------------------------------------------

const edict::json::Value* Member(const edict::json::Value& v, std::string_view key) {
  return v.is_object() ? v.Find(key) : nullptr;
}

// The `key` strings of the elements of array `section`, compared with the catalogue's.
template <typename T, typename Id>
void CheckSection(const edict::json::Value& root, std::string_view section, std::string_view key,
                  const flatbuffers::Vector<flatbuffers::Offset<T>>* v, Id id) {
  const edict::json::Value* a = Member(root, section);
  const size_t n = a && a->is_array() ? a->items().size() : 0;
  Check(n == Count(v), "element count differs from the JSON", section);
  for (size_t i = 0; i < n; ++i) {
    const edict::json::Value* k = Member(a->items()[i], key);
    if (k == nullptr || !k->is_string()) continue;
    Check(k->string() == std::string(Sv(id(v->Get(static_cast<flatbuffers::uoffset_t>(i))))),
          "an id differs from the JSON", k->string());
  }
}

void CheckAgainstSource(const cat::CatalogView& v, std::string_view text) {
  const absl::StatusOr<edict::json::Value> root = edict::json::Parse(text);
  Check(root.ok() && root->is_object(), "a source that builds does not parse as an object");
  const cfb::Catalog& c = v.catalog();
  if (const edict::json::Value* ver = Member(*root, "version"); ver && ver->is_integer()) {
    Check(ver->integer() == int64_t{v.version()}, "the version differs from the JSON");
  }
  if (const edict::json::Value* p = Member(*root, "product")) {
    const edict::json::Value* id = Member(*p, "id");
    if (id && id->is_string()) {
      Check(id->string() == Std(v.product_id()), "the product id differs from the JSON");
    }
  }
  CheckSection(*root, "settings", "id", c.settings(), [](const auto* e) { return e->id(); });
  CheckSection(*root, "data_classes", "id", c.data_classes(),
               [](const auto* e) { return e->id(); });
  CheckSection(*root, "purposes", "id", c.purposes(), [](const auto* e) { return e->id(); });
  CheckSection(*root, "schedules", "id", c.schedules(), [](const auto* e) { return e->id(); });
  CheckSection(*root, "compliance_tags", "id", c.compliance_tags(),
               [](const auto* e) { return e->id(); });
  CheckSection(*root, "attributes", "name", c.attributes(),
               [](const auto* e) { return e->name(); });
  CheckSection(*root, "data_use_defaults", "data_class", c.data_use_defaults(),
               [](const auto* e) { return e->data_class(); });
  CheckSection(*root, "schedule_defaults", "schedule", c.schedule_defaults(),
               [](const auto* e) { return e->schedule(); });
  // Each setting's values, in order.
  const edict::json::Value* settings = Member(*root, "settings");
  for (size_t i = 0; settings && i < settings->items().size(); ++i) {
    const edict::json::Value* values = Member(settings->items()[i], "values");
    if (values == nullptr || !values->is_array()) continue;
    const std::vector<std::string_view> got =
        Strings(c.settings()->Get(static_cast<flatbuffers::uoffset_t>(i))->values());
    Check(got.size() == values->items().size(), "a setting's value count differs from the JSON");
    for (size_t k = 0; k < got.size(); ++k) {
      if (values->items()[k].is_string()) {
        Check(values->items()[k].string() == got[k], "a value differs from the JSON");
      }
    }
  }
}

void JsonMode(std::string_view text) {
  const absl::StatusOr<std::string> built =
      cat::BuildCatalog(absl::string_view(text.data(), text.size()), "fuzz.json");
  if (!built.ok()) {
    // Internal errors are the canonical re-reading failing: a bug, not a bad source.
    Check(built.status().code() == absl::StatusCode::kInvalidArgument,
          "BuildCatalog fails other than InvalidArgument", built.status().ToString());
    Check(absl::StartsWith(built.status().message(), "fuzz.json:"),
          "a BuildCatalog error does not start with the file name", Std(built.status().message()));
    return;
  }
  Check(built->size() >= 8 && built->substr(4, 4) == cat::kFileIdentifier,
        "a built catalogue has no EDCT identifier");
  const absl::StatusOr<cat::CatalogFile> file = cat::CatalogFile::FromBytes(*built);
  Check(file.ok(), "a built catalogue does not open",
        file.ok() ? "" : Std(file.status().message()));
  const std::string json = CheckCanonical(file->view());
  CheckAgainstSource(file->view(), text);
  CheckOpened(file->view(), json);
}

// ---- Binary mode: the opened catalogue against the one built from its JSON ----------

void SameStrings(const StringVector* a, const StringVector* b, const char* what) {
  Check(Strings(a) == Strings(b), what);
}

void SameCondition(const edict::fb::Condition* a, const edict::fb::Condition* b) {
  Check((a == nullptr) == (b == nullptr), "a `when` differs (presence)");
  if (a == nullptr) return;
  Check(a->identity() == b->identity() && a->domain_joined() == b->domain_joined() &&
            a->device_managed() == b->device_managed() && a->plans() == b->plans() &&
            a->os_min() == b->os_min() && a->os_max() == b->os_max() &&
            a->state_all() == b->state_all() && a->state_none() == b->state_none() &&
            a->roles() == b->roles() && a->account_creation() == b->account_creation(),
        "a `when` differs");
  SameStrings(a->groups(), b->groups(), "a `when`'s groups differ");
  SameStrings(a->regions(), b->regions(), "a `when`'s regions differ");
}

template <typename T>
void SameEntries(const flatbuffers::Vector<flatbuffers::Offset<T>>* a,
                 const flatbuffers::Vector<flatbuffers::Offset<T>>* b, const char* what) {
  Check(Count(a) == Count(b), what, "count");
  for (flatbuffers::uoffset_t i = 0; i < Count(a); ++i) {
    const T* x = a->Get(i);
    const T* y = b->Get(i);
    Check(Sv(x->id()) == Sv(y->id()) && x->num() == y->num() &&
              Sv(x->description()) == Sv(y->description()) && Sv(x->source()) == Sv(y->source()) &&
              Sv(x->seed()) == Sv(y->seed()),
          what, Sv(x->id()));
  }
}

void SameSetting(const cfb::Setting& a, const cfb::Setting& b) {
  const std::string id = std::string(Sv(a.id()));
  Check(Sv(a.id()) == Sv(b.id()) && a.num() == b.num() && a.type() == b.type() &&
            Sv(a.default_()) == Sv(b.default_()) && a.setters() == b.setters() &&
            a.scope() == b.scope() && a.at_account_creation() == b.at_account_creation() &&
            a.fixed() == b.fixed() && a.obligations_if_enabled() == b.obligations_if_enabled() &&
            Sv(a.atomic_group()) == Sv(b.atomic_group()) && Sv(a.seed()) == Sv(b.seed()) &&
            Sv(a.description()) == Sv(b.description()) && Sv(a.caveat()) == Sv(b.caveat()) &&
            Sv(a.source()) == Sv(b.source()) && a.deprecated() == b.deprecated(),
        "a setting differs", id);
  SameStrings(a.values(), b.values(), "a setting's values differ");
  int64_t da = 0, db = 0;
  const bool pa = cat::ParseSettingValue(a, Asv(a.default_()), &da);
  const bool pb = cat::ParseSettingValue(b, Asv(b.default_()), &db);
  Check(pa && pb && da == db, "a setting's default parses differently", id);
  const cat::NativeNames na = cat::EffectiveNative(a), nb = cat::EffectiveNative(b);
  Check(na.registry_value == nb.registry_value && na.registry_type == nb.registry_type &&
            na.dconf_key == nb.dconf_key && na.managed_key == nb.managed_key,
        "a setting's native names differ", id);
  Check((a.native() == nullptr) == (b.native() == nullptr), "a setting's native mapping differs",
        id);
}

void SameCatalogue(const cfb::Catalog& a, const cfb::Catalog& b) {
  Check(a.version() == b.version(), "the version differs");
  Check(Sv(a.product()->id()) == Sv(b.product()->id()) &&
            Sv(a.product()->vendor()) == Sv(b.product()->vendor()) &&
            Sv(a.product()->display_name()) == Sv(b.product()->display_name()),
        "the product differs");
  Check(Count(a.settings()) == Count(b.settings()), "the setting count differs");
  for (flatbuffers::uoffset_t i = 0; i < a.settings()->size(); ++i) {
    SameSetting(*a.settings()->Get(i), *b.settings()->Get(i));
  }
  SameEntries(a.data_classes(), b.data_classes(), "a data class differs");
  for (flatbuffers::uoffset_t i = 0; i < Count(a.data_classes()); ++i) {
    Check(a.data_classes()->Get(i)->obligations() == b.data_classes()->Get(i)->obligations(),
          "a data class's obligations differ");
  }
  SameEntries(a.purposes(), b.purposes(), "a purpose differs");
  SameEntries(a.schedules(), b.schedules(), "a schedule differs");

  Check(Count(a.data_use_defaults()) == Count(b.data_use_defaults()),
        "the data-use default count differs");
  for (flatbuffers::uoffset_t i = 0; i < Count(a.data_use_defaults()); ++i) {
    const cfb::DataUseDefault* x = a.data_use_defaults()->Get(i);
    const cfb::DataUseDefault* y = b.data_use_defaults()->Get(i);
    Check(Sv(x->data_class()) == Sv(y->data_class()) && Sv(x->purpose()) == Sv(y->purpose()) &&
              x->effect() == y->effect() && x->obligations() == y->obligations() &&
              x->fixed() == y->fixed() && Sv(x->note()) == Sv(y->note()) &&
              Sv(x->source()) == Sv(y->source()) && Sv(x->seed()) == Sv(y->seed()),
          "a data-use default differs");
    SameCondition(x->when(), y->when());
  }
  Check(Count(a.schedule_defaults()) == Count(b.schedule_defaults()),
        "the schedule default count differs");
  for (flatbuffers::uoffset_t i = 0; i < Count(a.schedule_defaults()); ++i) {
    const cfb::ScheduleDefault* x = a.schedule_defaults()->Get(i);
    const cfb::ScheduleDefault* y = b.schedule_defaults()->Get(i);
    Check(Sv(x->schedule()) == Sv(y->schedule()) && Sv(x->interval()) == Sv(y->interval()) &&
              Sv(x->note()) == Sv(y->note()) && Sv(x->source()) == Sv(y->source()) &&
              Sv(x->seed()) == Sv(y->seed()),
          "a schedule default differs");
    SameCondition(x->when(), y->when());
  }
  Check(Count(a.compliance_tags()) == Count(b.compliance_tags()),
        "the compliance tag count differs");
  for (flatbuffers::uoffset_t i = 0; i < Count(a.compliance_tags()); ++i) {
    const cfb::ComplianceTag* x = a.compliance_tags()->Get(i);
    const cfb::ComplianceTag* y = b.compliance_tags()->Get(i);
    Check(Sv(x->id()) == Sv(y->id()) && Sv(x->description()) == Sv(y->description()) &&
              Count(x->forbids()) == Count(y->forbids()),
          "a compliance tag differs", Sv(x->id()));
    for (flatbuffers::uoffset_t k = 0; k < Count(x->forbids()); ++k) {
      Check(Sv(x->forbids()->Get(k)->setting()) == Sv(y->forbids()->Get(k)->setting()) &&
                Sv(x->forbids()->Get(k)->value()) == Sv(y->forbids()->Get(k)->value()),
            "a compliance tag's forbid differs", Sv(x->id()));
    }
  }
  Check(Count(a.attributes()) == Count(b.attributes()), "the attribute count differs");
  for (flatbuffers::uoffset_t i = 0; i < Count(a.attributes()); ++i) {
    const cfb::ContextAttribute* x = a.attributes()->Get(i);
    const cfb::ContextAttribute* y = b.attributes()->Get(i);
    Check(Sv(x->name()) == Sv(y->name()) && x->type() == y->type() && x->min() == y->min() &&
              x->max() == y->max() && Sv(x->description()) == Sv(y->description()) &&
              Sv(x->source()) == Sv(y->source()),
          "an attribute differs", Sv(x->name()));
    SameStrings(x->values(), y->values(), "an attribute's values differ");
  }
  // Both are the same version of the same catalogue.
  const std::vector<std::string> ab = cat::CompatibilityProblems(a, b);
  const std::vector<std::string> ba = cat::CompatibilityProblems(b, a);
  Check(ab.size() == 1 && ba.size() == 1 && absl::StartsWith(ab[0], "version ") &&
            absl::StartsWith(ba[0], "version "),
        "a catalogue and its rebuilt copy are not the same version of each other");
}

void BinaryMode(const uint8_t* data, size_t size) {
  // The bytes as they come (after the mode byte: usually misaligned) are refused unread.
  const absl::string_view raw(reinterpret_cast<const char*>(data), size);
  if (size != 0 && reinterpret_cast<uintptr_t>(data) % 8 != 0) {
    const absl::StatusOr<cat::CatalogView> misaligned = cat::CatalogView::Open(raw);
    Check(!misaligned.ok() && misaligned.status().code() == absl::StatusCode::kInvalidArgument,
          "a misaligned catalogue buffer is not refused");
  }
  const std::vector<uint8_t> copy = edict::fuzz::AlignedCopy({data, size});
  const absl::string_view bytes(reinterpret_cast<const char*>(copy.data()), copy.size());
  const absl::StatusOr<cat::CatalogView> view = cat::CatalogView::Open(bytes);
  const absl::StatusOr<cat::CatalogFile> file = cat::CatalogFile::FromBytes(raw);
  Check(view.ok() == file.ok(), "CatalogView::Open and CatalogFile::FromBytes disagree");
  if (!view.ok()) {
    Check(view.status().code() == absl::StatusCode::kInvalidArgument,
          "CatalogView::Open fails other than InvalidArgument", view.status().ToString());
    return;
  }
  Check(view->bytes().data() == bytes.data() && view->bytes().size() == bytes.size(),
        "the view does not borrow its bytes");
  Check(view->hash() == file->view().hash(), "Open and FromBytes hash differently");

  // Differential: print, build, open; the two catalogues answer identically.
  const absl::StatusOr<std::string> json = cat::CatalogToJson(*view);
  Check(json.ok(), "CatalogToJson fails on an opened catalogue",
        json.ok() ? "" : Std(json.status().message()));
  const absl::StatusOr<std::string> built = cat::BuildCatalog(*json, "printed.json");
  Check(built.ok(), "the JSON of an opened catalogue does not build",
        built.ok() ? *json : absl::StrCat(built.status().message(), "\n", *json));
  const absl::StatusOr<cat::CatalogFile> rebuilt = cat::CatalogFile::FromBytes(*built);
  Check(rebuilt.ok(), "a catalogue built from an opened one's JSON does not open");
  SameCatalogue(view->catalog(), rebuilt->catalog());
  const std::string canonical = CheckCanonical(rebuilt->view());
  CheckOpened(*view, *json);
  CheckOpened(rebuilt->view(), canonical);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    JsonMode(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  } else {
    BinaryMode(data + 1, size - 1);
  }
  return 0;
}
