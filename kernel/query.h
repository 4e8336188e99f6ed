// Query helpers shared by the hot path (query.cc) and explain (explain.cc).
#ifndef EDICT_KERNEL_QUERY_H_
#define EDICT_KERNEL_QUERY_H_

#include "kernel/internal.h"

namespace edict {
namespace internal {

// The bucket of (slot, group), or null.
const GroupEntry* FindBucket(const State& im, uint32_t slot, uint64_t group_hash,
                             std::string_view g);

// Key of the first matching candidate of `slot` in candidate order, if it is below
// `limit`; otherwise `limit`. Reads the no-group bucket and the bucket of every context
// group, stopping each scan as soon as the next key cannot beat the best so far.
uint64_t BestKey(const State& im, uint32_t slot, const Context& ctx, const CtxBits& x,
                 uint64_t limit);

// Another member of `setting`'s atomic group with a matching mandatory rule, or -1.
int AtomicGroupDecider(const State& im, int setting, const Context& ctx, const CtxBits& x);

// kNoteChoice* bits for every condition a user choice fails (0: honoured).
uint16_t ChoiceProblems(const SettingSpec& spec, const UserChoice& u, const Context& ctx);

Value RuleValue(const State& im, const SettingSpec& spec, uint32_t index);
Value DefaultValue(const SettingSpec& spec);
bool Enabled(const Value& v);
// The first of built-in `rules` (a cell's or a schedule's, of the snapshot's set) whose
// condition holds for `ctx` (x = CompileContext(ctx)), or -1: the conditions compiled at
// activation (State::builtin_cands), the same matcher as admin rules, plus the one region.
int FirstBuiltin(const State& im, Table<BuiltinDataUse> rules, const Context& ctx,
                 const CtxBits& x);
int FirstBuiltin(const State& im, Table<BuiltinSchedule> rules, const Context& ctx,
                 const CtxBits& x);
bool CellFixed(Table<BuiltinDataUse> rules);

}  // namespace internal
}  // namespace edict

#endif  // EDICT_KERNEL_QUERY_H_
