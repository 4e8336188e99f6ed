// edictctl subcommands. Each lives in its own cmd_*.cc, parses its own arguments, prints
// `--help`, and returns the process exit status (0 ok, 1 failure, 2 usage error; commands
// may define more specific codes in their help).
#ifndef EDICT_TOOLS_EDICTCTL_COMMANDS_H_
#define EDICT_TOOLS_EDICTCTL_COMMANDS_H_

namespace edict::ctl {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);  // argv[0] is the subcommand name
};

int RunCompile(int argc, char** argv);      // cmd_compile.cc
int RunInspect(int argc, char** argv);      // cmd_compile.cc
int RunCatalog(int argc, char** argv);      // cmd_compile.cc
int RunEval(int argc, char** argv);         // cmd_eval.cc
int RunExplain(int argc, char** argv);      // cmd_eval.cc
int RunConformance(int argc, char** argv);  // cmd_eval.cc
int RunKeygen(int argc, char** argv);       // cmd_keys.cc
int RunTrust(int argc, char** argv);        // cmd_keys.cc
int RunSign(int argc, char** argv);         // cmd_bundle.cc
int RunVerify(int argc, char** argv);       // cmd_bundle.cc
int RunPublish(int argc, char** argv);      // cmd_publish.cc

// cmd_catalog.cc: `catalog build|inspect|check`; anything else goes to RunCatalog.
int RunCatalogCommand(int argc, char** argv);
int RunGen(int argc, char** argv);  // cmd_gen.cc: `gen docs|json-schema|admx|gschema`

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

}  // namespace edict::ctl

#endif  // EDICT_TOOLS_EDICTCTL_COMMANDS_H_
