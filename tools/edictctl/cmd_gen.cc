// edictctl gen docs|json-schema|admx|gschema: files generated from a product catalogue
// (issue 18, item 7) or from the built-in one (--builtin; `gen docs --builtin` is
// docs/settings.md).
// The generators are in gen_*.cc (gen_outputs.h).
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "policy/catalog/catalog_file.h"
#include "tools/cli/files.h"
#include "tools/edictctl/commands.h"
#include "tools/edictctl/gen_outputs.h"
#include "tools/edictctl/util.h"

namespace edict::ctl {
namespace {

namespace cat = catalogs;
namespace fs = std::filesystem;

constexpr int kExitBadInput = 3;

constexpr char kHelp[] =
    "usage: edictctl gen docs|json-schema|admx|gschema --catalog FILE.edcat -o DIR\n"
    "       edictctl gen docs|json-schema|admx|gschema --builtin -o DIR\n"
    "\n"
    "Generates files from a binary product catalogue (docs/catalogs.md; built with\n"
    "`edictctl catalog build`) or from the built-in catalogue into DIR, which is created if\n"
    "missing (its parent must exist). Existing files of the same names are replaced\n"
    "atomically.\n"
    "\n"
    "  docs         PRODUCT.md: Markdown reference: settings (num, type, default, allowed\n"
    "               values, who may set them, scope), native names, context attributes,\n"
    "               data classes, purposes, schedules, built-in rules and compliance tags.\n"
    "               With --builtin: settings.md, the same reference of the built-in\n"
    "               catalogue (docs/settings.md is this output): its products by id prefix\n"
    "               and each entry's requirement links to docs/requirements.md.\n"
    "  json-schema  PRODUCT.policy.schema.json: JSON Schema (draft 2020-12) of policy JSON\n"
    "               using this catalogue: setting ids an admin may set, each with its value\n"
    "               type; data classes, purposes (with the built-in ones), schedules,\n"
    "               compliance tags and conditions. `edictctl compile` still checks what a\n"
    "               schema cannot (conflicting rules, values a compliance tag forbids).\n"
    "               With --builtin: edict.policy.schema.json, for the built-in settings.\n"
    "  admx         PRODUCT.admx and en-US/PRODUCT.adml: Group Policy templates, one policy\n"
    "               per setting an admin may set, under Software\\Policies\\VENDOR\\PRODUCT\n"
    "               (the product's display name) with the registry value names and types of\n"
    "               the native mapping. With --builtin: edict.admx and en-US/edict.adml,\n"
    "               under Software\\Policies\\edict\\edict (the agent's default\n"
    "               registry_vendor and registry_product), value names the setting ids\n"
    "               (groove.proxy_auth), one category per product (communicator, ...).\n"
    "  gschema      SCHEMA-ID.gschema.xml: GSettings schemas of the dconf mapping, one per\n"
    "               dconf directory (id: the path with dots, e.g. org.edict.PRODUCT), typed\n"
    "               as the agent writes dconf values (durations in seconds). With --builtin:\n"
    "               org.edict.gschema.xml, the keys the agent writes for built-in settings\n"
    "               below its default dconf_path_prefix: groove.proxy_auth is key\n"
    "               proxy-auth of schema org.edict.groove at /org/edict/groove/.\n"
    "\n"
    "  --catalog FILE   the binary catalogue (.edcat, at most 16 MiB)\n"
    "  --builtin        the built-in catalogue (the five seed products), embedded in edictctl\n"
    "  -o, --output DIR the output directory\n"
    "  -h, --help       show this help\n"
    "\n"
    "One of --catalog and --builtin is required.\n"
    "\n"
    "exit status: 0 ok, 1 the catalogue cannot be rendered in that form or a file could\n"
    "not be written, 2 usage, 3 unreadable or invalid catalogue\n";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "edictctl gen: %s\n\n%s", problem.c_str(), kHelp);
  return kExitUsage;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "edictctl gen: %s\n", message.c_str());
  return kExitFailure;
}

// Creates `dir` (and `dir`/`sub`) if missing; refuses anything that is not a directory.
bool EnsureDirectory(const std::string& dir, std::string* why) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) {
      *why = absl::StrCat(dir, ": exists and is not a directory");
      return false;
    }
    return true;
  }
  if (!fs::create_directory(dir, ec) || ec) {
    *why = absl::StrCat(
        dir, ": cannot create directory: ", ec ? ec.message() : std::string("unknown error"));
    return false;
  }
  return true;
}

}  // namespace

int RunGen(int argc, char** argv) {
  std::string kind, catalog, out;
  bool builtin = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kHelp, stdout);
      return kExitOk;
    }
    if (a == "--builtin") {
      builtin = true;
    } else if (a == "--catalog" || a == "-o" || a == "--output") {
      if (i + 1 >= argc) return Usage(absl::StrCat(a, " needs a value"));
      (a == "--catalog" ? catalog : out) = argv[++i];
    } else if (!a.empty() && a[0] == '-') {
      return Usage(absl::StrCat("unknown option ", a));
    } else if (kind.empty()) {
      kind = a;
    } else {
      return Usage(absl::StrCat("unexpected argument ", a));
    }
  }
  absl::StatusOr<gen::Outputs> (*generate)(const cat::CatalogView&) = nullptr;
  absl::StatusOr<gen::Outputs> (*generate_builtin)(const gen::BuiltinCatalog&) = nullptr;
  if (kind == "docs") {
    generate = gen::Docs;
    generate_builtin = gen::BuiltinDocs;
  } else if (kind == "json-schema") {
    generate = gen::JsonSchema;
    generate_builtin = gen::BuiltinJsonSchema;
  } else if (kind == "admx") {
    generate = gen::Admx;
    generate_builtin = gen::BuiltinAdmx;
  } else if (kind == "gschema") {
    generate = gen::Gschema;
    generate_builtin = gen::BuiltinGschema;
  } else if (kind.empty()) {
    return Usage("which output? docs, json-schema, admx or gschema");
  } else {
    return Usage(absl::StrCat("unknown output \"", kind, "\" (docs, json-schema, admx, gschema)"));
  }
  if (builtin && !catalog.empty()) return Usage("--builtin and --catalog exclude each other");
  if (!builtin && catalog.empty()) {
    return Usage(
        "--catalog FILE.edcat (edictctl catalog build makes one) or --builtin is required");
  }
  if (out.empty()) return Usage("-o DIR is required");

  absl::StatusOr<gen::Outputs> files;
  if (builtin) {
    absl::StatusOr<gen::BuiltinCatalog> view = gen::OpenBuiltin(gen::BuiltinCatalogBytes());
    if (!view.ok()) {
      std::fprintf(stderr, "edictctl gen: %s\n", std::string(view.status().message()).c_str());
      return kExitBadInput;
    }
    files = generate_builtin(*view);
    if (!files.ok()) {
      return Fail(absl::StrCat("the built-in catalogue: cannot generate ", kind, ": ",
                               files.status().message()));
    }
  } else {
    absl::StatusOr<cat::CatalogFile> file = ReadCatalogFile(catalog);
    if (!file.ok()) {
      std::fprintf(stderr, "edictctl gen: %s\n", std::string(file.status().message()).c_str());
      return kExitBadInput;
    }
    files = generate(file->view());
    if (!files.ok()) {
      return Fail(
          absl::StrCat(catalog, ": cannot generate ", kind, ": ", files.status().message()));
    }
  }
  std::string why;
  if (!EnsureDirectory(out, &why)) return Fail(why);
  for (const gen::OutputFile& f : *files) {
    const std::string path = absl::StrCat(out, "/", f.path);
    const size_t slash = f.path.rfind('/');
    if (slash != std::string::npos &&
        !EnsureDirectory(absl::StrCat(out, "/", f.path.substr(0, slash)), &why)) {
      return Fail(why);
    }
    if (absl::Status written = cli::WriteOutputFile(path, f.content); !written.ok()) {
      return Fail(std::string(written.message()));
    }
    std::fprintf(stderr, "wrote %s (%zu bytes)\n", path.c_str(), f.content.size());
  }
  return kExitOk;
}

}  // namespace edict::ctl
