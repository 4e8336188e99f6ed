#include "tools/cli/conformance.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_join.h"
#include "kernel/kernel.h"
#include "tools/cli/files.h"
#include "tools/cli/policy.h"
#include "tools/cli/query.h"
#include "tools/cli/strings.h"

namespace edict::cli {
namespace {

constexpr std::string_view kVectorKeys[] = {"name",           "covers",      "comment",
                                            "policy",         "payload_hex", "expect_policy_error",
                                            "expect_skipped", "queries"};
// Keys of a vector's query entry that are not part of the query itself.
constexpr std::string_view kQueryExtraKeys[] = {"expect", "explain_contains", "expect_error",
                                                "comment"};

void AppendJson(const json::Value& v, bool indent, int depth, std::string* out) {
  const std::string pad = indent ? std::string(2 * (depth + 1), ' ') : std::string();
  const std::string close_pad = indent ? std::string(2 * depth, ' ') : std::string();
  const char* nl = indent ? "\n" : "";
  switch (v.kind()) {
    case json::Value::Kind::kNull:
      out->append("null");
      return;
    case json::Value::Kind::kBool:
      out->append(v.boolean() ? "true" : "false");
      return;
    case json::Value::Kind::kNumber:
      out->append(v.string());
      return;
    case json::Value::Kind::kString:
      out->append(json::Quote(v.string()));
      return;
    case json::Value::Kind::kArray: {
      if (v.items().empty()) {
        out->append("[]");
        return;
      }
      AppendTo(out, "[", nl);
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i > 0) AppendTo(out, ",", nl);
        out->append(pad);
        AppendJson(v.items()[i], indent, depth + 1, out);
      }
      AppendTo(out, nl, close_pad, "]");
      return;
    }
    case json::Value::Kind::kObject: {
      if (v.members().empty()) {
        out->append("{}");
        return;
      }
      AppendTo(out, "{", nl);
      for (size_t i = 0; i < v.members().size(); ++i) {
        if (i > 0) AppendTo(out, ",", nl);
        AppendTo(out, pad, json::Quote(v.members()[i].key), indent ? ": " : ":");
        AppendJson(v.members()[i].value, indent, depth + 1, out);
      }
      AppendTo(out, nl, close_pad, "}");
      return;
    }
  }
}

bool DecodeHex(std::string_view hex, std::string* out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return false;
  out->clear();
  out->reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

// The query object of a vector entry without the runner's own keys, as compact JSON.
std::string QueryText(const json::Value& entry) {
  std::string out = "{";
  bool first = true;
  for (const json::Value::Member& m : entry.members()) {
    if (std::find(std::begin(kQueryExtraKeys), std::end(kQueryExtraKeys), m.key) !=
        std::end(kQueryExtraKeys)) {
      continue;
    }
    if (!first) out += ',';
    first = false;
    AppendTo(&out, json::Quote(m.key), ":");
    AppendJson(m.value, false, 0, &out);
  }
  out += '}';
  return out;
}

// Reports a malformed vector.
bool Malformed(std::string_view label, std::string_view why, std::ostream& out) {
  out << "FAIL " << label << ": malformed vector: " << why << "\n";
  return false;
}

std::string Loc(const json::Value& v) { return Cat(v.location().line, ":", v.location().col); }

// Checks one query entry; returns true if it matches. `index` is 0-based.
bool RunQueryEntry(const Snapshot& snapshot, const json::Value& entry, size_t index,
                   std::string_view label, std::string_view name, std::ostream& out) {
  const std::string header = Cat("FAIL ", label, " (", name, ") query ", index, " at ", Loc(entry),
                                 "\n", "  query:    ", QueryText(entry), "\n");
  const json::Value* expect = entry.Find("expect");
  const json::Value* explain = entry.Find("explain_contains");
  const json::Value* expect_error = entry.Find("expect_error");
  const json::Value* comment = entry.Find("comment");
  if (comment != nullptr && !comment->is_string()) {
    out << header << "  malformed: 'comment' must be a string\n";
    return false;
  }
  if ((expect == nullptr) == (expect_error == nullptr)) {
    out << header << "  malformed: a query needs exactly one of 'expect', 'expect_error'\n";
    return false;
  }
  if (expect != nullptr && (!expect->is_object() || expect->members().empty())) {
    out << header << "  malformed: 'expect' must be a non-empty object\n";
    return false;
  }
  if (expect_error != nullptr && (!expect_error->is_string() || explain != nullptr)) {
    out << header
        << "  malformed: 'expect_error' must be a string and excludes 'explain_contains'\n";
    return false;
  }
  if (explain != nullptr) {
    bool ok = explain->is_array() && !explain->items().empty();
    for (const json::Value& s : explain->items()) ok = ok && s.is_string();
    if (!ok) {
      out << header << "  malformed: 'explain_contains' must be a non-empty array of strings\n";
      return false;
    }
  }

  absl::StatusOr<Query> query = ParseQueryJson(entry, kQueryExtraKeys);
  if (expect_error != nullptr) {
    if (query.ok()) {
      out << header << "  expected the query to be rejected with an error containing "
          << json::Quote(expect_error->string()) << ", but it was accepted\n";
      return false;
    }
    if (!Contains(MessageOf(query.status()), expect_error->string())) {
      out << header << "  expected an error containing " << json::Quote(expect_error->string())
          << "\n  actual error: " << query.status().message() << "\n";
      return false;
    }
    return true;
  }
  if (!query.ok()) {
    out << header << "  query rejected: " << query.status().message() << "\n";
    return false;
  }

  const Answer answer = Evaluate(snapshot, *query);
  const std::string actual_text = RenderAnswer(answer);
  absl::StatusOr<json::Value> actual = json::Parse(actual_text);
  if (!actual.ok()) {
    out << header << "  answer is not valid JSON (" << actual.status().message()
        << "): " << actual_text << "\n";
    return false;
  }
  std::vector<std::string> diffs;
  for (const json::Value::Member& m : expect->members()) {
    const json::Value* got = actual->Find(m.key);
    // An empty expected `notes` also matches an answer without notes.
    if (got == nullptr && m.key == "notes" && m.value.is_array() && m.value.items().empty()) {
      continue;
    }
    if (got == nullptr) {
      diffs.push_back(
          Cat(json::Quote(m.key), ": expected ", ToJson(m.value), ", missing from the answer"));
    } else if (!JsonEqual(m.value, *got)) {
      diffs.push_back(
          Cat(json::Quote(m.key), ": expected ", ToJson(m.value), ", actual ", ToJson(*got)));
    }
  }
  std::string explanation;
  if (explain != nullptr) {
    explanation = Explain(snapshot, *query, answer, ExplainDetail::kWithCandidates);
    for (const json::Value& s : explain->items()) {
      if (!Contains(explanation, s.string())) {
        diffs.push_back(Cat("explain: expected to contain ", json::Quote(s.string())));
      }
    }
  }
  if (diffs.empty()) return true;
  out << header << "  expected: " << ToJson(*expect) << "\n"
      << "  actual:   " << actual_text << "\n";
  for (const std::string& d : diffs) out << "  - " << d << "\n";
  if (!explanation.empty()) out << "  explain:  " << explanation << "\n";
  return false;
}

}  // namespace

std::string ToJson(const json::Value& value, bool indent) {
  std::string out;
  AppendJson(value, indent, 0, &out);
  return out;
}

bool JsonEqual(const json::Value& a, const json::Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::Value::Kind::kNull:
      return true;
    case json::Value::Kind::kBool:
      return a.boolean() == b.boolean();
    case json::Value::Kind::kNumber:
      if (a.is_integer() && b.is_integer()) return a.integer() == b.integer();
      return a.number() == b.number();
    case json::Value::Kind::kString:
      return a.string() == b.string();
    case json::Value::Kind::kArray:
      if (a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i) {
        if (!JsonEqual(a.items()[i], b.items()[i])) return false;
      }
      return true;
    case json::Value::Kind::kObject:
      if (a.members().size() != b.members().size()) return false;
      for (const json::Value::Member& m : a.members()) {
        const json::Value* other = b.Find(m.key);
        if (other == nullptr || !JsonEqual(m.value, *other)) return false;
      }
      return true;
  }
  return false;
}

bool RunVector(std::string_view text, std::string_view label, std::ostream& out,
               ConformanceResult* counts) {
  absl::StatusOr<json::Value> doc = json::Parse(text);
  if (!doc.ok()) return Malformed(label, MessageOf(doc.status()), out);
  if (!doc->is_object()) return Malformed(label, "the vector must be a JSON object", out);
  for (const json::Value::Member& m : doc->members()) {
    if (std::find(std::begin(kVectorKeys), std::end(kVectorKeys), m.key) == std::end(kVectorKeys)) {
      return Malformed(label, Cat(Loc(m.value), ": unknown key '", m.key, "'"), out);
    }
  }
  const json::Value* name = doc->Find("name");
  if (name == nullptr || !name->is_string() || name->string().empty()) {
    return Malformed(label, "'name' must be a non-empty string", out);
  }
  const json::Value* covers = doc->Find("covers");
  bool covers_ok = covers != nullptr && covers->is_array() && !covers->items().empty();
  if (covers_ok) {
    for (const json::Value& c : covers->items()) covers_ok = covers_ok && c.is_string();
  }
  if (!covers_ok) return Malformed(label, "'covers' must be a non-empty array of strings", out);
  const json::Value* comment = doc->Find("comment");
  if (comment != nullptr && !comment->is_string()) {
    return Malformed(label, "'comment' must be a string", out);
  }
  const json::Value* policy = doc->Find("policy");
  const json::Value* hex = doc->Find("payload_hex");
  if ((policy == nullptr) == (hex == nullptr)) {
    return Malformed(label, "exactly one of 'policy' and 'payload_hex' is required", out);
  }
  if (policy != nullptr && !policy->is_null() && !policy->is_object()) {
    return Malformed(label, "'policy' must be an object or null", out);
  }
  if (hex != nullptr && !hex->is_string()) {
    return Malformed(label, "'payload_hex' must be a string", out);
  }
  const json::Value* policy_error = doc->Find("expect_policy_error");
  if (policy_error != nullptr && !policy_error->is_string()) {
    return Malformed(label, "'expect_policy_error' must be a string", out);
  }
  const json::Value* skipped = doc->Find("expect_skipped");
  std::vector<std::string> expected_skips;
  if (skipped != nullptr) {
    if (!skipped->is_array() || policy_error != nullptr) {
      return Malformed(label,
                       "'expect_skipped' must be an array and excludes 'expect_policy_error'", out);
    }
    for (const json::Value& s : skipped->items()) {
      if (!s.is_string()) return Malformed(label, "'expect_skipped' must hold strings", out);
      expected_skips.push_back(s.string());
    }
  }
  const json::Value* queries = doc->Find("queries");
  if (policy_error != nullptr) {
    if (queries != nullptr && (!queries->is_array() || !queries->items().empty())) {
      return Malformed(label, "a vector with 'expect_policy_error' has no queries", out);
    }
  } else if (queries == nullptr || !queries->is_array() || queries->items().empty()) {
    return Malformed(label, "'queries' must be a non-empty array", out);
  }
  const std::string vector_name = name->string();

  // Load the policy.
  std::unique_ptr<LoadedPolicy> loaded;
  absl::Status load_status;
  if (hex != nullptr) {
    std::string bytes;
    if (!DecodeHex(hex->string(), &bytes)) {
      return Malformed(label, "'payload_hex' is not an even number of hex digits", out);
    }
    absl::StatusOr<std::unique_ptr<LoadedPolicy>> p = LoadedPolicy::FromPayload(bytes);
    if (p.ok()) loaded = *std::move(p);
    load_status = p.status();
  } else if (!policy->is_null()) {
    absl::StatusOr<std::unique_ptr<LoadedPolicy>> p =
        LoadedPolicy::FromJson(ToJson(*policy, /*indent=*/true), Cat(label, "#policy"));
    if (p.ok()) loaded = *std::move(p);
    load_status = p.status();
  }
  if (policy_error != nullptr) {
    if (load_status.ok()) {
      out << "FAIL " << label << " (" << vector_name << "): expected the policy to be "
          << "rejected with an error containing " << json::Quote(policy_error->string())
          << ", but it loaded\n";
      return false;
    }
    if (!Contains(MessageOf(load_status), policy_error->string())) {
      out << "FAIL " << label << " (" << vector_name << "): expected a policy error containing "
          << json::Quote(policy_error->string()) << "\n  actual error: " << load_status.message()
          << "\n";
      return false;
    }
    return true;
  }
  if (!load_status.ok()) {
    out << "FAIL " << label << " (" << vector_name << "): the policy did not load:\n  "
        << load_status << "\n";
    return false;
  }
  const Snapshot& snapshot = loaded ? loaded->snapshot() : Snapshot::Defaults();

  bool ok = true;
  if (skipped != nullptr) {
    std::vector<std::string> actual_skips;
    static constexpr std::string_view kKinds[] = {"settings", "data_use", "schedules"};
    for (const SkippedRule& s : snapshot.skipped()) {
      const size_t kind = static_cast<size_t>(s.kind);
      actual_skips.push_back(
          Cat(kind < 3 ? kKinds[kind] : std::string_view("?"), "[", s.index, "] ", s.name));
    }
    std::vector<std::string> expected_sorted = expected_skips;
    std::sort(expected_sorted.begin(), expected_sorted.end());
    std::vector<std::string> actual_keys;  // "KIND[INDEX]" of each reported skip
    for (const std::string& a : actual_skips) actual_keys.push_back(a.substr(0, a.find(' ')));
    std::sort(actual_keys.begin(), actual_keys.end());
    std::sort(actual_skips.begin(), actual_skips.end());
    const bool count_ok = snapshot.skipped_count() == expected_skips.size();
    const bool names_ok =
        snapshot.skipped_count() > Snapshot::kMaxReportedSkips || expected_sorted == actual_keys;
    if (!count_ok || !names_ok) {
      out << "FAIL " << label << " (" << vector_name << "): skipped rules differ\n"
          << "  expected: [" << absl::StrJoin(expected_sorted, ", ") << "]\n"
          << "  actual:   [" << absl::StrJoin(actual_skips, ", ") << "] ("
          << snapshot.skipped_count() << " in all)\n";
      ok = false;
    }
  }
  for (size_t i = 0; i < queries->items().size(); ++i) {
    const json::Value& entry = queries->items()[i];
    ++counts->queries;
    if (!entry.is_object()) {
      out << "FAIL " << label << " (" << vector_name << ") query " << i
          << ": malformed: a query entry must be an object\n";
      ++counts->queries_failed;
      ok = false;
      continue;
    }
    if (!RunQueryEntry(snapshot, entry, i, label, vector_name, out)) {
      ++counts->queries_failed;
      ok = false;
    }
  }
  return ok;
}

ConformanceResult RunConformanceDir(const std::string& dir, std::ostream& out) {
  ConformanceResult result;
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    out << "FAIL " << dir << ": cannot read the directory: " << ec.message() << "\n";
    result.failed = 1;
  } else {
    for (const std::filesystem::directory_entry& e : it) {
      if (e.path().extension() == ".json" && e.is_regular_file(ec)) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      out << "FAIL " << dir << ": no *.json vectors\n";
      result.failed = 1;
    }
  }
  for (const std::filesystem::path& path : files) {
    const std::string label = path.filename().string();
    ReadOptions options;
    options.what = "a conformance vector";
    absl::StatusOr<std::string> text = ReadInputFile(path.string(), kMaxPolicyJsonBytes, options);
    bool ok = false;
    if (!text.ok()) {
      out << "FAIL " << label << ": " << text.status().message() << "\n";
    } else {
      ok = RunVector(*text, label, out, &result);
    }
    ++(ok ? result.passed : result.failed);
  }
  out << "checked " << result.queries << " queries of " << files.size() << " vectors ("
      << result.queries_failed << " queries failed)\n";
  out << result.passed << " passed, " << result.failed << " failed\n";
  return result;
}

}  // namespace edict::cli
