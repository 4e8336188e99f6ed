// edict-agent as a Windows service: `service install | uninstall | run`. The installed
// binary path is `"<exe>" [--config "<file>"] service run [--name NAME]`, so the process the
// SCM starts knows it is the service by its command line and connects to the dispatcher.
#ifndef EDICT_TOOLS_AGENT_SERVICE_WINDOWS_H_
#define EDICT_TOOLS_AGENT_SERVICE_WINDOWS_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/agent/config.h"

namespace edict::agent {

inline constexpr char kServiceName[] = "edict-agent";

inline constexpr char kServiceHelp[] =
    "usage: edict-agent [--config FILE] service install [--name NAME]\n"
    "       edict-agent service uninstall [--name NAME]\n"
    "       edict-agent [--config FILE] service run [--name NAME]\n"
    "\n"
    "install registers the Windows service NAME (default edict-agent; needs an administrator):\n"
    "own process, LocalSystem, started automatically at boot, its command line\n"
    "\"<this exe>\" [--config \"<FILE made absolute>\"] service run [--name NAME]. uninstall\n"
    "stops it (waiting up to 30 s) and deletes it. run is what the service control manager\n"
    "starts: the daemon of `edict-agent run` under the service control dispatcher (stop and\n"
    "shutdown end it cleanly, paramchange re-reads the configuration); it fails when started\n"
    "from a console. Exit status: 0 ok; 1 failure; 2 usage error.\n";

// The command line the service is installed with.
std::string ServiceCommandLine(const std::string& exe, const std::string& config_path,
                               const std::string& name);

// CreateServiceW: own process, automatic start, LocalSystem; `config_path` ("" for the
// default) is made absolute. AlreadyExists if NAME is installed; PermissionDenied without
// the right to create services.
absl::Status InstallService(const std::string& name, const std::string& exe,
                            const std::string& config_path);
// Stops the service if it runs (at most 30 s) and deletes it. NotFound if not installed.
absl::Status UninstallService(const std::string& name);

// `service ...` with the arguments after it. `config_path` is the --config given ("" for
// none); `load_config` reads the configuration (for run).
int ServiceCommand(const std::vector<std::string_view>& args, const std::string& config_path,
                   const std::function<absl::StatusOr<AgentConfig>()>& load_config);

}  // namespace edict::agent

#endif  // EDICT_TOOLS_AGENT_SERVICE_WINDOWS_H_
