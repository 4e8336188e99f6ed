// Helpers over edict::fb::Condition shared by the catalogue generator, the compiler and
// the kernel, so that "specificity" means exactly one thing everywhere.
#ifndef EDICT_POLICY_CONDITION_H_
#define EDICT_POLICY_CONDITION_H_

#include "policy/edict_generated.h"

namespace edict {

// Number of constrained terms of a condition; a null condition (always true) has 0.
// Within one level the matching rule with the highest specificity wins.
inline int Specificity(const fb::Condition* c) {
  if (c == nullptr) return 0;
  int n = 0;
  n += c->identity() != fb::IdentityKind_Any;
  n += c->domain_joined() != fb::Tri_Any;
  n += c->device_managed() != fb::Tri_Any;
  n += c->plans() != 0;
  n += c->os_min() != 0 || c->os_max() != 0;
  n += c->state_all() != 0;
  n += c->state_none() != 0;
  n += c->groups() != nullptr && c->groups()->size() != 0;
  n += c->roles() != 0;
  n += c->account_creation() != fb::Tri_Any;
  n += c->regions() != nullptr && c->regions()->size() != 0;
  if (c->attributes() != nullptr) n += static_cast<int>(c->attributes()->size());
  return n;
}

}  // namespace edict

#endif  // EDICT_POLICY_CONDITION_H_
