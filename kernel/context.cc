// Built-in attribute values -> the fixed fields of a query Context.
#include <cstdint>

#include "kernel/kernel.h"

namespace edict {

bool SetBuiltinAttribute(BuiltinTerm term, const AttributeValue& v, Context* ctx) {
  const int64_t n = v.number;
  auto tri = [&](TriState* field) {
    if (n != 0 && n != 1) return false;
    *field = n == 1 ? TriState::kYes : TriState::kNo;
    return true;
  };
  switch (term) {
    case BuiltinTerm::kIdentity:
      if (n != 0 && n != 1) return false;
      ctx->identity = n == 0 ? Identity::kManaged : Identity::kUnmanaged;
      return true;
    case BuiltinTerm::kDomainJoined:
      return tri(&ctx->domain_joined);
    case BuiltinTerm::kDeviceManaged:
      return tri(&ctx->device_managed);
    case BuiltinTerm::kAccountCreation:
      if (n != 0 && n != 1) return false;
      ctx->account_creation = n == 1;
      return true;
    case BuiltinTerm::kPlan:  // Plan and Role values are the bits of the row's values
      if (n < 0 || n > 2) return false;
      ctx->plan = static_cast<Plan>(1 << n);
      return true;
    case BuiltinTerm::kRole:
      if (n < 0 || n > 3) return false;
      ctx->role = static_cast<Role>(1 << n);
      return true;
    case BuiltinTerm::kOsGeneration:
      if (n < 1 || n > INT32_MAX) return false;
      ctx->os_generation = static_cast<int32_t>(n);
      return true;
    case BuiltinTerm::kDeviceState:
      if (n < 0 || n > (kDeviceTampered | kDeviceNotGenuine)) return false;
      ctx->device_state = static_cast<uint32_t>(n);
      return true;
    case BuiltinTerm::kGroups:
      ctx->groups = v.strings;
      return true;
    case BuiltinTerm::kRegion:
      if (v.strings.size() > 1) return false;
      ctx->region = v.strings.empty() ? std::string_view() : v.strings[0];
      return true;
    case BuiltinTerm::kDeviceStateNot:
    case BuiltinTerm::kNone:
      break;
  }
  return false;
}

}  // namespace edict
