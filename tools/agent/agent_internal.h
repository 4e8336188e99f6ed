// Helpers the agent's files share (agent.cc: the spool and the daemon; agent_status.cc:
// `status`). Not part of the agent's interface.
#ifndef EDICT_TOOLS_AGENT_AGENT_INTERNAL_H_
#define EDICT_TOOLS_AGENT_AGENT_INTERNAL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/agent/config.h"

namespace edict::agent::internal {

// The spool's candidate files (hidden and temporary names left out), sorted, at most `cap`.
std::vector<std::string> ListSpool(const std::string& dir, size_t cap);

// Saved pull status blobs in a state directory ("pull-" + 16 hex digits), sorted.
std::vector<std::string> ListSourceBlobs(const std::string& state_dir);

// Why the configured pinned trust document cannot be used (`read` failed: a missing or
// unreadable file), as a status problem.
std::string PinnedTrustProblem(const AgentConfig& config, const absl::Status& read);

}  // namespace edict::agent::internal

#endif  // EDICT_TOOLS_AGENT_AGENT_INTERNAL_H_
