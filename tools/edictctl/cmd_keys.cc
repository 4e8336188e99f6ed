// edictctl keygen, edictctl trust init|rotate: key pairs and trust documents.

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "policy/compiler/compiler.h"
#include "tools/cli/files.h"
#include "tools/edictctl/commands.h"
#include "tools/edictctl/util.h"
#include "transport/errors.h"
#include "transport/keys.h"
#include "transport/trust.h"

namespace edict::ctl {
namespace {

namespace tp = edict::transport;

int Fail(const char* cmd, const std::string& msg, int code = kExitFailure) {
  std::fprintf(stderr, "edictctl %s: %s\n", cmd, msg.c_str());
  return code;
}

int FailStatus(const char* cmd, const absl::Status& s) {
  tp::Error e = tp::ErrorOf(s);
  int code = e == tp::Error::kCount ? kExitFailure : static_cast<int>(tp::ClassOf(e));
  return Fail(cmd, std::string(s.message()), code);
}

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  cli::ReadOptions options;
  options.what = "a key file";
  return cli::ReadInputFile(path, cli::kMaxKeyFileBytes, options);
}

absl::StatusOr<tp::PublicKey> LoadPublic(const std::string& path) {
  auto text = ReadKeyFile(path);
  if (!text.ok()) return text.status();
  auto key = tp::PublicKey::FromPem(*text);
  if (!key.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", key.status().message()));
  return key;
}

absl::StatusOr<std::unique_ptr<tp::PrivateSigningKey>> LoadSecret(const std::string& path) {
  auto text = ReadKeyFile(path);
  if (!text.ok()) return text.status();
  auto key = tp::PrivateSigningKey::ReadSecretPem(*text);
  std::fill(text->begin(), text->end(), '\0');
  if (!key.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", key.status().message()));
  return key;
}

constexpr char kKeygenHelp[] =
    "usage: edictctl keygen --out NAME\n\n"
    "Generates an ECDSA P-256 key pair: NAME (private key, SEC1 PEM, mode 0600) and\n"
    "NAME.pub (public key, SubjectPublicKeyInfo PEM, mode 0644). Neither is ever\n"
    "overwritten: if either exists (as anything: file, link, FIFO...), nothing is written.\n"
    "Prints the key id (SHA-256 of the SubjectPublicKeyInfo DER) as JSON.\n";

constexpr char kTrustHelp[] =
    "usage: edictctl trust init   --root PUB... --signer PUB... --sign-key KEY... -o OUT\n"
    "                             [--root-threshold N] [--signer-threshold N]\n"
    "                             [--now RFC3339] [--expires RFC3339 | --valid-days N]\n"
    "                             [--description TEXT]\n"
    "       edictctl trust rotate --from PREV --sign-key KEY... -o OUT\n"
    "                             [--root PUB...] [--signer PUB...] [--revoke PUB...]\n"
    "                             [--root-threshold N] [--signer-threshold N]\n"
    "                             [--new-epoch --serial-floor N]\n"
    "                             [--now RFC3339] [--expires RFC3339 | --valid-days N]\n\n"
    "init writes trust version 1, signed by the given root private keys.\n"
    "rotate writes version PREV + 1: --root / --signer replace that role's key set (keys\n"
    "left out stay listed as revoked), --revoke revokes a key, --new-epoch with\n"
    "--serial-floor restarts anti-rollback after a signer-key leak (see\n"
    "transport/README.md). It must be signed by a threshold of PREV's roots and of its\n"
    "own roots: pass both sets of private keys with --sign-key.\n"
    "Times are RFC 3339 from 1970-01-01T00:00:01Z to 9999-12-31T23:59:59Z, the range of\n"
    "policy JSON; --valid-days (default 365) may not reach past it. OUT is written\n"
    "atomically and must be a regular file or absent (never a FIFO, device, directory or\n"
    "symbolic link); - writes the document to standard output (not a terminal) and the\n"
    "JSON summary to stderr. Key files are at most 64 KiB, PREV at most 512 KiB.\n";

}  // namespace

int RunKeygen(int argc, char** argv) {
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kKeygenHelp, stdout);
      return kExitOk;
    } else if (a == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else {
      std::fputs(kKeygenHelp, stderr);
      return kExitUsage;
    }
  }
  if (out.empty()) {
    std::fputs(kKeygenHelp, stderr);
    return kExitUsage;
  }
  // Both names are checked before anything is generated or written, so that a refusal never
  // leaves a new private key behind.
  cli::WriteOptions secret_options;
  secret_options.mode = 0600;
  secret_options.exclusive = true;
  cli::WriteOptions public_options;
  public_options.mode = 0644;
  public_options.exclusive = true;
  if (out == "-") {
    return Fail("keygen", "--out -: keygen writes two files (NAME and NAME.pub); name them",
                kExitUsage);
  }
  for (const std::string& path : {out, out + ".pub"}) {
    if (absl::Status s = cli::CheckOutputPath(path, secret_options); !s.ok()) {
      return Fail("keygen", absl::StrCat(std::string(s.message()), "; nothing written"));
    }
  }
  auto key = tp::PrivateSigningKey::Generate();
  if (!key.ok()) return Fail("keygen", std::string(key.status().message()));
  std::string secret = (*key)->WriteSecretPem();
  if (secret.empty()) return Fail("keygen", "cannot encode the private key");
  const absl::Status wrote_secret = cli::WriteOutputFile(out, secret, secret_options);
  std::fill(secret.begin(), secret.end(), '\0');
  if (!wrote_secret.ok()) return Fail("keygen", std::string(wrote_secret.message()));
  const absl::Status wrote_public =
      cli::WriteOutputFile(out + ".pub", (*key)->public_key().ToPem(), public_options);
  if (!wrote_public.ok()) {
    std::remove(out.c_str());  // created above: no private key without its public key
    return Fail("keygen", absl::StrCat(std::string(wrote_public.message()), "; ", out,
                                       " removed again, nothing written"));
  }
  std::printf("{\"key_id\":\"%s\",\"private\":\"%s\",\"public\":\"%s.pub\"}\n",
              tp::KeyIdHex((*key)->id()).c_str(), out.c_str(), out.c_str());
  return kExitOk;
}

int RunTrust(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kTrustHelp, argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  const std::string mode = argv[1];
  if (mode != "init" && mode != "rotate") {
    std::fputs(kTrustHelp, stderr);
    return kExitUsage;
  }
  std::vector<std::string> roots, signers, revoke, sign_keys;
  std::string from, out, description, now_s, expires_s;
  uint32_t root_threshold = 0, signer_threshold = 0;
  uint64_t serial_floor = 0, valid_days = 365;
  bool new_epoch = false, have_floor = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](std::string* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string v;
    bool ok = true;
    if (a == "--root")
      ok = next(&v), roots.push_back(v);
    else if (a == "--signer")
      ok = next(&v), signers.push_back(v);
    else if (a == "--revoke")
      ok = next(&v), revoke.push_back(v);
    else if (a == "--sign-key")
      ok = next(&v), sign_keys.push_back(v);
    else if (a == "--from")
      ok = next(&from);
    else if (a == "-o" || a == "--out")
      ok = next(&out);
    else if (a == "--description")
      ok = next(&description);
    else if (a == "--now")
      ok = next(&now_s);
    else if (a == "--expires")
      ok = next(&expires_s);
    else if (a == "--valid-days")
      ok = next(&v) && absl::SimpleAtoi(v, &valid_days);
    else if (a == "--root-threshold")
      ok = next(&v) && absl::SimpleAtoi(v, &root_threshold);
    else if (a == "--signer-threshold")
      ok = next(&v) && absl::SimpleAtoi(v, &signer_threshold);
    else if (a == "--serial-floor")
      ok = next(&v) && absl::SimpleAtoi(v, &serial_floor), have_floor = true;
    else if (a == "--new-epoch")
      new_epoch = true;
    else
      ok = false;
    if (!ok) {
      std::fprintf(stderr, "edictctl trust: bad argument '%s'\n\n%s", a.c_str(), kTrustHelp);
      return kExitUsage;
    }
  }
  if (out.empty() || sign_keys.empty() || (mode == "rotate" && from.empty()) ||
      (mode == "init" && (roots.empty() || signers.empty())) || new_epoch != have_floor) {
    std::fputs(kTrustHelp, stderr);
    return kExitUsage;
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::string why;
  if (!now_s.empty() && !ParseTimeArg("--now", now_s, &now, &why)) {
    return Fail("trust", why, kExitUsage);
  }
  int64_t expires_at = 0;
  if (!expires_s.empty()) {
    if (!ParseTimeArg("--expires", expires_s, &expires_at, &why)) {
      return Fail("trust", why, kExitUsage);
    }
  } else {
    // The same latest time as policy JSON (compiler::kMaxTime, 9999-12-31T23:59:59Z).
    const uint64_t max_days = static_cast<uint64_t>(compiler::kMaxTime - now) / 86400;
    if (valid_days > max_days) {
      return Fail(
          "trust",
          absl::StrCat("--valid-days ", valid_days, ": the document would expire after ",
                       tp::Rfc3339(compiler::kMaxTime), ", the latest time edict accepts; at most ",
                       max_days, " days from ", tp::Rfc3339(now)),
          kExitUsage);
    }
    expires_at = now + static_cast<int64_t>(valid_days) * 86400;
  }
  cli::WriteOptions out_options;
  out_options.allow_stdout = true;
  out_options.binary = true;
  if (absl::Status s = cli::CheckOutputPath(out, out_options); !s.ok()) {
    return Fail("trust", std::string(s.message()));
  }

  tp::TrustSpec spec;
  std::string prev;
  if (mode == "rotate") {
    cli::ReadOptions prev_options;
    prev_options.what = "a trust document";
    auto read = cli::ReadInputFile(from, tp::Limits().max_trust_bytes, prev_options);
    if (!read.ok()) return Fail("trust", std::string(read.status().message()));
    prev = *std::move(read);
    if (std::string wrong = WrongDocument(from, prev, tp::DocumentKind::kTrust); !wrong.empty()) {
      return Fail("trust", wrong);
    }
    // The previous document must itself be sound (self-signed by a threshold of its
    // roots); it is read as of its own issue time, so an expired one can still be rotated.
    auto peek =
        tp::TrustStore::Open(tp::Bytes(reinterpret_cast<const uint8_t*>(prev.data()), prev.size()),
                             {}, std::numeric_limits<int64_t>::min());
    if (!peek.ok()) return FailStatus("trust", peek.status());
    spec = (*peek)->spec();
    spec.version += 1;
    if (new_epoch) {
      spec.rollback_epoch += 1;
      spec.epoch_serial_floor = serial_floor;
    }
  } else {
    spec.root_threshold = 1;
    spec.signer_threshold = 1;
  }
  spec.issued_at = now;
  spec.expires_at = expires_at;
  if (!description.empty()) spec.description = description;
  if (root_threshold) spec.root_threshold = root_threshold;
  if (signer_threshold) spec.signer_threshold = signer_threshold;

  // Replace a role's key set: previous keys of that role not listed again become revoked.
  auto replace_role = [&](const std::vector<std::string>& paths, tp::KeyRole role) -> absl::Status {
    if (paths.empty()) return absl::OkStatus();
    std::vector<tp::PublicKey> keys;
    for (const std::string& p : paths) {
      auto k = LoadPublic(p);
      if (!k.ok()) return k.status();
      keys.push_back(*std::move(k));
    }
    for (tp::TrustKey& existing : spec.keys) {
      if (existing.role != role) continue;
      bool kept = false;
      for (const tp::PublicKey& k : keys) kept |= k.id() == existing.key.id();
      if (!kept) existing.status = tp::KeyStatus::kRevoked;
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      bool present = false;
      for (tp::TrustKey& existing : spec.keys) {
        if (existing.key.id() == keys[i].id()) {
          present = true;
          if (existing.role != role) {
            return absl::InvalidArgumentError(
                absl::StrCat(paths[i], ": already listed with another role"));
          }
        }
      }
      if (!present) spec.keys.push_back({keys[i], role, tp::KeyStatus::kActive, paths[i]});
    }
    return absl::OkStatus();
  };
  if (auto s = replace_role(roots, tp::KeyRole::kRoot); !s.ok()) return FailStatus("trust", s);
  if (auto s = replace_role(signers, tp::KeyRole::kSigner); !s.ok()) {
    return FailStatus("trust", s);
  }
  for (const std::string& p : revoke) {
    auto k = LoadPublic(p);
    if (!k.ok()) return FailStatus("trust", k.status());
    bool found = false;
    for (tp::TrustKey& existing : spec.keys) {
      if (existing.key.id() == k->id()) {
        existing.status = tp::KeyStatus::kRevoked;
        found = true;
      }
    }
    if (!found) return Fail("trust", absl::StrCat(p, ": not in the trust document"));
  }

  std::vector<std::unique_ptr<tp::PrivateSigningKey>> owned;
  std::vector<const tp::PrivateSigningKey*> signing;
  for (const std::string& p : sign_keys) {
    auto k = LoadSecret(p);
    if (!k.ok()) return FailStatus("trust", k.status());
    signing.push_back(k->get());
    owned.push_back(*std::move(k));
  }
  auto doc = tp::BuildTrustDocument(spec, signing);
  if (!doc.ok()) return FailStatus("trust", doc.status());
  // Refuse to write a document an endpoint would reject: load it the way endpoints do.
  if (mode == "init") {
    auto check = tp::TrustStore::Open(*doc, {}, now);
    if (!check.ok()) return FailStatus("trust", check.status());
  } else {
    tp::Bytes prev_bytes(reinterpret_cast<const uint8_t*>(prev.data()), prev.size());
    tp::Bytes next_bytes(*doc);
    auto check = tp::TrustStore::Open(prev_bytes, {&next_bytes, 1}, now);
    if (!check.ok()) return FailStatus("trust", check.status());
  }
  const absl::Status written = cli::WriteOutputFile(
      out, std::string_view(reinterpret_cast<const char*>(doc->data()), doc->size()), out_options);
  if (!written.ok()) return Fail("trust", std::string(written.message()));
  std::fprintf(cli::IsStdout(out, out_options) ? stderr : stdout,
               "{\"trust\":\"%s\",\"version\":%llu,\"rollback_epoch\":%u,\"keys\":%zu}\n",
               out.c_str(), static_cast<unsigned long long>(spec.version), spec.rollback_epoch,
               spec.keys.size());
  return kExitOk;
}

}  // namespace edict::ctl
