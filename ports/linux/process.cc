#include "ports/linux/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ports/io_status.h"

extern char** environ;

namespace edict::ports {

absl::Status RunCommand(const std::vector<std::string>& argv, absl::Duration timeout) {
  if (argv.empty()) return absl::InvalidArgumentError("empty command");
  const std::string shown = absl::StrJoin(argv, " ");
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return IoErrorStatus(errno, "pipe for", shown);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    return IoErrorStatus(rc, "run", shown);
  }

  std::string err;
  const absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{pipefd[0], POLLIN, 0};
    const int pr = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(pipefd[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (err.size() < 1024) err.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (err.size() > 1024) err.resize(1024);
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("\"", shown, "\" timed out after ", absl::FormatDuration(timeout)));
  }
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return absl::OkStatus();
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127 && err.empty()) {
    return absl::NotFoundError(absl::StrCat("\"", shown, "\": command not found"));
  }
  const std::string how = WIFEXITED(wstatus) ? absl::StrCat("exit status ", WEXITSTATUS(wstatus))
                                             : absl::StrCat("signal ", WTERMSIG(wstatus));
  return absl::InternalError(
      absl::StrCat("\"", shown, "\" failed (", how, ")", err.empty() ? "" : ": ", err));
}

void KillSelf() {
  ::kill(::getpid(), SIGKILL);
  std::_Exit(137);  // not reached
}

}  // namespace edict::ports
