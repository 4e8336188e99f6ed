// `edict-agent status`: what the state directory, the audit file and the pull sources' saved
// records say, read without writing anything (safe beside a running daemon).
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "policy/catalog/catalog_file.h"
#include "policy/compiler/json.h"
#include "ports/text.h"
#include "tools/agent/agent.h"
#include "tools/agent/agent_internal.h"
#include "tools/agent/platform.h"
#include "tools/agent/product_context.h"
#include "transport/describe.h"
#include "transport/errors.h"
#ifdef EDICT_AGENT_PULL
#include "transport/pull/errors.h"
#include "transport/pull/source.h"
#endif

namespace edict::agent {

using internal::ListSourceBlobs;
using internal::ListSpool;
using internal::PinnedTrustProblem;
using platform::JoinPath;
using platform::ReadCapped;

absl::StatusOr<StatusView> LoadStatus(const AgentConfig& config) {
  StatusView v;
  auto store = OpenReadOnlyStateStore(config.state_dir);
  transport::LoadActiveStateOptions o;
  auto pinned = ReadCapped(config.trust_pinned, config.max_trust_bytes);
  if (pinned.ok()) {
    o.pinned_trust.assign(pinned->begin(), pinned->end());
  } else {
    o.pinned_trust_unavailable = PinnedTrustProblem(config, pinned.status());
  }
  auto identity = IdentityFromConfig(config);
  if (identity.ok()) {
    o.identity = transport::EndpointIdentity{(*identity)->tenant(), (*identity)->device_id(),
                                             (*identity)->groups()};
  }
  o.verify.max_clock_skew_seconds = config.freeze_skew_seconds;
  o.limits.max_bundle_bytes = config.max_bundle_bytes;
  o.limits.max_trust_bytes = config.max_trust_bytes;
  // The catalogues as the daemon loads them (a failed load: the built-in set, and the errors).
  CatalogLoad catalogs = LoadCatalogs(config.catalog_dirs);
  o.catalogs = catalogs.set;
  v.context_errors = ResolveProductContext(config, catalogs.set).errors;
  v.catalogs = std::move(catalogs.catalogs);
  v.catalog_errors = std::move(catalogs.errors);
  auto state = transport::LoadActiveState(*store, o);
  if (!state.ok()) return state.status();
  v.state = *std::move(state);

  // The newest rotated file first would be wrong: read the oldest kept file first so the
  // last match wins.
  std::vector<std::string> files;
  for (int i = config.audit_keep_files - 1; i >= 1; --i) {
    files.push_back(absl::StrCat(config.audit_file, ".", i));
  }
  files.push_back(config.audit_file);
  for (const std::string& f : files) {
    auto text = ReadCapped(f, size_t{64} << 20);
    if (!text.ok()) continue;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      auto j = json::Parse(line);
      if (!j.ok() || !j->is_object()) continue;
      const json::Value* kind = j->Find("kind");
      const json::Value* code = j->Find("code");
      if (!kind || !kind->is_string()) continue;
      const std::string& k = kind->string();
      const bool ok_code = code && code->is_string() && code->string() == "OK";
      if (k == "activation") v.last_activation = line;
      if (k == "rejection" || k == "error" || k == "state_fallback" ||
          (k == "materialisation" && !ok_code)) {
        v.last_error = line;
      }
    }
  }
  v.spool_pending = ListSpool(config.spool_dir, 1000);

#ifdef EDICT_AGENT_PULL
  std::set<std::string> shown;
  auto saved = [&](const std::string& blob) -> std::optional<transport::pull::SourceStatus> {
    auto bytes = store->Read(blob);
    if (!bytes.ok()) return std::nullopt;
    auto r = transport::pull::SourceStatus::FromJson(*bytes);
    if (!r.ok()) return std::nullopt;
    return *std::move(r);
  };
  for (const PullSourceSpec& spec : config.sources) {
    const std::string blob = SourceStatusBlob(spec.url);
    if (!shown.insert(blob).second) continue;
    std::optional<transport::pull::SourceStatus> st = saved(blob);
    if (!st || st->url != spec.url) {
      st = transport::pull::SourceStatus{};
      st->url = spec.url;
    }
    st->name = spec.name;
    v.sources.push_back(st->ToJson());
  }
  for (const std::string& blob : ListSourceBlobs(config.state_dir)) {
    if (!shown.insert(blob).second) continue;
    if (auto st = saved(blob)) v.sources.push_back(st->ToJson());
  }
#endif
  return v;
}

namespace {
std::string Time(int64_t t) {
  if (t == 0) return "-";
  return transport::Rfc3339(t);
}
}  // namespace

std::string RenderStatusText(const AgentConfig& config, const StatusView& v) {
  const transport::ActiveStateInfo& i = v.state->info();
  std::string out;
  absl::StrAppend(&out, "state dir:       ", config.state_dir, "\n");
  if (i.source == transport::ActiveSource::kDefaults) {
    absl::StrAppend(&out, "active policy:   catalogue defaults (no verified bundle)\n");
  } else {
    absl::StrAppend(&out, "active serial:   ", i.serial, " (",
                    transport::ActiveSourceName(i.source), " generation)\n");
    absl::StrAppend(&out, "bundle digest:   ", i.digest_hex, "\n");
    absl::StrAppend(&out, "issued / expires: ", Time(i.issued_at), " / ", Time(i.expires_at), "\n");
    absl::StrAppend(&out, "activated at:    ", Time(i.activated_at), "\n");
  }
  absl::StrAppend(&out, "trust version:   ", i.trust_version, "\n");
  absl::StrAppend(&out, "last serial:     ", i.last_serial, " (rollback epoch ", i.rollback_epoch,
                  ")\n");
  for (const auto& p : i.problems) absl::StrAppend(&out, "problem:         ", p, "\n");
  absl::StrAppend(&out, "last activation: ", v.last_activation.empty() ? "-" : v.last_activation,
                  "\n");
  absl::StrAppend(&out, "last error:      ", v.last_error.empty() ? "-" : v.last_error, "\n");
  absl::StrAppend(&out, "spool pending:   ", v.spool_pending.size(), "\n");
  absl::StrAppend(&out, "catalogues:      built-in ", v.state->catalogs().builtin_version(), ", ",
                  v.catalogs.size(), " product catalogue(s) from ",
                  config.catalog_dirs.empty() ? "-" : absl::StrJoin(config.catalog_dirs, ", "),
                  "\n");
  for (const LoadedCatalog& c : v.catalogs) {
    absl::StrAppend(&out, "catalogue:       ", c.product, " version ", c.version, " hash ",
                    catalogs::FormatHash(c.hash), " ", ports::EscapeForDisplay(c.file), "\n");
  }
  for (const std::string& e : v.catalog_errors) {
    absl::StrAppend(&out, "catalogue error: ", ports::EscapeForDisplay(e), "\n");
  }
  for (const std::string& e : v.context_errors) {
    absl::StrAppend(&out, "context error:   ", ports::EscapeForDisplay(e), "\n");
  }
#ifdef EDICT_AGENT_PULL
  for (const std::string& j : v.sources) {
    auto st = transport::pull::SourceStatus::FromJson(j);
    if (!st.ok()) continue;
    absl::StrAppend(&out, "source:          ", st->name == st->url ? "" : st->name + " ", st->url,
                    "\n");
    absl::StrAppend(&out, "  last result:   ", st->last_result);
    if (st->http_status != 0) absl::StrAppend(&out, " (HTTP ", st->http_status, ")");
    absl::StrAppend(&out, " at ", Time(st->last_attempt), ", last success ", Time(st->last_success),
                    ", ", st->consecutive_failures, " consecutive failure(s)\n");
    absl::StrAppend(&out, "  etag:          ", st->etag.empty() ? "-" : st->etag, ", ",
                    st->bytes_received, " bytes received last poll, index serial ",
                    st->index_serial, "\n");
    if (!st->last_error.empty()) absl::StrAppend(&out, "  last error:    ", st->last_error, "\n");
  }
#endif
  return out;
}

std::string RenderStatusJson(const AgentConfig& config, const StatusView& v) {
  const transport::ActiveStateInfo& i = v.state->info();
  std::vector<std::string> problems;
  for (const auto& p : i.problems) problems.push_back(json::Quote(p));
  std::vector<std::string> keys;
  for (const auto& k : i.signer_key_ids) keys.push_back(json::Quote(k));
  std::string out = "{";
  absl::StrAppend(&out, "\"state_dir\":", json::Quote(config.state_dir));
  absl::StrAppend(&out,
                  ",\"source\":", json::Quote(std::string(transport::ActiveSourceName(i.source))));
  absl::StrAppend(&out, ",\"serial\":", i.serial);
  absl::StrAppend(&out, ",\"trust_version\":", i.trust_version);
  absl::StrAppend(&out, ",\"last_serial\":", i.last_serial);
  absl::StrAppend(&out, ",\"rollback_epoch\":", i.rollback_epoch);
  absl::StrAppend(&out, ",\"time_floor\":", i.time_floor);
  absl::StrAppend(&out, ",\"catalog_version\":", i.catalog_version);
  absl::StrAppend(&out, ",\"issued_at\":", i.issued_at);
  absl::StrAppend(&out, ",\"expires_at\":", i.expires_at);
  absl::StrAppend(&out, ",\"activated_at\":", i.activated_at);
  absl::StrAppend(&out, ",\"digest\":", json::Quote(i.digest_hex));
  absl::StrAppend(&out, ",\"signer_key_ids\":[", absl::StrJoin(keys, ","), "]");
  absl::StrAppend(&out, ",\"skipped_rules\":", i.skipped_rules);
  absl::StrAppend(&out, ",\"problems\":[", absl::StrJoin(problems, ","), "]");
  absl::StrAppend(&out,
                  ",\"last_activation\":", v.last_activation.empty() ? "null" : v.last_activation);
  absl::StrAppend(&out, ",\"last_error\":", v.last_error.empty() ? "null" : v.last_error);
  absl::StrAppend(&out, ",\"spool_pending\":", v.spool_pending.size());
  absl::StrAppend(&out, ",\"sources\":[", absl::StrJoin(v.sources, ","), "]");
  std::vector<std::string> cats, dirs, errors;
  for (const LoadedCatalog& c : v.catalogs) {
    cats.push_back(absl::StrCat("{\"product\":", json::Quote(c.product), ",\"version\":", c.version,
                                ",\"hash\":", json::Quote(catalogs::FormatHash(c.hash)),
                                ",\"file\":", json::Quote(c.file), "}"));
  }
  for (const std::string& d : config.catalog_dirs) dirs.push_back(json::Quote(d));
  for (const std::string& e : v.catalog_errors) errors.push_back(json::Quote(e));
  absl::StrAppend(&out, ",\"catalog_dirs\":[", absl::StrJoin(dirs, ","), "]");
  absl::StrAppend(&out, ",\"catalogs\":[", absl::StrJoin(cats, ","), "]");
  absl::StrAppend(&out, ",\"catalog_errors\":[", absl::StrJoin(errors, ","), "]");
  std::vector<std::string> context_errors;
  for (const std::string& e : v.context_errors) context_errors.push_back(json::Quote(e));
  absl::StrAppend(&out, ",\"context_errors\":[", absl::StrJoin(context_errors, ","), "]");
  out += "}";
  return out;
}

}  // namespace edict::agent
