// edictctl: the administrator's tool. `edictctl help` lists the subcommands.
#include <cstdio>
#include <cstring>

#include "tools/edictctl/commands.h"

namespace edict::ctl {
namespace {

constexpr Command kCommands[] = {
    {"compile", "compile policy JSON into a validated, deterministic payload", RunCompile},
    {"inspect", "print a payload as canonical policy JSON", RunInspect},
    {"catalog", "list the settings catalogue; build, inspect, check product catalogues",
     RunCatalogCommand},
    {"gen", "generate docs, JSON Schema, ADMX/ADML or gschema from a catalogue", RunGen},
    {"eval", "evaluate a setting, data-use or schedule query against a policy", RunEval},
    {"explain", "explain an answer in one sentence (or with every candidate)", RunExplain},
    {"conformance", "run the conformance vectors of a directory", RunConformance},
    {"keygen", "generate an ECDSA P-256 key pair (private PEM 0600, public .pub)", RunKeygen},
    {"trust", "create (init) or rotate a signed trust document", RunTrust},
    {"sign", "sign a payload into a bundle", RunSign},
    {"verify", "verify a bundle against a trust document, as an endpoint does", RunVerify},
    {"publish", "write bundle, trust document and index into a directory for web serving",
     RunPublish},
};

void PrintUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: edictctl <command> [arguments]\n\n"
               "edict admin tool: compiles, inspects and evaluates admin policy.\n\n"
               "commands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
  std::fprintf(out, "\n`edictctl <command> --help` describes a command.\n");
}

}  // namespace
}  // namespace edict::ctl

int main(int argc, char** argv) {
  using namespace edict::ctl;
  if (argc < 2) {
    PrintUsage(stderr);
    return kExitUsage;
  }
  const char* name = argv[1];
  if (!std::strcmp(name, "help") || !std::strcmp(name, "--help") || !std::strcmp(name, "-h")) {
    PrintUsage(stdout);
    return kExitOk;
  }
  for (const Command& c : kCommands) {
    if (!std::strcmp(name, c.name)) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "edictctl: unknown command '%s'\n", name);
  PrintUsage(stderr);
  return kExitUsage;
}
