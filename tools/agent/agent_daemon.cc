// The daemon: Agent::RunLoop over the platform's spool events (per-file readiness, pull
// source schedules, native store retries, catalogue polls) and configuration reloads.
// Agent::Run, which sets up the platform's watcher, is in agent_linux.cc / agent_windows.cc.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tools/agent/agent.h"
#include "tools/agent/agent_internal.h"
#include "tools/agent/platform.h"
#ifdef EDICT_AGENT_PULL
#include "transport/pull/errors.h"
#include "transport/pull/source.h"
#endif

namespace edict::agent {
namespace {

using internal::Ignored;
using internal::ListSpool;
using platform::FileStat;
using platform::JoinPath;
using platform::StatFile;

// What triggers a configuration reload, for the audit messages.
#ifdef _WIN32
constexpr char kReloadWhat[] = "reload";
#else
constexpr char kReloadWhat[] = "SIGHUP";
#endif

}  // namespace

// ---- Daemon ---------------------------------------------------------------------------------

bool Agent::Reload(absl::Status* fatal) {
  auto reloaded =
      config_.path.empty() ? absl::StatusOr<AgentConfig>(config_) : LoadConfig(config_.path);
  if (!reloaded.ok()) {
    Audit(ports::AuditKind::kError, "CONFIG",
          absl::StrCat(kReloadWhat, ": config not reloaded, keeping the running one: ",
                       reloaded.status().message()));
    return false;
  }
  if (reloaded->lock_file != config_.lock_file) {
    Audit(ports::AuditKind::kError, "CONFIG",
          absl::StrCat(kReloadWhat, ": lock_file changes take effect at the next start"));
    reloaded->lock_file = config_.lock_file;
  }
  const AgentConfig old = config_;
  if (absl::Status s = Wire(*reloaded); !s.ok()) {
    Audit(ports::AuditKind::kError, "CONFIG",
          absl::StrCat(kReloadWhat, ": new config unusable (", s.message(),
                       "); keeping the running one"));
    if (absl::Status back = Wire(old); !back.ok()) {
      *fatal = back;
      return true;
    }
  }
  (void)Start();
  return true;
}

absl::Status Agent::RunLoop(platform::SpoolWatcher& watcher) {
  if (absl::Status s = platform::MakeSpoolDir(config_.spool_dir); !s.ok()) return s;
  if (absl::Status s = watcher.Watch(config_.spool_dir); !s.ok()) return s;

  // Per-file readiness: a file is processed once it was closed after writing (or moved in,
  // or was there when we started) and its size and mtime stayed the same for the settle
  // window; files never closed become eligible after incomplete_grace_seconds unchanged.
  // Where the platform tells whether a file still has a writer (Windows share modes), a file
  // unchanged for the settle window without a writer counts as closed.
  struct Pending {
    FileStat stat;
    absl::Duration since;  // monotonic time the stat was first seen
    bool closed = false;
  };
  std::map<std::string, Pending> pending;
  auto note = [&](const std::string& name, bool closed) {
    if (Ignored(name)) return;
    FileStat st;
    if (!StatFile(JoinPath(config_.spool_dir, name), &st)) {
      pending.erase(name);
      return;
    }
    auto it = pending.find(name);
    const absl::Duration now = clock_->Monotonic();
    if (it == pending.end()) {
      pending[name] = {st, now, closed};
      return;
    }
    if (!(it->second.stat == st)) {
      it->second.stat = st;
      it->second.since = now;
      it->second.closed = closed;  // a write after the close: wait for the next close
    } else if (closed) {
      it->second.closed = true;
    }
  };
  auto rescan = [&]() {
    for (const std::string& n : ListSpool(config_.spool_dir, config_.spool_max_files)) {
      note(n, /*closed=*/!watcher.MayHaveWriter(JoinPath(config_.spool_dir, n)));
    }
  };
  rescan();

  const absl::Duration settle = absl::Milliseconds(config_.settle_ms);
  // How often a file without a close notification is checked for writers.
  const absl::Duration writer_check = std::max(settle, absl::Milliseconds(100));
  // A native store that could not be written is retried every retry_seconds.
  absl::Duration native_retry_at = absl::InfiniteDuration();
  auto schedule_native_retry = [&]() {
    if (activation_->native_error().ok()) {
      native_retry_at = absl::InfiniteDuration();
    } else if (native_retry_at == absl::InfiniteDuration()) {
      native_retry_at = clock_->Monotonic() + absl::Seconds(config_.retry_seconds);
    }
  };
  // Catalogue directories are looked at every catalog_poll_seconds.
  const absl::Duration catalog_poll = absl::Seconds(config_.catalog_poll_seconds);
  absl::Duration catalog_check_at = clock_->Monotonic() + catalog_poll;
  absl::Status result;
  for (;;) {
    if (clock_->Monotonic() >= catalog_check_at) {
      (void)CheckCatalogs();
      catalog_check_at = clock_->Monotonic() + catalog_poll;
    }
    schedule_native_retry();
    if (clock_->Monotonic() >= native_retry_at) {
      native_retry_at = absl::InfiniteDuration();
      (void)activation_->Rematerialise();  // audited either way
      continue;
    }
    // Pull sources that are due: poll (bounded by the fetch timeouts) and offer.
    for (size_t i = 0; i < sources_.size(); ++i) {
#ifdef EDICT_AGENT_PULL
      if (!sources_[i]->Due(clock_->Monotonic())) continue;
      bool ok = false;
      (void)PollOne(i, &ok);
#endif
    }
    // Which files are ready, and when the next one (or the next poll) might be.
    const absl::Duration now = clock_->Monotonic();
    absl::Duration next = absl::InfiniteDuration();
#ifdef EDICT_AGENT_PULL
    for (const auto& src : sources_) next = std::min(next, src->Wait(now));
#endif
    if (native_retry_at != absl::InfiniteDuration()) {
      next = std::min(next, native_retry_at - now);
    }
    next = std::min(next, std::max(absl::ZeroDuration(), catalog_check_at - now));
    std::vector<std::string> ready;
    for (auto it = pending.begin(); it != pending.end();) {
      const std::string path = JoinPath(config_.spool_dir, it->first);
      FileStat st;
      if (!StatFile(path, &st)) {
        it = pending.erase(it);
        continue;
      }
      if (!(st == it->second.stat)) {
        it->second.stat = st;
        it->second.since = now;
      }
      if (!it->second.closed && watcher.ChecksWriters()) {
        if (it->second.since + settle <= now && !watcher.MayHaveWriter(path)) {
          it->second.closed = true;
        } else {
          next = std::min(next, writer_check);
        }
      }
      const absl::Duration wait =
          it->second.closed ? settle : absl::Seconds(config_.incomplete_grace_seconds);
      absl::Duration at = it->second.since + wait;
      auto r = retry_after_.find(it->first);
      if (r != retry_after_.end()) at = std::max(at, r->second);
      if (at <= now) {
        ready.push_back(it->first);
      } else {
        next = std::min(next, at - now);
      }
      ++it;
    }
    if (!ready.empty()) {
      SpoolReport report;
      std::map<std::string, Fate> fates;
      ProcessNames(ready, &report, &fates);
      for (const auto& [name, fate] : fates) {
        if (fate == Fate::kDeferred) {
          // Young and malformed: offered again when it changes or once it is old enough.
          pending[name].closed = false;
          pending[name].since = clock_->Monotonic();
        } else if (fate != Fate::kRetry) {
          pending.erase(name);
        }
      }
      continue;
    }

    absl::StatusOr<platform::SpoolWatcher::Wake> wake = watcher.Wait(next);
    if (!wake.ok()) {
      result = wake.status();
      break;
    }
    if (wake->stop) break;
    if (wake->reload) {
      absl::Status fatal;
      if (!Reload(&fatal)) continue;
      if (!fatal.ok()) {
        result = fatal;
        break;
      }
      pending.clear();
      retry_after_.clear();
      if (absl::Status s = watcher.Watch(config_.spool_dir); !s.ok()) {
        result = s;
        break;
      }
      rescan();
      continue;
    }
    if (wake->rescan) rescan();
    for (const platform::SpoolWatcher::Change& c : wake->changes) {
      if (c.removed) {
        pending.erase(c.name);
      } else {
        note(c.name, c.closed);
      }
    }
  }
  Audit(ports::AuditKind::kStop, "OK", "edict-agent stopping");
  return result;
}

}  // namespace edict::agent
