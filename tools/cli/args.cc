#include "tools/cli/args.h"

#include <optional>
#include <vector>

#include "tools/cli/strings.h"

namespace edict::cli {

absl::StatusOr<std::vector<std::string>> ExtractCatalogArgs(absl::Span<const std::string_view> args,
                                                            std::vector<std::string_view>* rest) {
  std::vector<std::string> files;
  rest->clear();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--catalog" || StartsWith(arg, "--catalog=")) {
      std::string_view value;
      if (arg != "--catalog") {
        value = arg.substr(10);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError("option '--catalog' needs a value");
      }
      if (value.empty()) return absl::InvalidArgumentError("--catalog needs a file name");
      files.emplace_back(value);
      continue;
    }
    rest->push_back(arg);
    // Options whose value is the next argument: keep the value with them.
    if ((arg == "--policy" || arg == "--ctx" || arg == "--user-choice" || arg == "--batch") &&
        i + 1 < args.size()) {
      rest->push_back(args[++i]);
    }
  }
  return files;
}

absl::StatusOr<EvalArgs> ParseEvalArgs(absl::Span<const std::string_view> args, bool explain,
                                       const CatalogSet& catalogs) {
  EvalArgs out;
  std::vector<std::string_view> positional;
  std::vector<std::string_view> ctx_flags;
  std::optional<std::string_view> user_choice;
  bool at_creation = false;
  bool have_policy = false;
  bool have_batch = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      return out;
    }
    if (!StartsWith(arg, "--")) {
      if (StartsWith(arg, "-") && arg.size() > 1) {
        return absl::InvalidArgumentError(Cat("unknown option '", arg, "'"));
      }
      positional.push_back(arg);
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string_view> inline_value;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    const bool takes_value =
        name == "--policy" || name == "--ctx" || name == "--user-choice" || name == "--batch";
    const bool is_switch =
        name == "--user-choice-at-creation" || (explain && name == "--candidates");
    if (!takes_value && !is_switch) {
      return absl::InvalidArgumentError(Cat("unknown option '", name, "'"));
    }
    if (is_switch) {
      if (inline_value) {
        return absl::InvalidArgumentError(Cat("option '", name, "' takes no value"));
      }
      if (name == "--candidates") out.candidates = true;
      if (name == "--user-choice-at-creation") at_creation = true;
      continue;
    }
    std::string_view value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(Cat("option '", name, "' needs a value"));
    }
    if (name == "--policy") {
      if (have_policy) return absl::InvalidArgumentError("--policy given twice");
      if (value.empty()) return absl::InvalidArgumentError("--policy needs a file name");
      have_policy = true;
      out.policy = std::string(value);
    } else if (name == "--batch") {
      if (have_batch) return absl::InvalidArgumentError("--batch given twice");
      if (value.empty()) return absl::InvalidArgumentError("--batch needs a file name");
      have_batch = true;
      out.batch = std::string(value);
    } else if (name == "--ctx") {
      ctx_flags.push_back(value);
    } else {  // --user-choice
      if (user_choice) return absl::InvalidArgumentError("--user-choice given twice");
      user_choice = value;
    }
  }

  if (have_batch) {
    if (!positional.empty() || !ctx_flags.empty() || user_choice || at_creation) {
      return absl::InvalidArgumentError(
          "--batch takes its queries from the file: no query arguments, --ctx or "
          "--user-choice");
    }
    return out;
  }
  if (positional.empty()) {
    return absl::InvalidArgumentError(
        "missing query: setting ID, data-use CLASS PURPOSE, schedule ID or --batch FILE");
  }
  Query& q = out.query;
  const std::string_view kind = positional[0];
  size_t want = 0;
  if (kind == "setting") {
    q.kind = QueryKind::kSetting;
    want = 2;
  } else if (kind == "data-use") {
    q.kind = QueryKind::kDataUse;
    want = 3;
  } else if (kind == "schedule") {
    q.kind = QueryKind::kSchedule;
    want = 2;
  } else {
    return absl::InvalidArgumentError(
        Cat("unknown query kind '", kind, "' (expected setting, data-use or schedule)"));
  }
  if (positional.size() != want) {
    return absl::InvalidArgumentError(
        positional.size() < want ? Cat("'", kind, "' needs ", want - 1, want == 2 ? " id" : " ids")
                                 : Cat("unexpected argument '", positional[want], "'"));
  }
  switch (q.kind) {
    case QueryKind::kSetting:
      q.id = catalogs.FindSetting(positional[1]);
      if (q.id < 0) {
        return absl::InvalidArgumentError(Cat("unknown setting '", positional[1], "'"));
      }
      break;
    case QueryKind::kDataUse:
      q.id = catalogs.FindDataClass(positional[1]);
      if (q.id < 0) {
        return absl::InvalidArgumentError(Cat("unknown data class '", positional[1], "'"));
      }
      q.purpose = catalogs.FindPurpose(positional[2]);
      if (q.purpose < 0) {
        return absl::InvalidArgumentError(Cat("unknown purpose '", positional[2], "'"));
      }
      break;
    case QueryKind::kSchedule:
      q.id = catalogs.FindSchedule(positional[1]);
      if (q.id < 0) {
        return absl::InvalidArgumentError(Cat("unknown schedule '", positional[1], "'"));
      }
      break;
  }
  for (std::string_view kv : ctx_flags) {
    if (absl::Status s = ApplyContextFlag(kv, &q.ctx, catalogs); !s.ok()) return s;
  }
  if ((user_choice || at_creation) && q.kind != QueryKind::kSetting) {
    return absl::InvalidArgumentError(
        "--user-choice and --user-choice-at-creation apply to setting queries only");
  }
  if (at_creation && !user_choice) {
    return absl::InvalidArgumentError("--user-choice-at-creation needs --user-choice");
  }
  if (user_choice) {
    absl::StatusOr<json::Value> v = json::Parse(*user_choice);
    if (!v.ok()) {
      return absl::InvalidArgumentError(
          Cat("--user-choice takes a JSON value (true, 30, '\"name_only\"', '[\"status\",\"note\"]'"
              "): ",
              v.status().message()));
    }
    absl::StatusOr<Value> choice = ParseUserChoice(catalogs.settings()[q.id], *v, &q.choice_text);
    if (!choice.ok()) return choice.status();
    q.has_choice = true;
    q.choice_value = *choice;
    q.choice_at_creation = at_creation;
  }
  return out;
}

}  // namespace edict::cli
