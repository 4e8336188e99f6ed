// Where a FlatBuffer may start in memory.
#ifndef EDICT_POLICY_ALIGNED_H_
#define EDICT_POLICY_ALIGNED_H_

#include <cstddef>
#include <cstdint>

namespace edict {

// FlatBuffers reads scalars in place with plain loads, and our schemas hold 64-bit ones
// (serials, times), so a buffer must start on an 8-byte boundary. The FlatBuffers verifier
// checks alignment relative to the buffer start only: a misaligned start passes it and
// then every access is undefined behaviour (fuzz finding F1). Entry points that take a
// FlatBuffer check the start with this and refuse what fails.
inline constexpr size_t kFlatBufferAlignment = 8;

inline bool IsFlatBufferAligned(const void* data) {
  return reinterpret_cast<uintptr_t>(data) % kFlatBufferAlignment == 0;
}

}  // namespace edict

#endif  // EDICT_POLICY_ALIGNED_H_
