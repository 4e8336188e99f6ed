// Build-time generator: reads policy/catalog/catalog.json with FlatBuffers' JSON parser
// against catalog.fbs, checks it, and writes the constexpr tables of policy/catalog.h and
// the catalogue as a binary catalogue (--out). The settings reference docs/settings.md is
// rendered from that binary by `edictctl gen docs --builtin` (policy/CMakeLists.txt).
//
// It refuses a catalogue with duplicate or non-dense ids, unknown references, or defaults
// that do not parse, so a bad edit fails the build rather than an endpoint.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "flatbuffers/idl.h"
#include "flatbuffers/util.h"
#include "policy/catalog_generated.h"
#include "policy/condition.h"
#include "policy/duration.h"

namespace {

namespace cfb = edict::catalog_fb;
namespace fb = edict::fb;

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "gen_catalog: %s\n", msg.c_str());
  std::exit(1);
}

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// "30d", "12h", "15m", "45s" or a bare number of seconds.
bool ParseDuration(const std::string& s, int64_t* out) {
  return edict::ParseDurationText(s, out, edict::BareSeconds::kAccept);
}

// Parses a value written in catalogue syntax for a setting; returns false if invalid.
bool ParseValue(const cfb::Setting* s, const std::string& text, int64_t* out) {
  auto index_of = [&](const std::string& sym) -> int {
    if (!s->values()) return -1;
    for (flatbuffers::uoffset_t i = 0; i < s->values()->size(); ++i) {
      if (s->values()->Get(i)->str() == sym) return static_cast<int>(i);
    }
    return -1;
  };
  switch (s->type()) {
    case cfb::SettingType_Bool:
      if (text == "true") {
        *out = 1;
        return true;
      }
      if (text == "false") {
        *out = 0;
        return true;
      }
      return false;
    case cfb::SettingType_Enum: {
      int i = index_of(text);
      *out = i;
      return i >= 0;
    }
    case cfb::SettingType_Flags: {
      int64_t bits = 0;
      std::stringstream ss(text);
      std::string sym;
      while (std::getline(ss, sym, '|')) {
        if (sym.empty()) continue;
        int i = index_of(sym);
        if (i < 0) return false;
        bits |= int64_t{1} << i;
      }
      *out = bits;
      return true;
    }
    case cfb::SettingType_Integer:
      return ParseDuration(text, out) && text.back() >= '0' && text.back() <= '9';
    case cfb::SettingType_Duration:
      return ParseDuration(text, out);
    case cfb::SettingType_String:
      *out = 0;
      return true;
  }
  return false;
}

std::string ConditionInit(const fb::Condition* c, const std::string& where) {
  if (c == nullptr) return "{}";
  if (c->groups() && c->groups()->size() != 0) Die(where + ": built-in rules cannot name groups");
  if (c->regions() && c->regions()->size() > 1)
    Die(where + ": built-in rules name at most one region");
  std::ostringstream o;
  o << "{" << int(c->identity()) << ", " << int(c->domain_joined()) << ", "
    << int(c->device_managed()) << ", " << int(c->plans()) << ", " << int(c->roles()) << ", "
    << int(c->account_creation()) << ", " << c->os_min() << ", " << c->os_max() << ", "
    << c->state_all() << "u, " << c->state_none() << "u, "
    << Quote(c->regions() && c->regions()->size() ? c->regions()->Get(0)->str() : "") << "}";
  return o.str();
}

template <typename T>
std::map<std::string, int> CheckIds(const flatbuffers::Vector<flatbuffers::Offset<T>>* v,
                                    const char* what) {
  std::map<std::string, int> ids;
  if (v == nullptr) return ids;
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
    const T* e = v->Get(i);
    if (e->num() != i)
      Die(std::string(what) + " " + e->id()->str() + ": num must be " + std::to_string(i));
    if (!ids.emplace(e->id()->str(), static_cast<int>(i)).second) {
      Die(std::string("duplicate ") + what + " id " + e->id()->str());
    }
  }
  return ids;
}

// `seed` is optional in the schema (product catalogues use `source`), but every entry of
// the built-in catalogue names the requirement(s) it implements (docs/requirements.md).
template <typename T>
void RequireSeeds(const flatbuffers::Vector<flatbuffers::Offset<T>>* v, const char* what) {
  if (v == nullptr) return;
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
    if (v->Get(i)->seed() == nullptr)
      Die(std::string(what) + " #" + std::to_string(i) + ": the built-in catalogue needs a seed");
  }
}

std::string CamelConst(const std::string& id) {
  std::string out = "k";
  bool up = true;
  for (char c : id) {
    if (c == '.' || c == '_' || c == '-') {
      up = true;
    } else {
      out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      up = false;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string schema_path, json_path, include_dir, out_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--schema")
      schema_path = argv[i + 1];
    else if (flag == "--json")
      json_path = argv[i + 1];
    else if (flag == "--include")
      include_dir = argv[i + 1];
    else if (flag == "--out")
      out_path = argv[i + 1];
    else
      Die("unknown flag " + flag);
  }
  if (schema_path.empty() || json_path.empty()) {
    Die("usage: gen_catalog --schema catalog.fbs --json catalog.json --include DIR [--out F]");
  }
  std::string schema, json;
  if (!flatbuffers::LoadFile(schema_path.c_str(), false, &schema))
    Die("cannot read " + schema_path);
  if (!flatbuffers::LoadFile(json_path.c_str(), false, &json)) Die("cannot read " + json_path);
  flatbuffers::IDLOptions opts;
  opts.strict_json = true;
  flatbuffers::Parser parser(opts);
  const char* includes[] = {include_dir.c_str(), nullptr};
  if (!parser.Parse(schema.c_str(), includes, schema_path.c_str())) Die(parser.error_);
  if (!parser.Parse(json.c_str(), includes, json_path.c_str())) Die(parser.error_);
  const cfb::Catalog* cat = cfb::GetCatalog(parser.builder_.GetBufferPointer());

  RequireSeeds(cat->settings(), "setting");
  RequireSeeds(cat->data_classes(), "data class");
  RequireSeeds(cat->purposes(), "purpose");
  RequireSeeds(cat->data_use_defaults(), "data_use_defaults");
  RequireSeeds(cat->schedules(), "schedule");
  RequireSeeds(cat->schedule_defaults(), "schedule_defaults");
  if (cat->product()) Die("the built-in catalogue has no product");
  // Its context attributes are the built-in condition terms: each BuiltinTerm exactly once.
  std::set<int> terms;
  if (cat->attributes()) {
    for (const cfb::ContextAttribute* a : *cat->attributes()) {
      if (a->term() == cfb::BuiltinTerm_None || !terms.insert(a->term()).second)
        Die("built-in attribute " + a->name()->str() + ": a term none or twice");
    }
  }
  if (terms.size() != static_cast<size_t>(cfb::BuiltinTerm_MAX))
    Die("the built-in catalogue must declare every built-in term once");

  auto settings = CheckIds(cat->settings(), "setting");
  auto classes = CheckIds(cat->data_classes(), "data class");
  auto purposes = CheckIds(cat->purposes(), "purpose");
  auto schedules = CheckIds(cat->schedules(), "schedule");
  if (settings.empty() || classes.empty() || purposes.empty() || schedules.empty()) {
    Die("catalogue needs settings, data classes, purposes and schedules");
  }

  std::ostringstream o;
  o << "// Generated by policy/catalog/gen_catalog.cc from policy/catalog/catalog.json.\n"
       "// Do not edit.\n"
       "namespace edict::catalog {\n\n"
    << "inline constexpr uint32_t kVersion = " << cat->version() << "u;\n\n"
    << "namespace internal {\n";

  // Settings.
  std::map<std::string, std::vector<int>> groups;
  for (const auto* s : *cat->settings()) {
    if (s->atomic_group()) groups[s->atomic_group()->str()].push_back(s->num());
    if (s->values() && s->values()->size()) {
      if (s->values()->size() > 63) Die(s->id()->str() + ": at most 63 values");
      o << "inline constexpr std::string_view kValues" << s->num() << "[] = {";
      for (const auto* v : *s->values()) o << Quote(v->str()) << ", ";
      o << "};\n";
    }
  }
  int gi = 0;
  std::map<std::string, int> group_index;
  for (auto& [name, members] : groups) {
    if (members.size() < 2) Die("atomic group " + name + " needs two or more settings");
    group_index[name] = gi;
    o << "inline constexpr uint16_t kGroupMembers" << gi++ << "[] = {";
    for (int m : members) o << m << ", ";
    o << "};\n";
  }
  o << "inline constexpr SettingSpec kSettingsData[] = {\n";
  for (const auto* s : *cat->settings()) {
    const std::string id = s->id()->str();
    const bool has_values = s->values() && s->values()->size();
    const bool needs_values =
        s->type() == cfb::SettingType_Enum || s->type() == cfb::SettingType_Flags;
    if (needs_values != has_values) Die(id + ": enum and flags settings (only) list values");
    if (s->fixed() != (s->setters() == 0)) Die(id + ": fixed exactly when nobody may set it");
    if (s->at_account_creation() && !(s->setters() & cfb::Setter_User)) {
      Die(id + ": at_account_creation needs a user setter");
    }
    int64_t def = 0;
    if (!ParseValue(s, Str(s->default_()), &def))
      Die(id + ": bad default '" + Str(s->default_()) + "'");
    o << "    {" << Quote(id) << ", " << s->num() << ", static_cast<SettingType>(" << int(s->type())
      << "), " << int(s->setters()) << ", static_cast<Scope>(" << int(s->scope()) << "), "
      << (s->at_account_creation() ? "true" : "false") << ", " << (s->fixed() ? "true" : "false")
      << ", " << (has_values ? "kValues" + std::to_string(s->num()) : std::string("nullptr"))
      << ", " << (has_values ? s->values()->size() : 0) << ", " << def << ", "
      << Quote(s->type() == cfb::SettingType_String ? Str(s->default_()) : "") << ", "
      << s->obligations_if_enabled() << "u, "
      << (s->atomic_group() ? group_index[s->atomic_group()->str()] : -1) << ", "
      << Quote(Str(s->seed())) << ", " << Quote(Str(s->description())) << ", "
      << Quote(Str(s->caveat())) << "},\n";
  }
  o << "};\n";
  o << "inline constexpr AtomicGroupSpec kAtomicGroupsData[] = {\n";
  for (auto& [name, members] : groups) {
    o << "    {" << Quote(name) << ", kGroupMembers" << group_index[name] << ", " << members.size()
      << "},\n";
  }
  if (groups.empty()) o << "    {\"\", nullptr, 0},\n";
  o << "};\n";

  auto simple_table = [&](const char* type, const char* name, auto* vec, bool with_obligations) {
    o << "inline constexpr " << type << " " << name << "[] = {\n";
    for (const auto* e : *vec) {
      o << "    {" << Quote(e->id()->str()) << ", " << e->num() << ", ";
      if constexpr (std::is_same_v<std::decay_t<decltype(*e)>, cfb::DataClass>) {
        (void)with_obligations;
        o << e->obligations() << "u, ";
      }
      o << Quote(Str(e->seed())) << ", " << Quote(Str(e->description())) << "},\n";
    }
    o << "};\n";
  };
  simple_table("DataClassSpec", "kDataClassesData", cat->data_classes(), true);
  simple_table("PurposeSpec", "kPurposesData", cat->purposes(), false);
  simple_table("ScheduleSpec", "kSchedulesData", cat->schedules(), false);

  // Built-in data-use cells, grouped by cell, most specific first (stable).
  struct Cell {
    int cls, pur, spec, order;
    const cfb::DataUseDefault* d;
  };
  std::vector<Cell> cells;
  int order = 0;
  for (const auto* d : *cat->data_use_defaults()) {
    auto c = classes.find(d->data_class()->str());
    auto p = purposes.find(d->purpose()->str());
    if (c == classes.end()) Die("data_use_defaults: unknown class " + d->data_class()->str());
    if (p == purposes.end()) Die("data_use_defaults: unknown purpose " + d->purpose()->str());
    cells.push_back({c->second, p->second, edict::Specificity(d->when()), order++, d});
  }
  std::stable_sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) {
    if (a.cls != b.cls) return a.cls < b.cls;
    if (a.pur != b.pur) return a.pur < b.pur;
    return a.spec > b.spec;
  });
  for (size_t i = 1; i < cells.size(); ++i) {
    const Cell& a = cells[i - 1];
    const Cell& b = cells[i];
    if (a.cls == b.cls && a.pur == b.pur && a.d->fixed() != b.d->fixed()) {
      Die("data_use_defaults: cell " + a.d->data_class()->str() + "/" + a.d->purpose()->str() +
          " mixes fixed and non-fixed rules");
    }
  }
  o << "inline constexpr BuiltinDataUse kBuiltinDataUseData[] = {\n";
  for (const Cell& c : cells) {
    o << "    {" << c.cls << ", " << c.pur << ", "
      << (c.d->effect() == fb::Effect_Allow ? "true" : "false") << ", "
      << (c.d->fixed() ? "true" : "false") << ", " << c.d->obligations() << "u, " << c.spec << ", "
      << ConditionInit(c.d->when(), "data_use_defaults") << ", " << Quote(Str(c.d->seed())) << ", "
      << Quote(Str(c.d->note())) << "},\n";
  }
  o << "};\n";
  const size_t ncells = classes.size() * purposes.size();
  o << "inline constexpr uint32_t kBuiltinDataUseCellBeginData[] = {";
  {
    size_t k = 0;
    for (size_t cell = 0; cell <= ncells; ++cell) {
      while (k < cells.size() &&
             static_cast<size_t>(cells[k].cls) * purposes.size() + cells[k].pur < cell)
        ++k;
      o << k << ", ";
    }
  }
  o << "};\n";

  struct Sched {
    int sch, spec, order;
    int64_t secs;
    const cfb::ScheduleDefault* d;
  };
  std::vector<Sched> scheds;
  order = 0;
  for (const auto* d : *cat->schedule_defaults()) {
    auto s = schedules.find(d->schedule()->str());
    if (s == schedules.end()) Die("schedule_defaults: unknown schedule " + d->schedule()->str());
    int64_t secs = 0;
    if (!ParseDuration(d->interval()->str(), &secs) || secs <= 0)
      Die("bad interval " + d->interval()->str());
    scheds.push_back({s->second, edict::Specificity(d->when()), order++, secs, d});
  }
  std::stable_sort(scheds.begin(), scheds.end(), [](const Sched& a, const Sched& b) {
    return a.sch != b.sch ? a.sch < b.sch : a.spec > b.spec;
  });
  o << "inline constexpr BuiltinSchedule kBuiltinSchedulesData[] = {\n";
  for (const Sched& s : scheds) {
    o << "    {" << s.sch << ", " << s.secs << ", " << s.spec << ", "
      << ConditionInit(s.d->when(), "schedule_defaults") << ", " << Quote(Str(s.d->seed())) << ", "
      << Quote(Str(s.d->note())) << "},\n";
  }
  if (scheds.empty()) o << "    {0, 0, 0, {}, \"\", \"\"},\n";
  o << "};\n";
  o << "inline constexpr uint32_t kBuiltinScheduleBeginData[] = {";
  {
    size_t k = 0;
    for (size_t s = 0; s <= schedules.size(); ++s) {
      while (k < scheds.size() && static_cast<size_t>(scheds[k].sch) < s) ++k;
      o << k << ", ";
    }
  }
  o << "};\n";

  // Compliance tags.
  std::map<std::string, int> tags;
  int ti = 0;
  if (cat->compliance_tags()) {
    for (const auto* t : *cat->compliance_tags()) {
      if (!tags.emplace(t->id()->str(), ti).second)
        Die("duplicate compliance tag " + t->id()->str());
      o << "inline constexpr ForbidSpec kForbids" << ti++ << "[] = {";
      if (t->forbids()) {
        for (const auto* f : *t->forbids()) {
          auto s = settings.find(f->setting()->str());
          if (s == settings.end())
            Die("compliance tag " + t->id()->str() + ": unknown setting " + f->setting()->str());
          int64_t v = 0;
          if (!ParseValue(cat->settings()->Get(s->second), f->value()->str(), &v)) {
            Die("compliance tag " + t->id()->str() + ": bad value " + f->value()->str());
          }
          o << "{" << s->second << ", " << v << "}, ";
        }
      }
      o << "};\n";
    }
  }
  o << "inline constexpr ComplianceTagSpec kComplianceTagsData[] = {\n";
  ti = 0;
  if (cat->compliance_tags()) {
    for (const auto* t : *cat->compliance_tags()) {
      o << "    {" << Quote(t->id()->str()) << ", " << Quote(t->description()->str())
        << ", kForbids" << ti << ", " << (t->forbids() ? t->forbids()->size() : 0) << "},\n";
      ++ti;
    }
  }
  o << "};\n";

  auto by_name = [&](const char* name, const std::map<std::string, int>& ids) {
    o << "inline constexpr uint16_t " << name << "[] = {";
    for (auto& [id, n] : ids) o << n << ", ";  // std::map iterates in id order
    o << "};\n";
  };
  by_name("kSettingsByNameData", settings);
  by_name("kDataClassesByNameData", classes);
  by_name("kPurposesByNameData", purposes);
  by_name("kSchedulesByNameData", schedules);
  by_name("kComplianceTagsByNameData", tags);
  o << "}  // namespace internal\n\n";

  auto table = [&](const char* type, const char* name, const char* data, size_t n) {
    o << "inline constexpr Table<" << type << "> " << name << " = {internal::" << data << ", " << n
      << "};\n";
  };
  table("SettingSpec", "kSettings", "kSettingsData", settings.size());
  table("AtomicGroupSpec", "kAtomicGroups", "kAtomicGroupsData", groups.size());
  table("DataClassSpec", "kDataClasses", "kDataClassesData", classes.size());
  table("PurposeSpec", "kPurposes", "kPurposesData", purposes.size());
  table("BuiltinDataUse", "kBuiltinDataUse", "kBuiltinDataUseData", cells.size());
  table("uint32_t", "kBuiltinDataUseCellBegin", "kBuiltinDataUseCellBeginData", ncells + 1);
  table("ScheduleSpec", "kSchedules", "kSchedulesData", schedules.size());
  table("BuiltinSchedule", "kBuiltinSchedules", "kBuiltinSchedulesData", scheds.size());
  table("uint32_t", "kBuiltinScheduleBegin", "kBuiltinScheduleBeginData", schedules.size() + 1);
  table("ComplianceTagSpec", "kComplianceTags", "kComplianceTagsData", tags.size());
  table("uint16_t", "kSettingsByName", "kSettingsByNameData", settings.size());
  table("uint16_t", "kDataClassesByName", "kDataClassesByNameData", classes.size());
  table("uint16_t", "kPurposesByName", "kPurposesByNameData", purposes.size());
  table("uint16_t", "kSchedulesByName", "kSchedulesByNameData", schedules.size());
  table("uint16_t", "kComplianceTagsByName", "kComplianceTagsByNameData", tags.size());

  // Named constants for C++ callers: edict::catalog::setting::kCommunicatorCeip, ...
  auto names = [&](const char* ns, const std::map<std::string, int>& ids) {
    o << "\nnamespace " << ns << " {\n";
    for (auto& [id, n] : ids) o << "inline constexpr int " << CamelConst(id) << " = " << n << ";\n";
    o << "}  // namespace " << ns << "\n";
  };
  names("setting", settings);
  names("data_class", classes);
  names("purpose", purposes);
  names("schedule", schedules);
  // The catalogue itself, as the binary catalogue the kernel loads (CatalogSet::Builtin
  // reads the built-in catalogue through the same path as a product's .edcat).
  {
    const uint8_t* bytes = parser.builder_.GetBufferPointer();
    const size_t size = parser.builder_.GetSize();
    o << "\n// The built-in catalogue as a binary catalogue (catalog.fbs, identifier EDCT).\n"
      << "alignas(8) inline constexpr unsigned char kBuiltinCatalogBytes[] = {";
    for (size_t i = 0; i < size; ++i) {
      if (i % 24 == 0) o << "\n    ";
      o << static_cast<int>(bytes[i]) << ",";
    }
    o << "\n};\ninline constexpr size_t kBuiltinCatalogSize = " << size << ";\n";
  }
  o << "\n}  // namespace edict::catalog\n";

  if (!out_path.empty()) {
    std::ofstream f(out_path, std::ios::binary);
    f << o.str();
    if (!f) Die("cannot write " + out_path);
  }

  return 0;
}
