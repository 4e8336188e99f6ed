// docs/settings.md is `edictctl gen docs --builtin` (policy/CMakeLists.txt writes it into
// the build tree); the copy in the repository must not go stale.
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace {

std::string ReadAll(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Docs, SettingsReferenceIsUpToDate) {
  bool generated_ok = false;
  bool committed_ok = false;
  const std::string generated =
      ReadAll(std::string(EDICT_GEN_DIR) + "/docs/settings.md", &generated_ok);
  const std::string committed =
      ReadAll(std::string(EDICT_SOURCE_DIR) + "/docs/settings.md", &committed_ok);
  ASSERT_TRUE(generated_ok) << "missing " << EDICT_GEN_DIR << "/docs/settings.md";
  ASSERT_TRUE(committed_ok) << "missing " << EDICT_SOURCE_DIR << "/docs/settings.md";
  EXPECT_FALSE(generated.empty());
  EXPECT_TRUE(generated == committed)
      << "docs/settings.md is stale: the catalogue changed. Run "
         "`cmake --build build --target update-docs` and commit docs/settings.md.";
}

}  // namespace
