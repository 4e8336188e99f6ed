#include "transport/pull/source.h"

#include <algorithm>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "policy/compiler/json.h"
#include "transport/pull/errors.h"
#include "transport/pull/url.h"

namespace edict::transport::pull {
namespace {

std::string DigestHex(const Digest& d) { return Hex(Bytes(d.data(), d.size())); }

}  // namespace

std::string SourceStatus::ToJson() const {
  using json::Quote;
  return absl::StrCat("{\"name\":", Quote(name), ",\"url\":", Quote(url),
                      ",\"last_attempt\":", last_attempt, ",\"last_success\":", last_success,
                      ",\"last_change\":", last_change, ",\"last_result\":", Quote(last_result),
                      ",\"last_error\":", Quote(last_error), ",\"http_status\":", http_status,
                      ",\"etag\":", Quote(etag), ",\"last_modified\":", Quote(last_modified),
                      ",\"bytes_received\":", bytes_received, ",\"bytes_total\":", bytes_total,
                      ",\"polls\":", polls, ",\"consecutive_failures\":", consecutive_failures,
                      ",\"bundle_sha256\":", Quote(bundle_sha256),
                      ",\"trust_sha256\":", Quote(trust_sha256), ",\"index_serial\":", index_serial,
                      "}");
}

absl::StatusOr<SourceStatus> SourceStatus::FromJson(absl::string_view text) {
  if (text.size() > 64 << 10) return absl::InvalidArgumentError("status record too large");
  auto doc = json::Parse(std::string_view(text.data(), text.size()));
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) {
    return absl::InvalidArgumentError("status record is not an object");
  }
  SourceStatus s;
  auto str = [&](const char* key, std::string* out) {
    const json::Value* v = doc->Find(key);
    if (v && v->is_string()) *out = v->string();
  };
  auto num = [&](const char* key, auto* out) {
    const json::Value* v = doc->Find(key);
    if (v && v->is_integer() && v->integer() >= 0) {
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(v->integer());
    }
  };
  str("name", &s.name);
  str("url", &s.url);
  num("last_attempt", &s.last_attempt);
  num("last_success", &s.last_success);
  num("last_change", &s.last_change);
  str("last_result", &s.last_result);
  str("last_error", &s.last_error);
  num("http_status", &s.http_status);
  str("etag", &s.etag);
  str("last_modified", &s.last_modified);
  num("bytes_received", &s.bytes_received);
  num("bytes_total", &s.bytes_total);
  num("polls", &s.polls);
  num("consecutive_failures", &s.consecutive_failures);
  str("bundle_sha256", &s.bundle_sha256);
  str("trust_sha256", &s.trust_sha256);
  num("index_serial", &s.index_serial);
  return s;
}

PullSource::PullSource(const SourceConfig& config, std::unique_ptr<Fetcher> fetcher, Rng* rng)
    : config_(config),
      fetcher_(std::move(fetcher)),
      own_rng_(rng ? nullptr : NewSystemRng()),
      scheduler_(config.schedule, rng ? rng : own_rng_.get()) {
  status_.name = config.name.empty() ? config.index_url : config.name;
  status_.url = config.index_url;
  scheduler_.Start(absl::ZeroDuration());
}

absl::StatusOr<std::unique_ptr<PullSource>> PullSource::Create(const SourceConfig& config,
                                                               Rng* rng) {
  auto url = ParseUrl(config.index_url);
  if (!url.ok()) return url.status();
  if (!url->https() && !config.fetch.allow_http) {
    return MakePullError(
        PullError::kInsecure,
        absl::StrCat(config.index_url, ": plain HTTP needs allow_http for this source"));
  }
  auto fetcher = Fetcher::Create(config.fetch);
  if (!fetcher.ok()) return fetcher.status();
  return std::unique_ptr<PullSource>(new PullSource(config, *std::move(fetcher), rng));
}

void PullSource::Restore(const SourceStatus& saved) {
  if (saved.url != config_.index_url) return;
  std::string name = status_.name;
  status_ = saved;
  status_.name = name;
}

void PullSource::Forget() {
  status_.etag.clear();
  status_.last_modified.clear();
  status_.bundle_sha256.clear();
  status_.trust_sha256.clear();
}

void PullSource::Account(const FetchResult& f, PollResult* r) {
  ++r->requests;
  r->bytes_sent += f.wire_sent;
  r->bytes_received += f.wire_received;
  r->http_status = f.http_status;
  if (f.retry_after) r->retry_after = f.retry_after;
}

absl::Status PullSource::FetchDocument(const Url& index_url, const IndexEntry& entry, size_t cap,
                                       absl::Time wall, PollResult* r, std::vector<uint8_t>* out) {
  auto url = ResolveReference(index_url, entry.path);
  if (!url.ok()) return MakePullError(PullError::kIndex, url.status().message());
  FetchRequest req;
  req.url = url->ToString();
  req.max_body_bytes = std::min<uint64_t>(entry.size, cap);
  FetchResult f = fetcher_->Get(req, wall);
  Account(f, r);
  if (!f.status.ok()) return f.status;
  if (f.not_modified) {
    return MakePullError(PullError::kHttpStatus, absl::StrCat(req.url, ": unexpected 304"));
  }
  if (f.body.size() != entry.size) {
    return MakePullError(
        PullError::kSizeMismatch,
        absl::StrCat(req.url, ": ", f.body.size(), " bytes; the index says ", entry.size));
  }
  Bytes bytes(reinterpret_cast<const uint8_t*>(f.body.data()), f.body.size());
  Digest d = Sha256::Hash(bytes);
  if (d != entry.sha256) {
    return MakePullError(PullError::kDigest,
                         absl::StrCat(req.url, ": sha256 ", DigestHex(d), "; the index says ",
                                      DigestHex(entry.sha256)));
  }
  out->assign(bytes.begin(), bytes.end());
  return absl::OkStatus();
}

PollResult PullSource::Poll(absl::Time wall, absl::Duration mono) {
  PollResult r;
  ++status_.polls;
  status_.last_attempt = absl::ToUnixSeconds(wall);
  auto run = [&]() -> absl::Status {
    auto index_url = ParseUrl(config_.index_url);
    if (!index_url.ok()) return index_url.status();
    FetchRequest req;
    req.url = config_.index_url;
    req.max_body_bytes = kMaxIndexBytes;
    req.if_none_match = status_.etag;
    req.if_modified_since = status_.etag.empty() ? status_.last_modified : "";
    FetchResult f = fetcher_->Get(req, wall);
    Account(f, &r);
    if (!f.status.ok()) return f.status;
    if (f.not_modified) {
      r.code = kCodeNotModified;
      return absl::OkStatus();
    }
    IndexLimits limits;
    limits.max_bundle_bytes = config_.max_bundle_bytes;
    limits.max_trust_bytes = config_.max_trust_bytes;
    auto index = ParseIndex(f.body, limits);
    if (!index.ok()) return index.status();
    // Redirects: documents are relative to where the index really was.
    auto base = ParseUrl(f.final_url);
    if (!base.ok()) return base.status();
    status_.index_serial = index->bundle.serial;
    r.bundle_serial = index->bundle.serial;
    std::vector<uint8_t> trust, bundle;
    // Skip what was handed out already, and what the index itself says is not newer than
    // the active state (advisory numbers: trusting them can only delay an update, which a
    // server able to lie could do anyway by serving an old index).
    bool new_trust = index->trust && DigestHex(index->trust->sha256) != status_.trust_sha256 &&
                     !(index->trust->serial != 0 && index->trust->serial <= known_trust_version_);
    bool new_bundle = DigestHex(index->bundle.sha256) != status_.bundle_sha256 &&
                      !(index->bundle.serial != 0 && index->bundle.serial <= active_serial_);
    if (new_trust) {
      absl::Status s =
          FetchDocument(*base, *index->trust, config_.max_trust_bytes, wall, &r, &trust);
      if (!s.ok()) return s;
    }
    if (new_bundle) {
      absl::Status s =
          FetchDocument(*base, index->bundle, config_.max_bundle_bytes, wall, &r, &bundle);
      if (!s.ok()) return s;
    }
    // Everything checked out: hand the documents over and advance the validators.
    if (new_trust) {
      r.trust = std::move(trust);
      status_.trust_sha256 = DigestHex(index->trust->sha256);
    }
    if (new_bundle) {
      r.bundle = std::move(bundle);
      status_.bundle_sha256 = DigestHex(index->bundle.sha256);
    }
    status_.etag = f.etag;
    status_.last_modified = f.last_modified;
    r.code = (new_trust || new_bundle) ? kCodeFetched : kCodeUnchanged;
    return absl::OkStatus();
  };
  r.status = run();
  status_.bytes_received = r.bytes_received;
  status_.bytes_total += r.bytes_received;
  status_.http_status = r.http_status;
  if (r.status.ok()) {
    status_.last_success = status_.last_attempt;
    if (r.trust || r.bundle) status_.last_change = status_.last_attempt;
    status_.consecutive_failures = 0;
  } else {
    PullError e = PullErrorOf(r.status);
    r.code = std::string(e == PullError::kCount ? "PULL_UNKNOWN" : PullErrorName(e));
    status_.last_error = std::string(r.status.message());
    ++status_.consecutive_failures;
    if (config_.audit) {
      ports::AuditEvent ev;
      ev.time = wall;
      ev.kind = ports::AuditKind::kError;
      ev.code = r.code;
      ev.message = absl::StrCat("pull source ", status_.name, ": ",
                                e == PullError::kCount ? "failed" : PullErrorAuditText(e), " (",
                                r.status.message(), "); the active policy stays");
      config_.audit->Record(ev).IgnoreError();
    }
  }
  status_.last_result = r.code;
  scheduler_.Record(mono, r.status.ok(), r.retry_after);
  return r;
}

PollResult PullSource::PollAndOffer(absl::Time wall, absl::Duration mono, OfferSink& sink,
                                    std::optional<OfferResult>* trust_offer,
                                    std::optional<OfferResult>* bundle_offer) {
  PollResult r = Poll(wall, mono);
  bool retry = false;
  if (r.trust) {
    OfferResult o = sink.OfferTrust(*r.trust);
    if (o.retryable) {
      status_.trust_sha256.clear();
      retry = true;
    }
    if (o.activated) known_trust_version_ = std::max(known_trust_version_, o.serial);
    if (trust_offer) *trust_offer = o;
  }
  if (r.bundle) {
    OfferResult o = sink.Offer(*r.bundle);
    if (o.retryable) {
      status_.bundle_sha256.clear();
      retry = true;
    }
    if (o.activated) active_serial_ = std::max(active_serial_, o.serial);
    if (bundle_offer) *bundle_offer = o;
  }
  if (retry) {  // fetch the index again next time even if it is unchanged
    status_.etag.clear();
    status_.last_modified.clear();
  }
  return r;
}

}  // namespace edict::transport::pull
