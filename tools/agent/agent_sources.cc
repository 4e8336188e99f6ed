// Pull sources (transport/pull; not in the Windows build): creating them from the config
// with their saved status, polling and offering what they fetched, and where that status
// is saved in the state directory.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ports/text.h"
#include "tools/agent/agent.h"
#include "tools/agent/agent_internal.h"
#include "tools/agent/platform.h"
#include "transport/keys.h"
#ifdef EDICT_AGENT_PULL
#include "transport/pull/errors.h"
#include "transport/pull/source.h"
#endif

namespace edict::agent {

using internal::AsBytes;

namespace internal {

std::vector<std::string> ListSourceBlobs(const std::string& state_dir) {
  std::vector<std::string> out;
  for (const std::string& name : platform::ListDir(state_dir)) {
    if (name.size() != 21 || name.rfind("pull-", 0) != 0) continue;
    bool hex = true;
    for (size_t i = 5; i < name.size(); ++i) {
      hex = hex && absl::ascii_isxdigit(static_cast<unsigned char>(name[i]));
    }
    if (hex) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace internal

std::string SourceStatusBlob(const std::string& url) {
  const transport::Digest d = transport::Sha256::Hash(AsBytes(url));
  return absl::StrCat("pull-", transport::Hex(transport::Bytes(d.data(), 8)));
}

bool PullSupported() {
#ifdef EDICT_AGENT_PULL
  return true;
#else
  return false;
#endif
}

// ---- Pull sources ---------------------------------------------------------------------------

#ifdef EDICT_AGENT_PULL
absl::Status Agent::WireSources() {
  namespace pull = transport::pull;
  for (const PullSourceSpec& spec : config_.sources) {
    pull::SourceConfig sc;
    sc.name = spec.name;
    sc.index_url = spec.url;
    sc.fetch.tls.ca_file = spec.ca_file;
    for (const auto& pin : spec.pins) sc.fetch.tls.spki_pins.push_back(pin);
    sc.fetch.tls.pins_only = spec.pins_only;
    sc.fetch.allow_http = spec.allow_http;
    sc.max_bundle_bytes = std::min(sc.max_bundle_bytes, config_.max_bundle_bytes);
    sc.max_trust_bytes = std::min(sc.max_trust_bytes, config_.max_trust_bytes);
    sc.schedule.interval = absl::Seconds(config_.poll_interval_seconds);
    sc.schedule.jitter = absl::Seconds(config_.poll_jitter_seconds);
    sc.schedule.initial_splay = absl::Seconds(config_.poll_splay_seconds);
    sc.audit = audit_.get();
    auto source = pull::PullSource::Create(sc);
    if (!source.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("source ", spec.name, " (", spec.url, "): ", source.status().message()));
    }
    auto saved = state_->Read(SourceStatusBlob(spec.url));
    if (saved.ok()) {
      auto record = pull::SourceStatus::FromJson(*saved);
      if (record.ok()) (*source)->Restore(*record);
    }
    sources_.push_back(*std::move(source));
  }
  return absl::OkStatus();
}

void Agent::StartSources() {
  const transport::ActiveStateInfo info = activation_->Info();
  const absl::Duration mono = clock_->Monotonic();
  for (auto& s : sources_) {
    if (s->status().index_serial > info.serial) s->Forget();
    s->NoteActive(info.serial, info.trust_version);
    s->StartAt(mono);
  }
}

std::string Agent::PollOne(size_t i, bool* ok) {
  namespace pull = transport::pull;
  pull::PullSource& s = *sources_[i];
  pull::ActivationOfferSink sink(activation_.get());
  std::optional<transport::OfferResult> trust, bundle;
  const pull::PollResult r =
      s.PollAndOffer(clock_->Now(), clock_->Monotonic(), sink, &trust, &bundle);
  const pull::SourceStatus st = s.status();
  if (absl::Status w = state_->Write(SourceStatusBlob(s.config().index_url), st.ToJson());
      !w.ok()) {
    Audit(ports::AuditKind::kError, "STATE_IO",
          absl::StrCat("pull source ", st.name, ": status not saved: ", w.message()));
  }
  const std::string& url = s.config().index_url;
  std::string line = st.name == url ? absl::StrCat("source ", url, ": ", r.code)
                                    : absl::StrCat("source ", st.name, " (", url, "): ", r.code);
  if (!r.status.ok()) absl::StrAppend(&line, " ", r.status.message());
  absl::StrAppend(&line, "; HTTP ", r.http_status, ", ", r.requests, " request(s), ",
                  r.bytes_received, " bytes received");
  *ok = r.status.ok();
  auto offer = [&](const char* what, const std::optional<transport::OfferResult>& o) {
    if (!o) return;
    absl::StrAppend(&line, "; ", what, " ", o->serial, ": ", o->activated ? "activated" : o->code);
    if (!o->activated) {
      absl::StrAppend(&line, " (", o->status.message(), ")");
      *ok = false;
    }
  };
  offer("trust version", trust);
  offer("bundle serial", bundle);
  return ports::EscapeForDisplay(line);
}
#else
absl::Status Agent::WireSources() {
  if (!config_.sources.empty()) {
    return absl::InvalidArgumentError("pull sources are not supported in this build");
  }
  return absl::OkStatus();
}
void Agent::StartSources() {}
std::string Agent::PollOne(size_t, bool* ok) {
  *ok = false;
  return "";
}
#endif

std::vector<std::string> Agent::PollSourcesNow(bool* all_ok) {
  std::vector<std::string> lines;
  *all_ok = true;
  for (size_t i = 0; i < sources_.size(); ++i) {
    bool ok = false;
    lines.push_back(PollOne(i, &ok));
    *all_ok = *all_ok && ok;
  }
  return lines;
}

}  // namespace edict::agent
