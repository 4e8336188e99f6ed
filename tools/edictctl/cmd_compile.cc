// PLACEHOLDER (being written): compile, inspect, catalog.
#include <cstdio>
#include "tools/edictctl/commands.h"
namespace edict::ctl {
int RunCompile(int, char**) { std::fprintf(stderr, "not built yet\n"); return 1; }
int RunInspect(int, char**) { std::fprintf(stderr, "not built yet\n"); return 1; }
int RunCatalog(int, char**) { std::fprintf(stderr, "not built yet\n"); return 1; }
}  // namespace edict::ctl
