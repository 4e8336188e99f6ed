#include "ports/state_store.h"

#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "mbedtls/sha256.h"

namespace edict::ports {
namespace {

constexpr char kMagic[4] = {'E', 'D', 'S', 'T'};
constexpr uint32_t kFormatVersion = 1;

void PutLe(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t GetLe(absl::string_view in, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(in[static_cast<size_t>(i)]);
  }
  return value;
}

std::array<unsigned char, 32> Digest(absl::string_view prefix, absl::string_view name,
                                     absl::string_view content) {
  std::string name_len;
  PutLe(&name_len, name.size(), 4);
  std::array<unsigned char, 32> out{};
  mbedtls_sha256_context ctx;
  mbedtls_sha256_init(&ctx);
  // The _ret functions only fail on bad input parameters, which cannot happen here.
  (void)mbedtls_sha256_starts_ret(&ctx, /*is224=*/0);
  for (absl::string_view piece : {prefix, absl::string_view(name_len), name, content}) {
    (void)mbedtls_sha256_update_ret(&ctx, reinterpret_cast<const unsigned char*>(piece.data()),
                                    piece.size());
  }
  (void)mbedtls_sha256_finish_ret(&ctx, out.data());
  mbedtls_sha256_free(&ctx);
  return out;
}

}  // namespace

absl::StatusOr<StateRead> PickStateGeneration(
    absl::string_view name, absl::StatusOr<std::string> current,
    absl::FunctionRef<absl::StatusOr<std::string>()> read_previous, FallbackOn when) {
  StateRead out;
  if (current.ok()) {
    out.bytes = *std::move(current);
    return out;
  }
  if (when == FallbackOn::kMissingOrDamaged && !absl::IsNotFound(current.status()) &&
      !absl::IsDataLoss(current.status())) {
    return current.status();
  }
  absl::StatusOr<std::string> prev = read_previous();
  if (!prev.ok()) {
    if (absl::IsNotFound(prev.status())) return current.status();
    if (absl::IsNotFound(current.status())) return prev.status();
    return absl::DataLossError(absl::StrCat("both generations of state blob \"", name,
                                            "\" are unusable: ", current.status().message(), "; ",
                                            prev.status().message()));
  }
  out.bytes = *std::move(prev);
  out.generation = StateGeneration::kPrevious;
  out.current_error = current.status();
  return out;
}

absl::Status ValidateStateBlobName(absl::string_view name) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("state blob name must be 1..64 characters: \"", name, "\""));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("state blob name may only contain [A-Za-z0-9_-]: \"", name, "\""));
    }
  }
  return absl::OkStatus();
}

std::string EncodeStateBlob(absl::string_view name, absl::string_view content) {
  std::string out;
  out.reserve(kStateBlobHeaderSize + content.size());
  out.append(kMagic, sizeof(kMagic));
  PutLe(&out, kFormatVersion, 4);
  PutLe(&out, content.size(), 8);
  const auto digest = Digest(out, name, content);
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  out.append(content.data(), content.size());
  return out;
}

absl::StatusOr<std::string> DecodeStateBlob(absl::string_view name, absl::string_view image) {
  if (image.size() < kStateBlobHeaderSize) {
    return absl::DataLossError(absl::StrCat("state blob \"", name, "\" is truncated (",
                                            image.size(), " bytes, header needs ",
                                            kStateBlobHeaderSize, ")"));
  }
  if (std::memcmp(image.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError(absl::StrCat("state blob \"", name, "\" has a bad magic number"));
  }
  const uint64_t version = GetLe(image.substr(4, 4), 4);
  if (version != kFormatVersion) {
    return absl::DataLossError(
        absl::StrCat("state blob \"", name, "\" has unknown format version ", version));
  }
  const uint64_t length = GetLe(image.substr(8, 8), 8);
  if (length != image.size() - kStateBlobHeaderSize) {
    return absl::DataLossError(absl::StrCat("state blob \"", name, "\" is torn: header says ",
                                            length, " content bytes, file has ",
                                            image.size() - kStateBlobHeaderSize));
  }
  const absl::string_view content = image.substr(kStateBlobHeaderSize);
  const auto digest = Digest(image.substr(0, 16), name, content);
  if (std::memcmp(image.data() + 16, digest.data(), digest.size()) != 0) {
    return absl::DataLossError(absl::StrCat("state blob \"", name, "\" fails its checksum"));
  }
  return std::string(content);
}

}  // namespace edict::ports
