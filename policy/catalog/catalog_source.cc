// Product catalogue sources: JSON <-> binary (catalog_source.h).
#include "policy/catalog/catalog_source.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "flatbuffers/idl.h"
#include "policy/catalog/catalog_validate.h"
#include "policy/compiler/json.h"
#include "policy/embed/catalog_bfbs_generated.h"

namespace edict::catalogs {
namespace {

namespace cfb = catalog_fb;

// A FlatBuffers parser loaded with the catalogue schema embedded at build time (binary
// schema, so no include files are read at run time).
std::unique_ptr<flatbuffers::Parser> SchemaParser() {
  flatbuffers::IDLOptions opts;
  opts.strict_json = true;
  opts.indent_step = 2;
  auto parser = std::make_unique<flatbuffers::Parser>(opts);
  if (!parser->Deserialize(cfb::CatalogBinarySchema::data(), cfb::CatalogBinarySchema::size()))
    return nullptr;
  return parser;
}

std::string At(absl::string_view filename, json::Location loc, absl::string_view message) {
  return absl::StrCat(filename, ":", loc.line, ":", loc.col, ": ", message);
}

// Where a FlatBuffers parser error points. Its message is "LINE: COL: error: MESSAGE",
// COL being just past the offending token; when MESSAGE ends in ": NAME" and a key or
// string NAME starts on that line before COL, that is the place.
void FindNamed(const json::Value& v, int line, int col, absl::string_view name,
               json::Location* best) {
  auto consider = [&](json::Location l) {
    if (l.line == line && l.col <= col && (best->line != line || l.col > best->col)) *best = l;
  };
  if (v.is_string() && v.string() == name) consider(v.location());
  for (const json::Value::Member& m : v.members()) {
    if (m.key == name) consider(m.key_location);
    FindNamed(m.value, line, col, name, best);
  }
  for (const json::Value& item : v.items()) FindNamed(item, line, col, name, best);
}

// Splits a FlatBuffers parser error into its place and message. The parser writes the
// place as "LINE: COL: " on POSIX and as "(LINE, COL): " when built for Windows.
bool SplitParserError(absl::string_view error, int* line, int* col, absl::string_view* message) {
  absl::string_view place_line, place_col;
  if (absl::ConsumePrefix(&error, "(")) {
    const size_t comma = error.find(", ");
    const size_t close = error.find("): ");
    if (comma == absl::string_view::npos || close == absl::string_view::npos || comma > close)
      return false;
    place_line = error.substr(0, comma);
    place_col = error.substr(comma + 2, close - comma - 2);
    error.remove_prefix(close + 3);
  } else {
    std::vector<absl::string_view> parts = absl::StrSplit(error, absl::MaxSplits(": ", 2));
    if (parts.size() != 3) return false;
    place_line = parts[0];
    place_col = parts[1];
    error = parts[2];
  }
  if (!absl::ConsumePrefix(&error, "error: ")) return false;
  if (!absl::SimpleAtoi(place_line, line) || !absl::SimpleAtoi(place_col, col)) return false;
  *message = error;
  return true;
}

std::string SchemaError(absl::string_view filename, const std::string& error,
                        const json::Value& root) {
  int line = 0, col = 0;
  absl::string_view message;
  if (SplitParserError(error, &line, &col, &message)) {
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.remove_suffix(1);
    json::Location loc{line, col};
    const size_t colon = message.rfind(": ");
    if (colon != absl::string_view::npos) {
      json::Location named{0, 0};
      FindNamed(root, line, col, message.substr(colon + 2), &named);
      if (named.line == line) loc = named;
    }
    return At(filename, loc, message);
  }
  return At(filename, json::Location{}, error);
}

json::Location Locate(const json::Value& root, const Problem& p) {
  if (p.section.empty()) return root.location();
  const json::Value* sec = root.Find(p.section);
  if (sec == nullptr) return root.location();
  const json::Value* elem = sec;
  if (p.index >= 0) {
    if (!sec->is_array() || static_cast<size_t>(p.index) >= sec->items().size())
      return sec->location();
    elem = &sec->items()[static_cast<size_t>(p.index)];
  }
  if (!p.field.empty()) {
    if (const json::Value* f = elem->Find(p.field)) return f->location();
  }
  return elem->location();
}

// Parses `json` with a fresh schema parser; the finished buffer, or the parser's error.
bool ParseWithSchema(const std::string& json, std::string* out, std::string* error) {
  std::unique_ptr<flatbuffers::Parser> parser = SchemaParser();
  if (parser == nullptr) {
    *error = "0: 0: error: embedded catalogue schema does not load";
    return false;
  }
  if (!parser->ParseJson(json.c_str(), nullptr)) {
    *error = parser->error_;
    return false;
  }
  out->assign(reinterpret_cast<const char*>(parser->builder_.GetBufferPointer()),
              parser->builder_.GetSize());
  return true;
}

}  // namespace

absl::StatusOr<std::string> BuildCatalog(absl::string_view json_text, absl::string_view filename) {
  if (json_text.size() > kMaxSourceBytes) {
    return absl::InvalidArgumentError(At(filename, json::Location{},
                                         absl::StrCat("catalogue source is ", json_text.size(),
                                                      " bytes; the cap is ", kMaxSourceBytes)));
  }
  // 1. Strict JSON, located.
  absl::StatusOr<json::Value> root =
      json::Parse(std::string_view(json_text.data(), json_text.size()));
  if (!root.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(filename, ":", root.status().message()));
  }
  if (!root->is_object()) {
    return absl::InvalidArgumentError(
        At(filename, root->location(), "a catalogue is a JSON object"));
  }
  // 2. The schema: field names, types, enum names. A NUL inside the text would end
  // FlatBuffers' reading early; the strict reader above already refused raw NULs.
  const std::string text(json_text);
  std::string first, error;
  if (!ParseWithSchema(text, &first, &error)) {
    return absl::InvalidArgumentError(SchemaError(filename, error, *root));
  }
  // 3. Canonical bytes: print the buffer as JSON in schema order and parse that, so the
  // result does not depend on how the source ordered its keys.
  std::unique_ptr<flatbuffers::Parser> printer = SchemaParser();
  std::string canonical_json, binary;
  if (printer == nullptr || !flatbuffers::GenerateText(*printer, first.data(), &canonical_json) ||
      !ParseWithSchema(canonical_json, &binary, &error)) {
    return absl::InternalError(At(filename, json::Location{}, "catalogue does not re-read"));
  }
  if (binary.size() > kMaxBinaryBytes) {
    return absl::InvalidArgumentError(At(filename, json::Location{},
                                         absl::StrCat("binary catalogue would be ", binary.size(),
                                                      " bytes; the cap is ", kMaxBinaryBytes)));
  }
  // 4. The catalogue rules, on an aligned copy, located through the first reading.
  auto aligned = std::make_unique<uint64_t[]>((binary.size() + 7) / 8 + 1);
  std::memcpy(aligned.get(), binary.data(), binary.size());
  const auto* data = reinterpret_cast<const uint8_t*>(aligned.get());
  flatbuffers::Verifier verifier(data, binary.size());
  if (!verifier.VerifyBuffer<cfb::Catalog>(kFileIdentifier)) {
    return absl::InternalError(At(filename, json::Location{}, "built catalogue does not verify"));
  }
  std::vector<Problem> problems = ValidateCatalog(*flatbuffers::GetRoot<cfb::Catalog>(data));
  if (!problems.empty()) {
    // Ordered by location, then as found.
    std::vector<std::pair<json::Location, std::string>> located;
    for (const Problem& p : problems) located.emplace_back(Locate(*root, p), p.message);
    std::stable_sort(located.begin(), located.end(), [](const auto& a, const auto& b) {
      return a.first.line != b.first.line ? a.first.line < b.first.line : a.first.col < b.first.col;
    });
    std::vector<std::string> lines;
    for (const auto& [loc, message] : located) lines.push_back(At(filename, loc, message));
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  return binary;
}

absl::StatusOr<std::string> CatalogToJson(const CatalogView& view) {
  std::unique_ptr<flatbuffers::Parser> printer = SchemaParser();
  std::string out;
  if (printer == nullptr || !flatbuffers::GenerateText(*printer, view.bytes().data(), &out)) {
    return absl::InvalidArgumentError("catalogue cannot be printed as JSON (invalid UTF-8?)");
  }
  return out;
}

}  // namespace edict::catalogs
