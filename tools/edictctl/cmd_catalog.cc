// edictctl catalog build|inspect|check: product catalogues (docs/catalogs.md). Without a
// subcommand, `edictctl catalog` lists the built-in catalogue (RunCatalog, cmd_compile.cc).
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#ifdef _WIN32
#include <process.h>
#include <windows.h>
#else
#include <unistd.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/catalog/catalog_file.h"
#include "policy/catalog/catalog_source.h"
#include "policy/catalog/catalog_validate.h"
#include "tools/cli/files.h"
#include "tools/edictctl/commands.h"
#include "tools/edictctl/util.h"

namespace edict::ctl {
namespace {

namespace cfb = catalog_fb;
namespace cat = catalogs;

constexpr int kExitIncompatible = 1;
constexpr int kExitBadInput = 3;

constexpr char kHelp[] =
    "usage: edictctl catalog [--json]\n"
    "       edictctl catalog build SOURCE.json -o OUT.edcat\n"
    "       edictctl catalog inspect [--json] FILE.edcat\n"
    "       edictctl catalog check OLD.edcat NEW.edcat\n"
    "\n"
    "Without a subcommand: lists this build's built-in settings catalogue: every setting\n"
    "with its type, default, who may set it and its scope; then data classes, purposes,\n"
    "schedules and compliance tags (--json: as one JSON object).\n"
    "\n"
    "Product catalogues (docs/catalogs.md) describe the settings and context attributes of\n"
    "one product as data. This build only builds, prints and compares them; the kernel and\n"
    "the agent do not load them yet.\n"
    "\n"
    "  build      validate a catalogue source (JSON, at most 4 MiB) and write the binary\n"
    "             catalogue (FlatBuffers, identifier EDCT) to OUT (temp file + rename).\n"
    "             Every error is reported on stderr as file:line:col: reason; nothing is\n"
    "             written then. The output depends only on the catalogue's content.\n"
    "  inspect    verify a binary catalogue and print it: product, version, content hash\n"
    "             (FNV-1a 64), settings with their native names, attributes and the rest.\n"
    "             --json prints its source JSON instead; building that gives the same bytes.\n"
    "  check      verify that NEW may replace OLD: same product, higher version, ids and\n"
    "             enum values only appended, types and nums unchanged, a setting removed\n"
    "             only after OLD marked it deprecated, attributes keep their type and only\n"
    "             grow. Each problem is printed on stderr, naming the id.\n"
    "\n"
    "  -o, --output FILE   (build) where to write the binary catalogue\n"
    "  --json              (inspect) print the source JSON; (no subcommand) list as JSON\n"
    "  -h, --help          show this help\n"
    "\n"
    "exit status: 0 ok (check: compatible), 1 invalid source (build) or incompatible\n"
    "(check), 2 usage, 3 unreadable or invalid binary catalogue (inspect, check)\n";

bool IsHelp(absl::string_view a) { return a == "-h" || a == "--help"; }

int Usage(const std::string& problem) {
  std::fprintf(stderr, "edictctl catalog: %s\n\n%s", problem.c_str(), kHelp);
  return kExitUsage;
}

// Reads and verifies a binary catalogue (ReadCatalogFile); prints why not on stderr.
bool Load(const std::string& path, std::optional<cat::CatalogFile>* out) {
  absl::StatusOr<cat::CatalogFile> file = ReadCatalogFile(path);
  if (!file.ok()) {
    std::fprintf(stderr, "edictctl catalog: %s\n", std::string(file.status().message()).c_str());
    return false;
  }
  out->emplace(*std::move(file));
  return true;
}

int Build(int argc, char** argv) {
  std::string src, out;
  for (int i = 2; i < argc; ++i) {
    const absl::string_view a = argv[i];
    if (a == "-o" || a == "--output") {
      if (i + 1 >= argc) return Usage("-o needs a file name");
      out = argv[++i];
    } else if (!a.empty() && a[0] == '-') {
      return Usage(absl::StrCat("build: unknown option ", a));
    } else if (src.empty()) {
      src = std::string(a);
    } else {
      return Usage(absl::StrCat("build: unexpected argument ", a));
    }
  }
  if (src.empty() || out.empty()) return Usage("build needs SOURCE.json and -o OUT.edcat");
  // Nothing is done for an output path that could never be written (a FIFO, a device...).
  if (absl::Status ok = cli::CheckOutputPath(out); !ok.ok()) {
    std::fprintf(stderr, "edictctl catalog: %s\n", std::string(ok.message()).c_str());
    return kExitFailure;
  }
  cli::ReadOptions options;
  options.what = "a catalogue source";
  absl::StatusOr<std::string> text = cli::ReadInputFile(src, cat::kMaxSourceBytes, options);
  if (!text.ok()) {
    std::fprintf(stderr, "edictctl catalog: %s\n", std::string(text.status().message()).c_str());
    return kExitFailure;
  }
  absl::StatusOr<std::string> binary = cat::BuildCatalog(*text, src);
  if (!binary.ok()) {
    std::fprintf(stderr, "%s\n", std::string(binary.status().message()).c_str());
    return kExitFailure;
  }
  if (absl::Status written = cli::WriteOutputFile(out, *binary); !written.ok()) {
    std::fprintf(stderr, "edictctl catalog: %s\n", std::string(written.message()).c_str());
    return kExitFailure;
  }
  absl::StatusOr<cat::CatalogFile> file = cat::CatalogFile::FromBytes(*binary);
  if (file.ok()) {
    const cfb::Catalog& c = file->catalog();
    std::fprintf(stderr, "wrote %s (%zu bytes, %s version %u, %u settings, %s)\n", out.c_str(),
                 binary->size(), std::string(file->view().product_id()).c_str(), c.version(),
                 c.settings() ? c.settings()->size() : 0,
                 cat::FormatHash(file->view().hash()).c_str());
  }
  return kExitOk;
}

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

template <typename T>
std::string Join(const T* v, const char* sep) {
  std::vector<std::string> parts;
  if (v != nullptr) {
    for (const auto* s : *v) parts.push_back(s->str());
  }
  return absl::StrJoin(parts, sep);
}

std::string Setters(uint8_t bits) {
  std::vector<std::string> out;
  if (bits & cfb::Setter_User) out.push_back("user");
  if (bits & cfb::Setter_Admin) out.push_back("admin");
  if (bits & cfb::Setter_Organiser) out.push_back("organiser");
  return out.empty() ? "nobody (fixed)" : absl::StrJoin(out, ", ");
}

void Describe(const cat::CatalogView& view) {
  const cfb::Catalog& c = view.catalog();
  const cfb::Product* p = c.product();
  std::printf("catalogue %s version %u: %s by %s\n", std::string(view.product_id()).c_str(),
              c.version(), Str(p->display_name()).c_str(), Str(p->vendor()).c_str());
  std::printf("%zu bytes, %s\n", view.bytes().size(), cat::FormatHash(view.hash()).c_str());

  std::printf("\nsettings (%u):\n", c.settings()->size());
  std::vector<std::vector<std::string>> rows = {
      {"num", "id", "type", "default", "set by", "scope", "notes"}};
  for (const cfb::Setting* s : *c.settings()) {
    std::vector<std::string> notes;
    if (s->deprecated()) notes.push_back("DEPRECATED");
    if (s->values()) notes.push_back("values: " + Join(s->values(), "|"));
    if (s->at_account_creation()) notes.push_back("only at account creation");
    if (s->atomic_group()) notes.push_back("atomic group " + s->atomic_group()->str());
    if (s->source()) notes.push_back("source: " + s->source()->str());
    rows.push_back({std::to_string(s->num()), s->id()->str(), cfb::EnumNameSettingType(s->type()),
                    Str(s->default_()), Setters(s->setters()), cfb::EnumNameScope(s->scope()),
                    absl::StrJoin(notes, "; ")});
  }
  PrintTable(rows);

  std::printf("\nnative names (derived from the id unless marked *):\n");
  rows = {{"id", "registry value", "type", "dconf key", "managed JSON key"}};
  for (const cfb::Setting* s : *c.settings()) {
    const cat::NativeNames n = cat::EffectiveNative(*s);
    const cfb::NativeMapping* m = s->native();
    auto mark = [](bool explicit_) { return std::string(explicit_ ? "*" : ""); };
    rows.push_back({s->id()->str(), n.registry_value + mark(m && m->registry_value()),
                    cfb::EnumNameRegistryType(n.registry_type),
                    n.dconf_key + mark(m && m->dconf_key()),
                    n.managed_key + mark(m && m->managed_key())});
  }
  PrintTable(rows);

  std::printf("\ncontext attributes (%u):\n", c.attributes() ? c.attributes()->size() : 0);
  if (c.attributes()) {
    rows = {{"name", "type", "domain", "description"}};
    for (const cfb::ContextAttribute* a : *c.attributes()) {
      std::string domain;
      if (a->type() == cfb::AttributeType_Enum) domain = Join(a->values(), "|");
      if (a->type() == cfb::AttributeType_IntRange) domain = absl::StrCat(a->min(), "..", a->max());
      rows.push_back(
          {a->name()->str(), cfb::EnumNameAttributeType(a->type()), domain, Str(a->description())});
    }
    PrintTable(rows);
  }
  auto simple = [&](const char* title, auto* v) {
    std::printf("\n%s (%u):\n", title, v ? v->size() : 0);
    if (v == nullptr) return;
    std::vector<std::vector<std::string>> r = {{"num", "id", "description"}};
    for (const auto* e : *v)
      r.push_back({std::to_string(e->num()), e->id()->str(), Str(e->description())});
    PrintTable(r);
  };
  simple("data classes", c.data_classes());
  simple("purposes", c.purposes());
  simple("schedules", c.schedules());
  std::printf("\nbuilt-in data-use cells (%u), schedule defaults (%u), compliance tags (%u)\n",
              c.data_use_defaults() ? c.data_use_defaults()->size() : 0,
              c.schedule_defaults() ? c.schedule_defaults()->size() : 0,
              c.compliance_tags() ? c.compliance_tags()->size() : 0);
}

int Inspect(int argc, char** argv) {
  bool as_json = false;
  std::string path;
  for (int i = 2; i < argc; ++i) {
    const absl::string_view a = argv[i];
    if (a == "--json") {
      as_json = true;
    } else if (!a.empty() && a[0] == '-') {
      return Usage(absl::StrCat("inspect: unknown option ", a));
    } else if (path.empty()) {
      path = std::string(a);
    } else {
      return Usage(absl::StrCat("inspect: unexpected argument ", a));
    }
  }
  if (path.empty()) return Usage("inspect needs FILE.edcat");
  std::optional<cat::CatalogFile> file;
  if (!Load(path, &file)) return kExitBadInput;
  if (!as_json) {
    Describe(file->view());
    return kExitOk;
  }
  absl::StatusOr<std::string> json = cat::CatalogToJson(file->view());
  if (!json.ok()) {
    std::fprintf(stderr, "edictctl catalog: %s: %s\n", path.c_str(),
                 std::string(json.status().message()).c_str());
    return kExitBadInput;
  }
  std::fwrite(json->data(), 1, json->size(), stdout);
  return kExitOk;
}

int Check(int argc, char** argv) {
  std::vector<std::string> paths;
  for (int i = 2; i < argc; ++i) {
    const absl::string_view a = argv[i];
    if (!a.empty() && a[0] == '-') return Usage(absl::StrCat("check: unknown option ", a));
    paths.emplace_back(a);
  }
  if (paths.size() != 2) return Usage("check needs OLD.edcat and NEW.edcat");
  std::optional<cat::CatalogFile> prev, next;
  if (!Load(paths[0], &prev) || !Load(paths[1], &next)) return kExitBadInput;
  const std::vector<std::string> problems =
      cat::CompatibilityProblems(prev->catalog(), next->catalog());
  for (const std::string& p : problems)
    std::fprintf(stderr, "%s: %s\n", paths[1].c_str(), p.c_str());
  if (!problems.empty()) {
    std::fprintf(stderr, "edictctl catalog: %s cannot replace %s (%zu problems)\n",
                 paths[1].c_str(), paths[0].c_str(), problems.size());
    return kExitIncompatible;
  }
  std::printf("%s: compatible with %s (%s version %u -> %u)\n", paths[1].c_str(), paths[0].c_str(),
              std::string(next->view().product_id()).c_str(), prev->catalog().version(),
              next->catalog().version());
  return kExitOk;
}

}  // namespace

int RunCatalogCommand(int argc, char** argv) {
  if (argc >= 2) {
    const absl::string_view sub = argv[1];
    if (IsHelp(sub)) {
      std::fputs(kHelp, stdout);
      return kExitOk;
    }
    for (int i = 2; i < argc; ++i) {
      if (IsHelp(argv[i])) {
        std::fputs(kHelp, stdout);
        return kExitOk;
      }
    }
    if (sub == "build") return Build(argc, argv);
    if (sub == "inspect") return Inspect(argc, argv);
    if (sub == "check") return Check(argc, argv);
  }
  return RunCatalog(argc, argv);  // the built-in catalogue listing
}

}  // namespace edict::ctl
