// Differential test: the kernel against the reference evaluator (tests/reference/) on
// seeded random policies, contexts and user choices.
//
// For each random policy both activate (they must agree on success, on the error code and
// on the skipped rules), then both answer many random queries, field by field. A mismatch
// is shrunk (rules dropped one at a time, condition terms and context attributes cleared
// while it persists) and printed as a readable reproducer.
//
// ProductCataloguesAgree does the same against a catalogue set with the sample product
// catalogue (examples/catalogs/acmevpn.json): its settings, data classes, purposes and
// schedules, and conditions with attribute terms on its context attributes.
//
// Environment: EDICT_DIFF_ITERATIONS = number of policies (default 2500),
//              EDICT_DIFF_SEED = first seed (default 1),
//              EDICT_DIFF_HOSTILE = 1 adds out-of-range enum values (undefined by the
//              contract; mismatches there are reported as ambiguities, not bugs).
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernel/kernel.h"
#include "policy/catalog.h"
#include "policy/catalog/catalog_set.h"
#if EDICT_DIFF_PRODUCTS
#include "policy/catalog/catalog_source.h"
#endif
#include "tests/reference/random_policy.h"
#include "tests/reference/reference.h"

namespace edict {
namespace {

using random_policy::CondSpec;
using random_policy::ContextSample;
using random_policy::PolicySpec;
using random_policy::Rng;
using reference::ReferencePolicy;

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v == nullptr || *v == '\0' ? fallback : std::strtoll(v, nullptr, 10);
}

// ---- The kernel side ------------------------------------------------------------------

struct KernelPolicy {
  std::vector<uint8_t> bytes;
  std::unique_ptr<std::max_align_t[]> arena;
  absl::Status status;
  const Snapshot* snapshot = nullptr;
};

std::unique_ptr<KernelPolicy> ActivateKernel(std::vector<uint8_t> bytes, const CatalogSet& set) {
  auto k = std::make_unique<KernelPolicy>();
  k->bytes = std::move(bytes);
  const absl::StatusOr<size_t> size = Snapshot::ArenaSize(k->bytes, set);
  if (!size.ok()) {
    k->status = size.status();
    return k;
  }
  const size_t words = (*size + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  k->arena = std::make_unique<std::max_align_t[]>(words + 1);
  const absl::StatusOr<const Snapshot*> snap = Snapshot::Activate(
      k->bytes, absl::MakeSpan(reinterpret_cast<uint8_t*>(k->arena.get()), *size), set);
  if (!snap.ok()) {
    k->status = snap.status();
    return k;
  }
  k->snapshot = *snap;
  return k;
}

// ---- Queries --------------------------------------------------------------------------

enum class QueryKind { kResolve, kMayUse, kSchedule };

struct Query {
  QueryKind kind = QueryKind::kResolve;
  int a = 0;  // setting, data class or schedule
  int b = 0;  // purpose
  ContextSample ctx;
  std::optional<UserChoice> choice;
};

Query RandomQuery(Rng& rng, const PolicySpec& spec, bool hostile = false,
                  const CatalogSet& set = CatalogSet::Builtin()) {
  Query q;
  const int r = std::uniform_int_distribution<int>(0, 99)(rng);
  if (r < 60) {
    q.kind = QueryKind::kResolve;
    q.a = random_policy::QuerySettingId(rng, spec, set);
    q.choice = random_policy::RandomChoice(rng, q.a, set);
  } else if (r < 88) {
    q.kind = QueryKind::kMayUse;
    std::tie(q.a, q.b) = random_policy::QueryDataUseCell(rng, spec, set);
  } else {
    q.kind = QueryKind::kSchedule;
    q.a = random_policy::RandomScheduleId(rng, set);
  }
  q.ctx = random_policy::RandomContext(rng, hostile, set);
  return q;
}

std::string DescribeQuery(const Query& q, const CatalogSet& set = CatalogSet::Builtin()) {
  std::string out;
  switch (q.kind) {
    case QueryKind::kResolve:
      out = "Resolve(setting " + std::to_string(q.a);
      if (q.a >= 0 && static_cast<size_t>(q.a) < set.settings().size()) {
        out += " \"" + std::string(set.settings()[q.a].id) + "\"";
      }
      out += ", choice " + reference::ChoiceLabel(q.choice ? &*q.choice : nullptr, q.a) + ")";
      break;
    case QueryKind::kMayUse:
      out = "MayUse(class " + std::to_string(q.a) + ", purpose " + std::to_string(q.b);
      if (q.a >= 0 && static_cast<size_t>(q.a) < set.data_classes().size() && q.b >= 0 &&
          static_cast<size_t>(q.b) < set.purposes().size()) {
        out += " \"" + std::string(set.data_classes()[q.a].id) + "\" x \"" +
               std::string(set.purposes()[q.b].id) + "\"";
      }
      out += ")";
      break;
    case QueryKind::kSchedule:
      out = "Schedule(" + std::to_string(q.a);
      if (q.a >= 0 && static_cast<size_t>(q.a) < set.schedules().size()) {
        out += " \"" + std::string(set.schedules()[q.a].id) + "\"";
      }
      out += ")";
      break;
  }
  return out + "\n  context " + reference::ContextLabel(q.ctx.context(), &set);
}

// Compares one query; returns "" when both agree, else "<signature>\n<details>".
std::string CompareQuery(const ReferencePolicy& ref, const Snapshot& kernel, const Query& q) {
  const Context& ctx = q.ctx.context();
  std::vector<std::string> diffs;
  auto field = [&](const char* name, auto a, auto b) {
    if (a != b) diffs.push_back(name);
  };
  std::string ref_text, kernel_text, kind;
  switch (q.kind) {
    case QueryKind::kResolve: {
      const UserChoice* choice = q.choice ? &*q.choice : nullptr;
      const Resolution a = ref.Resolve(q.a, ctx, choice);
      const Resolution b = kernel.Resolve(q.a, ctx, choice);
      field("setting", a.setting, b.setting);
      field("value", a.value, b.value);
      field("source", a.source, b.source);
      field("locked", a.locked, b.locked);
      field("rule", a.rule, b.rule);
      field("serial", a.serial, b.serial);
      field("obligations", a.obligations, b.obligations);
      field("notes", a.notes, b.notes);
      ref_text = reference::ResolutionLabel(a);
      kernel_text = reference::ResolutionLabel(b);
      kind = "Resolve";
      break;
    }
    case QueryKind::kMayUse: {
      const DataUseDecision a = ref.MayUse(q.a, q.b, ctx);
      const DataUseDecision b = kernel.MayUse(q.a, q.b, ctx);
      field("data_class", a.data_class, b.data_class);
      field("purpose", a.purpose, b.purpose);
      field("allowed", a.allowed, b.allowed);
      field("obligations", a.obligations, b.obligations);
      field("source", a.source, b.source);
      field("rule", a.rule, b.rule);
      field("builtin", a.builtin, b.builtin);
      field("serial", a.serial, b.serial);
      field("unknown", a.unknown, b.unknown);
      ref_text = reference::DecisionLabel(a);
      kernel_text = reference::DecisionLabel(b);
      kind = "MayUse";
      break;
    }
    case QueryKind::kSchedule: {
      const ScheduleAnswer a = ref.Schedule(q.a, ctx);
      const ScheduleAnswer b = kernel.Schedule(q.a, ctx);
      field("schedule", a.schedule, b.schedule);
      field("interval", a.interval_seconds, b.interval_seconds);
      field("source", a.source, b.source);
      field("rule", a.rule, b.rule);
      field("builtin", a.builtin, b.builtin);
      field("serial", a.serial, b.serial);
      field("unknown", a.unknown, b.unknown);
      ref_text = reference::ScheduleLabel(a);
      kernel_text = reference::ScheduleLabel(b);
      kind = "Schedule";
      break;
    }
  }
  if (diffs.empty()) return "";
  std::string signature = kind + " differs in";
  for (const std::string& d : diffs) signature += " " + d;
  return signature + "\n  reference " + ref_text + "\n  kernel    " + kernel_text;
}

// Compares the activation of one payload; "" when both agree.
std::string CompareActivation(const ReferencePolicy& ref, const KernelPolicy& kernel) {
  if (ref.status().code() != kernel.status.code()) {
    return "activation status differs\n  reference " + ref.status().ToString() + "\n  kernel    " +
           kernel.status.ToString();
  }
  if (!ref.ok()) return "";
  const Snapshot& snap = *kernel.snapshot;
  if (ref.skipped().size() != snap.skipped_count()) {
    std::string out =
        "skipped count differs\n  reference " + std::to_string(ref.skipped().size()) + ":";
    for (const reference::Skip& s : ref.skipped()) {
      out += " " + std::string(reference::RuleKindLabel(s.kind)) + "[" + std::to_string(s.index) +
             "] " + std::string(reference::SkipReasonLabel(s.reason)) + ";";
    }
    out += "\n  kernel    " + std::to_string(snap.skipped_count()) + ":";
    for (const SkippedRule& s : snap.skipped()) {
      out += " " + std::string(reference::RuleKindLabel(s.kind)) + "[" + std::to_string(s.index) +
             "] " + std::string(reference::SkipReasonLabel(s.reason)) + ";";
    }
    return out;
  }
  if (snap.serial() != ref.serial()) return "serial differs";
  if (snap.skipped().size() != std::min(ref.skipped().size(), Snapshot::kMaxReportedSkips)) {
    return "reported skips: " + std::to_string(snap.skipped().size()) + " for " +
           std::to_string(ref.skipped().size()) + " skipped rules";
  }
  if (ref.skipped().size() > Snapshot::kMaxReportedSkips) {
    // Which 16 are reported is not specified: each must be one the reference skipped.
    for (const SkippedRule& s : snap.skipped()) {
      bool found = false;
      for (const reference::Skip& r : ref.skipped()) {
        found = found || (r.kind == s.kind && r.index == s.index && r.reason == s.reason);
      }
      if (!found) {
        return "kernel reports a skip the reference does not have: " +
               std::string(reference::RuleKindLabel(s.kind)) + "[" + std::to_string(s.index) +
               "] " + std::string(reference::SkipReasonLabel(s.reason));
      }
    }
  }
  // The reported skips: same rules with the same reasons (order not specified).
  if (ref.skipped().size() <= Snapshot::kMaxReportedSkips) {
    auto key = [](RuleKind k, uint32_t i, SkipReason r) {
      return std::to_string(static_cast<int>(k)) + ":" + std::to_string(i) + ":" +
             std::string(reference::SkipReasonLabel(r));
    };
    std::vector<std::string> a, b;
    for (const reference::Skip& s : ref.skipped()) a.push_back(key(s.kind, s.index, s.reason));
    for (const SkippedRule& s : snap.skipped()) b.push_back(key(s.kind, s.index, s.reason));
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b) {
      std::string out = "skipped rules differ\n  reference";
      for (const std::string& s : a) out += " " + s;
      out += "\n  kernel   ";
      for (const std::string& s : b) out += " " + s;
      return out;
    }
    for (const SkippedRule& s : snap.skipped()) {
      for (const reference::Skip& r : ref.skipped()) {
        if (r.kind == s.kind && r.index == s.index && s.kind != RuleKind::kDataUse &&
            r.name != s.name) {
          return "skipped rule name differs: reference \"" + r.name + "\", kernel \"" +
                 std::string(s.name) + "\"";
        }
      }
    }
  }
  return "";
}

// The mismatch of `spec` (with `query`, or activation only without one); "" if none.
std::string Mismatch(const PolicySpec& spec, const Query* query, const CatalogSet& set) {
  std::vector<uint8_t> bytes = random_policy::Build(spec);
  const ReferencePolicy ref = ReferencePolicy::Activate(bytes, set);
  const std::unique_ptr<KernelPolicy> kernel = ActivateKernel(std::move(bytes), set);
  const std::string activation = CompareActivation(ref, *kernel);
  if (query == nullptr || !activation.empty()) return activation;
  if (!ref.ok()) return "";
  return CompareQuery(ref, *kernel->snapshot, *query);
}

// The kind of a mismatch: its first line, without details after a colon (so that a
// shrunk case may report a different rule index).
std::string Signature(const std::string& mismatch) {
  const std::string line = mismatch.substr(0, mismatch.find('\n'));
  return line.substr(0, line.find(':'));
}

// ---- Shrinking ------------------------------------------------------------------------

template <typename T>
bool DropEach(std::vector<T>* rules, const std::function<bool()>& fails) {
  bool progress = false;
  for (size_t i = rules->size(); i-- > 0;) {
    T saved = (*rules)[i];
    rules->erase(rules->begin() + i);
    if (fails()) {
      progress = true;
    } else {
      rules->insert(rules->begin() + i, std::move(saved));
    }
  }
  return progress;
}

// Tries `mutate` on a copy of *x; keeps it if the case still fails.
template <typename T>
bool TryKeep(T* x, const std::function<void(T*)>& mutate, const std::function<bool()>& fails) {
  T saved = *x;
  mutate(x);
  if (fails()) return true;
  *x = std::move(saved);
  return false;
}

bool SimplifyCondition(std::optional<CondSpec>* when, const std::function<bool()>& fails) {
  if (!*when) return false;
  bool progress = false;
  using C = std::optional<CondSpec>;
  const std::vector<std::function<void(C*)>> steps = {
      [](C* c) { c->reset(); },
      [](C* c) { (*c)->identity = 0; },
      [](C* c) { (*c)->domain_joined = 0; },
      [](C* c) { (*c)->device_managed = 0; },
      [](C* c) { (*c)->plans = 0; },
      [](C* c) { (*c)->os_min = 0; },
      [](C* c) { (*c)->os_max = 0; },
      [](C* c) { (*c)->state_all = 0; },
      [](C* c) { (*c)->state_none = 0; },
      [](C* c) { (*c)->groups.reset(); },
      [](C* c) { (*c)->roles = 0; },
      [](C* c) { (*c)->account_creation = 0; },
      [](C* c) { (*c)->regions.reset(); },
      [](C* c) { (*c)->attributes.reset(); },
  };
  for (const auto& step : steps) {
    if (!*when) break;
    const std::string before = random_policy::DescribeCondition(*when);
    C copy = *when;
    step(&copy);
    if (random_policy::DescribeCondition(copy) == before) continue;
    progress = TryKeep<C>(when, step, fails) || progress;
  }
  // Attribute terms one at a time.
  if (*when && (*when)->attributes) progress = DropEach(&*(*when)->attributes, fails) || progress;
  return progress;
}

void Shrink(PolicySpec* spec, Query* query, const CatalogSet& set) {
  const std::string signature = Signature(Mismatch(*spec, query, set));
  const std::function<bool()> fails = [&] {
    const std::string m = Mismatch(*spec, query, set);
    return !m.empty() && Signature(m) == signature;
  };
  for (int round = 0; round < 8; ++round) {
    bool progress = false;
    progress = DropEach(&spec->settings, fails) || progress;
    progress = DropEach(&spec->data_use, fails) || progress;
    progress = DropEach(&spec->schedules, fails) || progress;
    for (auto& r : spec->settings) {
      progress = SimplifyCondition(&r.when, fails) || progress;
      if (r.note)
        progress = TryKeep<std::optional<std::string>>(
                       &r.note, [](auto* n) { n->reset(); }, fails) ||
                   progress;
      if (r.critical)
        progress = TryKeep<bool>(
                       &r.critical, [](bool* c) { *c = false; }, fails) ||
                   progress;
    }
    for (auto& r : spec->data_use) {
      progress = SimplifyCondition(&r.when, fails) || progress;
      if (r.note)
        progress = TryKeep<std::optional<std::string>>(
                       &r.note, [](auto* n) { n->reset(); }, fails) ||
                   progress;
      if (r.critical)
        progress = TryKeep<bool>(
                       &r.critical, [](bool* c) { *c = false; }, fails) ||
                   progress;
    }
    for (auto& r : spec->schedules) {
      progress = SimplifyCondition(&r.when, fails) || progress;
      if (r.note)
        progress = TryKeep<std::optional<std::string>>(
                       &r.note, [](auto* n) { n->reset(); }, fails) ||
                   progress;
      if (r.critical)
        progress = TryKeep<bool>(
                       &r.critical, [](bool* c) { *c = false; }, fails) ||
                   progress;
    }
    if (query != nullptr) {
      if (query->choice) {
        progress = TryKeep<std::optional<UserChoice>>(
                       &query->choice, [](auto* c) { c->reset(); }, fails) ||
                   progress;
      }
      Context& c = query->ctx.mutable_context();
      const std::vector<std::function<void(Context*)>> steps = {
          [](Context* x) { x->identity = Identity::kUnknown; },
          [](Context* x) { x->domain_joined = TriState::kUnknown; },
          [](Context* x) { x->device_managed = TriState::kUnknown; },
          [](Context* x) { x->plan = Plan::kUnknown; },
          [](Context* x) { x->os_generation = 0; },
          [](Context* x) { x->device_state = 0; },
          [](Context* x) { x->role = Role::kUnknown; },
          [](Context* x) { x->account_creation = false; },
          [](Context* x) { x->region = {}; },
      };
      for (const auto& step : steps) {
        Context copy = c;
        step(&copy);
        if (reference::ContextLabel(copy) == reference::ContextLabel(c)) continue;
        progress = TryKeep<Context>(&c, step, fails) || progress;
      }
      if (!c.groups.empty()) {
        ContextSample saved = query->ctx;
        query->ctx.set_groups({});
        if (fails()) {
          progress = true;
        } else {
          query->ctx = saved;
        }
      }
      for (size_t i = query->ctx.attribute_count(); i-- > 0;) {
        ContextSample saved = query->ctx;
        query->ctx.remove_attribute(i);
        if (fails()) {
          progress = true;
        } else {
          query->ctx = saved;
        }
      }
    }
    if (!progress) break;
  }
}

// ---- The runs -------------------------------------------------------------------------

struct Stats {
  int64_t policies = 0;
  int64_t activated = 0;
  int64_t comparisons = 0;
  int64_t mismatches = 0;
  std::map<std::string, int64_t> by_signature;
  std::map<std::string, int64_t> coverage;  // what the reference answered, by category
};

// Records which paths of the contract a query exercised (from the reference's answer).
void Cover(const ReferencePolicy& ref, const Query& q, const std::vector<uint8_t>& payload,
           Stats* stats) {
  const Context& ctx = q.ctx.context();
  auto add = [&](std::string key) { ++stats->coverage[std::move(key)]; };
  const CatalogSet& set = ref.catalogs();
  const bool products = !set.products().empty();
  switch (q.kind) {
    case QueryKind::kResolve: {
      const Resolution r = ref.Resolve(q.a, ctx, q.choice ? &*q.choice : nullptr);
      add("resolve source " + std::string(reference::SourceLabel(r.source)));
      if (products && set.ProductOfSetting(q.a) >= 0) {
        static constexpr const char* kTypes[] = {"bool",    "enum",     "flags",
                                                 "integer", "duration", "string"};
        add("product resolve " + std::string(kTypes[static_cast<int>(set.settings()[q.a].type)]) +
            " " + std::string(reference::SourceLabel(r.source)));
      }
      if (products && r.rule >= 0) {
        const fb::Condition* when = fb::GetPayload(payload.data())->settings()->Get(r.rule)->when();
        if (when != nullptr && when->attributes() != nullptr && when->attributes()->size() != 0) {
          add("resolve decided by a rule with attribute terms");
        }
      }
      if (products && r.setting >= 0) {
        // Each attribute term of the queried setting's rules, by type and outcome.
        const auto* rules = fb::GetPayload(payload.data())->settings();
        for (uint32_t i = 0; rules != nullptr && i < rules->size(); ++i) {
          const fb::Condition* when = rules->Get(i)->when();
          if (rules->Get(i)->setting()->string_view() != set.settings()[r.setting].id ||
              when == nullptr || when->attributes() == nullptr ||
              !reference::AttributeTermsValid(when, set)) {
            continue;
          }
          for (const fb::AttributeTerm* t : *when->attributes()) {
            const int h = set.FindAttribute(t->name()->string_view());
            if (h < 0) continue;
            bool given = false;
            for (const AttributeValue& v : ctx.attributes) given = given || v.attribute == h;
            add(std::string("attribute term ") +
                std::string(AttributeTypeName(set.attributes()[h].type)) +
                (!given                                       ? " (context: unknown)"
                 : reference::AttributeTermHolds(t, ctx, set) ? " holds"
                                                              : " fails"));
          }
        }
      }
      for (uint16_t bit = 1; bit <= kNoteAtomicGroup; bit <<= 1) {
        if (r.notes & bit) add("resolve note " + reference::NotesLabel(bit));
      }
      if (r.obligations != 0) add("resolve obligations");
      break;
    }
    case QueryKind::kMayUse: {
      const DataUseDecision d = ref.MayUse(q.a, q.b, ctx);
      if (products && q.a >= static_cast<int>(catalog::kDataClasses.size()) && !d.unknown) {
        add(std::string("product may_use ") + std::string(reference::SourceLabel(d.source)));
      }
      add(std::string("may_use ") +
          (d.unknown   ? "unknown"
           : d.allowed ? "allow"
                       : "deny") +
          " " + std::string(reference::SourceLabel(d.source)));
      if (!d.allowed && d.obligations != 0) add("may_use deny with never_collect");
      break;
    }
    case QueryKind::kSchedule: {
      const ScheduleAnswer a = ref.Schedule(q.a, ctx);
      if (products && q.a >= static_cast<int>(catalog::kSchedules.size()) && !a.unknown) {
        add(std::string("product schedule ") + std::string(reference::SourceLabel(a.source)));
      }
      add(std::string("schedule ") + (a.unknown ? "unknown" : "") +
          std::string(reference::SourceLabel(a.source)) + (a.interval_seconds == 0 ? " none" : ""));
      break;
    }
  }
}

void Report(const std::string& what, PolicySpec spec, std::optional<Query> query, uint64_t seed,
            const CatalogSet& set, Stats* stats) {
  ++stats->mismatches;
  const std::string signature = Signature(Mismatch(spec, query ? &*query : nullptr, set));
  if (stats->by_signature[signature]++ > 0) return;  // one reproducer per kind of mismatch
  if (stats->by_signature.size() > 12) return;
  Shrink(&spec, query ? &*query : nullptr, set);
  const std::string shrunk = Mismatch(spec, query ? &*query : nullptr, set);
  ADD_FAILURE() << "kernel and reference disagree (" << what << ", policy seed " << seed << ")\n"
                << random_policy::Describe(spec)
                << (query ? "query " + DescribeQuery(*query, set) + "\n" : std::string()) << shrunk;
}

void RunRandom(uint64_t first_seed, int64_t policies, int queries_per_policy,
               const random_policy::Options& options, bool corrupt, Stats* stats) {
  const CatalogSet& set = random_policy::CatalogsOf(options);
  for (int64_t n = 0; n < policies; ++n) {
    const uint64_t seed = first_seed + static_cast<uint64_t>(n);
    Rng rng(seed);
    PolicySpec spec = random_policy::RandomPolicy(rng, options);
    std::vector<uint8_t> bytes = random_policy::Build(spec);
    // Misaligned payload (a 1..7 byte offset into the allocation) in corrupt mode.
    std::vector<uint8_t> storage;
    if (corrupt) {
      // Flip a few bytes: the payload may no longer verify, or verify with odd values.
      for (int flips = std::uniform_int_distribution<int>(1, 3)(rng); flips > 0; --flips) {
        const size_t at = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
        bytes[at] ^= static_cast<uint8_t>(std::uniform_int_distribution<int>(1, 255)(rng));
      }
    }
    ++stats->policies;
    const ReferencePolicy ref = ReferencePolicy::Activate(bytes, set);
    const std::unique_ptr<KernelPolicy> kernel = ActivateKernel(bytes, set);
    if (corrupt && std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
      // The same (valid, uncorrupted) payload at a misaligned address: both must refuse it
      // (docs/semantics.md: a payload starts on an 8-byte boundary; fuzz finding F1).
      const std::vector<uint8_t> clean = random_policy::Build(spec);
      storage.assign(clean.size() + 8, 0);
      const size_t offset = std::uniform_int_distribution<size_t>(1, 7)(rng);
      std::copy(clean.begin(), clean.end(), storage.begin() + offset);
      const absl::Span<const uint8_t> view(storage.data() + offset, clean.size());
      const ReferencePolicy ref_mis = ReferencePolicy::Activate(view, set);
      KernelPolicy kmis;
      const absl::StatusOr<size_t> size = Snapshot::ArenaSize(view, set);
      if (!size.ok()) {
        kmis.status = size.status();
      } else {
        kmis.arena = std::make_unique<std::max_align_t[]>(*size / sizeof(std::max_align_t) + 2);
        const absl::StatusOr<const Snapshot*> snap = Snapshot::Activate(
            view, absl::MakeSpan(reinterpret_cast<uint8_t*>(kmis.arena.get()), *size), set);
        kmis.status = snap.status();
        if (snap.ok()) kmis.snapshot = *snap;
      }
      EXPECT_EQ(kmis.status.code(), absl::StatusCode::kInvalidArgument) << kmis.status;
      EXPECT_FALSE(ref_mis.ok());
      const std::string mis = CompareActivation(ref_mis, kmis);
      ++stats->coverage["misaligned payload " + std::string(ref_mis.ok() ? "ok" : "rejected")];
      if (!mis.empty()) {
        ++stats->mismatches;
        if (stats->by_signature["misaligned: " + Signature(mis)]++ == 0) {
          ADD_FAILURE() << "misaligned payload (seed " << seed << ", offset " << offset
                        << "): " << mis;
        }
      }
    }
    const std::string activation = CompareActivation(ref, *kernel);
    if (!ref.ok())
      ++stats->coverage["activation " + std::string(absl::StatusCodeToString(ref.status().code()))];
    if (!activation.empty()) {
      if (corrupt) {
        ++stats->mismatches;
        if (stats->by_signature[Signature(activation)]++ == 0) {
          ADD_FAILURE() << "corrupted payload (seed " << seed << "): " << activation;
        }
      } else {
        Report("activation", spec, std::nullopt, seed, set, stats);
      }
      continue;
    }
    if (!ref.ok()) continue;
    ++stats->activated;
    for (const reference::Skip& skip : ref.skipped()) {
      ++stats->coverage["skip " + std::string(reference::SkipReasonLabel(skip.reason))];
    }
    for (int i = 0; i < queries_per_policy; ++i) {
      const Query q = RandomQuery(rng, spec, options.out_of_range_enums, set);
      ++stats->comparisons;
      if (!corrupt) Cover(ref, q, bytes, stats);
      const std::string diff = CompareQuery(ref, *kernel->snapshot, q);
      if (diff.empty()) continue;
      if (corrupt) {
        ++stats->mismatches;
        if (stats->by_signature[Signature(diff)]++ == 0) {
          ADD_FAILURE() << "corrupted payload (seed " << seed << ")\nquery "
                        << DescribeQuery(q, set) << "\n"
                        << diff;
        }
      } else {
        Report("query", spec, q, seed, set, stats);
      }
    }
  }
}

void PrintStats(const char* name, const Stats& s, double seconds) {
  std::printf("%s: %lld policies (%lld activated), %lld comparisons, %lld mismatches, %.2f s\n",
              name, static_cast<long long>(s.policies), static_cast<long long>(s.activated),
              static_cast<long long>(s.comparisons), static_cast<long long>(s.mismatches), seconds);
  for (const auto& [sig, count] : s.by_signature) {
    std::printf("  %lld x %s\n", static_cast<long long>(count), sig.c_str());
  }
  for (const auto& [what, count] : s.coverage) {
    std::printf("    covered %8lld x %s\n", static_cast<long long>(count), what.c_str());
  }
}

constexpr int64_t kDefaultPolicies = 2500;

TEST(Differential, RandomPoliciesAgree) {
  const int64_t policies = EnvInt("EDICT_DIFF_ITERATIONS", kDefaultPolicies);
  const uint64_t seed = static_cast<uint64_t>(EnvInt("EDICT_DIFF_SEED", 1));
  random_policy::Options options;
  options.out_of_range_enums = EnvInt("EDICT_DIFF_HOSTILE", 0) != 0;
  const auto start = std::chrono::steady_clock::now();
  Stats stats;
  RunRandom(seed, policies, /*queries_per_policy=*/100, options, /*corrupt=*/false, &stats);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintStats("random policies", stats, seconds);
  // The run must actually exercise the kernel and every path of the contract.
  if (policies >= kDefaultPolicies) {
    EXPECT_GE(stats.comparisons, 100000);
    for (const char* path : {"resolve source fixed",
                             "resolve source mandatory",
                             "resolve source user",
                             "resolve source recommended",
                             "resolve source default",
                             "resolve note unknown setting",
                             "resolve note choice overridden by lock",
                             "resolve note choice not permitted",
                             "resolve note choice after creation",
                             "resolve note choice invalid",
                             "resolve note atomic group",
                             "resolve obligations",
                             "may_use allow mandatory",
                             "may_use deny mandatory",
                             "may_use allow default",
                             "may_use deny default",
                             "may_use deny fixed",
                             "may_use unknown default",
                             "may_use deny with never_collect",
                             "schedule mandatory",
                             "schedule default",
                             "schedule default none",
                             "schedule unknowndefault none",
                             "skip unknown setting",
                             "skip wrong value type",
                             "skip unknown symbol",
                             "skip not admin-settable",
                             "skip unknown data class",
                             "skip unknown purpose",
                             "skip fixed cell",
                             "skip unknown schedule",
                             "skip bad interval",
                             "activation INVALID_ARGUMENT",
                             "activation FAILED_PRECONDITION"}) {
      EXPECT_GT(stats.coverage[path], 0) << "never exercised: " << path;
    }
  }
  EXPECT_GT(stats.activated, stats.policies / 2);
  EXPECT_EQ(stats.mismatches, 0);
}

TEST(Differential, CorruptedPayloadsAgree) {
  const int64_t policies =
      std::max<int64_t>(1, EnvInt("EDICT_DIFF_ITERATIONS", kDefaultPolicies) / 3);
  const uint64_t seed = static_cast<uint64_t>(EnvInt("EDICT_DIFF_SEED", 1)) + 1000000007u;
  const auto start = std::chrono::steady_clock::now();
  Stats stats;
  RunRandom(seed, policies, /*queries_per_policy=*/20, random_policy::Options(),
            /*corrupt=*/true, &stats);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintStats("corrupted payloads", stats, seconds);
  EXPECT_EQ(stats.mismatches, 0);
}

TEST(Differential, LargePoliciesAgree) {
  // Many rules per payload: more than kMaxReportedSkips skips, long candidate lists.
  random_policy::Options options;
  options.max_setting_rules = 3000;
  options.max_data_use_rules = 1500;
  options.max_schedule_rules = 300;
  options.broken_rate = 0.2;
  options.critical_rate = 0.0005;
  const auto start = std::chrono::steady_clock::now();
  Stats stats;
  RunRandom(static_cast<uint64_t>(EnvInt("EDICT_DIFF_SEED", 1)) + 2000000011u, 12,
            /*queries_per_policy=*/500, options, /*corrupt=*/false, &stats);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintStats("large policies", stats, seconds);
  EXPECT_GT(stats.activated, 0);
  EXPECT_EQ(stats.mismatches, 0);
}

TEST(Differential, DefaultsAgree) {
  const ReferencePolicy ref;
  const Snapshot& kernel = Snapshot::Defaults();
  EXPECT_EQ(kernel.serial(), 0u);
  EXPECT_EQ(kernel.skipped_count(), 0u);
  EXPECT_TRUE(kernel.payload().empty());
  Rng rng(static_cast<uint64_t>(EnvInt("EDICT_DIFF_SEED", 1)));
  const PolicySpec none;
  Stats stats;
  for (int i = 0; i < 20000; ++i) {
    const Query q = RandomQuery(rng, none);
    ++stats.comparisons;
    const std::string diff = CompareQuery(ref, kernel, q);
    if (diff.empty()) continue;
    ++stats.mismatches;
    if (stats.by_signature[Signature(diff)]++ == 0) {
      ADD_FAILURE() << "Defaults(): query " << DescribeQuery(q) << "\n" << diff;
    }
  }
  PrintStats("defaults", stats, 0);
}

// ---- Product catalogues ---------------------------------------------------------------
#if EDICT_DIFF_PRODUCTS

// The built-in catalogue plus the sample product catalogue, compiled from its JSON source
// as `edictctl catalog build` does.
std::shared_ptr<const CatalogSet> SampleProductSet() {
  static const std::shared_ptr<const CatalogSet>* const kSet = [] {
    std::ifstream in(std::string(EDICT_SOURCE_DIR) + "/examples/catalogs/acmevpn.json",
                     std::ios::binary);
    std::stringstream source;
    source << in.rdbuf();
    const absl::StatusOr<std::string> bytes = catalogs::BuildCatalog(source.str(), "acmevpn.json");
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    if (!bytes.ok()) return new std::shared_ptr<const CatalogSet>();
    absl::StatusOr<std::shared_ptr<const CatalogSet>> set =
        CatalogSet::Create({CatalogSet::Input{"acmevpn.edcat", *bytes}});
    EXPECT_TRUE(set.ok()) << set.status();
    return new std::shared_ptr<const CatalogSet>(set.ok() ? *set : nullptr);
  }();
  return *kSet;
}

constexpr int64_t kDefaultProductPolicies = 1500;

TEST(Differential, ProductCataloguesAgree) {
  const std::shared_ptr<const CatalogSet> set = SampleProductSet();
  ASSERT_NE(set, nullptr);
  // The sample catalogue's attributes, by name: every type must be there.
  for (const char* name : {"acmevpn.network_trust", "acmevpn.tunnel_count", "acmevpn.on_battery",
                           "acmevpn.gateway_regions"}) {
    ASSERT_GE(set->FindAttribute(name), 0) << name;
  }
  const int64_t policies = EnvInt("EDICT_DIFF_ITERATIONS", kDefaultProductPolicies);
  const uint64_t seed = static_cast<uint64_t>(EnvInt("EDICT_DIFF_SEED", 1)) + 3000000019u;
  random_policy::Options options;
  options.catalogs = set.get();
  options.out_of_range_enums = EnvInt("EDICT_DIFF_HOSTILE", 0) != 0;
  const auto start = std::chrono::steady_clock::now();
  Stats stats;
  RunRandom(seed, policies, /*queries_per_policy=*/100, options, /*corrupt=*/false, &stats);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintStats("product catalogues", stats, seconds);
  if (policies >= kDefaultProductPolicies) {
    EXPECT_GE(stats.comparisons, 60000);
    std::vector<std::string> paths = {
        "skip unknown context attribute",
        "skip unknown setting",
        "skip unknown symbol",
        "skip wrong value type",
        "skip not admin-settable",
        "skip fixed cell",
        "resolve decided by a rule with attribute terms",
        "resolve note atomic group",
        "product may_use mandatory",
        "product may_use default",
        "product schedule mandatory",
        "product schedule default",
    };
    for (const char* type : {"bool", "enum", "flags", "integer", "duration", "string"}) {
      paths.push_back(std::string("product resolve ") + type + " mandatory");
      paths.push_back(std::string("product resolve ") + type + " recommended");
      paths.push_back(std::string("product resolve ") + type + " default");
    }
    paths.push_back("product resolve bool fixed");
    paths.push_back("product resolve bool user");
    for (const std::string& type : {std::string(AttributeTypeName(AttributeType::kBool)),
                                    std::string(AttributeTypeName(AttributeType::kEnum)),
                                    std::string(AttributeTypeName(AttributeType::kIntRange)),
                                    std::string(AttributeTypeName(AttributeType::kStringSet))}) {
      for (const char* outcome : {" holds", " fails", " (context: unknown)"}) {
        paths.push_back("attribute term " + type + outcome);
      }
    }
    for (const std::string& path : paths) {
      EXPECT_GT(stats.coverage[path], 0) << "never exercised: " << path;
    }
  }
  EXPECT_GT(stats.activated, stats.policies / 2);
  EXPECT_EQ(stats.mismatches, 0);
}

TEST(Differential, ProductCatalogueLargePoliciesAgree) {
  // Long candidate lists over few settings, many attribute terms.
  const std::shared_ptr<const CatalogSet> set = SampleProductSet();
  ASSERT_NE(set, nullptr);
  random_policy::Options options;
  options.catalogs = set.get();
  options.max_setting_rules = 1500;
  options.max_data_use_rules = 600;
  options.max_schedule_rules = 150;
  options.broken_rate = 0.1;
  options.critical_rate = 0.0005;
  options.attribute_rate = 0.7;
  options.unknown_attribute_rate = 0.01;
  const auto start = std::chrono::steady_clock::now();
  Stats stats;
  RunRandom(static_cast<uint64_t>(EnvInt("EDICT_DIFF_SEED", 1)) + 4000000007u, 8,
            /*queries_per_policy=*/400, options, /*corrupt=*/false, &stats);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintStats("large product policies", stats, seconds);
  EXPECT_GT(stats.activated, 0);
  EXPECT_EQ(stats.mismatches, 0);
}

TEST(Differential, ProductCatalogueCorruptedPayloadsAgree) {
  const std::shared_ptr<const CatalogSet> set = SampleProductSet();
  ASSERT_NE(set, nullptr);
  random_policy::Options options;
  options.catalogs = set.get();
  const int64_t policies =
      std::max<int64_t>(1, EnvInt("EDICT_DIFF_ITERATIONS", kDefaultProductPolicies) / 5);
  Stats stats;
  RunRandom(static_cast<uint64_t>(EnvInt("EDICT_DIFF_SEED", 1)) + 5000000029u, policies,
            /*queries_per_policy=*/20, options, /*corrupt=*/true, &stats);
  PrintStats("corrupted product payloads", stats, 0);
  EXPECT_EQ(stats.mismatches, 0);
}

TEST(Differential, ProductCatalogueDefaultsAgree) {
  const std::shared_ptr<const CatalogSet> set = SampleProductSet();
  ASSERT_NE(set, nullptr);
  const ReferencePolicy ref(*set);
  const size_t size = Snapshot::DefaultsArenaSize(*set);
  auto arena = std::make_unique<std::max_align_t[]>(size / sizeof(std::max_align_t) + 1);
  const absl::StatusOr<const Snapshot*> kernel =
      Snapshot::Defaults(*set, absl::MakeSpan(reinterpret_cast<uint8_t*>(arena.get()), size));
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ((*kernel)->serial(), 0u);
  Rng rng(static_cast<uint64_t>(EnvInt("EDICT_DIFF_SEED", 1)) + 6000000001u);
  const PolicySpec none;
  Stats stats;
  for (int i = 0; i < 20000; ++i) {
    const Query q = RandomQuery(rng, none, false, *set);
    ++stats.comparisons;
    const std::string diff = CompareQuery(ref, **kernel, q);
    if (diff.empty()) continue;
    ++stats.mismatches;
    if (stats.by_signature[Signature(diff)]++ == 0) {
      ADD_FAILURE() << "Defaults(product set): query " << DescribeQuery(q, *set) << "\n" << diff;
    }
  }
  PrintStats("product defaults", stats, 0);
}
#endif  // EDICT_DIFF_PRODUCTS

}  // namespace
}  // namespace edict
