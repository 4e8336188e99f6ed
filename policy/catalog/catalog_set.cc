#include "policy/catalog/catalog_set.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
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

std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

// Debian's Abseil keeps its own string_view: the catalogue file API speaks it, this
// set speaks std::string_view (as the kernel does); these convert at the boundary.
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view S(absl::string_view s) { return std::string_view(s.data(), s.size()); }

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

template <typename Spec>
void Index(const std::vector<Spec>& specs, absl::flat_hash_map<std::string_view, int>* map) {
  map->reserve(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) map->emplace(specs[i].id, static_cast<int>(i));
}

int Find(const absl::flat_hash_map<std::string_view, int>& map, std::string_view id) {
  auto it = map.find(id);
  return it == map.end() ? -1 : it->second;
}

}  // namespace

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

const CatalogSet& CatalogSet::Builtin() {
  static const CatalogSet* const kBuiltin = [] {
    auto* set = new CatalogSet();
    set->settings_.assign(catalog::kSettings.begin(), catalog::kSettings.end());
    set->atomic_groups_.assign(catalog::kAtomicGroups.begin(), catalog::kAtomicGroups.end());
    set->data_classes_.assign(catalog::kDataClasses.begin(), catalog::kDataClasses.end());
    set->purposes_.assign(catalog::kPurposes.begin(), catalog::kPurposes.end());
    set->schedules_.assign(catalog::kSchedules.begin(), catalog::kSchedules.end());
    set->compliance_tags_.assign(catalog::kComplianceTags.begin(), catalog::kComplianceTags.end());
    set->builtin_data_use_.assign(catalog::kBuiltinDataUse.begin(), catalog::kBuiltinDataUse.end());
    set->data_use_cell_begin_.assign(catalog::kBuiltinDataUseCellBegin.begin(),
                                     catalog::kBuiltinDataUseCellBegin.begin() +
                                         catalog::kDataClasses.size() * catalog::kPurposes.size() +
                                         1);
    set->builtin_schedules_.assign(catalog::kBuiltinSchedules.begin(),
                                   catalog::kBuiltinSchedules.end());
    set->schedule_begin_.assign(
        catalog::kBuiltinScheduleBegin.begin(),
        catalog::kBuiltinScheduleBegin.begin() + catalog::kSchedules.size() + 1);
    set->product_settings_.assign(set->settings_.size(), nullptr);
    Index(set->settings_, &set->setting_by_name_);
    Index(set->data_classes_, &set->data_class_by_name_);
    Index(set->purposes_, &set->purpose_by_name_);
    Index(set->schedules_, &set->schedule_by_name_);
    Index(set->compliance_tags_, &set->tag_by_name_);
    return set;
  }();
  return *kBuiltin;
}

absl::StatusOr<std::shared_ptr<const CatalogSet>> CatalogSet::Create(std::vector<Input> inputs) {
  const CatalogSet& base = Builtin();
  std::shared_ptr<CatalogSet> set(new CatalogSet());
  set->storage_ = std::make_unique<Storage>();
  Storage& st = *set->storage_;
  set->settings_ = base.settings_;
  set->atomic_groups_ = base.atomic_groups_;
  set->data_classes_ = base.data_classes_;
  set->purposes_ = base.purposes_;
  set->schedules_ = base.schedules_;
  set->compliance_tags_ = base.compliance_tags_;
  set->product_settings_ = base.product_settings_;

  // Verify each input; order products by id so handles do not depend on load order.
  struct Loaded {
    const catalogs::CatalogFile* file;
    std::string_view origin;
  };
  std::vector<Loaded> loaded;
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
    loaded.push_back({&st.files.back(), origin});
  }
  std::sort(loaded.begin(), loaded.end(), [](const Loaded& a, const Loaded& b) {
    return a.file->view().product_id() < b.file->view().product_id();
  });

  Index(set->settings_, &set->setting_by_name_);
  Index(set->data_classes_, &set->data_class_by_name_);
  Index(set->purposes_, &set->purpose_by_name_);
  Index(set->schedules_, &set->schedule_by_name_);
  Index(set->compliance_tags_, &set->tag_by_name_);

  // Product data-use and schedule defaults, resolved after every product's classes,
  // purposes and schedules are known.
  struct PendingUse {
    const catalog_fb::DataUseDefault* d;
    std::string_view origin;
  };
  struct PendingSchedule {
    const catalog_fb::ScheduleDefault* d;
    std::string_view origin;
  };
  std::vector<PendingUse> pending_use;
  std::vector<PendingSchedule> pending_schedules;
  std::vector<std::pair<const catalog_fb::ComplianceTag*, std::string_view>> pending_tags;

  for (const Loaded& l : loaded) {
    const catalogs::CatalogView& view = l.file->view();
    const catalog_fb::Catalog& cat = view.catalog();
    const std::string where =
        l.origin.empty() ? std::string(view.product_id()) : std::string(l.origin);
    auto fail = [&](std::string_view what, std::string_view id) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", A(what), " \"", A(id), "\""));
    };
    const int product = static_cast<int>(set->products_.size());
    const std::string_view product_id = S(view.product_id());
    if (!set->product_by_id_.emplace(product_id, product).second) {
      return fail("a second catalogue of product", product_id);
    }
    ProductSpec ps;
    ps.id = product_id;
    if (cat.product() != nullptr) {
      ps.vendor = View(cat.product()->vendor());
      ps.display_name = View(cat.product()->display_name());
    }
    ps.version = view.version();
    ps.hash = view.hash();
    ps.origin = l.origin;
    ps.first_setting = static_cast<int>(set->settings_.size());
    ps.catalog = &cat;

    // Atomic groups of this product, by name.
    absl::flat_hash_map<std::string_view, int> groups;
    std::vector<std::pair<int, std::vector<uint16_t>*>> group_lists;  // (group, members)
    if (cat.settings() != nullptr) {
      for (const catalog_fb::Setting* s : *cat.settings()) {
        const std::string_view g = View(s->atomic_group());
        if (g.empty() || groups.contains(g)) continue;
        groups.emplace(g, static_cast<int>(set->atomic_groups_.size()));
        st.group_members.emplace_back();
        group_lists.emplace_back(static_cast<int>(set->atomic_groups_.size()),
                                 &st.group_members.back());
        set->atomic_groups_.push_back(AtomicGroupSpec{g, nullptr, 0});
      }
      for (const catalog_fb::Setting* s : *cat.settings()) {
        const std::string_view id = View(s->id());
        const int handle = static_cast<int>(set->settings_.size());
        if (handle > 0xFFFF) return fail("too many settings at", id);
        if (!set->setting_by_name_.emplace(id, handle).second) {
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
        spec.values = values.data();
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
          spec.atomic_group = static_cast<int16_t>(g);
        }
        spec.seed = s->source() != nullptr ? View(s->source()) : View(s->seed());
        spec.description = View(s->description());
        spec.caveat = View(s->caveat());
        set->settings_.push_back(spec);
        set->product_settings_.push_back(s);
      }
      for (auto& [g, members] : group_lists) {
        for (int h = ps.first_setting; h < static_cast<int>(set->settings_.size()); ++h) {
          if (set->settings_[h].atomic_group == g) members->push_back(static_cast<uint16_t>(h));
        }
        set->atomic_groups_[g].members = members->data();
        set->atomic_groups_[g].member_count = static_cast<uint8_t>(members->size());
      }
    }
    ps.setting_count = static_cast<int>(set->settings_.size()) - ps.first_setting;

    if (cat.data_classes() != nullptr) {
      for (const catalog_fb::DataClass* c : *cat.data_classes()) {
        const std::string_view id = View(c->id());
        const int h = static_cast<int>(set->data_classes_.size());
        if (h > 0xFFFF || !set->data_class_by_name_.emplace(id, h).second) {
          return fail("data class defined twice", id);
        }
        set->data_classes_.push_back(DataClassSpec{
            id, c->num(), c->obligations(), c->source() ? View(c->source()) : View(c->seed()),
            View(c->description())});
      }
    }
    if (cat.purposes() != nullptr) {
      for (const catalog_fb::Purpose* p : *cat.purposes()) {
        const std::string_view id = View(p->id());
        const int h = static_cast<int>(set->purposes_.size());
        if (h > 0xFFFF || !set->purpose_by_name_.emplace(id, h).second) {
          return fail("purpose defined twice", id);
        }
        set->purposes_.push_back(PurposeSpec{id, p->num(),
                                             p->source() ? View(p->source()) : View(p->seed()),
                                             View(p->description())});
      }
    }
    if (cat.schedules() != nullptr) {
      for (const catalog_fb::Schedule* s : *cat.schedules()) {
        const std::string_view id = View(s->id());
        const int h = static_cast<int>(set->schedules_.size());
        if (h > 0xFFFF || !set->schedule_by_name_.emplace(id, h).second) {
          return fail("schedule defined twice", id);
        }
        set->schedules_.push_back(ScheduleSpec{id, s->num(),
                                               s->source() ? View(s->source()) : View(s->seed()),
                                               View(s->description())});
      }
    }
    if (cat.data_use_defaults() != nullptr) {
      for (const catalog_fb::DataUseDefault* d : *cat.data_use_defaults()) {
        pending_use.push_back({d, l.origin});
      }
    }
    if (cat.schedule_defaults() != nullptr) {
      for (const catalog_fb::ScheduleDefault* d : *cat.schedule_defaults()) {
        pending_schedules.push_back({d, l.origin});
      }
    }
    if (cat.compliance_tags() != nullptr) {
      for (const catalog_fb::ComplianceTag* t : *cat.compliance_tags()) {
        pending_tags.push_back({t, l.origin});
      }
    }
    if (cat.attributes() != nullptr) {
      for (const catalog_fb::ContextAttribute* a : *cat.attributes()) {
        const std::string_view name = View(a->name());
        const int h = static_cast<int>(set->attributes_.size());
        if (!set->attribute_by_name_.emplace(name, h).second) {
          return fail("attribute defined twice", name);
        }
        AttributeSpec as;
        as.name = name;
        as.type = static_cast<AttributeType>(a->type());
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
        as.product = product;
        set->attributes_.push_back(as);
      }
    }
    set->products_.push_back(ps);
  }

  // Compliance tags (forbids name settings of any catalogue of the set).
  for (const auto& [t, origin] : pending_tags) {
    const std::string_view id = View(t->id());
    const int h = static_cast<int>(set->compliance_tags_.size());
    if (!set->tag_by_name_.emplace(id, h).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(A(origin), ": compliance tag defined twice \"", A(id), "\""));
    }
    st.forbids.emplace_back();
    if (t->forbids() != nullptr) {
      for (const catalog_fb::Forbid* f : *t->forbids()) {
        const int s = set->FindSetting(View(f->setting()));
        int64_t v = 0;
        if (s < 0 || set->product_settings_[s] == nullptr ||
            !catalogs::ParseSettingValue(*set->product_settings_[s], A(View(f->value())), &v)) {
          return absl::InvalidArgumentError(absl::StrCat(
              A(origin), ": compliance tag \"", A(id), "\" forbids an unknown setting or value \"",
              A(View(f->setting())), "\""));
        }
        st.forbids.back().push_back(ForbidSpec{static_cast<uint16_t>(s), v});
      }
    }
    set->compliance_tags_.push_back(
        ComplianceTagSpec{id, View(t->description()), st.forbids.back().data(),
                          static_cast<uint8_t>(st.forbids.back().size())});
  }

  // The data-use matrix, rebuilt for the set's classes x purposes: the built-in cells'
  // rules, then each product's defaults, most specific first within a cell.
  const size_t purposes = set->purposes_.size();
  const size_t cells = set->data_classes_.size() * purposes;
  std::vector<std::vector<BuiltinDataUse>> by_cell(cells);
  for (size_t c = 0; c < base.data_classes_.size(); ++c) {
    for (size_t p = 0; p < base.purposes_.size(); ++p) {
      for (const BuiltinDataUse& b :
           base.BuiltinRulesFor(static_cast<int>(c), static_cast<int>(p))) {
        by_cell[c * purposes + p].push_back(b);
      }
    }
  }
  for (const PendingUse& u : pending_use) {
    const int c = set->FindDataClass(View(u.d->data_class()));
    const int p = set->FindPurpose(View(u.d->purpose()));
    BuiltinDataUse b{};
    if (c < 0 || p < 0 || !ToConditionSpec(u.d->when(), &b.when)) {
      return absl::InvalidArgumentError(
          absl::StrCat(A(u.origin), ": data-use default ", A(View(u.d->data_class())), " x ",
                       A(View(u.d->purpose())),
                       " names an unknown class or purpose, or a condition a default cannot have"));
    }
    b.data_class = static_cast<uint16_t>(c);
    b.purpose = static_cast<uint16_t>(p);
    b.allow = u.d->effect() == fb::Effect_Allow;
    b.fixed = u.d->fixed();
    b.obligations = u.d->obligations();
    b.specificity = static_cast<uint8_t>(Specificity(u.d->when()));
    b.seed = u.d->source() ? View(u.d->source()) : View(u.d->seed());
    b.note = View(u.d->note());
    std::vector<BuiltinDataUse>& cell = by_cell[static_cast<size_t>(c) * purposes + p];
    cell.insert(std::upper_bound(cell.begin(), cell.end(), b,
                                 [](const BuiltinDataUse& x, const BuiltinDataUse& y) {
                                   return x.specificity > y.specificity;
                                 }),
                b);
  }
  set->data_use_cell_begin_.push_back(0);
  for (const auto& cell : by_cell) {
    set->builtin_data_use_.insert(set->builtin_data_use_.end(), cell.begin(), cell.end());
    set->data_use_cell_begin_.push_back(static_cast<uint32_t>(set->builtin_data_use_.size()));
  }

  std::vector<std::vector<BuiltinSchedule>> by_schedule(set->schedules_.size());
  for (size_t k = 0; k < base.schedules_.size(); ++k) {
    for (const BuiltinSchedule& b : base.BuiltinRulesFor(static_cast<int>(k))) {
      by_schedule[k].push_back(b);
    }
  }
  for (const PendingSchedule& u : pending_schedules) {
    const int k = set->FindSchedule(View(u.d->schedule()));
    BuiltinSchedule b{};
    if (k < 0 || !ToConditionSpec(u.d->when(), &b.when) ||
        !catalogs::ParseCatalogDuration(A(View(u.d->interval())), &b.interval_seconds)) {
      return absl::InvalidArgumentError(
          absl::StrCat(A(u.origin), ": schedule default of ", A(View(u.d->schedule())),
                       " names an unknown schedule, an invalid interval or a condition a "
                       "default cannot have"));
    }
    b.schedule = static_cast<uint16_t>(k);
    b.specificity = static_cast<uint8_t>(Specificity(u.d->when()));
    b.seed = u.d->source() ? View(u.d->source()) : View(u.d->seed());
    b.note = View(u.d->note());
    std::vector<BuiltinSchedule>& list = by_schedule[static_cast<size_t>(k)];
    list.insert(std::upper_bound(list.begin(), list.end(), b,
                                 [](const BuiltinSchedule& x, const BuiltinSchedule& y) {
                                   return x.specificity > y.specificity;
                                 }),
                b);
  }
  set->schedule_begin_.push_back(0);
  for (const auto& list : by_schedule) {
    set->builtin_schedules_.insert(set->builtin_schedules_.end(), list.begin(), list.end());
    set->schedule_begin_.push_back(static_cast<uint32_t>(set->builtin_schedules_.size()));
  }
  return std::shared_ptr<const CatalogSet>(std::move(set));
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
  if (handle < 0 || static_cast<size_t>(handle) >= product_settings_.size()) return nullptr;
  return product_settings_[handle];
}

}  // namespace edict
