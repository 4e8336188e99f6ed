// PLACEHOLDER (being written): eval, explain, conformance.
#include <cstdio>
#include "tools/edictctl/commands.h"
namespace edict::ctl {
int RunEval(int, char**) { std::fprintf(stderr, "not built yet\n"); return 1; }
int RunExplain(int, char**) { std::fprintf(stderr, "not built yet\n"); return 1; }
int RunConformance(int, char**) { std::fprintf(stderr, "not built yet\n"); return 1; }
}  // namespace edict::ctl
