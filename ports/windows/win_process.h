// Crashing on purpose (fault-injection tests) and running a child process, on Windows.

#ifndef EDICT_PORTS_WINDOWS_WIN_PROCESS_H_
#define EDICT_PORTS_WINDOWS_WIN_PROCESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace edict::ports {

// Exit code of a process ended by TerminateSelf.
inline constexpr unsigned kTerminateSelfExitCode = 0xDEAD;

// TerminateProcess on the calling process: no destructors, no atexit handlers, no buffered
// output, like a power cut or a kill from Task Manager (the Windows counterpart of KillSelf).
[[noreturn]] void TerminateSelf();

// Runs `argv` (argv[0] a path to an executable; arguments quoted for CommandLineToArgvW), no
// console window, and waits at most `timeout` (then terminates it: DeadlineExceeded).
// Returns the exit code.
absl::StatusOr<unsigned> RunProcess(const std::vector<std::string>& argv,
                                    absl::Duration timeout = absl::Seconds(60));

// `arg` quoted so that CommandLineToArgvW and the CRT parse it back unchanged (as is when it
// needs no quotes). For command lines: RunProcess, a service's binary path.
std::string QuoteWindowsArgument(const std::string& arg);

// This executable's path.
std::string CurrentExecutablePath();

}  // namespace edict::ports

#endif  // EDICT_PORTS_WINDOWS_WIN_PROCESS_H_
