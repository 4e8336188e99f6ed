// libedict: the C API of include/edict/edict.h over the kernel, transport and (when the
// agent's activation code is built) the read-only view of the agent's state.
//
// Rules kept here:
//  * Every exported function is noexcept (EDICT_NOEXCEPT): no exception crosses the ABI. We
//    catch nothing and call nothing that throws on purpose; our own allocations use
//    std::nothrow and report EDICT_ERR_NO_MEMORY. An allocation failure inside a library we
//    call while opening (absl, std::vector in transport) ends the process (std::terminate)
//    instead of unwinding through a C caller.
//  * Queries convert the C context on the stack and call const Snapshot methods: no
//    allocation, no lock, no I/O.
//
// The code is split along its jobs (internal.h): this file opens and closes handles and
// holds the built-in catalogue lookups; query.cc the queries; catalogs.cc product
// catalogues and context builders.
#include "edict/edict.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "kernel/kernel.h"
#include "policy/catalog.h"
#include "tools/libedict/internal.h"
#include "transport/bundle.h"
#include "transport/errors.h"
#include "transport/trust.h"

#if defined(EDICT_CAPI_HAVE_ACTIVATION)
#include "ports/state_store.h"
#include "transport/activation.h"
#endif

namespace edict::capi {

void CopyText(std::string_view text, char* buf, size_t buf_size) {
  if (buf == nullptr || buf_size == 0) return;
  const size_t n = text.size() < buf_size - 1 ? text.size() : buf_size - 1;
  if (n > 0) std::memcpy(buf, text.data(), n);
  buf[n] = '\0';
}

edict_status Fail(edict_error* error, edict_status status, int verify_error,
                  std::string_view message) {
  if (error != nullptr) {
    error->status = status;
    error->verify_error = verify_error;
    CopyText(message, error->message, sizeof(error->message));
  }
  return status;
}

edict_status ClearError(edict_error* error) {
  if (error != nullptr) {
    error->status = EDICT_OK;
    error->verify_error = 0;
    error->message[0] = '\0';
  }
  return EDICT_OK;
}

edict_status FromCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return EDICT_OK;
    case absl::StatusCode::kNotFound:
      return EDICT_ERR_NOT_FOUND;
    case absl::StatusCode::kPermissionDenied:
      return EDICT_ERR_PERMISSION;
    case absl::StatusCode::kDataLoss:
      return EDICT_ERR_CORRUPT;
    case absl::StatusCode::kInvalidArgument:
      return EDICT_ERR_INVALID_ARGUMENT;
    case absl::StatusCode::kResourceExhausted:
      return EDICT_ERR_NO_MEMORY;
    case absl::StatusCode::kUnavailable:
      return EDICT_ERR_IO;
    case absl::StatusCode::kUnimplemented:
      return EDICT_ERR_UNSUPPORTED;
    default:
      return EDICT_ERR_INTERNAL;
  }
}

absl::StatusOr<std::vector<uint8_t>> ReadWholeFile(const char* path, size_t cap,
                                                   bool regular_only) {
  // O_NONBLOCK: opening a FIFO with no writer must not hang; cleared again for the reads.
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC | (regular_only ? O_NONBLOCK : 0));
  if (fd < 0) {
    const int err = errno;
    std::string message = std::string(path) + ": " + std::strerror(err);
    if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(message);
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  if (regular_only) {
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return absl::UnavailableError(std::string(path) + ": not a regular file");
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  }
  std::vector<uint8_t> out;
  uint8_t chunk[16384];
  while (out.size() <= cap) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return absl::UnavailableError(std::string(path) + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.insert(out.end(), chunk, chunk + n);
  }
  ::close(fd);
  if (out.size() > cap + 1) out.resize(cap + 1);
  return out;
}

// ---- File stamps for edict_policy_changed ----------------------------------------------

FileStamp StampOf(const char* path) {
  FileStamp s;
  struct stat st;
  if (::stat(path, &st) != 0) return s;
  s.present = true;
  s.dev = static_cast<uint64_t>(st.st_dev);
  s.ino = static_cast<uint64_t>(st.st_ino);
  s.size = static_cast<int64_t>(st.st_size);
  s.mtime_sec = static_cast<int64_t>(st.st_mtim.tv_sec);
  s.mtime_nsec = static_cast<int64_t>(st.st_mtim.tv_nsec);
  s.ctime_sec = static_cast<int64_t>(st.st_ctim.tv_sec);
  s.ctime_nsec = static_cast<int64_t>(st.st_ctim.tv_nsec);
  return s;
}

}  // namespace edict::capi

namespace {

using namespace edict::capi;  // NOLINT: this file's own helpers

// A transport status (MakeError) becomes EDICT_ERR_VERIFY with the transport error number
// (kernel activation: EDICT_ERR_ACTIVATION); anything else maps by its absl code.
edict_status FromTransport(const absl::Status& status, edict_error* error) {
  using edict::transport::Error;
  const Error e = edict::transport::ErrorOf(status);
  const std::string_view message = ToStd(status.message());
  if (e == Error::kOk) return ClearError(error);
  if (e == Error::kCount) return Fail(error, FromCode(status.code()), 0, message);
  const edict_status s = e == Error::kActivation ? EDICT_ERR_ACTIVATION : EDICT_ERR_VERIFY;
  return Fail(error, s, static_cast<int>(e), message);
}

#if defined(EDICT_CAPI_HAVE_ACTIVATION)
// The agent's StateStore, strictly read-only: the Linux store's file layout (blob `name` in
// file `name`, its previous generation in `name.prev`, ports/linux/linux_state_store.h) and
// the shared blob encoding (ports/state_store.h). OpenLinuxStateStore is not used because it
// creates the directory and removes the agent's temporary files.
class ReadOnlyStateStore final : public edict::ports::StateStore {
 public:
  explicit ReadOnlyStateStore(std::string root) : root_(std::move(root)) {}

  absl::Status Write(absl::string_view, absl::string_view) override {
    return absl::PermissionDeniedError("libedict opens the agent's state read-only");
  }
  absl::Status Remove(absl::string_view) override {
    return absl::PermissionDeniedError("libedict opens the agent's state read-only");
  }
  std::string Location() const override { return root_; }

  absl::StatusOr<std::string> Read(absl::string_view name) override {
    if (absl::Status s = edict::ports::ValidateStateBlobName(name); !s.ok()) return s;
    return ReadGeneration(name, Path(name, ""));
  }

  absl::StatusOr<edict::ports::StateRead> ReadWithFallback(absl::string_view name) override {
    if (absl::Status s = edict::ports::ValidateStateBlobName(name); !s.ok()) return s;
    return edict::ports::PickStateGeneration(
        name, ReadGeneration(name, Path(name, "")),
        [&] { return ReadGeneration(name, Path(name, ".prev")); },
        edict::ports::FallbackOn::kMissingOrDamaged);
  }

 private:
  std::string Path(absl::string_view name, const char* suffix) const {
    return root_ + "/" + std::string(name.data(), name.size()) + suffix;
  }

  static absl::StatusOr<std::string> ReadGeneration(absl::string_view name,
                                                    const std::string& path) {
    absl::StatusOr<std::vector<uint8_t>> image =
        ReadWholeFile(path.c_str(), kMaxFileBytes + edict::ports::kStateBlobHeaderSize);
    if (!image.ok()) return image.status();
    const absl::string_view bytes(reinterpret_cast<const char*>(image->data()), image->size());
    absl::StatusOr<std::string> content = edict::ports::DecodeStateBlob(name, bytes);
    if (!content.ok()) {
      return absl::DataLossError(path + ": " + std::string(content.status().message()));
    }
    return content;
  }

  std::string root_;
};
#endif  // EDICT_CAPI_HAVE_ACTIVATION

template <typename T>
bool InRange(int32_t id, const edict::Table<T>& table) {
  return id >= 0 && static_cast<size_t>(id) < table.size();
}

template <typename T>
const char* NameOf(int32_t id, const edict::Table<T>& table) {
  // Catalogue ids are string literals in the generated tables: NUL-terminated.
  return InRange(id, table) ? table[static_cast<size_t>(id)].id.data() : nullptr;
}

edict_status NewHandle(edict_policy** out) {
  *out = new (std::nothrow) edict_policy();
  return *out == nullptr ? EDICT_ERR_NO_MEMORY : EDICT_OK;
}

}  // namespace

extern "C" {

// ---- Version, status ---------------------------------------------------------------------

int edict_version(const char** str) EDICT_NOEXCEPT {
  if (str != nullptr) *str = EDICT_VERSION_STRING;
  return EDICT_VERSION_NUMBER;
}

uint32_t edict_catalog_version(void) EDICT_NOEXCEPT { return edict::catalog::kVersion; }

const char* edict_strerror(int status) EDICT_NOEXCEPT {
  switch (status) {
    case EDICT_OK:
      return "success";
    case EDICT_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case EDICT_ERR_UNKNOWN_ID:
      return "id not in this library's settings catalogue";
    case EDICT_ERR_BUFFER_TOO_SMALL:
      return "output buffer too small; the text was truncated";
    case EDICT_ERR_NOT_FOUND:
      return "file or state not found";
    case EDICT_ERR_IO:
      return "input/output error";
    case EDICT_ERR_PERMISSION:
      return "permission denied";
    case EDICT_ERR_NO_MEMORY:
      return "out of memory";
    case EDICT_ERR_CORRUPT:
      return "stored state is damaged (torn or tampered with)";
    case EDICT_ERR_VERIFY:
      return "bundle or trust document rejected";
    case EDICT_ERR_ACTIVATION:
      return "the payload is not a valid policy for this kernel";
    case EDICT_ERR_INTERNAL:
      return "internal error";
    case EDICT_ERR_UNSUPPORTED:
      return "not supported by this build";
    case EDICT_ERR_CATALOG:
      return "product catalogue rejected";
    default:
      return "unknown status";
  }
}

const char* edict_source_name(int source) EDICT_NOEXCEPT {
  switch (source) {
    case EDICT_SOURCE_DEFAULT:
      return "default";
    case EDICT_SOURCE_FIXED:
      return "fixed";
    case EDICT_SOURCE_MANDATORY:
      return "mandatory";
    case EDICT_SOURCE_USER:
      return "user";
    case EDICT_SOURCE_RECOMMENDED:
      return "recommended";
    default:
      return "unknown";
  }
}

// ---- Catalogue ------------------------------------------------------------------------------

int32_t edict_setting_id(const char* id) EDICT_NOEXCEPT {
  return id == nullptr ? -1 : edict::catalog::FindSetting(id);
}
int32_t edict_data_class_id(const char* id) EDICT_NOEXCEPT {
  return id == nullptr ? -1 : edict::catalog::FindDataClass(id);
}
int32_t edict_purpose_id(const char* id) EDICT_NOEXCEPT {
  return id == nullptr ? -1 : edict::catalog::FindPurpose(id);
}
int32_t edict_schedule_id(const char* id) EDICT_NOEXCEPT {
  return id == nullptr ? -1 : edict::catalog::FindSchedule(id);
}
int32_t edict_setting_count(void) EDICT_NOEXCEPT {
  return static_cast<int32_t>(edict::catalog::kSettings.size());
}
int32_t edict_data_class_count(void) EDICT_NOEXCEPT {
  return static_cast<int32_t>(edict::catalog::kDataClasses.size());
}
int32_t edict_purpose_count(void) EDICT_NOEXCEPT {
  return static_cast<int32_t>(edict::catalog::kPurposes.size());
}
int32_t edict_schedule_count(void) EDICT_NOEXCEPT {
  return static_cast<int32_t>(edict::catalog::kSchedules.size());
}
const char* edict_setting_name(int32_t setting) EDICT_NOEXCEPT {
  return NameOf(setting, edict::catalog::kSettings);
}
const char* edict_data_class_name(int32_t data_class) EDICT_NOEXCEPT {
  return NameOf(data_class, edict::catalog::kDataClasses);
}
const char* edict_purpose_name(int32_t purpose) EDICT_NOEXCEPT {
  return NameOf(purpose, edict::catalog::kPurposes);
}
const char* edict_schedule_name(int32_t schedule) EDICT_NOEXCEPT {
  return NameOf(schedule, edict::catalog::kSchedules);
}

int edict_setting_type(int32_t setting) EDICT_NOEXCEPT {
  if (!InRange(setting, edict::catalog::kSettings)) return -1;
  return static_cast<int>(edict::catalog::kSettings[static_cast<size_t>(setting)].type);
}

const char* edict_setting_symbol(int32_t setting, int32_t index) EDICT_NOEXCEPT {
  if (!InRange(setting, edict::catalog::kSettings)) return nullptr;
  const edict::SettingSpec& spec = edict::catalog::kSettings[static_cast<size_t>(setting)];
  if (index < 0 || index >= spec.value_count) return nullptr;
  return spec.values[index].data();
}

int32_t edict_setting_symbol_index(int32_t setting, const char* symbol) EDICT_NOEXCEPT {
  if (symbol == nullptr || !InRange(setting, edict::catalog::kSettings)) return -1;
  return edict::catalog::FindSymbol(edict::catalog::kSettings[static_cast<size_t>(setting)],
                                    symbol);
}

// ---- Context and options --------------------------------------------------------------------

void edict_context_init(edict_context* ctx) EDICT_NOEXCEPT {
  if (ctx == nullptr) return;
  std::memset(ctx, 0, sizeof(*ctx));
  ctx->struct_size = sizeof(edict_context);
}

void edict_verify_options_init(edict_verify_options* options) EDICT_NOEXCEPT {
  if (options == nullptr) return;
  std::memset(options, 0, sizeof(*options));
  options->struct_size = sizeof(edict_verify_options);
}

// ---- Opening ---------------------------------------------------------------------------------

edict_status edict_open_defaults(edict_policy** out) EDICT_NOEXCEPT {
  return edict_open_defaults_with_catalogs(nullptr, out);
}

edict_status edict_open_defaults_with_catalogs(const edict_catalogs* catalogs,
                                               edict_policy** out) EDICT_NOEXCEPT {
  if (out == nullptr) return EDICT_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  edict_policy* h = nullptr;
  if (NewHandle(&h) != EDICT_OK) return EDICT_ERR_NO_MEMORY;
  if (catalogs != nullptr && catalogs->set != nullptr) {
    // The set's own defaults, placed in an arena the handle owns.
    const edict::CatalogSet& set = *catalogs->set;
    const size_t words = (edict::Snapshot::DefaultsArenaSize(set) + sizeof(std::max_align_t) - 1) /
                         sizeof(std::max_align_t);
    h->arena.reset(new (std::nothrow) std::max_align_t[words + 1]);
    if (h->arena == nullptr) {
      delete h;
      return EDICT_ERR_NO_MEMORY;
    }
    absl::StatusOr<const edict::Snapshot*> snapshot = edict::Snapshot::Defaults(
        set, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(h->arena.get()),
                                 words * sizeof(std::max_align_t)));
    if (!snapshot.ok()) {
      delete h;
      return EDICT_ERR_INTERNAL;
    }
    h->snapshot = *snapshot;
    h->catalogs = *catalogs;
  }
  *out = h;
  return EDICT_OK;
}

edict_status edict_open_payload(const void* payload, size_t payload_size, edict_policy** out,
                                edict_error* error) EDICT_NOEXCEPT {
  return edict_open_payload_with_catalogs(nullptr, payload, payload_size, out, error);
}

edict_status edict_open_payload_with_catalogs(const edict_catalogs* catalogs, const void* payload,
                                              size_t payload_size, edict_policy** out,
                                              edict_error* error) EDICT_NOEXCEPT {
  const edict_catalogs set = catalogs != nullptr ? *catalogs : edict_catalogs();
  if (out == nullptr) return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "out is NULL");
  *out = nullptr;
  if (payload == nullptr && payload_size != 0) {
    return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "payload is NULL");
  }
  // The payload is copied first, into 16-byte-aligned storage: FlatBuffers reads scalars
  // in place and the kernel refuses a buffer that is not 8-byte aligned.
  const size_t payload_words =
      (payload_size + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  std::unique_ptr<std::max_align_t[]> payload_copy(new (std::nothrow)
                                                       std::max_align_t[payload_words + 1]);
  if (payload_copy == nullptr) return Fail(error, EDICT_ERR_NO_MEMORY, 0, "out of memory");
  if (payload_size > 0) std::memcpy(payload_copy.get(), payload, payload_size);
  const absl::Span<const uint8_t> copy(reinterpret_cast<const uint8_t*>(payload_copy.get()),
                                       payload_size);
  absl::StatusOr<size_t> arena_size = edict::Snapshot::ArenaSize(copy, set.get());
  if (!arena_size.ok()) {
    return Fail(error, EDICT_ERR_ACTIVATION, 0, ToStd(arena_size.status().message()));
  }
  edict_policy* h = nullptr;
  if (NewHandle(&h) != EDICT_OK) return Fail(error, EDICT_ERR_NO_MEMORY, 0, "out of memory");
  const size_t words = (*arena_size + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  h->arena.reset(new (std::nothrow) std::max_align_t[words + 1]);
  if (h->arena == nullptr) {
    delete h;
    return Fail(error, EDICT_ERR_NO_MEMORY, 0, "out of memory");
  }
  absl::StatusOr<const edict::Snapshot*> snapshot =
      edict::Snapshot::Activate(copy,
                                absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(h->arena.get()),
                                                    words * sizeof(std::max_align_t)),
                                set.get());
  if (!snapshot.ok()) {
    delete h;
    return Fail(error, EDICT_ERR_ACTIVATION, 0, ToStd(snapshot.status().message()));
  }
  h->catalogs = set;
  // Keep the aligned copy alive: it owns the bytes the snapshot borrows.
  h->payload = std::move(payload_copy);
  h->snapshot = *snapshot;
  h->origin = EDICT_ORIGIN_PAYLOAD;
  *out = h;
  return ClearError(error);
}

edict_status edict_open_bundle(const void* bundle, size_t bundle_size, const void* trust,
                               size_t trust_size, const edict_verify_options* options,
                               edict_policy** out, edict_error* error) EDICT_NOEXCEPT {
  return edict_open_bundle_with_catalogs(nullptr, bundle, bundle_size, trust, trust_size, options,
                                         out, error);
}

edict_status edict_open_bundle_with_catalogs(const edict_catalogs* catalogs, const void* bundle,
                                             size_t bundle_size, const void* trust,
                                             size_t trust_size, const edict_verify_options* options,
                                             edict_policy** out,
                                             edict_error* error) EDICT_NOEXCEPT {
  namespace tr = edict::transport;
  const edict_catalogs set = catalogs != nullptr ? *catalogs : edict_catalogs();
  if (out == nullptr) return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "out is NULL");
  *out = nullptr;
  if ((bundle == nullptr && bundle_size != 0) || (trust == nullptr && trust_size != 0)) {
    return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "bundle or trust is NULL");
  }
  edict_verify_options defaults;
  edict_verify_options_init(&defaults);
  if (options == nullptr) options = &defaults;
  if (options->struct_size < sizeof(edict_verify_options)) {
    return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0,
                "options not initialised with edict_verify_options_init");
  }
  if ((options->group_count > 0 && options->groups == nullptr) ||
      (options->newer_trust_count > 0 &&
       (options->newer_trust == nullptr || options->newer_trust_sizes == nullptr))) {
    return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "NULL array with a non-zero count");
  }
  const int64_t now = options->now != 0 ? options->now : static_cast<int64_t>(std::time(nullptr));

  // Transport reads FlatBuffers in place and needs 8-byte-aligned buffers; a C caller's
  // pointer may be anywhere, so every document is copied (std::vector storage is aligned).
  const auto copy = [](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    return std::vector<uint8_t>(b, b + n);
  };
  const std::vector<uint8_t> pinned = copy(trust, trust_size);
  std::vector<std::vector<uint8_t>> newer_copies;
  std::vector<tr::Bytes> newer;
  newer_copies.reserve(options->newer_trust_count);
  for (size_t i = 0; i < options->newer_trust_count; ++i) {
    newer_copies.push_back(copy(options->newer_trust[i], options->newer_trust_sizes[i]));
    newer.emplace_back(newer_copies.back());
  }
  absl::StatusOr<std::unique_ptr<tr::TrustStore>> store =
      tr::TrustStore::Open(tr::Bytes(pinned), newer, now);
  if (!store.ok()) return FromTransport(store.status(), error);
  const uint64_t trust_version = (*store)->version();
  tr::VerifyOptions verify_options;
  verify_options.catalogs = set.set;
  absl::StatusOr<std::unique_ptr<tr::BundleVerifier>> verifier = tr::BundleVerifier::Create(
      std::shared_ptr<const tr::TrustStore>(*std::move(store)), verify_options);
  if (!verifier.ok()) return FromTransport(verifier.status(), error);

  tr::EndpointIdentity identity;
  if (options->tenant != nullptr) identity.tenant = options->tenant;
  if (options->device_id != nullptr) identity.device_id = options->device_id;
  for (size_t i = 0; i < options->group_count; ++i) {
    if (options->groups[i] == nullptr) {
      return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "NULL group name");
    }
    identity.groups.emplace_back(options->groups[i]);
  }
  tr::EndpointState state;
  state.rollback_epoch = options->rollback_epoch;
  state.last_serial = options->last_serial;
  state.time_floor = options->time_floor;

  edict_policy* h = nullptr;
  if (NewHandle(&h) != EDICT_OK) return Fail(error, EDICT_ERR_NO_MEMORY, 0, "out of memory");
  h->bundle.assign(static_cast<const uint8_t*>(bundle),
                   static_cast<const uint8_t*>(bundle) + bundle_size);
  absl::StatusOr<tr::VerifiedBundle> verified =
      (*verifier)->Verify(tr::Bytes(h->bundle.data(), h->bundle.size()), identity, state, now);
  if (!verified.ok()) {
    delete h;
    return FromTransport(verified.status(), error);
  }
  h->verified.reset(new (std::nothrow) tr::VerifiedBundle(*std::move(verified)));
  if (h->verified == nullptr) {
    delete h;
    return Fail(error, EDICT_ERR_NO_MEMORY, 0, "out of memory");
  }
  h->snapshot = h->verified->snapshot;
  h->catalogs = set;
  h->trust_version = trust_version;
  h->origin = EDICT_ORIGIN_BUNDLE;
  *out = h;
  return ClearError(error);
}

edict_status edict_open_bundle_files(const char* bundle_path, const char* trust_path,
                                     const edict_verify_options* options, edict_policy** out,
                                     edict_error* error) EDICT_NOEXCEPT {
  return edict_open_bundle_files_with_catalogs(nullptr, bundle_path, trust_path, options, out,
                                               error);
}

edict_status edict_open_bundle_files_with_catalogs(const edict_catalogs* catalogs,
                                                   const char* bundle_path, const char* trust_path,
                                                   const edict_verify_options* options,
                                                   edict_policy** out,
                                                   edict_error* error) EDICT_NOEXCEPT {
  if (out == nullptr) return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "out is NULL");
  *out = nullptr;
  if (bundle_path == nullptr || trust_path == nullptr) {
    return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "path is NULL");
  }
  absl::StatusOr<std::vector<uint8_t>> bundle = ReadWholeFile(bundle_path, kMaxFileBytes);
  if (!bundle.ok()) {
    return Fail(error, FromCode(bundle.status().code()), 0, ToStd(bundle.status().message()));
  }
  absl::StatusOr<std::vector<uint8_t>> trust = ReadWholeFile(trust_path, kMaxFileBytes);
  if (!trust.ok()) {
    return Fail(error, FromCode(trust.status().code()), 0, ToStd(trust.status().message()));
  }
  return edict_open_bundle_with_catalogs(catalogs, bundle->data(), bundle->size(), trust->data(),
                                         trust->size(), options, out, error);
}

edict_status edict_open_state(const char* state_dir, const char* pinned_trust_path,
                              edict_policy** out, edict_error* error) EDICT_NOEXCEPT {
  return edict_open_state_with_catalogs(nullptr, state_dir, pinned_trust_path, out, error);
}

edict_status edict_open_state_with_catalogs(const edict_catalogs* catalogs, const char* state_dir,
                                            const char* pinned_trust_path, edict_policy** out,
                                            edict_error* error) EDICT_NOEXCEPT {
  if (out == nullptr) return Fail(error, EDICT_ERR_INVALID_ARGUMENT, 0, "out is NULL");
  *out = nullptr;
#if defined(EDICT_CAPI_HAVE_ACTIVATION)
  namespace tr = edict::transport;
  const std::string root =
      state_dir != nullptr && state_dir[0] != '\0' ? state_dir : "/var/lib/edict";
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) {
    const int err = errno;
    const std::string message = root + ": " + std::strerror(err);
    if (err == ENOENT || err == ENOTDIR) return Fail(error, EDICT_ERR_NOT_FOUND, 0, message);
    if (err == EACCES || err == EPERM) return Fail(error, EDICT_ERR_PERMISSION, 0, message);
    return Fail(error, EDICT_ERR_IO, 0, message);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Fail(error, EDICT_ERR_NOT_FOUND, 0, root + ": not a directory");
  }
  if (::access(root.c_str(), R_OK | X_OK) != 0) {
    return Fail(error, EDICT_ERR_PERMISSION, 0, root + ": " + std::strerror(errno));
  }
  const edict_catalogs set = catalogs != nullptr ? *catalogs : edict_catalogs();
  tr::LoadActiveStateOptions options;
  options.catalogs = set.set;
  if (pinned_trust_path != nullptr) {
    absl::StatusOr<std::vector<uint8_t>> pinned = ReadWholeFile(pinned_trust_path, kMaxFileBytes);
    if (!pinned.ok()) {
      return Fail(error, FromCode(pinned.status().code()), 0, ToStd(pinned.status().message()));
    }
    options.pinned_trust = *std::move(pinned);
  }

  edict_policy* h = nullptr;
  if (NewHandle(&h) != EDICT_OK) return Fail(error, EDICT_ERR_NO_MEMORY, 0, "out of memory");
  // Stamps first: a change racing with the load then shows up as "changed" later (at worst
  // one needless re-open), never as a missed activation.
  h->watch = true;
  h->watch_paths[0] = root + "/" + tr::kActiveBlobName;
  h->watch_paths[1] = root + "/" + tr::kTrustBlobName;
  for (int i = 0; i < 2; ++i) h->stamps[i] = StampOf(h->watch_paths[i].c_str());

  ReadOnlyStateStore store(root);
  absl::StatusOr<std::unique_ptr<tr::ActiveState>> active = tr::LoadActiveState(store, options);
  if (!active.ok()) {
    delete h;
    return Fail(error, FromCode(active.status().code()), 0, ToStd(active.status().message()));
  }
  h->active = *std::move(active);
  const tr::ActiveStateInfo& info = h->active->info();
  h->snapshot = &h->active->snapshot();
  h->catalogs = set;
  h->trust_version = info.trust_version;
  switch (info.source) {
    case tr::ActiveSource::kCurrent:
      h->origin = EDICT_ORIGIN_STATE_CURRENT;
      break;
    case tr::ActiveSource::kPrevious:
      h->origin = EDICT_ORIGIN_STATE_PREVIOUS;
      break;
    default:
      h->origin = EDICT_ORIGIN_DEFAULTS;
      break;
  }
  for (const std::string& p : info.problems) {
    h->problems += p;
    h->problems += '\n';
  }
  *out = h;
  return ClearError(error);
#else
  (void)catalogs;
  (void)state_dir;
  (void)pinned_trust_path;
  return Fail(error, EDICT_ERR_UNSUPPORTED, 0,
              "this libedict was built without the agent's activation code");
#endif
}

void edict_close(edict_policy* policy) EDICT_NOEXCEPT { delete policy; }

}  // extern "C"
