// edictctl sign, edictctl verify: signed bundles.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "policy/compiler/json.h"
#include "tools/cli/files.h"
#include "tools/edictctl/commands.h"
#include "tools/edictctl/util.h"
#include "transport/bundle.h"
#include "transport/describe.h"
#include "transport/errors.h"
#include "transport/keys.h"
#include "transport/trust.h"

namespace edict::ctl {
namespace {

namespace tp = edict::transport;

tp::Bytes AsBytes(const std::string& s) {
  return tp::Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// One precise error: a JSON line on stdout, the message on stderr, the class as exit code.
int Reject(const char* cmd, const absl::Status& s) {
  tp::Error e = tp::ErrorOf(s);
  if (e == tp::Error::kCount) {
    std::fprintf(stderr, "edictctl %s: %s\n", cmd, std::string(s.message()).c_str());
    return kExitFailure;
  }
  std::printf("{\"ok\":false,\"error\":\"%s\",\"number\":%d,\"audit\":%s,\"detail\":%s}\n",
              std::string(tp::ErrorName(e)).c_str(), static_cast<int>(e),
              json::Quote(std::string(tp::ErrorAuditText(e))).c_str(),
              json::Quote(std::string(s.message())).c_str());
  std::fprintf(stderr, "edictctl %s: %s\n", cmd, std::string(s.message()).c_str());
  return static_cast<int>(tp::ClassOf(e));
}

constexpr char kSignHelp[] =
    "usage: edictctl sign PAYLOAD --key KEY [--key KEY2 ...] -o BUNDLE\n\n"
    "Wraps a compiled payload (identifier EDP1) in a bundle envelope signed by each private\n"
    "key (deterministic ECDSA P-256/SHA-256 over \"edict bundle v1\\0\" || payload).\n"
    "PAYLOAD is a regular file of at most 4 MiB, each KEY at most 64 KiB; the bundle must\n"
    "fit in the 4 MiB endpoints accept. BUNDLE is written atomically and must be a regular\n"
    "file or absent (never a FIFO, device, directory or symbolic link); - writes the bundle\n"
    "to standard output (not a terminal) and the JSON summary to stderr.\n";

constexpr char kVerifyHelp[] =
    "usage: edictctl verify BUNDLE --trust TRUST [--trust NEWER ...]\n"
    "                       [--tenant T] [--device-id ID] [--groups G,...]\n"
    "                       [--now RFC3339] [--last-serial N] [--last-epoch E]\n"
    "                       [--time-floor RFC3339] [--max-bytes N] [--skew SECONDS]\n\n"
    "Runs every check an endpoint runs, in order, including kernel activation. The first\n"
    "--trust is the pinned document; further ones are rotations walked in order.\n"
    "--last-epoch defaults to the trust document's rollback epoch.\n"
    "BUNDLE (at most 4 MiB, or --max-bytes) and each TRUST (at most 512 KiB) are regular\n"
    "files; a file of the other kind is refused by name (\"... is a bundle (EDB1), not a\n"
    "trust document\", ERR_TRUST_MALFORMED; the reverse ERR_ENVELOPE).\n"
    "Prints a JSON summary; on failure one error as JSON, with the exit status of its\n"
    "class: 10 structure, 11 authenticity, 12 freshness, 13 target, 14 compatibility,\n"
    "15 trust document; 1 I/O, 2 usage.\n";

}  // namespace

int RunSign(int argc, char** argv) {
  std::string payload_path, out;
  std::vector<std::string> keys;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kSignHelp, stdout);
      return kExitOk;
    } else if (a == "--key" && i + 1 < argc) {
      keys.push_back(argv[++i]);
    } else if ((a == "-o" || a == "--out") && i + 1 < argc) {
      out = argv[++i];
    } else if (payload_path.empty() && !a.empty() && a[0] != '-') {
      payload_path = a;
    } else {
      std::fputs(kSignHelp, stderr);
      return kExitUsage;
    }
  }
  if (payload_path.empty() || keys.empty() || out.empty()) {
    std::fputs(kSignHelp, stderr);
    return kExitUsage;
  }
  cli::WriteOptions out_options;
  out_options.allow_stdout = true;
  out_options.binary = true;
  if (absl::Status s = cli::CheckOutputPath(out, out_options); !s.ok()) {
    std::fprintf(stderr, "edictctl sign: %s\n", std::string(s.message()).c_str());
    return kExitFailure;
  }
  cli::ReadOptions payload_options;
  payload_options.what = "a payload";
  auto payload = cli::ReadInputFile(payload_path, tp::Limits().max_bundle_bytes, payload_options);
  if (!payload.ok()) {
    std::fprintf(stderr, "edictctl sign: %s\n", std::string(payload.status().message()).c_str());
    return kExitFailure;
  }
  if (tp::DetectDocument(AsBytes(*payload)) != tp::DocumentKind::kPayload) {
    std::fprintf(stderr, "edictctl sign: %s is %s, not a compiled payload (EDP1)\n",
                 payload_path.c_str(),
                 std::string(DocumentName(tp::DetectDocument(AsBytes(*payload)))).c_str());
    return kExitFailure;
  }
  std::vector<std::unique_ptr<tp::PrivateSigningKey>> owned;
  std::vector<const tp::PrivateSigningKey*> signing;
  cli::ReadOptions key_options;
  key_options.what = "a key file";
  for (const std::string& p : keys) {
    auto text = cli::ReadInputFile(p, cli::kMaxKeyFileBytes, key_options);
    if (!text.ok()) {
      std::fprintf(stderr, "edictctl sign: %s\n", std::string(text.status().message()).c_str());
      return kExitFailure;
    }
    auto k = tp::PrivateSigningKey::ReadSecretPem(*text);
    std::fill(text->begin(), text->end(), '\0');
    if (!k.ok()) {
      std::fprintf(stderr, "edictctl sign: %s: %s\n", p.c_str(),
                   std::string(k.status().message()).c_str());
      return kExitFailure;
    }
    signing.push_back(k->get());
    owned.push_back(*std::move(k));
  }
  auto bundle = tp::SignBundle(AsBytes(*payload), signing);
  if (!bundle.ok()) return Reject("sign", bundle.status());
  if (bundle->size() > tp::Limits().max_bundle_bytes) {
    std::fprintf(stderr,
                 "edictctl sign: the bundle would be %s, larger than the %s limit endpoints "
                 "accept; nothing written\n",
                 cli::HumanBytes(bundle->size()).c_str(),
                 cli::HumanBytes(tp::Limits().max_bundle_bytes).c_str());
    return kExitFailure;
  }
  const absl::Status written = cli::WriteOutputFile(
      out, std::string_view(reinterpret_cast<const char*>(bundle->data()), bundle->size()),
      out_options);
  if (!written.ok()) {
    std::fprintf(stderr, "edictctl sign: %s\n", std::string(written.message()).c_str());
    return kExitFailure;
  }
  std::string ids;
  for (const auto* k : signing) {
    absl::StrAppend(&ids, ids.empty() ? "" : ",", "\"", tp::KeyIdHex(k->id()), "\"");
  }
  std::fprintf(cli::IsStdout(out, out_options) ? stderr : stdout,
               "{\"bundle\":%s,\"bytes\":%zu,\"key_ids\":[%s]}\n", json::Quote(out).c_str(),
               bundle->size(), ids.c_str());
  return kExitOk;
}

int RunVerify(int argc, char** argv) {
  std::string bundle_path, tenant, device, groups_s, now_s, floor_s;
  std::vector<std::string> trust_paths;
  uint64_t last_serial = 0, max_bytes = 0;
  int64_t skew = 300;
  int64_t last_epoch = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](std::string* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string v;
    bool ok = true;
    if (a == "--help" || a == "-h") {
      std::fputs(kVerifyHelp, stdout);
      return kExitOk;
    } else if (a == "--trust") {
      ok = next(&v);
      trust_paths.push_back(v);
    } else if (a == "--tenant") {
      ok = next(&tenant);
    } else if (a == "--device-id") {
      ok = next(&device);
    } else if (a == "--groups") {
      ok = next(&groups_s);
    } else if (a == "--now") {
      ok = next(&now_s);
    } else if (a == "--time-floor") {
      ok = next(&floor_s);
    } else if (a == "--last-serial") {
      ok = next(&v) && absl::SimpleAtoi(v, &last_serial);
    } else if (a == "--last-epoch") {
      ok = next(&v) && absl::SimpleAtoi(v, &last_epoch) && last_epoch >= 0;
    } else if (a == "--max-bytes") {
      ok = next(&v) && absl::SimpleAtoi(v, &max_bytes);
    } else if (a == "--skew") {
      ok = next(&v) && absl::SimpleAtoi(v, &skew) && skew >= 0;
    } else if (bundle_path.empty() && !a.empty() && a[0] != '-') {
      bundle_path = a;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "edictctl verify: bad argument '%s'\n\n%s", a.c_str(), kVerifyHelp);
      return kExitUsage;
    }
  }
  if (bundle_path.empty() || trust_paths.empty()) {
    std::fputs(kVerifyHelp, stderr);
    return kExitUsage;
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  int64_t time_floor = 0;
  std::string why;
  if ((!now_s.empty() && !ParseTimeArg("--now", now_s, &now, &why)) ||
      (!floor_s.empty() && !ParseTimeArg("--time-floor", floor_s, &time_floor, &why))) {
    std::fprintf(stderr, "edictctl verify: %s\n", why.c_str());
    return kExitUsage;
  }

  tp::Limits limits;
  if (max_bytes) limits.max_bundle_bytes = max_bytes;
  std::vector<std::string> trust_docs(trust_paths.size());
  cli::ReadOptions trust_options;
  trust_options.what = "a trust document";
  for (size_t i = 0; i < trust_paths.size(); ++i) {
    auto doc = cli::ReadInputFile(trust_paths[i], limits.max_trust_bytes, trust_options);
    if (!doc.ok()) {
      // Over the cap: the endpoint's own error code, ERR_TRUST_TOO_LARGE.
      if (absl::IsResourceExhausted(doc.status())) {
        return Reject("verify", tp::MakeError(tp::Error::kTrustTooLarge, doc.status().message()));
      }
      std::fprintf(stderr, "edictctl verify: %s\n", std::string(doc.status().message()).c_str());
      return kExitFailure;
    }
    trust_docs[i] = *std::move(doc);
    const std::string wrong =
        WrongDocument(trust_paths[i], trust_docs[i], tp::DocumentKind::kTrust);
    if (!wrong.empty()) return Reject("verify", tp::MakeError(tp::Error::kTrustMalformed, wrong));
  }
  std::vector<tp::Bytes> newer;
  for (size_t i = 1; i < trust_docs.size(); ++i) newer.push_back(AsBytes(trust_docs[i]));
  auto store =
      tp::TrustStore::Open(AsBytes(trust_docs[0]), newer, std::max(now, time_floor), limits);
  if (!store.ok()) return Reject("verify", store.status());
  std::shared_ptr<const tp::TrustStore> trust = *std::move(store);

  cli::ReadOptions bundle_options;
  bundle_options.what = "a bundle";
  auto read_bundle = cli::ReadInputFile(bundle_path, limits.max_bundle_bytes, bundle_options);
  if (!read_bundle.ok()) {
    if (absl::IsResourceExhausted(read_bundle.status())) {
      return Reject("verify", tp::MakeError(tp::Error::kTooLarge, read_bundle.status().message()));
    }
    std::fprintf(stderr, "edictctl verify: %s\n",
                 std::string(read_bundle.status().message()).c_str());
    return kExitFailure;
  }
  const std::string bundle = *std::move(read_bundle);
  const std::string wrong = WrongDocument(bundle_path, bundle, tp::DocumentKind::kBundle);
  if (!wrong.empty()) return Reject("verify", tp::MakeError(tp::Error::kEnvelope, wrong));
  tp::VerifyOptions options;
  options.max_clock_skew_seconds = skew;
  auto verifier = tp::BundleVerifier::Create(trust, options);
  if (!verifier.ok()) return Reject("verify", verifier.status());
  tp::EndpointIdentity identity;
  identity.tenant = tenant;
  identity.device_id = device;
  if (!groups_s.empty()) identity.groups = absl::StrSplit(groups_s, ',', absl::SkipEmpty());
  tp::EndpointState state;
  state.rollback_epoch =
      last_epoch >= 0 ? static_cast<uint32_t>(last_epoch) : trust->spec().rollback_epoch;
  state.last_serial = last_serial;
  state.time_floor = time_floor;
  // The bundle bytes must stay alive while the result (payload, snapshot) is used.
  auto r = (*verifier)->Verify(AsBytes(bundle), identity, state, now);
  if (!r.ok()) return Reject("verify", r.status());

  std::string ids;
  for (const tp::KeyId& id : r->key_ids) {
    absl::StrAppend(&ids, ids.empty() ? "" : ",", "\"", tp::KeyIdHex(id), "\"");
  }
  std::printf(
      "{\"ok\":true,\"serial\":%llu,\"issued_at\":%lld,\"expires_at\":%lld,"
      "\"catalog_version\":%u,\"trust_version\":%llu,\"key_ids\":[%s],\"payload_bytes\":%zu,"
      "\"digest\":\"%s\",\"activated\":%s,\"skipped_rules\":%zu,"
      "\"next_state\":{\"rollback_epoch\":%u,\"last_serial\":%llu,\"time_floor\":%lld}}\n",
      static_cast<unsigned long long>(r->serial), static_cast<long long>(r->issued_at),
      static_cast<long long>(r->expires_at), r->catalog_version,
      static_cast<unsigned long long>(r->trust_version), ids.c_str(), r->payload.size(),
      tp::KeyIdHex(r->digest).c_str(), r->snapshot ? "true" : "false",
      r->snapshot ? r->snapshot->skipped_count() : size_t{0}, r->next_state.rollback_epoch,
      static_cast<unsigned long long>(r->next_state.last_serial),
      static_cast<long long>(r->next_state.time_floor));
  return kExitOk;
}

}  // namespace edict::ctl
