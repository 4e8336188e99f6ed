// Fault injection for every durable I/O step the ports perform.
//
// Each implementation (Linux, later Windows) consults a FaultInjector immediately before every
// open, write, fsync, close, rename, link, unlink, directory sync, mkdir and timestamp change it
// performs on durable storage. The injector may let the step proceed, make it fail with an
// error code as the OS would (the implementation then maps it exactly like a real error), or
// end the process there (crash tests run the store in a child process and kill it at step k).
// This is SQLite's discipline: a fault point at every write, rename and sync.

#ifndef EDICT_PORTS_FAULT_INJECTOR_H_
#define EDICT_PORTS_FAULT_INJECTOR_H_

#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace edict::ports {

// One kind of durable I/O step.
enum class IoOp {
  kOpen,      // create/truncate a file for writing
  kWrite,     // one write of a contiguous piece
  kFsync,     // flush a file's data and metadata
  kClose,     // close a written file
  kRename,    // atomic replace of a directory entry
  kLink,      // hard link (keeps the previous generation)
  kUnlink,    // remove a directory entry
  kFsyncDir,  // flush a directory (makes renames/unlinks durable)
  kMkdir,     // create a directory
  kTouch,     // set a timestamp
};

// Stable lower-case name of `op` ("write", "fsync_dir", ...).
absl::string_view IoOpName(IoOp op);

// The step about to happen: what, and on which path.
struct IoPoint {
  IoOp op;
  absl::string_view path;
};

// Hook consulted before every durable I/O step. Implementations must be thread-safe when the
// store using them is used from several threads.
class FaultInjector {
 public:
  virtual ~FaultInjector() = default;

  // Returns std::nullopt to let the step run, or an error to report instead of running it.
  // May also end the process and never return.
  virtual std::optional<std::errc> Before(const IoPoint& point) = 0;
};

// A rule for ScriptedFaultInjector: which points it matches and what it does there.
struct FaultRule {
  enum class Action { kFail, kCrash };

  std::optional<IoOp> op;     // matches any op when empty
  std::string path_contains;  // matches any path when empty
  int skip = 0;               // let this many matching points pass before firing
  int times = 1;              // fire this many times; -1 fires for ever
  Action action = Action::kFail;
  std::errc error = std::errc::io_error;  // for kFail
};

// Counting, rule-driven injector for tests and for the agent's --inject-fault debug option.
// Records every point it sees ("<index> <op> <path>"), so a test can first count the steps of
// an operation and then crash or fail at each one. Thread-safe.
class ScriptedFaultInjector : public FaultInjector {
 public:
  // Exit status used by the default crash action (std::_Exit, no cleanup, no buffered output).
  static constexpr int kCrashExitCode = 86;

  ScriptedFaultInjector() = default;

  // Adds a rule; rules are checked in the order added and the first that fires wins.
  void AddRule(FaultRule rule);
  // Convenience: crash at the point with this zero-based index (counting all points).
  void CrashAtIndex(int index);
  // Convenience: fail the point with this zero-based index.
  void FailAtIndex(int index, std::errc error);
  // Replaces the crash action (default: std::_Exit(kCrashExitCode)). Linux tests use
  // ports/linux KillSelf() so the child dies by SIGKILL like on power loss or OOM kill.
  void SetCrashAction(std::function<void()> crash);

  std::optional<std::errc> Before(const IoPoint& point) override;

  // Every point seen so far, in order, formatted "<op> <path>".
  std::vector<std::string> Log() const;
  int PointsSeen() const;

 private:
  struct State {
    FaultRule rule;
    int seen = 0;              // matching points so far
    int fired = 0;             // times the rule fired
    std::optional<int> index;  // index-based rule
  };

  mutable absl::Mutex mu_;
  std::vector<State> rules_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  std::function<void()> crash_ ABSL_GUARDED_BY(mu_);
};

}  // namespace edict::ports

#endif  // EDICT_PORTS_FAULT_INJECTOR_H_
