#include "ports/fault_injector.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

namespace edict::ports {

absl::string_view IoOpName(IoOp op) {
  switch (op) {
    case IoOp::kOpen:
      return "open";
    case IoOp::kWrite:
      return "write";
    case IoOp::kFsync:
      return "fsync";
    case IoOp::kClose:
      return "close";
    case IoOp::kRename:
      return "rename";
    case IoOp::kLink:
      return "link";
    case IoOp::kUnlink:
      return "unlink";
    case IoOp::kFsyncDir:
      return "fsync_dir";
    case IoOp::kMkdir:
      return "mkdir";
    case IoOp::kTouch:
      return "touch";
  }
  return "unknown";
}

void ScriptedFaultInjector::AddRule(FaultRule rule) {
  absl::MutexLock lock(&mu_);
  State state;
  state.rule = std::move(rule);
  rules_.push_back(std::move(state));
}

void ScriptedFaultInjector::CrashAtIndex(int index) {
  FaultRule rule;
  rule.action = FaultRule::Action::kCrash;
  absl::MutexLock lock(&mu_);
  State state;
  state.rule = std::move(rule);
  state.index = index;
  rules_.push_back(std::move(state));
}

void ScriptedFaultInjector::FailAtIndex(int index, std::errc error) {
  FaultRule rule;
  rule.action = FaultRule::Action::kFail;
  rule.error = error;
  absl::MutexLock lock(&mu_);
  State state;
  state.rule = std::move(rule);
  state.index = index;
  rules_.push_back(std::move(state));
}

void ScriptedFaultInjector::SetCrashAction(std::function<void()> crash) {
  absl::MutexLock lock(&mu_);
  crash_ = std::move(crash);
}

std::optional<std::errc> ScriptedFaultInjector::Before(const IoPoint& point) {
  std::function<void()> crash;
  std::optional<std::errc> result;
  bool do_crash = false;
  {
    absl::MutexLock lock(&mu_);
    const int index = static_cast<int>(log_.size());
    log_.push_back(absl::StrCat(IoOpName(point.op), " ", point.path));
    for (State& state : rules_) {
      bool matches;
      if (state.index.has_value()) {
        matches = *state.index == index;
      } else {
        matches = (!state.rule.op.has_value() || *state.rule.op == point.op) &&
                  (state.rule.path_contains.empty() ||
                   absl::string_view(point.path).find(state.rule.path_contains) !=
                       absl::string_view::npos);
        if (matches && state.seen++ < state.rule.skip) matches = false;
        if (matches && state.rule.times >= 0 && state.fired >= state.rule.times) matches = false;
      }
      if (!matches) continue;
      ++state.fired;
      if (state.rule.action == FaultRule::Action::kCrash) {
        do_crash = true;
        crash = crash_;
      } else {
        result = state.rule.error;
      }
      break;
    }
  }
  if (do_crash) {
    if (crash) crash();
    std::_Exit(kCrashExitCode);
  }
  return result;
}

std::vector<std::string> ScriptedFaultInjector::Log() const {
  absl::MutexLock lock(&mu_);
  return log_;
}

int ScriptedFaultInjector::PointsSeen() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(log_.size());
}

}  // namespace edict::ports
