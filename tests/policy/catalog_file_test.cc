// Product catalogues: source -> binary (located errors), the verified binary view, and the
// compatibility check (policy/catalog/catalog_{source,file}.h, docs/catalogs.md).
#include "policy/catalog/catalog_file.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/catalog/catalog_source.h"
#include "policy/catalog/catalog_validate.h"

namespace edict::catalogs {
namespace {

using ::testing::HasSubstr;

namespace cfb = catalog_fb;

// Line numbers below refer to this text (line 1 is "{").
constexpr char kBase[] = R"({
  "version": 1,
  "product": {"id": "demo", "vendor": "Demo Inc", "display_name": "Demo"},
  "settings": [
    {"id": "demo.on", "num": 0, "type": "Bool", "default": "false", "setters": "Admin", "description": "On."},
    {"id": "demo.mode", "num": 1, "type": "Enum", "values": ["a", "b"], "default": "a", "setters": "Admin", "description": "Mode."},
    {"id": "demo.old", "num": 2, "type": "Integer", "default": "3", "setters": "Admin", "description": "Old.", "deprecated": true}
  ],
  "attributes": [
    {"name": "demo.trust", "type": "Enum", "values": ["yes", "no"], "description": "Trust."},
    {"name": "demo.count", "type": "IntRange", "min": 0, "max": 4, "description": "Count."}
  ]
}
)";

std::string Edit(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The error text of building `text` (empty if it builds).
std::string Errors(const std::string& text) {
  absl::StatusOr<std::string> b = BuildCatalog(text, "f.json");
  return b.ok() ? std::string() : std::string(b.status().message());
}

std::string MustBuild(const std::string& text) {
  absl::StatusOr<std::string> b = BuildCatalog(text, "f.json");
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *b : std::string();
}

std::string ReadSource(const std::string& rel) {
  std::ifstream in(std::string(EDICT_SOURCE_DIR) + "/" + rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(CatalogSource, BaseBuildsAndOpens) {
  const std::string bin = MustBuild(kBase);
  ASSERT_GE(bin.size(), 8u);
  EXPECT_EQ(bin.substr(4, 4), "EDCT");
  absl::StatusOr<CatalogFile> f = CatalogFile::FromBytes(bin);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->view().product_id(), "demo");
  EXPECT_EQ(f->view().version(), 1u);
  EXPECT_EQ(f->catalog().settings()->size(), 3u);
  EXPECT_EQ(f->view().hash(), Fnv1a64(bin));
  EXPECT_EQ(FormatHash(f->view().hash()).size(), 8u + 16u);
}

TEST(CatalogSource, Fnv1a64KnownValues) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(FormatHash(0xaf63dc4c8601ec8cull), "fnv1a64:af63dc4c8601ec8c");
}

TEST(CatalogSource, DuplicateIdIsLocated) {
  EXPECT_EQ(Errors(Edit(kBase, "\"demo.mode\"", "\"demo.on\"")),
            "f.json:6:12: duplicate setting id \"demo.on\"");
}

TEST(CatalogSource, IdOutsideTheProductIsLocated) {
  EXPECT_EQ(Errors(Edit(kBase, "\"demo.mode\"", "\"other.mode\"")),
            "f.json:6:12: setting \"other.mode\" is outside product \"demo\": ids must start "
            "with \"demo.\"");
  EXPECT_THAT(Errors(Edit(kBase, "\"demo.mode\"", "\"mode\"")),
              HasSubstr("f.json:6:12: setting \"mode\": an id is <product>.<name>"));
}

TEST(CatalogSource, UnknownTypeIsLocated) {
  EXPECT_EQ(Errors(Edit(kBase, "\"Integer\"", "\"Int\"")), "f.json:7:42: unknown enum value: Int");
}

TEST(CatalogSource, UnknownFieldIsLocated) {
  EXPECT_EQ(Errors(Edit(kBase, "\"version\": 1,", "\"version\": 1, \"colour\": 2,")),
            "f.json:2:17: unknown field: colour");
}

TEST(CatalogSource, BadDefaultsAreLocated) {
  EXPECT_EQ(Errors(Edit(kBase, "\"default\": \"false\"", "\"default\": \"maybe\"")),
            "f.json:5:60: demo.on: default \"maybe\" is not a valid Bool value");
  EXPECT_THAT(Errors(Edit(kBase, "\"default\": \"a\"", "\"default\": \"c\"")),
              HasSubstr("f.json:6:"));
  EXPECT_THAT(Errors(Edit(kBase, "\"default\": \"3\"", "\"default\": \"3d\"")),
              HasSubstr("demo.old: default \"3d\" is not a valid Integer value"));
}

TEST(CatalogSource, EveryRuleProblemIsReported) {
  std::string t = Edit(kBase, "\"demo.mode\"", "\"demo.on\"");
  t = Edit(t, "\"num\": 2", "\"num\": 1");
  t = Edit(t, "\"demo.trust\"", "\"identity\"");
  t = Edit(t, "\"min\": 0, \"max\": 4", "\"min\": 5, \"max\": 4");
  const std::string e = Errors(t);
  EXPECT_THAT(e, HasSubstr("f.json:6:12: duplicate setting id \"demo.on\""));
  EXPECT_THAT(e, HasSubstr("f.json:7:31: demo.old: num 1 must be greater than the previous"));
  EXPECT_THAT(e, HasSubstr("f.json:10:14: attribute \"identity\": an id is <product>.<name>"));
  EXPECT_THAT(e, HasSubstr("f.json:11:55: demo.count: min 5 is greater than max 4"));
}

TEST(CatalogSource, OtherRules) {
  EXPECT_THAT(Errors(Edit(kBase, "\"values\": [\"a\", \"b\"], ", "")),
              HasSubstr("demo.mode: an Enum or Flags setting lists values"));
  EXPECT_THAT(Errors(Edit(kBase, "[\"a\", \"b\"]", "[\"a\", \"a\"]")),
              HasSubstr("value \"a\" listed twice"));
  EXPECT_THAT(Errors(Edit(kBase, "\"version\": 1", "\"version\": 0")),
              HasSubstr("f.json:2:14: \"version\" must be 1 or more"));
  EXPECT_THAT(Errors(Edit(kBase, "\"id\": \"demo\"", "\"id\": \"communicator\"")),
              HasSubstr("product id \"communicator\" belongs to the built-in catalogue"));
  EXPECT_THAT(Errors(Edit(kBase, "\"vendor\": \"Demo Inc\"", "\"vendor\": \"Demo\\\\Inc\"")),
              HasSubstr("product vendor \"Demo\\Inc\" must be one registry key name"));
  EXPECT_THAT(Errors(Edit(kBase, "\"display_name\": \"Demo\"", "\"display_name\": \"..\"")),
              HasSubstr("product display_name \"..\" must be one registry key name"));
  EXPECT_THAT(Errors(Edit(kBase, "\"demo.trust\"", "\"demo.count\"")),
              HasSubstr("duplicate attribute \"demo.count\""));
  EXPECT_THAT(Errors(Edit(kBase, "\"demo.trust\"", "\"other.trust\"")),
              HasSubstr("f.json:10:14: attribute \"other.trust\" is outside product"));
  EXPECT_THAT(Errors(Edit(kBase, "\"setters\": \"Admin\", \"description\": \"On.\"",
                          "\"description\": \"On.\"")),
              HasSubstr("demo.on: \"fixed\" exactly when no \"setters\" are given"));
  const std::string no_product = Edit(
      kBase,
      "\"product\": {\"id\": \"demo\", \"vendor\": \"Demo Inc\", \"display_name\": \"Demo\"},", "");
  EXPECT_THAT(Errors(no_product), HasSubstr("f.json:1:1: a product catalogue needs \"product\""));
  EXPECT_THAT(Errors(Edit(kBase, "\"setters\": \"Admin\", \"description\": \"On.\"",
                          "\"setters\": \"Admin\", \"description\": \"On.\", \"native\": "
                          "{\"registry_type\": \"MultiString\"}")),
              HasSubstr("registry_type MultiString cannot hold a Bool setting"));
  EXPECT_THAT(Errors(Edit(kBase, "\"setters\": \"Admin\", \"description\": \"On.\"",
                          "\"setters\": \"Admin\", \"description\": \"On.\", \"native\": "
                          "{\"dconf_key\": \"/org/x/Bad_Key\"}")),
              HasSubstr("dconf_key \"/org/x/Bad_Key\" must be"));
}

TEST(CatalogSource, SyntaxErrorsAreLocated) {
  EXPECT_THAT(Errors("not json"), HasSubstr("f.json:1:1: "));
  EXPECT_THAT(Errors("{\n  \"version\": 1,\n}"), HasSubstr("f.json:2:15: trailing comma"));
  EXPECT_EQ(Errors("[]"), "f.json:1:1: a catalogue is a JSON object");
  EXPECT_THAT(Errors(Edit(kBase, "\"version\": 1,", "\"version\": 1, \"version\": 2,")),
              HasSubstr("f.json:2:"));
}

TEST(CatalogSource, OversizedSourceIsRefused) {
  std::string big(kMaxSourceBytes + 1, ' ');
  big[0] = '{';
  big[big.size() - 1] = '}';
  EXPECT_EQ(Errors(big), "f.json:1:1: catalogue source is 4194305 bytes; the cap is 4194304");
}

TEST(CatalogSource, CanonicalAndRoundTrips) {
  const std::string bin = MustBuild(kBase);
  // Key order and white space do not matter.
  std::string reordered = Edit(kBase, "\"version\": 1,\n", "");
  reordered = Edit(reordered, "\n}\n", ",\n  \"version\": 1\n}\n");
  EXPECT_EQ(MustBuild(reordered), bin);
  // build -> inspect --json -> build gives the same bytes.
  absl::StatusOr<CatalogFile> f = CatalogFile::FromBytes(bin);
  ASSERT_TRUE(f.ok()) << f.status();
  absl::StatusOr<std::string> json = CatalogToJson(f->view());
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(MustBuild(*json), bin);
}

TEST(CatalogSource, ExampleCatalogueBuildsAndRoundTrips) {
  const std::string src = ReadSource("examples/catalogs/acmevpn.json");
  ASSERT_FALSE(src.empty());
  const std::string bin = MustBuild(src);
  absl::StatusOr<CatalogFile> f = CatalogFile::FromBytes(bin);
  ASSERT_TRUE(f.ok()) << f.status();
  const cfb::Catalog& c = f->catalog();
  EXPECT_EQ(f->view().product_id(), "acmevpn");
  EXPECT_EQ(c.product()->vendor()->str(), "Acme Networks");
  EXPECT_GE(c.settings()->size(), 40u);
  bool types[cfb::SettingType_MAX + 1] = {};
  for (const cfb::Setting* s : *c.settings()) types[s->type()] = true;
  for (bool seen : types) EXPECT_TRUE(seen);
  ASSERT_NE(c.attributes(), nullptr);
  EXPECT_GE(c.attributes()->size(), 2u);
  absl::StatusOr<std::string> json = CatalogToJson(f->view());
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(MustBuild(*json), bin);
}

TEST(CatalogSource, NativeNamesAreDerivedFromTheId) {
  absl::StatusOr<CatalogFile> f = CatalogFile::FromBytes(MustBuild(kBase));
  ASSERT_TRUE(f.ok());
  const NativeNames n = EffectiveNative(*f->catalog().settings()->Get(1));
  EXPECT_EQ(n.registry_value, "demo.mode");
  EXPECT_EQ(n.registry_type, cfb::RegistryType_Auto);
  EXPECT_EQ(n.dconf_key, "/org/edict/demo/mode");
  EXPECT_EQ(n.managed_key, "demo.mode");
}

// ---- The binary view ---------------------------------------------------------------------

TEST(CatalogFile, RefusesTruncatedCorruptAndForeignBuffers) {
  const std::string bin = MustBuild(kBase);
  EXPECT_FALSE(CatalogFile::FromBytes(bin.substr(0, bin.size() / 2)).ok());
  EXPECT_FALSE(CatalogFile::FromBytes(bin.substr(0, 6)).ok());
  EXPECT_FALSE(CatalogFile::FromBytes("").ok());
  std::string corrupt = bin;
  const uint32_t bad_root = 0x7ffffff0u;
  std::memcpy(&corrupt[0], &bad_root, 4);
  absl::Status s = CatalogFile::FromBytes(corrupt).status();
  EXPECT_THAT(std::string(s.message()), HasSubstr("corrupt"));
  std::string foreign = bin;
  foreign.replace(4, 4, "EDP1");
  EXPECT_THAT(std::string(CatalogFile::FromBytes(foreign).status().message()),
              HasSubstr("file identifier EDCT"));
  EXPECT_THAT(
      std::string(CatalogFile::FromBytes(std::string(kMaxBinaryBytes + 1, 'x')).status().message()),
      HasSubstr("the cap is"));
}

TEST(CatalogFile, RefusesAMisalignedBuffer) {
  const std::string bin = MustBuild(kBase);
  std::unique_ptr<uint64_t[]> store(new uint64_t[bin.size() / 8 + 2]);
  char* base = reinterpret_cast<char*>(store.get());
  std::memcpy(base, bin.data(), bin.size());
  EXPECT_TRUE(CatalogView::Open(absl::string_view(base, bin.size())).ok());
  std::memcpy(base + 1, bin.data(), bin.size());
  absl::Status s = CatalogView::Open(absl::string_view(base + 1, bin.size())).status();
  EXPECT_THAT(std::string(s.message()), HasSubstr("8-byte boundary"));
}

TEST(CatalogFile, AppliesTheCatalogueRulesToBinaries) {
  // Well-formed FlatBuffers that break a rule: made with the builder, not the source loader.
  flatbuffers::FlatBufferBuilder b;
  auto product = cfb::CreateProductDirect(b, "demo", "Demo Inc", "Demo");
  std::vector<flatbuffers::Offset<cfb::Setting>> settings;
  for (int i = 0; i < 2; ++i) {
    settings.push_back(cfb::CreateSettingDirect(
        b, "demo.on", static_cast<uint16_t>(i), cfb::SettingType_Bool, nullptr, "false",
        cfb::Setter_Admin, cfb::Scope_Device, false, false, static_cast<edict::fb::Obligation>(0),
        nullptr, nullptr, "On."));
  }
  auto cat = cfb::CreateCatalogDirect(b, 1, &settings, nullptr, nullptr, nullptr, nullptr, nullptr,
                                      nullptr, product);
  b.Finish(cat, kFileIdentifier);
  const std::string bin(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  absl::Status s = CatalogFile::FromBytes(bin).status();
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("settings[1].id: duplicate setting id \"demo.on\""));
}

TEST(CatalogFile, RefusesStringsThatAreNotUtf8) {
  // A source must be UTF-8, so a binary may not hold what no source can (finding F4 of the
  // `catalog` fuzz target: such a binary opened but could not be printed as JSON).
  std::string bin = MustBuild(kBase);
  ASSERT_TRUE(CatalogFile::FromBytes(bin).ok());
  const size_t at = bin.find("Mode.");
  ASSERT_NE(at, std::string::npos);
  bin[at + 1] = static_cast<char>(0xFF);  // "M\xFFde.": same length, verifier still happy
  absl::Status s = CatalogFile::FromBytes(bin).status();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("is not valid UTF-8"));
}

// ---- Compatibility -----------------------------------------------------------------------

std::vector<std::string> Problems(const std::string& prev, const std::string& next) {
  absl::StatusOr<CatalogFile> a = CatalogFile::FromBytes(MustBuild(prev));
  absl::StatusOr<CatalogFile> b = CatalogFile::FromBytes(MustBuild(next));
  EXPECT_TRUE(a.ok() && b.ok());
  if (!a.ok() || !b.ok()) return {"(did not build)"};
  return CompatibilityProblems(a->catalog(), b->catalog());
}

std::string V2(const std::string& text) { return Edit(text, "\"version\": 1", "\"version\": 2"); }

TEST(CatalogCompat, AcceptsAppendOnlyGrowth) {
  std::string next = V2(kBase);
  next = Edit(next, "[\"a\", \"b\"]", "[\"a\", \"b\", \"c\"]");
  next = Edit(next, "[\"yes\", \"no\"]", "[\"yes\", \"no\", \"unknown\"]");
  next = Edit(next, "\"max\": 4", "\"max\": 8");
  next =
      Edit(next, "\"deprecated\": true}",
           "\"deprecated\": true},\n    {\"id\": \"demo.new\", \"num\": 3, \"type\": \"String\", "
           "\"setters\": \"Admin\", \"description\": \"New.\"}");
  next =
      Edit(next, "\"description\": \"Count.\"}",
           "\"description\": \"Count.\"},\n    {\"name\": \"demo.flag\", \"description\": \"F.\"}");
  EXPECT_THAT(Problems(kBase, next), ::testing::IsEmpty());
  // A setting OLD marked deprecated may go; its num stays retired.
  const std::string removed =
      Edit(V2(kBase),
           ",\n    {\"id\": \"demo.old\", \"num\": 2, \"type\": \"Integer\", \"default\": \"3\", "
           "\"setters\": \"Admin\", \"description\": \"Old.\", \"deprecated\": true}",
           "");
  EXPECT_THAT(Problems(kBase, removed), ::testing::IsEmpty());
  absl::StatusOr<CatalogFile> a = CatalogFile::FromBytes(MustBuild(kBase));
  absl::StatusOr<CatalogFile> b = CatalogFile::FromBytes(MustBuild(removed));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(CheckCompatible(a->view(), b->view()).ok());
  EXPECT_FALSE(CheckCompatible(b->view(), a->view()).ok());  // version 2 -> 1
}

TEST(CatalogCompat, RefusesEachBreakingChange) {
  using ::testing::ElementsAre;
  EXPECT_THAT(Problems(kBase, kBase), ElementsAre("version 1 does not increase on 1"));
  EXPECT_THAT(Problems(kBase, V2(Edit(kBase, "\"Integer\", \"default\": \"3\"",
                                      "\"Duration\", \"default\": \"3\""))),
              ElementsAre("setting demo.old: type changed from Integer to Duration"));
  EXPECT_THAT(Problems(kBase, V2(Edit(kBase, "[\"a\", \"b\"]", "[\"a\"]"))),
              ElementsAre("setting demo.mode: value \"b\" was removed"));
  EXPECT_THAT(Problems(kBase, V2(Edit(kBase, "[\"a\", \"b\"]", "[\"b\", \"a\"]"))),
              ElementsAre("setting demo.mode: value \"a\" moved from position 0; values may "
                          "only be appended at the end"));
  EXPECT_THAT(
      Problems(kBase,
               V2(Edit(kBase, "\"values\": [\"a\", \"b\"]", "\"values\": [\"a\", \"x\", \"b\"]"))),
      ElementsAre("setting demo.mode: value \"b\" moved from position 1; values may only be "
                  "appended at the end"));
  const std::string without_mode =
      Edit(V2(kBase),
           "\n    {\"id\": \"demo.mode\", \"num\": 1, \"type\": \"Enum\", \"values\": [\"a\", "
           "\"b\"], \"default\": \"a\", \"setters\": \"Admin\", \"description\": \"Mode.\"},",
           "");
  EXPECT_THAT(Problems(kBase, without_mode),
              ElementsAre("setting demo.mode: removed without first being marked deprecated"));
  EXPECT_THAT(Problems(kBase, V2(Edit(kBase, "\"num\": 2", "\"num\": 5"))),
              ElementsAre("setting demo.old: num changed from 2 to 5"));
  EXPECT_THAT(Problems(kBase, V2(Edit(kBase, "\"type\": \"IntRange\", \"min\": 0, \"max\": 4",
                                      "\"type\": \"StringSet\""))),
              ElementsAre("attribute demo.count: type changed from IntRange to StringSet"));
  EXPECT_THAT(Problems(kBase, V2(Edit(kBase, "[\"yes\", \"no\"]", "[\"no\", \"yes\"]"))),
              ElementsAre("attribute demo.trust: value \"yes\" moved from position 0; values "
                          "may only be appended at the end"));
  EXPECT_THAT(Problems(kBase, V2(Edit(kBase, "\"max\": 4", "\"max\": 3"))),
              ElementsAre("attribute demo.count: range 0..4 narrowed to 0..3; a range may only "
                          "widen"));
  EXPECT_THAT(Problems(kBase, V2(Edit(kBase,
                                      ",\n    {\"name\": \"demo.count\", \"type\": \"IntRange\", "
                                      "\"min\": 0, \"max\": 4, \"description\": \"Count.\"}",
                                      ""))),
              ElementsAre("attribute demo.count: removed; an attribute is never removed"));
  const std::string other = absl::StrReplaceAll(V2(kBase), {{"demo", "other"}});
  EXPECT_THAT(Problems(kBase, other),
              ElementsAre("product changed from \"demo\" to \"other\": these are catalogues of "
                          "different products"));
}

TEST(CatalogCompat, RefusesAReusedNum) {
  // demo.old (deprecated, num 2) is removed and a new setting takes num 2.
  const std::string next =
      Edit(V2(kBase),
           "{\"id\": \"demo.old\", \"num\": 2, \"type\": \"Integer\", \"default\": \"3\", "
           "\"setters\": \"Admin\", \"description\": \"Old.\", \"deprecated\": true}",
           "{\"id\": \"demo.other\", \"num\": 2, \"type\": \"Integer\", \"default\": \"3\", "
           "\"setters\": \"Admin\", \"description\": \"Other.\"}");
  EXPECT_THAT(Problems(kBase, next),
              ::testing::ElementsAre("setting demo.other: num 2 was demo.old's; a num is never "
                                     "reused"));
}

}  // namespace
}  // namespace edict::catalogs
