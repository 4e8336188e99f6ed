// One pull source: an index URL polled on a schedule, the documents it names fetched
// and checked against it, and a status record for `edict-agent status`.
//
// Poll(now):
//   1. GET the index (cap kMaxIndexBytes) with If-None-Match / If-Modified-Since from the
//      last 200. 304: done ("NOT_MODIFIED"; one small response, nothing else fetched).
//   2. Parse it (PULL_INDEX; sizes above the transport caps are PULL_TOO_LARGE before any
//      download).
//   3. For the trust document, then the bundle: skip it when its SHA-256 equals the one
//      last handed out (so a document transport refused is not downloaded again every poll,
//      and an unchanged bundle behind a changed index costs nothing); otherwise GET it with
//      the index's size as the cap, and require exactly that size (PULL_SIZE_MISMATCH) and
//      that SHA-256 (PULL_DIGEST) before returning the bytes.
//   Any failure: the status says which (PULL_*), nothing is returned for offering, the
//   ETag is not advanced (the next poll fetches the index again), and the scheduler backs
//   off. The active policy is untouched: only verified documents reach transport, and
//   transport re-checks everything anyway (signatures, rollback, freeze, target).
//
// Thread-compatible: one thread polls; status() returns a copy.
#ifndef EDICT_TRANSPORT_PULL_SOURCE_H_
#define EDICT_TRANSPORT_PULL_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ports/audit.h"
#include "transport/activation.h"
#include "transport/keys.h"
#include "transport/pull/fetcher.h"
#include "transport/pull/index.h"
#include "transport/pull/scheduler.h"

namespace edict::transport::pull {

struct SourceConfig {
  std::string name;       // for audit lines and status ("" : the URL)
  std::string index_url;  // https://cdn.example.com/edict/edict-index.json
  FetchOptions fetch;
  size_t max_bundle_bytes = size_t{4} << 20;  // never above transport's Limits
  size_t max_trust_bytes = size_t{512} << 10;
  ScheduleOptions schedule;
  ports::AuditSink* audit = nullptr;  // optional: every failed poll is audited (kError)
};

// Stable result codes besides the PULL_* names.
inline constexpr char kCodeFetched[] = "OK";                // new document(s) returned
inline constexpr char kCodeNotModified[] = "NOT_MODIFIED";  // index 304
inline constexpr char kCodeUnchanged[] = "UNCHANGED";       // index 200, nothing new named

struct PollResult {
  absl::Status status;                         // OK or a PULL_* error
  std::string code;                            // kCode* above or PullErrorName
  std::optional<std::vector<uint8_t>> trust;   // offer first (OfferTrust)
  std::optional<std::vector<uint8_t>> bundle;  // then this (Offer)
  uint64_t bundle_serial = 0;                  // as the index claims (advisory)
  int http_status = 0;                         // of the last request
  std::optional<absl::Duration> retry_after;
  int requests = 0;
  uint64_t bytes_sent = 0;  // on the wire, all requests of this poll
  uint64_t bytes_received = 0;
};

// What `edict-agent status` shows per source; serialisable so it survives restarts (the
// ETag and digests then spare the first poll after a restart).
struct SourceStatus {
  std::string name;
  std::string url;
  int64_t last_attempt = 0;           // wall time, seconds since the Unix epoch; 0: never
  int64_t last_success = 0;           // last poll that ended OK / NOT_MODIFIED / UNCHANGED
  int64_t last_change = 0;            // last poll that returned a document
  std::string last_result = "NEVER";  // code of the last poll
  std::string last_error;             // message of the last failed poll ("" if none yet)
  int http_status = 0;
  std::string etag;             // of the index
  std::string last_modified;    // of the index
  uint64_t bytes_received = 0;  // last poll
  uint64_t bytes_total = 0;     // since the record was created
  uint64_t polls = 0;
  int consecutive_failures = 0;
  std::string bundle_sha256;  // hex of the last bundle handed out
  std::string trust_sha256;   // hex of the last trust document handed out
  uint64_t index_serial = 0;  // bundle serial named by the last index seen

  std::string ToJson() const;  // one JSON object, no newline
  static absl::StatusOr<SourceStatus> FromJson(absl::string_view json);
};

// Where fetched documents go (the agent: transport::Activation). Tests use fakes.
class OfferSink {
 public:
  virtual ~OfferSink() = default;
  virtual OfferResult OfferTrust(absl::Span<const uint8_t> document) = 0;
  virtual OfferResult Offer(absl::Span<const uint8_t> bundle) = 0;
};

// Forwards to an Activation (not owned).
class ActivationOfferSink : public OfferSink {
 public:
  explicit ActivationOfferSink(Activation* activation) : activation_(activation) {}
  OfferResult OfferTrust(absl::Span<const uint8_t> d) override {
    return activation_->OfferTrust(d);
  }
  OfferResult Offer(absl::Span<const uint8_t> b) override { return activation_->Offer(b); }

 private:
  Activation* activation_;
};

class PullSource {
 public:
  // Validates the URL (PULL_URL, PULL_INSECURE) and TLS material (PULL_TLS_CONFIG).
  // `rng` (not owned; may be null: a system RNG) drives the scheduler's jitter.
  static absl::StatusOr<std::unique_ptr<PullSource>> Create(const SourceConfig& config,
                                                            Rng* rng = nullptr);

  // Restores ETag, Last-Modified and digests from a saved record (same URL only).
  void Restore(const SourceStatus& saved);

  // One poll as described at the top of this file. `wall` is for the status record and
  // HTTP dates; `mono` (monotonic) drives the scheduler.
  PollResult Poll(absl::Time wall, absl::Duration mono);

  // Poll, then offer the trust document (if any) and the bundle (if any) to `sink`. A
  // retryable OfferResult (disk full, ...) forgets that document's digest so the next poll
  // fetches it again. Returns the poll result; the offers' results go to *trust_offer /
  // *bundle_offer when not null.
  PollResult PollAndOffer(absl::Time wall, absl::Duration mono, OfferSink& sink,
                          std::optional<OfferResult>* trust_offer = nullptr,
                          std::optional<OfferResult>* bundle_offer = nullptr);

  // Scheduling (PollScheduler; Start() is called by Create with mono = 0 unless StartAt).
  void StartAt(absl::Duration mono) { scheduler_.Start(mono); }
  bool Due(absl::Duration mono) const { return scheduler_.Due(mono); }
  absl::Duration Wait(absl::Duration mono) const { return scheduler_.Wait(mono); }

  // What is active already (the agent calls this after Start and it is kept up to date by
  // PollAndOffer): documents the index says are not newer are not downloaded, so a restart
  // does not re-offer (and re-audit as a replay) the active bundle.
  void NoteActive(uint64_t bundle_serial, uint64_t trust_version) {
    active_serial_ = bundle_serial;
    known_trust_version_ = trust_version;
  }

  // Forget the index ETag and the digests handed out (e.g. after the agent's state was
  // reset): the next poll downloads everything again.
  void Forget();

  SourceStatus status() const { return status_; }
  const SourceConfig& config() const { return config_; }

 private:
  PullSource(const SourceConfig& config, std::unique_ptr<Fetcher> fetcher, Rng* rng);
  absl::Status FetchDocument(const Url& index_url, const IndexEntry& entry, size_t cap,
                             absl::Time wall, PollResult* r, std::vector<uint8_t>* out);
  void Account(const FetchResult& f, PollResult* r);

  SourceConfig config_;
  std::unique_ptr<Fetcher> fetcher_;
  std::unique_ptr<Rng> own_rng_;
  PollScheduler scheduler_;
  SourceStatus status_;
  uint64_t active_serial_ = 0;
  uint64_t known_trust_version_ = 0;
};

}  // namespace edict::transport::pull

#endif  // EDICT_TRANSPORT_PULL_SOURCE_H_
