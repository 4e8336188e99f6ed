// Traceability between docs/requirements.md and what implements or tests it: every rule
// number is defined once (with a source); every catalogue entry's `seed` cites only defined
// rule numbers; every conformance vector's `covers` cites at least one defined rule number
// and no undefined one; every rule is covered by a catalogue entry or a vector.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "policy/catalog.h"
#include "policy/compiler/json.h"

namespace edict {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = EDICT_SOURCE_DIR;

std::string ReadAll(const fs::path& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "R<digits>.<digits>", nothing else.
bool IsRuleId(std::string_view s) {
  if (s.size() < 4 || s[0] != 'R') return false;
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos || dot < 2 || dot + 1 >= s.size()) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (i == dot) continue;
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// A comma-separated `seed` field, e.g. "R3.4, R3.5".
std::vector<std::string> SplitSeed(std::string_view seed) {
  std::vector<std::string> out;
  while (true) {
    const size_t comma = seed.find(',');
    out.emplace_back(Trim(seed.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    seed.remove_prefix(comma + 1);
  }
  return out;
}

struct Rule {
  int line = 0;                        // 1-based line of the definition in requirements.md
  bool sourced = false;                // its text has a "Source:"
  std::vector<std::string> catalogue;  // catalogue entries citing it
  std::vector<std::string> vectors;    // conformance vectors citing it
};

// A rule is defined by a list item of the form
//   - <a id="R1.2"></a>**R1.2** text ... Source: `FILE:LINES`.
// continued on the following indented lines.
struct Requirements {
  bool read = false;
  std::map<std::string, Rule> rules;
  std::vector<std::string> errors;  // malformed or duplicate definitions
};

const Requirements& LoadRequirements() {
  static const Requirements* const req = [] {
    auto* r = new Requirements;
    bool ok = false;
    const std::string text = ReadAll(fs::path(kSourceDir) / "docs" / "requirements.md", &ok);
    r->read = ok;
    std::istringstream in(text);
    std::string line;
    int n = 0;
    Rule* current = nullptr;
    constexpr std::string_view kOpen = "- <a id=\"";
    while (std::getline(in, line)) {
      ++n;
      if (line.rfind(kOpen, 0) == 0) {
        current = nullptr;
        const size_t q = line.find('"', kOpen.size());
        const std::string anchor =
            q == std::string::npos ? "" : line.substr(kOpen.size(), q - kOpen.size());
        const std::string bold = "\"></a>**" + anchor + "**";
        if (!IsRuleId(anchor) || line.compare(q, bold.size(), bold) != 0) {
          r->errors.push_back("line " + std::to_string(n) +
                              ": a rule must start with - <a id=\"RS.N\"></a>**RS.N**: " + line);
          continue;
        }
        auto [it, inserted] = r->rules.try_emplace(anchor);
        if (!inserted) {
          r->errors.push_back(anchor + " is defined twice: lines " +
                              std::to_string(it->second.line) + " and " + std::to_string(n));
          continue;
        }
        it->second.line = n;
        current = &it->second;
      } else if (line.empty() || line[0] != ' ') {
        current = nullptr;  // a rule's text continues on indented lines only
      }
      if (current != nullptr && line.find("Source:") != std::string::npos) {
        current->sourced = true;
      }
    }
    return r;
  }();
  return *req;
}

// Rule numbers cited by the catalogue and by the vectors, recorded into a copy of the rules.
struct Citations {
  std::map<std::string, Rule> rules;
  std::vector<std::string> catalogue_errors;
  std::vector<std::string> vector_errors;
  int catalogue_entries = 0;
  int vectors = 0;
};

void CiteFromCatalogue(Citations* c, const std::string& what, std::string_view seed) {
  ++c->catalogue_entries;
  if (Trim(seed).empty()) {
    c->catalogue_errors.push_back(what + ": empty seed: it must cite a rule number");
    return;
  }
  for (const std::string& id : SplitSeed(seed)) {
    auto it = IsRuleId(id) ? c->rules.find(id) : c->rules.end();
    if (it == c->rules.end()) {
      c->catalogue_errors.push_back(what + ": seed \"" + std::string(seed) + "\" cites \"" + id +
                                    "\", which is not a rule number docs/requirements.md defines");
      continue;
    }
    it->second.catalogue.push_back(what);
  }
}

const Citations& LoadCitations() {
  static const Citations* const cit = [] {
    auto* c = new Citations;
    c->rules = LoadRequirements().rules;

    for (const SettingSpec& s : catalog::kSettings)
      CiteFromCatalogue(c, "setting " + std::string(s.id), s.seed);
    for (const DataClassSpec& d : catalog::kDataClasses)
      CiteFromCatalogue(c, "data class " + std::string(d.id), d.seed);
    for (const PurposeSpec& p : catalog::kPurposes)
      CiteFromCatalogue(c, "purpose " + std::string(p.id), p.seed);
    for (const BuiltinDataUse& u : catalog::kBuiltinDataUse) {
      CiteFromCatalogue(c,
                        "data use " + std::string(catalog::kDataClasses[u.data_class].id) + " x " +
                            std::string(catalog::kPurposes[u.purpose].id),
                        u.seed);
    }
    for (const ScheduleSpec& s : catalog::kSchedules)
      CiteFromCatalogue(c, "schedule " + std::string(s.id), s.seed);
    for (const BuiltinSchedule& s : catalog::kBuiltinSchedules) {
      CiteFromCatalogue(c, "schedule default " + std::string(catalog::kSchedules[s.schedule].id),
                        s.seed);
    }

    const fs::path dir = fs::path(kSourceDir) / "tests" / "conformance";
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json") {
        files.push_back(entry.path());
      }
    }
    if (ec) c->vector_errors.push_back("cannot read " + dir.string() + ": " + ec.message());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      ++c->vectors;
      const std::string name = f.filename().string();
      bool ok = false;
      const std::string text = ReadAll(f, &ok);
      auto doc = json::Parse(text);
      if (!ok || !doc.ok()) {
        c->vector_errors.push_back(name + ": cannot read or parse");
        continue;
      }
      const json::Value* covers = doc->Find("covers");
      if (covers == nullptr || !covers->is_array()) {
        c->vector_errors.push_back(name + ": no covers array");
        continue;
      }
      int defined = 0;
      for (const json::Value& v : covers->items()) {
        if (!v.is_string()) continue;  // edictctl conformance reports that
        const std::string& s = v.string();
        // Rule numbers are whole entries; other entries (sections of docs/semantics.md,
        // docs/policy-format.md) are allowed next to them.
        if (!IsRuleId(s)) {
          if (s.size() > 1 && s[0] == 'R' && std::isdigit(static_cast<unsigned char>(s[1]))) {
            c->vector_errors.push_back(name + ": \"" + s + "\" is not a rule number (RS.N)");
          }
          continue;
        }
        auto it = c->rules.find(s);
        if (it == c->rules.end()) {
          c->vector_errors.push_back(name + ": covers " + s +
                                     ", which docs/requirements.md does not define");
          continue;
        }
        it->second.vectors.push_back(name.substr(0, name.find('_')));
        ++defined;
      }
      if (defined == 0) {
        c->vector_errors.push_back(name + ": covers no rule number of docs/requirements.md");
      }
    }
    return c;
  }();
  return *cit;
}

TEST(Requirements, RulesAreDefinedOnceWithASource) {
  const Requirements& req = LoadRequirements();
  ASSERT_TRUE(req.read) << "cannot read " << kSourceDir << "/docs/requirements.md";
  for (const std::string& e : req.errors) ADD_FAILURE() << "docs/requirements.md: " << e;
  EXPECT_GE(req.rules.size(), 50u) << "docs/requirements.md defines too few rules";
  std::set<int> sections;
  for (const auto& [id, rule] : req.rules) {
    EXPECT_TRUE(rule.sourced) << id << " (docs/requirements.md:" << rule.line
                              << ") has no \"Source:\"";
    sections.insert(std::stoi(id.substr(1)));
  }
  EXPECT_EQ(sections, (std::set<int>{1, 2, 3, 4, 5, 6}));
}

TEST(Requirements, CatalogueCitesDefinedRules) {
  const Citations& c = LoadCitations();
  ASSERT_FALSE(c.rules.empty());
  EXPECT_EQ(c.catalogue_entries,
            static_cast<int>(catalog::kSettings.size() + catalog::kDataClasses.size() +
                             catalog::kPurposes.size() + catalog::kBuiltinDataUse.size() +
                             catalog::kSchedules.size() + catalog::kBuiltinSchedules.size()));
  for (const std::string& e : c.catalogue_errors) ADD_FAILURE() << "catalog.json: " << e;
}

TEST(Requirements, VectorsCiteDefinedRules) {
  const Citations& c = LoadCitations();
  ASSERT_FALSE(c.rules.empty());
  EXPECT_GE(c.vectors, 60);
  for (const std::string& e : c.vector_errors) ADD_FAILURE() << "tests/conformance/" << e;
}

TEST(Requirements, EveryRuleIsCovered) {
  const Citations& c = LoadCitations();
  ASSERT_FALSE(c.rules.empty());
  // Sorted by section, then number (R1.2 before R1.10).
  std::vector<std::pair<std::pair<int, int>, const std::string*>> order;
  for (const auto& [id, rule] : c.rules) {
    const size_t dot = id.find('.');
    order.push_back({{std::stoi(id.substr(1, dot - 1)), std::stoi(id.substr(dot + 1))}, &id});
  }
  std::sort(order.begin(), order.end());
  int uncovered = 0;
  std::ostringstream report;
  for (const auto& [key, id] : order) {
    const Rule& rule = c.rules.at(*id);
    report << *id << ": " << rule.catalogue.size() << " catalogue entries, " << rule.vectors.size()
           << " vectors";
    if (!rule.vectors.empty()) {
      report << " (";
      for (size_t i = 0; i < rule.vectors.size(); ++i) report << (i ? " " : "") << rule.vectors[i];
      report << ")";
    }
    report << "\n";
    if (rule.catalogue.empty() && rule.vectors.empty()) {
      ++uncovered;
      ADD_FAILURE() << *id << " (docs/requirements.md:" << rule.line
                    << ") is covered by no catalogue entry and no conformance vector";
    }
  }
  std::cout << "requirements coverage (" << c.rules.size() << " rules, " << uncovered
            << " uncovered):\n"
            << report.str();
}

}  // namespace
}  // namespace edict
