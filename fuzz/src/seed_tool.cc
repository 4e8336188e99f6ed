// Helper of fuzz/make-corpus (so the script needs no other language):
//   fuzz_seed_tool vectors VECTOR_DIR POLICY_DIR PAYLOAD_DIR
//       writes each conformance vector's `policy` object as policy JSON and its
//       `payload_hex` as payload bytes;
//   fuzz_seed_tool state OUT_DIR TRUST_FILE BUNDLE_FILE
//       writes the state target's seeds: stored blobs (ports::EncodeStateBlob) of a trust
//       document, a bundle and a state record, store files, ownership records.
//   fuzz_seed_tool agent-state OUT_DIR TRUST_V2_FILE BUNDLE_FILE...
//       runs a real transport::Activation (pinned fuzz/keys/trust-v1) over an in-memory
//       store: the rotation to TRUST_V2_FILE, then each bundle in order; after every accepted
//       document writes the agent's records as a `state` input (mode 32, see fuzz_state.cc).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/src/common.h"
#include "kernel/publisher.h"
#include "policy/compiler/json.h"
#include "ports/audit.h"
#include "ports/clock.h"
#include "ports/device_identity.h"
#include "ports/state_store.h"
#include "tools/cli/conformance.h"
#include "transport/activation.h"

namespace {

namespace fs = std::filesystem;

bool ReadFile(const fs::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

bool WriteFile(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

bool FromHex(const std::string& hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    if (std::sscanf(hex.c_str() + i, "%2x", &v) != 1) return false;
    out->push_back(static_cast<char>(v));
  }
  return true;
}

int Vectors(const fs::path& dir, const fs::path& policies, const fs::path& payloads) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    std::string text;
    if (!ReadFile(f, &text)) return 1;
    const auto v = edict::json::Parse(text);
    if (!v.ok()) continue;
    if (const edict::json::Value* p = v->Find("policy"); p != nullptr && p->is_object()) {
      if (!WriteFile(policies / ("vector_" + f.filename().string()),
                     edict::cli::ToJson(*p, /*indent=*/true) + "\n")) {
        return 1;
      }
    }
    if (const edict::json::Value* h = v->Find("payload_hex"); h != nullptr && h->is_string()) {
      std::string bytes;
      if (FromHex(h->string(), &bytes) &&
          !WriteFile(payloads / (f.stem().string() + ".bin"), bytes)) {
        return 1;
      }
    }
  }
  return 0;
}

std::string Le(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

int State(const fs::path& out, const fs::path& trust_file, const fs::path& bundle_file) {
  namespace ports = edict::ports;
  std::string trust, bundle;
  if (!ReadFile(trust_file, &trust) || !ReadFile(bundle_file, &bundle)) return 1;
  const std::string record = Le(0, 4) + Le(301, 8) + Le(1799971200, 8);
  const std::string older = Le(0, 4) + Le(300, 8) + Le(1799971100, 8);
  const struct {
    const char* name;
    char mode;
    const std::string& content;
  } blobs[] = {{"state", 0, record}, {"trust", 1, trust}, {"active_bundle", 2, bundle}};
  bool ok = true;
  for (const auto& b : blobs) {
    const std::string image = ports::EncodeStateBlob(b.name, b.content);
    const std::string name(b.name);
    ok = ok && WriteFile(out / ("blob_" + name), std::string(1, b.mode) + image);
    ok = ok && WriteFile(out / ("named_" + name),
                         std::string(1, 3) + std::string(1, static_cast<char>(name.size())) + name +
                             image);
    ok = ok && WriteFile(out / ("empty_" + name),
                         std::string(1, b.mode) + ports::EncodeStateBlob(b.name, ""));
  }
  const std::string current = ports::EncodeStateBlob("state", record);
  const std::string previous = ports::EncodeStateBlob("state", older);
  std::string torn = current;
  torn.back() = static_cast<char>(torn.back() ^ 0x55);
  const char len = static_cast<char>(current.size());
  ok = ok && WriteFile(out / "store_current", std::string(1, 4) + len + current);
  ok = ok && WriteFile(out / "store_fallback", std::string(1, 4 | 16) + len + torn + previous);
  ok = ok && WriteFile(out / "store_prev_only", std::string(1, 4 | 16) + '\0' + previous);
  ok = ok && WriteFile(out / "ownership",
                       "\x08"
                       "edict-native-ownership 1\n"
                       "file\t/etc/opt/chrome/policies/managed/edict.json\n"
                       "key\torg.gnome.desktop.privacy/report-technical-problems\nkey\tz\n");
  ok = ok && WriteFile(out / "ownership_empty",
                       "\x08"
                       "edict-native-ownership 1\n");
  return ok ? 0 : 1;
}

int AgentState(const fs::path& out, const fs::path& trust_file,
               const std::vector<fs::path>& bundles) {
  namespace ports = edict::ports;
  namespace tr = edict::transport;
  edict::fuzz::MemoryStateStore store;
  ports::MemoryAuditSink audit;
  ports::FakeClock clock(absl::FromUnixSeconds(edict::fuzz::kNow));
  const tr::EndpointIdentity& who = edict::fuzz::TestIdentity();
  auto identity = ports::DeviceIdentity::Create(who.device_id, {who.tenant, who.groups});
  if (!identity.ok()) return 1;
  edict::SnapshotPublisher publisher;
  tr::ActivationOptions options;
  options.state = &store;
  options.audit = &audit;
  options.clock = &clock;
  options.identity = identity->get();
  options.publisher = &publisher;
  const auto pinned = edict::fuzz::PinnedTrustDocument();
  options.pinned_trust.assign(pinned.begin(), pinned.end());
  auto activation = tr::Activation::Create(std::move(options));
  if (!activation.ok() || !(*activation)->Start().ok()) return 1;
  int written = 0;
  const auto save = [&](const std::string& what) {
    const std::string records = edict::fuzz::WriteAgentRecords(store);
    // Mode 32 (stored pinned copy), 32|64 (pinned given), 32|64|128 (identity given).
    bool ok = WriteFile(out / ("agent_" + what), std::string(1, '\x20') + records);
    ok = ok && WriteFile(out / ("agent_pinned_" + what), std::string(1, '\x60') + records);
    ok = ok && WriteFile(out / ("agent_identity_" + what), std::string(1, '\xe0') + records);
    written += ok ? 1 : 0;
    return ok;
  };
  std::string doc;
  if (!ReadFile(trust_file, &doc)) return 1;
  if ((*activation)->OfferTrust(std::vector<uint8_t>(doc.begin(), doc.end())).activated &&
      !save("trust_v2")) {
    return 1;
  }
  for (const fs::path& b : bundles) {
    if (!ReadFile(b, &doc)) return 1;
    if ((*activation)->Offer(std::vector<uint8_t>(doc.begin(), doc.end())).activated &&
        !save(b.stem().string())) {
      return 1;
    }
  }
  std::printf("agent-state: %d record sets\n", written);
  return written > 1 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "vectors") == 0) return Vectors(argv[2], argv[3], argv[4]);
  if (argc == 5 && std::strcmp(argv[1], "state") == 0) return State(argv[2], argv[3], argv[4]);
  if (argc >= 5 && std::strcmp(argv[1], "agent-state") == 0) {
    return AgentState(argv[2], argv[3], std::vector<fs::path>(argv + 4, argv + argc));
  }
  std::fprintf(stderr,
               "usage: fuzz_seed_tool vectors VECTOR_DIR POLICY_DIR PAYLOAD_DIR\n"
               "       fuzz_seed_tool state OUT_DIR TRUST_FILE BUNDLE_FILE\n"
               "       fuzz_seed_tool agent-state OUT_DIR TRUST_V2_FILE BUNDLE_FILE...\n");
  return 2;
}
