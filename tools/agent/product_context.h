// Product attributes of the device context: the `context.<product>.<name>` configuration
// lines (AgentConfig::product_context) resolved against one catalogue set. Attribute handles
// are per set, so the agent resolves them again for every set it loads (start, configuration
// reload, catalogue change) and `status` does the same with the set it loads. Internal to
// tools/agent.
#ifndef EDICT_TOOLS_AGENT_PRODUCT_CONTEXT_H_
#define EDICT_TOOLS_AGENT_PRODUCT_CONTEXT_H_

#include <memory>
#include <string>
#include <vector>

#include "policy/catalog/catalog_set.h"
#include "tools/agent/config.h"
#include "transport/activation.h"

namespace edict::agent {

struct ProductContext {
  // The values that resolved, for transport::DeviceContext::attributes; never null. It
  // keeps `catalogs` alive (its handles are that set's).
  std::shared_ptr<const transport::DeviceAttributes> attributes;
  // One per line left unknown: "FILE:LINE: context.KEY: reason; ...".
  std::vector<std::string> errors;
};

// Resolves every entry of config.product_context against `catalogs` (null: the built-in
// set) with cli::OwnedContext::SetFromText. An entry naming an attribute no catalogue of the
// set declares, or with a value the attribute does not accept, is left unknown and reported
// in `errors` (never an error: a catalogue may arrive later).
ProductContext ResolveProductContext(const AgentConfig& config,
                                     std::shared_ptr<const CatalogSet> catalogs);

}  // namespace edict::agent

#endif  // EDICT_TOOLS_AGENT_PRODUCT_CONTEXT_H_
