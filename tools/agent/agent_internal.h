// Helpers the agent's files share (agent.cc: wiring; agent_spool.cc: the spool;
// agent_sources.cc: pull sources; agent_daemon.cc: the daemon; agent_status.cc: `status`).
// Not part of the agent's interface.
#ifndef EDICT_TOOLS_AGENT_AGENT_INTERNAL_H_
#define EDICT_TOOLS_AGENT_AGENT_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/agent/config.h"
#include "transport/keys.h"

namespace edict::agent::internal {

// Names the spool never processes: hidden files and the usual temporary suffixes, so a
// writer can use "write to .name or name.tmp, then rename".
bool Ignored(const std::string& name);

// `s`'s bytes as the transport functions take them.
inline transport::Bytes AsBytes(const std::string& s) {
  return transport::Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// The spool's candidate files (hidden and temporary names left out), sorted, at most `cap`.
std::vector<std::string> ListSpool(const std::string& dir, size_t cap);

// Saved pull status blobs in a state directory ("pull-" + 16 hex digits), sorted.
std::vector<std::string> ListSourceBlobs(const std::string& state_dir);

// Why the configured pinned trust document cannot be used (`read` failed: a missing or
// unreadable file), as a status problem.
std::string PinnedTrustProblem(const AgentConfig& config, const absl::Status& read);

}  // namespace edict::agent::internal

#endif  // EDICT_TOOLS_AGENT_AGENT_INTERNAL_H_
