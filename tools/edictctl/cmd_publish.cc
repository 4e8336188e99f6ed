// edictctl publish: lay out a directory for pull delivery (transport/pull/publish.h).
#ifdef _WIN32
// The pull library (transport/pull) is POSIX-only for now.
#include <cstdio>

#include "tools/edictctl/commands.h"

namespace edict::ctl {
int RunPublish(int, char**) {
  std::fputs("edictctl publish: not available in the Windows build (use the Linux edictctl)\n",
             stderr);
  return kExitFailure;
}
}  // namespace edict::ctl
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tools/cli/files.h"
#include "tools/edictctl/commands.h"
#include "tools/edictctl/util.h"
#include "transport/describe.h"
#include "transport/keys.h"
#include "transport/pull/index.h"
#include "transport/pull/publish.h"

namespace edict::ctl {
namespace {

constexpr char kPublishHelp[] =
    "usage: edictctl publish --bundle BUNDLE [--trust TRUST] [--keep N] DIR\n"
    "\n"
    "Writes BUNDLE (and the trust document TRUST) into DIR under content-addressed names\n"
    "(bundle-<sha256 prefix>.edict, trust-v<version>-<sha256 prefix>.edt), then the index\n"
    "DIR/edict-index.json naming them with their size and SHA-256, for endpoints polling DIR\n"
    "through any static web server or CDN (docs/pull.md). Every file is written atomically\n"
    "(temporary file, fsync, rename, directory fsync), the index last, so a client never sees\n"
    "an index naming a file that is not there. Older bundle and trust files are kept for\n"
    "clients still downloading them: the newest N (default 5) besides the current ones.\n"
    "Signatures are not checked here (use `edictctl verify`); the bundle must be a\n"
    "well-formed envelope, at most 4 MiB, and the trust document at most 512 KiB (regular\n"
    "files; a trust document given as --bundle, or the reverse, is refused by name).\n"
    "DIR must be a directory (created if missing); a file to be replaced in it that is not\n"
    "a regular file (FIFO, device, directory, symbolic link) is refused.\n"
    "Prints the index. Exit status: 0 ok; 1 failure; 2 usage error.\n";

}  // namespace

int RunPublish(int argc, char** argv) {
  std::string bundle_path, trust_path, dir;
  int keep = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kPublishHelp, stdout);
      return kExitOk;
    }
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string keep_text;
    if (a == "--bundle") {
      if (!value(&bundle_path)) break;
    } else if (a == "--trust") {
      if (!value(&trust_path)) break;
    } else if (a == "--keep") {
      if (!value(&keep_text) || !absl::SimpleAtoi(keep_text, &keep) || keep < 0) {
        std::fprintf(stderr, "edictctl publish: --keep needs a non-negative number\n");
        return kExitUsage;
      }
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "edictctl publish: unknown option %s\n%s", a.c_str(), kPublishHelp);
      return kExitUsage;
    } else if (dir.empty()) {
      dir = a;
    } else {
      std::fprintf(stderr, "edictctl publish: one DIR only\n");
      return kExitUsage;
    }
  }
  if (bundle_path.empty() || dir.empty()) {
    std::fprintf(stderr, "edictctl publish: --bundle and DIR are required\n%s", kPublishHelp);
    return kExitUsage;
  }
  std::string bundle, trust;
  const struct {
    const std::string* path;
    std::string* data;
    size_t cap;
    transport::DocumentKind kind;
    const char* what;
  } inputs[] = {
      {&bundle_path, &bundle, transport::Limits{}.max_bundle_bytes,
       transport::DocumentKind::kBundle, "a bundle"},
      {&trust_path, &trust, transport::Limits{}.max_trust_bytes, transport::DocumentKind::kTrust,
       "a trust document"},
  };
  for (const auto& in : inputs) {
    if (in.path->empty()) continue;
    cli::ReadOptions read_options;
    read_options.what = in.what;
    auto data = cli::ReadInputFile(*in.path, in.cap, read_options);
    if (!data.ok()) {
      std::fprintf(stderr, "edictctl publish: %s\n", std::string(data.status().message()).c_str());
      return kExitFailure;
    }
    *in.data = *std::move(data);
    if (std::string wrong = WrongDocument(*in.path, *in.data, in.kind); !wrong.empty()) {
      std::fprintf(stderr, "edictctl publish: %s\n", wrong.c_str());
      return kExitFailure;
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "edictctl publish: %s: not a directory\n", dir.c_str());
    return kExitFailure;
  }
  // Every file to be replaced must be a regular file or absent; checked before anything is
  // written (PublishToDirectory checks again just before each rename).
  const auto as_bytes = [](const std::string& s) {
    return transport::Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  std::vector<std::string> targets = {
      transport::pull::kIndexFileName,
      transport::pull::BundleFileName(transport::Sha256::Hash(as_bytes(bundle)))};
  if (!trust_path.empty()) {
    if (auto version = transport::PeekTrustVersion(as_bytes(trust)); version.ok()) {
      targets.push_back(
          transport::pull::TrustFileName(*version, transport::Sha256::Hash(as_bytes(trust))));
    }
  }
  for (const std::string& name : targets) {
    if (absl::Status s = cli::CheckOutputPath(dir + "/" + name); !s.ok()) {
      std::fprintf(stderr, "edictctl publish: %s\n", std::string(s.message()).c_str());
      return kExitFailure;
    }
  }
  transport::pull::PublishOptions options;
  options.published_at = absl::ToUnixSeconds(absl::Now());
  options.keep = keep;
  const auto bytes = [](const std::string& s) {
    return transport::Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  auto index = transport::pull::PublishToDirectory(
      dir, bytes(bundle),
      trust_path.empty() ? std::nullopt : std::optional<transport::Bytes>(bytes(trust)), options);
  if (!index.ok()) {
    std::fprintf(stderr, "edictctl publish: %s\n", std::string(index.status().message()).c_str());
    return kExitFailure;
  }
  std::fputs(transport::pull::SerializeIndex(*index).c_str(), stdout);
  return kExitOk;
}

}  // namespace edict::ctl
#endif  // _WIN32
