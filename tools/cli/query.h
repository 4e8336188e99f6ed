// The command-line mapping of edict queries: a context from `--ctx KEY=VALUE` pairs or
// from JSON, a query from JSON, and an answer rendered as JSON, exactly as
// docs/policy-format.md ("Context" and "Queries and answers") specifies. Used by
// `edictctl eval`, `explain`, `--batch` and the conformance runner.
//
// Everything here is strict: an unknown key, an unknown symbol or a value of the wrong
// type is an InvalidArgument error whose message names the offending key. The one
// deliberate exception is a user choice: a value that is not valid for the setting is
// passed on to the kernel as an invalid choice, so the answer carries the note
// `choice invalid` (docs/semantics.md, Resolve step 5), instead of failing the query.
#ifndef EDICT_TOOLS_CLI_QUERY_H_
#define EDICT_TOOLS_CLI_QUERY_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "kernel/kernel.h"
#include "policy/catalog.h"
#include "policy/catalog/catalog_set.h"
#include "policy/compiler/json.h"

namespace edict::cli {

// An edict::Context that owns the strings (groups, region, attribute values) it points
// to. Copying or moving it re-points the copy at its own storage.
class OwnedContext {
 public:
  OwnedContext() = default;
  OwnedContext(const OwnedContext& other);
  OwnedContext& operator=(const OwnedContext& other);
  OwnedContext(OwnedContext&& other) noexcept;
  OwnedContext& operator=(OwnedContext&& other) noexcept;

  // The context to pass to the kernel; valid while this object lives and is unchanged.
  const Context& get() const { return ctx_; }

  // Sets one key from its `--ctx` text (`plan=enterprise`, `groups=a,b`, ...). A key may
  // be set only once per context. Keys are rows of the attribute table of `catalogs`
  // (built-in ones like `plan`, and `<product>.<name>`; docs/policy-format.md, "Context"):
  // Bool `true`/`false`, Enum one of its values (device_state: `a,b`), IntRange a decimal
  // integer within its bounds, StringSet `a,b` (empty: none; region: one value).
  absl::Status SetFromText(std::string_view key, std::string_view value,
                           const CatalogSet& catalogs = CatalogSet::Builtin());
  // Sets one key from its JSON value (`"plan": "enterprise"`, `"groups": ["a"]`, ...);
  // attributes as true/false, "value", an integer, ["a", "b"].
  absl::Status SetFromJson(std::string_view key, const json::Value& value,
                           const CatalogSet& catalogs = CatalogSet::Builtin());

 private:
  // The value of one attribute (a row of the set's table), owning its strings.
  struct Attribute {
    int attribute = -1;
    BuiltinTerm term = BuiltinTerm::kNone;  // the row's; kNone: a product attribute
    int64_t number = 0;
    std::vector<std::string> strings;
  };

  absl::Status MarkSet(std::string_view key);
  // Enum and string-set values from their items (text or JSON).
  absl::Status SetItems(std::string_view key, const AttributeSpec& a, int handle,
                        const std::vector<std::string_view>& items);
  absl::Status Set(std::string_view key, Attribute value);
  void Relink();  // rebuilds ctx_ from attributes_

  Context ctx_;
  std::vector<std::string> keys_set_;
  std::vector<Attribute> attributes_;
  std::vector<std::vector<std::string_view>> attribute_views_;  // rebuilt by Relink
  std::vector<AttributeValue> attribute_values_;                // rebuilt by Relink
};

// Parses one `--ctx` argument, `KEY=VALUE`, into `ctx`; attributes are those of `catalogs`.
absl::Status ApplyContextFlag(std::string_view key_value, OwnedContext* ctx,
                              const CatalogSet& catalogs = CatalogSet::Builtin());

// Parses a context JSON object (docs/policy-format.md, "Context").
absl::StatusOr<OwnedContext> ParseContextJson(const json::Value& value,
                                              const CatalogSet& catalogs = CatalogSet::Builtin());

// Maps a user choice, written in the setting's JSON value syntax, to a kernel value.
// Returns an error only when `value` is not a value at all (null, object, fraction); a
// value of the wrong type or outside the allowed symbols maps to a value the kernel
// rejects with the note `choice invalid`. String values are copied into `*text_storage`,
// which the returned value's `text` points into.
absl::StatusOr<Value> ParseUserChoice(const SettingSpec& spec, const json::Value& value,
                                      std::string* text_storage);

enum class QueryKind { kSetting, kDataUse, kSchedule };

// One query: a setting, data-use cell or schedule, plus its context and, for settings,
// an optional user choice.
struct Query {
  QueryKind kind = QueryKind::kSetting;
  int id = -1;       // setting, data class or schedule id
  int purpose = -1;  // data-use queries only
  OwnedContext ctx;
  bool has_choice = false;
  Value choice_value;  // its `text` is re-pointed at choice_text by choice()
  std::string choice_text;
  bool choice_at_creation = false;

  // The user choice to pass to the kernel (nullptr if none); points into this query.
  const UserChoice* choice(UserChoice* storage) const;
};

// Parses a query object: exactly one of `setting`, `data_use` ([class, purpose]),
// `schedule`; optional `ctx`; for settings optional `user_choice` and
// `user_choice_at_creation`. Keys listed in `ignored_keys` are allowed and ignored (the
// conformance runner uses this for `expect`); any other key is an error. Ids and
// attributes are looked up in `catalogs` (the set the snapshot was activated against).
absl::StatusOr<Query> ParseQueryJson(const json::Value& value,
                                     absl::Span<const std::string_view> ignored_keys = {},
                                     const CatalogSet& catalogs = CatalogSet::Builtin());
// Same, from the text of one JSON object (one `--batch` line).
absl::StatusOr<Query> ParseQueryText(std::string_view text,
                                     const CatalogSet& catalogs = CatalogSet::Builtin());

// The kernel's answer to a query.
struct Answer {
  QueryKind kind = QueryKind::kSetting;
  Resolution resolution;
  DataUseDecision decision;
  ScheduleAnswer schedule;
};

Answer Evaluate(const Snapshot& snapshot, const Query& query);

// The value of a setting in the setting's JSON syntax: bool, integer, enum symbol
// string, flags array of symbols in catalogue order, string; durations as seconds.
std::string RenderValue(const Value& value, const SettingSpec& spec);
// Obligation bits as a JSON array of names in bit order (docs/policy-format.md).
std::string RenderObligations(Obligations obligations);
// Resolution note bits as a JSON array of names in bit order (docs/semantics.md).
std::string RenderNotes(uint16_t notes);
// One answer as a single-line JSON object, with the fields docs/policy-format.md lists;
// setting and schedule handles are those of `catalogs`.
std::string RenderAnswer(const Answer& answer, const CatalogSet& catalogs = CatalogSet::Builtin());
// `{"error":"..."}` for a query that could not be answered.
std::string RenderError(std::string_view message);

// The kernel's explanation of `answer` (one sentence, or with every candidate).
std::string Explain(const Snapshot& snapshot, const Query& query, const Answer& answer,
                    ExplainDetail detail);

// The name docs/semantics.md gives a note bit ("choice overridden by lock", ...).
std::string_view NoteName(ResolutionNote note);

}  // namespace edict::cli

#endif  // EDICT_TOOLS_CLI_QUERY_H_
