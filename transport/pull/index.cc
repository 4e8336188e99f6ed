#include "transport/pull/index.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "policy/compiler/json.h"
#include "transport/pull/errors.h"

namespace edict::transport::pull {
namespace {

absl::Status Bad(absl::string_view why) { return MakePullError(PullError::kIndex, why); }

bool PathOk(absl::string_view p) {
  if (p.empty() || p.size() > 200) return false;
  for (absl::string_view seg : absl::StrSplit(p, '/')) {
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg) {
      if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') return false;
    }
  }
  return true;
}

absl::StatusOr<IndexEntry> Entry(const json::Value& v, absl::string_view what, size_t cap,
                                 absl::string_view serial_key) {
  if (!v.is_object()) return Bad(absl::StrCat(what, " is not an object"));
  IndexEntry e;
  const json::Value* path = v.Find("path");
  if (!path || !path->is_string() || !PathOk(path->string())) {
    return Bad(absl::StrCat(what, ".path missing or not a safe relative path"));
  }
  e.path = path->string();
  const json::Value* size = v.Find("size");
  if (!size || !size->is_integer() || size->integer() <= 0) {
    return Bad(absl::StrCat(what, ".size missing or not a positive integer"));
  }
  if (static_cast<uint64_t>(size->integer()) > cap) {
    return MakePullError(PullError::kTooLarge,
                         absl::StrCat("the index names a ", what, " of ", size->integer(),
                                      " bytes; the cap is ", cap));
  }
  e.size = static_cast<uint64_t>(size->integer());
  const json::Value* sha = v.Find("sha256");
  if (!sha || !sha->is_string() || !ParseDigestHex(sha->string(), &e.sha256)) {
    return Bad(absl::StrCat(what, ".sha256 missing or not 64 lower-case hex digits"));
  }
  if (const json::Value* s = v.Find(std::string_view(serial_key.data(), serial_key.size()))) {
    if (!s->is_integer() || s->integer() < 0) {
      return Bad(absl::StrCat(what, ".", serial_key, " is not a non-negative integer"));
    }
    e.serial = static_cast<uint64_t>(s->integer());
  }
  return e;
}

std::string EntryJson(const IndexEntry& e, absl::string_view serial_key) {
  return absl::StrCat("{\"path\": ", json::Quote(e.path), ", \"size\": ", e.size,
                      ", \"sha256\": \"", Hex(Bytes(e.sha256.data(), e.sha256.size())), "\", \"",
                      serial_key, "\": ", e.serial, "}");
}

}  // namespace

bool ParseDigestHex(absl::string_view hex, Digest* out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    int v = 0;
    for (int j = 0; j < 2; ++j) {
      char c = hex[2 * i + j];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else {
        return false;
      }
      v = v * 16 + d;
    }
    (*out)[i] = static_cast<uint8_t>(v);
  }
  return true;
}

absl::StatusOr<Index> ParseIndex(absl::string_view text, const IndexLimits& limits) {
  if (text.size() > kMaxIndexBytes) {
    return MakePullError(PullError::kTooLarge, absl::StrCat("index of ", text.size(),
                                                            " bytes; the cap is ", kMaxIndexBytes));
  }
  auto doc = json::Parse(std::string_view(text.data(), text.size()));
  if (!doc.ok()) return Bad(doc.status().message());
  if (!doc->is_object()) return Bad("not a JSON object");
  const json::Value* fmt = doc->Find("edict_index");
  if (!fmt || !fmt->is_integer() || fmt->integer() != kIndexFormat) {
    return Bad("edict_index must be 1");
  }
  Index index;
  if (const json::Value* p = doc->Find("published_at")) {
    if (!p->is_integer()) return Bad("published_at is not an integer");
    index.published_at = p->integer();
  }
  const json::Value* bundle = doc->Find("bundle");
  if (!bundle) return Bad("no bundle entry");
  auto b = Entry(*bundle, "bundle", limits.max_bundle_bytes, "serial");
  if (!b.ok()) return b.status();
  index.bundle = *std::move(b);
  if (const json::Value* trust = doc->Find("trust")) {
    auto t = Entry(*trust, "trust", limits.max_trust_bytes, "version");
    if (!t.ok()) return t.status();
    index.trust = *std::move(t);
  }
  return index;
}

std::string SerializeIndex(const Index& index) {
  std::string out = absl::StrCat("{\n  \"edict_index\": ", kIndexFormat,
                                 ",\n  \"published_at\": ", index.published_at,
                                 ",\n  \"bundle\": ", EntryJson(index.bundle, "serial"));
  if (index.trust) absl::StrAppend(&out, ",\n  \"trust\": ", EntryJson(*index.trust, "version"));
  out += "\n}\n";
  return out;
}

std::string BundleFileName(const Digest& sha256) {
  return absl::StrCat("bundle-", Hex(Bytes(sha256.data(), 8)), ".edict");
}

std::string TrustFileName(uint64_t version, const Digest& sha256) {
  return absl::StrCat("trust-v", version, "-", Hex(Bytes(sha256.data(), 8)), ".edt");
}

}  // namespace edict::transport::pull
