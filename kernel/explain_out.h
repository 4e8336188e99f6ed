// Explain's output: a bounded appender into a caller buffer, and the condition wording
// shared by explain.cc and explain_terms.cc. Internal to the kernel.
#ifndef EDICT_KERNEL_EXPLAIN_OUT_H_
#define EDICT_KERNEL_EXPLAIN_OUT_H_

#include <cstring>

#include "kernel/query.h"

namespace edict {
namespace internal {

// A bounded appender with snprintf semantics: counts every byte it is given, stores
// what fits while keeping room for the terminating NUL.
class Out {
 public:
  explicit Out(absl::Span<char> buf) : buf_(buf.data()), cap_(buf.size()) {}

  Out& operator<<(std::string_view s) {
    // An empty view may have a null data(): memcpy must not see it (fuzz finding F5).
    if (s.empty()) return *this;
    if (len_ + 1 < cap_) {
      const size_t room = cap_ - 1 - len_;
      std::memcpy(buf_ + len_, s.data(), s.size() < room ? s.size() : room);
    }
    len_ += s.size();
    return *this;
  }
  Out& operator<<(const char* s) { return *this << std::string_view(s); }
  Out& operator<<(char c) { return *this << std::string_view(&c, 1); }
  Out& Int(int64_t v) {
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
      tmp[sizeof(tmp) - 1 - n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (v < 0) tmp[sizeof(tmp) - 1 - n++] = '-';
    return *this << std::string_view(tmp + sizeof(tmp) - n, n);
  }
  Out& Uint(uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
      tmp[sizeof(tmp) - 1 - n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    return *this << std::string_view(tmp + sizeof(tmp) - n, n);
  }
  size_t Finish() {
    if (cap_ != 0) buf_[len_ < cap_ ? len_ : cap_ - 1] = '\0';
    return len_;
  }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
};

// "identity managed, domain_joined yes, groups finance or hr" or "everyone": the terms of
// compiled condition `c`, named by the attribute table. `w` (admin rules; may be null) gives
// groups, regions and attribute terms; `region` a built-in rule's one region.
void PutCondition(Out& o, const CatalogSet& set, const Cand& c, const fb::Condition* w,
                  std::string_view region);

// If `ctx` fails the condition of payload rule `index` of `kind` (`w` its condition), writes
// "condition failed: <attribute> is <value>, rule needs <term>" and returns true. Every term
// is asked of the compiled matcher (FirstFailedTerm, FirstFailedAttribute).
bool PutIfConditionFails(Out& o, const State& im, int kind, uint32_t index, const fb::Condition* w,
                         const Context& ctx);
// The same for a built-in rule's condition.
bool PutIfConditionFails(Out& o, const CatalogSet& set, const ConditionSpec& w, const Context& ctx);

}  // namespace internal
}  // namespace edict

#endif  // EDICT_KERNEL_EXPLAIN_OUT_H_
