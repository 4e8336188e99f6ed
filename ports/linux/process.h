// Running helper commands (dconf update) and crashing on purpose (fault-injection tests).

#ifndef EDICT_PORTS_LINUX_PROCESS_H_
#define EDICT_PORTS_LINUX_PROCESS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace edict::ports {

// Runs argv[0] (searched in PATH) with the given arguments, no shell, stdin from /dev/null,
// waits at most `timeout` (then kills it). OK on exit status 0; otherwise Internal (or
// NotFound if the program does not exist, DeadlineExceeded on timeout) with the exit status
// and the first 1 KiB of its standard error in the message.
absl::Status RunCommand(const std::vector<std::string>& argv,
                        absl::Duration timeout = absl::Seconds(60));

// Kills the calling process with SIGKILL: no destructors, no buffered output, like a power
// cut or the OOM killer. For ScriptedFaultInjector::SetCrashAction in crash tests.
[[noreturn]] void KillSelf();

}  // namespace edict::ports

#endif  // EDICT_PORTS_LINUX_PROCESS_H_
