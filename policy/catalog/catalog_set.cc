#include "policy/catalog/catalog_set.h"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "policy/catalog/catalog_validate.h"
#include "policy/condition.h"

namespace edict {

struct CatalogSet::Storage {
  std::deque<catalogs::CatalogFile> files;
  std::deque<std::string> origins;
  std::deque<std::vector<std::string_view>> value_lists;
  std::deque<std::vector<uint16_t>> group_members;
  std::deque<std::vector<ForbidSpec>> forbids;
};

namespace {

// An absent string is "" (never a null data(): the tables hand these views to code that
// copies them, as the generated constexpr tables always did).
std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view("", 0) : std::string_view(s->c_str(), s->size());
}

// Debian's Abseil keeps its own string_view: the catalogue file API speaks it, this set
// speaks std::string_view (as the kernel does); this converts at the boundary.
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// `source`, or the deprecated `seed` where a catalogue still gives that.
template <typename T>
std::string_view SourceOf(const T* entry) {
  return entry->source() != nullptr ? View(entry->source()) : View(entry->seed());
}

// Everything but `groups` and `attributes` (which catalogue defaults may not use) and at
// most one region; false if the condition needs more than a ConditionSpec holds.
bool ToConditionSpec(const fb::Condition* w, ConditionSpec* out) {
  *out = ConditionSpec();
  if (w == nullptr) return true;
  if ((w->groups() != nullptr && w->groups()->size() != 0) ||
      (w->attributes() != nullptr && w->attributes()->size() != 0) ||
      (w->regions() != nullptr && w->regions()->size() > 1)) {
    return false;
  }
  out->identity = static_cast<uint8_t>(w->identity());
  out->domain_joined = static_cast<uint8_t>(w->domain_joined());
  out->device_managed = static_cast<uint8_t>(w->device_managed());
  out->plans = static_cast<uint8_t>(w->plans());
  out->roles = static_cast<uint8_t>(w->roles());
  out->account_creation = static_cast<uint8_t>(w->account_creation());
  out->os_min = w->os_min();
  out->os_max = w->os_max();
  out->state_all = w->state_all();
  out->state_none = w->state_none();
  if (w->regions() != nullptr && w->regions()->size() == 1)
    out->region = View(w->regions()->Get(0));
  return true;
}

int Find(const absl::flat_hash_map<std::string_view, int>& map, std::string_view id) {
  auto it = map.find(id);
  return it == map.end() ? -1 : it->second;
}

// Most specific first; equal specificity keeps catalogue order.
template <typename Rule>
void InsertBySpecificity(std::vector<Rule>* list, const Rule& r) {
  list->insert(
      std::upper_bound(list->begin(), list->end(), r,
                       [](const Rule& x, const Rule& y) { return x.specificity > y.specificity; }),
      r);
}

}  // namespace

// Builds a set from catalogues added in handle order: the built-in one first, then the
// products. Defaults, schedules and compliance tags are resolved in Finish, once every
// catalogue's ids are known.
class CatalogSet::Builder {
 public:
  Builder() : set_(new CatalogSet()) { set_->storage_ = std::make_unique<Storage>(); }

  // `product`: false for the built-in catalogue (five products, no product table).
  absl::Status Add(const catalog_fb::Catalog& cat, std::string_view origin, bool product,
                   uint32_t version, uint64_t hash) {
    CatalogSet& set = *set_;
    Storage& st = *set.storage_;
    const std::string where = origin.empty()
                                  ? std::string(product ? "catalogue" : "built-in catalogue")
                                  : std::string(origin);
    auto fail = [&](std::string_view what, std::string_view id) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", A(what), " \"", A(id), "\""));
    };
    const int product_index = product ? static_cast<int>(set.products_.size()) : -1;
    ProductSpec ps;
    if (product) {
      ps.id = View(cat.product()->id());
      if (!set.product_by_id_.emplace(ps.id, product_index).second) {
        return fail("a second catalogue of product", ps.id);
      }
      ps.vendor = View(cat.product()->vendor());
      ps.display_name = View(cat.product()->display_name());
      ps.version = version;
      ps.hash = hash;
      ps.origin = origin;
      ps.catalog = &cat;
    }
    ps.first_setting = static_cast<int>(set.settings_.size());

    if (cat.settings() != nullptr) {
      // Atomic groups of this catalogue, in name order; members in handle order.
      std::map<std::string_view, int> groups;  // name -> index among this catalogue's
      for (const catalog_fb::Setting* s : *cat.settings()) {
        if (s->atomic_group() != nullptr && s->atomic_group()->size() != 0) {
          groups.emplace(View(s->atomic_group()), 0);
        }
      }
      const size_t first_group = set.atomic_groups_.size();
      std::vector<std::vector<uint16_t>*> members;
      for (auto& [name, index] : groups) {
        index = static_cast<int>(members.size());
        st.group_members.emplace_back();
        members.push_back(&st.group_members.back());
        set.atomic_groups_.push_back(AtomicGroupSpec{name, nullptr, 0});
      }
      for (const catalog_fb::Setting* s : *cat.settings()) {
        const std::string_view id = View(s->id());
        const int handle = static_cast<int>(set.settings_.size());
        if (handle > 0xFFFF) return fail("more than 65,536 settings, at", id);
        if (!product && s->num() != handle) return fail("setting out of num order", id);
        if (!set.setting_by_name_.emplace(id, handle).second) {
          return fail("setting defined twice", id);
        }
        const size_t nvalues = s->values() == nullptr ? 0 : s->values()->size();
        if (nvalues > 255) return fail("more than 255 values in setting", id);
        st.value_lists.emplace_back();
        std::vector<std::string_view>& values = st.value_lists.back();
        for (size_t i = 0; i < nvalues; ++i) values.push_back(View(s->values()->Get(i)));
        SettingSpec spec{};
        spec.id = id;
        spec.num = s->num();
        spec.type = static_cast<SettingType>(s->type());
        spec.setters = static_cast<uint8_t>(s->setters());
        spec.scope = static_cast<Scope>(s->scope());
        spec.at_account_creation = s->at_account_creation();
        spec.fixed = s->fixed();
        spec.values = nvalues == 0 ? nullptr : values.data();
        spec.value_count = static_cast<uint8_t>(nvalues);
        if (spec.type == SettingType::kString) {
          spec.default_string = View(s->default_());
        } else if (!catalogs::ParseSettingValue(*s, A(View(s->default_())), &spec.default_int)) {
          return fail("invalid default of setting", id);
        }
        spec.obligations_if_enabled = s->obligations_if_enabled();
        spec.atomic_group = -1;
        if (s->atomic_group() != nullptr && s->atomic_group()->size() != 0) {
          const int g = groups.at(View(s->atomic_group()));
          spec.atomic_group = static_cast<int16_t>(first_group + g);
          members[g]->push_back(static_cast<uint16_t>(handle));
        }
        spec.seed = SourceOf(s);
        spec.description = View(s->description());
        spec.caveat = View(s->caveat());
        set.settings_.push_back(spec);
        set.fb_settings_.push_back(s);
      }
      for (size_t g = 0; g < members.size(); ++g) {
        set.atomic_groups_[first_group + g].members = members[g]->data();
        set.atomic_groups_[first_group + g].member_count = static_cast<uint8_t>(members[g]->size());
      }
    }
    ps.setting_count = static_cast<int>(set.settings_.size()) - ps.first_setting;

    if (cat.data_classes() != nullptr) {
      for (const catalog_fb::DataClass* c : *cat.data_classes()) {
        const std::string_view id = View(c->id());
        const int h = static_cast<int>(set.data_classes_.size());
        if (h > 0xFFFF || (!product && c->num() != h) ||
            !set.data_class_by_name_.emplace(id, h).second) {
          return fail("data class defined twice or out of num order", id);
        }
        set.data_classes_.push_back(
            DataClassSpec{id, c->num(), c->obligations(), SourceOf(c), View(c->description())});
      }
    }
    if (cat.purposes() != nullptr) {
      for (const catalog_fb::Purpose* p : *cat.purposes()) {
        const std::string_view id = View(p->id());
        const int h = static_cast<int>(set.purposes_.size());
        if (h > 0xFFFF || (!product && p->num() != h) ||
            !set.purpose_by_name_.emplace(id, h).second) {
          return fail("purpose defined twice or out of num order", id);
        }
        set.purposes_.push_back(PurposeSpec{id, p->num(), SourceOf(p), View(p->description())});
      }
    }
    if (cat.schedules() != nullptr) {
      for (const catalog_fb::Schedule* s : *cat.schedules()) {
        const std::string_view id = View(s->id());
        const int h = static_cast<int>(set.schedules_.size());
        if (h > 0xFFFF || (!product && s->num() != h) ||
            !set.schedule_by_name_.emplace(id, h).second) {
          return fail("schedule defined twice or out of num order", id);
        }
        set.schedules_.push_back(ScheduleSpec{id, s->num(), SourceOf(s), View(s->description())});
      }
    }
    if (cat.data_use_defaults() != nullptr) {
      for (const catalog_fb::DataUseDefault* d : *cat.data_use_defaults()) {
        pending_use_.push_back({d, where});
      }
    }
    if (cat.schedule_defaults() != nullptr) {
      for (const catalog_fb::ScheduleDefault* d : *cat.schedule_defaults()) {
        pending_schedules_.push_back({d, where});
      }
    }
    if (cat.compliance_tags() != nullptr) {
      for (const catalog_fb::ComplianceTag* t : *cat.compliance_tags()) {
        pending_tags_.push_back({t, where});
      }
    }
    if (cat.attributes() != nullptr) {
      for (const catalog_fb::ContextAttribute* a : *cat.attributes()) {
        const std::string_view name = View(a->name());
        const int h = static_cast<int>(set.attributes_.size());
        if (!set.attribute_by_name_.emplace(name, h).second) {
          return fail("attribute defined twice", name);
        }
        AttributeSpec as;
        as.name = name;
        as.type = static_cast<AttributeType>(a->type());
        as.term = static_cast<BuiltinTerm>(a->term());
        if ((as.term != BuiltinTerm::kNone) == product ||
            static_cast<int>(as.term) >= kBuiltinTermCount ||
            (!product && set.builtin_attribute_[static_cast<int>(as.term)] >= 0)) {
          return fail("built-in term on a product attribute, or a built-in term twice", name);
        }
        if (!product) set.builtin_attribute_[static_cast<int>(as.term)] = h;
        if (a->values() != nullptr) {
          if (as.type == AttributeType::kEnum && a->values()->size() > kMaxAttributeEnumValues) {
            return fail("more than 64 values in enum attribute", name);
          }
          st.value_lists.emplace_back();
          for (const flatbuffers::String* v : *a->values()) {
            st.value_lists.back().push_back(View(v));
          }
          as.values = st.value_lists.back();
        }
        as.min = a->min();
        as.max = a->max();
        as.description = View(a->description());
        as.product = product_index;
        set.attributes_.push_back(as);
      }
    }
    if (product) {
      set.products_.push_back(ps);
    } else {
      set.builtin_settings_ = ps.setting_count;
    }
    return absl::OkStatus();
  }

  // The embedded built-in catalogue (policy/catalog_data.inc), verified as any binary
  // catalogue is; its content rules were checked when it was generated (gen_catalog).
  absl::Status AddBuiltin() {
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(catalog::kBuiltinCatalogBytes);
    flatbuffers::Verifier v(bytes, catalog::kBuiltinCatalogSize);
    if (!catalog_fb::VerifyCatalogBuffer(v)) {
      return absl::InternalError("the embedded built-in catalogue does not verify");
    }
    const catalog_fb::Catalog* cat = catalog_fb::GetCatalog(bytes);
    absl::Status s = Add(*cat, "", /*product=*/false, cat->version(), 0);
    for (int t = 1; s.ok() && t < kBuiltinTermCount; ++t) {
      if (set_->builtin_attribute_[t] < 0) {
        s = absl::InternalError("the embedded built-in catalogue lacks a built-in term");
      }
    }
    return s;
  }

  Storage* storage() { return set_->storage_.get(); }

  absl::StatusOr<std::unique_ptr<CatalogSet>> Finish() {
    CatalogSet& set = *set_;
    Storage& st = *set.storage_;
    // Compliance tags (forbids may name settings of any catalogue of the set).
    for (const auto& [t, where] : pending_tags_) {
      const std::string_view id = View(t->id());
      const int h = static_cast<int>(set.compliance_tags_.size());
      if (!set.tag_by_name_.emplace(id, h).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": compliance tag defined twice \"", A(id), "\""));
      }
      st.forbids.emplace_back();
      if (t->forbids() != nullptr) {
        for (const catalog_fb::Forbid* f : *t->forbids()) {
          const int s = set.FindSetting(View(f->setting()));
          int64_t v = 0;
          if (s < 0 ||
              !catalogs::ParseSettingValue(*set.fb_settings_[s], A(View(f->value())), &v)) {
            return absl::InvalidArgumentError(absl::StrCat(
                where, ": compliance tag \"", A(id), "\" forbids an unknown setting or value \"",
                A(View(f->setting())), "\""));
          }
          st.forbids.back().push_back(ForbidSpec{static_cast<uint16_t>(s), v});
        }
      }
      set.compliance_tags_.push_back(
          ComplianceTagSpec{id, View(t->description()), st.forbids.back().data(),
                            static_cast<uint8_t>(st.forbids.back().size())});
    }

    // The data-use matrix for the set's classes x purposes, most specific first per cell.
    const size_t purposes = set.purposes_.size();
    std::vector<std::vector<BuiltinDataUse>> by_cell(set.data_classes_.size() * purposes);
    for (const auto& [d, where] : pending_use_) {
      const int c = set.FindDataClass(View(d->data_class()));
      const int p = set.FindPurpose(View(d->purpose()));
      BuiltinDataUse b{};
      if (c < 0 || p < 0 || !ToConditionSpec(d->when(), &b.when)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": data-use default ", A(View(d->data_class())), " x ", A(View(d->purpose())),
            " names an unknown class or purpose, or a condition a default cannot have"));
      }
      b.data_class = static_cast<uint16_t>(c);
      b.purpose = static_cast<uint16_t>(p);
      b.allow = d->effect() == fb::Effect_Allow;
      b.fixed = d->fixed();
      b.obligations = d->obligations();
      b.specificity = static_cast<uint8_t>(Specificity(d->when()));
      b.seed = SourceOf(d);
      b.note = View(d->note());
      InsertBySpecificity(&by_cell[static_cast<size_t>(c) * purposes + p], b);
    }
    set.data_use_cell_begin_.push_back(0);
    for (const auto& cell : by_cell) {
      set.builtin_data_use_.insert(set.builtin_data_use_.end(), cell.begin(), cell.end());
      set.data_use_cell_begin_.push_back(static_cast<uint32_t>(set.builtin_data_use_.size()));
    }

    std::vector<std::vector<BuiltinSchedule>> by_schedule(set.schedules_.size());
    for (const auto& [d, where] : pending_schedules_) {
      const int k = set.FindSchedule(View(d->schedule()));
      BuiltinSchedule b{};
      if (k < 0 || !ToConditionSpec(d->when(), &b.when) ||
          !catalogs::ParseCatalogDuration(A(View(d->interval())), &b.interval_seconds)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": schedule default of ", A(View(d->schedule())),
                         " names an unknown schedule, an invalid interval or a condition a "
                         "default cannot have"));
      }
      b.schedule = static_cast<uint16_t>(k);
      b.specificity = static_cast<uint8_t>(Specificity(d->when()));
      b.seed = SourceOf(d);
      b.note = View(d->note());
      InsertBySpecificity(&by_schedule[static_cast<size_t>(k)], b);
    }
    set.schedule_begin_.push_back(0);
    for (const auto& list : by_schedule) {
      set.builtin_schedules_.insert(set.builtin_schedules_.end(), list.begin(), list.end());
      set.schedule_begin_.push_back(static_cast<uint32_t>(set.builtin_schedules_.size()));
    }
    return std::move(set_);
  }

 private:
  template <typename T>
  struct Pending {
    const T* entry;
    std::string where;
  };
  std::unique_ptr<CatalogSet> set_;
  std::vector<Pending<catalog_fb::DataUseDefault>> pending_use_;
  std::vector<Pending<catalog_fb::ScheduleDefault>> pending_schedules_;
  std::vector<Pending<catalog_fb::ComplianceTag>> pending_tags_;
};

const CatalogSet& CatalogSet::Builtin() {
  static const CatalogSet* const kBuiltin = [] {
    Builder b;
    absl::Status s = b.AddBuiltin();
    absl::StatusOr<std::unique_ptr<CatalogSet>> set =
        s.ok() ? b.Finish() : absl::StatusOr<std::unique_ptr<CatalogSet>>(s);
    // The embedded catalogue is part of the program: if it does not load, nothing can.
    if (!set.ok()) std::abort();
    return set->release();
  }();
  return *kBuiltin;
}

absl::StatusOr<std::shared_ptr<const CatalogSet>> CatalogSet::Create(std::vector<Input> inputs) {
  Builder b;
  if (absl::Status s = b.AddBuiltin(); !s.ok()) return s;
  Storage& st = *b.storage();
  // Verify each input; add products in id order so handles do not depend on load order.
  std::vector<std::pair<const catalogs::CatalogFile*, std::string_view>> loaded;
  for (Input& in : inputs) {
    st.origins.push_back(std::move(in.origin));
    const std::string& origin = st.origins.back();
    const std::string where = origin.empty() ? std::string("catalogue") : origin;
    auto file = catalogs::CatalogFile::FromBytes(in.bytes);
    if (!file.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", file.status().message()));
    }
    if (file->view().product_id().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": a catalogue to load must name its product"));
    }
    st.files.push_back(*std::move(file));
    loaded.emplace_back(&st.files.back(), origin);
  }
  std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) {
    return a.first->view().product_id() < b.first->view().product_id();
  });
  for (const auto& [file, origin] : loaded) {
    const catalogs::CatalogView& view = file->view();
    if (absl::Status s =
            b.Add(view.catalog(), origin, /*product=*/true, view.version(), view.hash());
        !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<std::unique_ptr<CatalogSet>> set = b.Finish();
  if (!set.ok()) return set.status();
  return std::shared_ptr<const CatalogSet>(std::move(*set));
}

int CatalogSet::FindSetting(std::string_view id) const { return Find(setting_by_name_, id); }
int CatalogSet::FindDataClass(std::string_view id) const { return Find(data_class_by_name_, id); }
int CatalogSet::FindPurpose(std::string_view id) const { return Find(purpose_by_name_, id); }
int CatalogSet::FindSchedule(std::string_view id) const { return Find(schedule_by_name_, id); }
int CatalogSet::FindComplianceTag(std::string_view id) const { return Find(tag_by_name_, id); }
int CatalogSet::FindAttribute(std::string_view name) const {
  return Find(attribute_by_name_, name);
}
int CatalogSet::FindProduct(std::string_view id) const { return Find(product_by_id_, id); }

Table<BuiltinDataUse> CatalogSet::BuiltinRulesFor(int data_class, int purpose) const {
  const size_t cell = static_cast<size_t>(data_class) * purposes_.size() + purpose;
  return {builtin_data_use_.data() + data_use_cell_begin_[cell],
          data_use_cell_begin_[cell + 1] - data_use_cell_begin_[cell]};
}

Table<BuiltinSchedule> CatalogSet::BuiltinRulesFor(int schedule) const {
  return {builtin_schedules_.data() + schedule_begin_[schedule],
          schedule_begin_[schedule + 1] - schedule_begin_[schedule]};
}

int CatalogSet::ProductOfSetting(int handle) const {
  for (size_t i = 0; i < products_.size(); ++i) {
    const ProductSpec& p = products_[i];
    if (handle >= p.first_setting && handle < p.first_setting + p.setting_count) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

const catalog_fb::Setting* CatalogSet::ProductSetting(int handle) const {
  if (handle < builtin_settings_ || static_cast<size_t>(handle) >= fb_settings_.size()) {
    return nullptr;
  }
  return fb_settings_[handle];
}

std::string_view AttributeTypeName(AttributeType t) {
  switch (t) {
    case AttributeType::kBool:
      return "bool";
    case AttributeType::kEnum:
      return "enum";
    case AttributeType::kIntRange:
      return "integer";
    case AttributeType::kStringSet:
      return "string set";
  }
  return "unknown";
}

}  // namespace edict
