// Materialising the active policy into the native stores (Activation::Impl::Materialise),
// and the native-store failure record (blob kNativeFailedBlobName) it keeps while a store
// cannot be written, which Start and LoadActiveState read back.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "transport/activation.h"
#include "transport/activation_impl.h"
#include "transport/activation_internal.h"

namespace edict::transport {

std::vector<NativeFailure> ParseNativeFailures(absl::string_view text) {
  std::vector<NativeFailure> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits('\t', 3));
    NativeFailure n;
    if (f.size() != 4 || !absl::SimpleAtoi(f[0], &n.since)) continue;
    n.serial = std::string(f[1]);
    n.store = std::string(f[2]);
    n.reason = std::string(f[3]);
    out.push_back(std::move(n));
  }
  return out;
}

absl::Status Activation::Impl::Materialise() {
  const Context ctx = DeviceCtx();
  absl::Status first;
  std::vector<std::string> done, failed, record;
  const uint64_t serial = active_->info().serial;
  for (const NativeTarget& t : o_.native) {
    std::vector<ports::NativePolicyEntry> entries =
        NativeEntriesFor(active_->snapshot(), ctx, t.key_style);
    absl::Status s = t.store->Apply(entries);
    if (!s.ok()) {
      Audit(ports::AuditKind::kMaterialisation, kCodeNativeStore,
            absl::StrCat(t.store->Name(), ": ", s.message(), " (policy serial ", serial,
                         " is NOT enforced there; the previous content stays; retried)"),
            serial);
      if (first.ok()) first = s;
      failed.push_back(absl::StrCat(t.store->Name(), ": ", s.message()));
      std::string reason(s.message());
      std::replace(reason.begin(), reason.end(), '\n', ' ');
      std::replace(reason.begin(), reason.end(), '\t', ' ');
      const int64_t since = failing_since_.emplace(t.store->Name(), Now()).first->second;
      record.push_back(absl::StrCat(since, "\t", serial, "\t", t.store->Name(), "\t", reason));
      continue;
    }
    failing_since_.erase(t.store->Name());
    done.push_back(absl::StrCat(t.store->Name(), " (", entries.size(), " entries)"));
  }
  // Remember the failure durably (for `status`), or forget a remembered one.
  if (!failed.empty()) {
    if (absl::Status w = o_.state->Write(kNativeFailedBlobName, absl::StrJoin(record, "\n"));
        !w.ok()) {
      Audit(ports::AuditKind::kError, kCodeStateIo,
            absl::StrCat("cannot record the native store failure: ", w.message()));
    }
    native_failed_stored_ = true;
  } else if (native_failed_stored_) {
    if (o_.state->Remove(kNativeFailedBlobName).ok()) native_failed_stored_ = false;
  }
  {
    absl::MutexLock l(&mu_);
    native_error_ = failed.empty()
                        ? absl::OkStatus()
                        : absl::Status(first.code(), absl::StrCat(kCodeNativeStore, ": ",
                                                                  absl::StrJoin(failed, "; ")));
  }
  if (o_.native.empty()) return absl::OkStatus();
  if (!done.empty()) {
    Audit(ports::AuditKind::kMaterialisation, kCodeOk,
          absl::StrCat("native stores hold exactly the effective policy of serial ", serial, ": ",
                       absl::StrJoin(done, ", ")),
          serial);
  }
  return first;
}

}  // namespace edict::transport
