// The state store loader (ports/): a stored blob's header and checksum (DecodeStateBlob),
// the Linux store's Read / ReadWithFallback path over files holding the fuzz bytes, and
// the native stores' OwnershipRecord text.
//
// Input: one mode byte, then bytes.
//   mode % 4 == 0: DecodeStateBlob under blob name "state" ("trust", "active_bundle" for
//                  1, 2); 3: the name is the first length-prefixed field.
//   mode & 4:      the bytes (split at a length prefix) are written as `state` and
//                  `state.prev` in a scratch store root and read back through the store.
//   mode & 8:      the bytes are an OwnershipRecord.
//   mode & 32:     the agent's records (transport/activation_records.cc: trust chain,
//                  anti-rollback floor, active bundle, each with a current and a previous
//                  generation; layout in common.h, ReadAgentRecords) in a read-only in-memory
//                  store, loaded and re-verified by transport::LoadActiveState as edict-agent and
//                  edict_open_state do; 64: the pinned trust document is given; 128: the
//                  endpoint identity is given. Then a query burst on what it returns.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/src/common.h"
#include "ports/linux/linux_state_store.h"
#include "ports/native_policy.h"
#include "ports/state_store.h"
#include "transport/activation.h"

namespace {

using edict::fuzz::Check;
namespace ports = edict::ports;

std::string AsString(absl::Span<const uint8_t> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  Check(f != nullptr, "cannot write the scratch store", path);
  if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

struct Scratch {
  std::string root;
  std::unique_ptr<ports::StateStore> store;
};

Scratch& ScratchStore() {
  static Scratch* s = [] {
    auto* out = new Scratch;
    char tmpl[] = "/tmp/edict-fuzz-state-XXXXXX";
    Check(mkdtemp(tmpl) != nullptr, "mkdtemp");
    out->root = tmpl;
    ports::LinuxStateStoreOptions options;
    options.root = out->root;
    options.max_blob_bytes = 1 << 20;
    auto store = ports::OpenLinuxStateStore(options);
    Check(store.ok(), "OpenLinuxStateStore", store.status().ToString());
    out->store = std::move(*store);
    std::atexit([] {
      const std::string root = ScratchStore().root;
      for (const char* f : {"/state", "/state.prev", "/state.tmp", "/state.prev-tmp"}) {
        std::remove((root + f).c_str());
      }
      rmdir(root.c_str());
    });
    return out;
  }();
  return *s;
}

void Decode(const std::string& name, const std::string& image) {
  const absl::StatusOr<std::string> content = ports::DecodeStateBlob(name, image);
  if (!content.ok()) return;
  Check(ports::ValidateStateBlobName(name).ok(), "decoded a blob under an invalid name");
  Check(ports::EncodeStateBlob(name, *content) == image,
        "a blob that decodes is not the encoding of its content");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edict::fuzz::Reader in(data, size);
  const uint8_t mode = in.Byte();
  if (mode & 32) {
    edict::fuzz::MemoryStateStore store;
    edict::fuzz::ReadAgentRecords(in, &store);
    store.read_only = true;
    edict::transport::LoadActiveStateOptions options;
    if (mode & 64) {
      const auto pinned = edict::fuzz::PinnedTrustDocument();
      options.pinned_trust.assign(pinned.begin(), pinned.end());
    }
    if (mode & 128) options.identity = edict::fuzz::TestIdentity();
    options.now = edict::fuzz::kNow;
    const auto loaded = edict::transport::LoadActiveState(store, options);
    // Only a store that cannot be read at all is an error; damaged records give defaults.
    Check(loaded.ok(), "LoadActiveState failed on a readable store", loaded.status().ToString());
    Check(store.mutations == 0, "LoadActiveState wrote to the store");
    const edict::transport::ActiveState& state = **loaded;
    const edict::transport::ActiveStateInfo& info = state.info();
    static const bool verbose = std::getenv("EDICT_FUZZ_VERBOSE") != nullptr;
    if (verbose) {
      std::fprintf(stderr, "agent records: %s, serial %llu, trust v%llu, %zu problem(s)%s%s\n",
                   std::string(edict::transport::ActiveSourceName(info.source)).c_str(),
                   static_cast<unsigned long long>(info.serial),
                   static_cast<unsigned long long>(info.trust_version), info.problems.size(),
                   info.problems.empty() ? "" : ": ",
                   info.problems.empty() ? "" : info.problems[0].c_str());
    }
    if (info.source == edict::transport::ActiveSource::kDefaults) {
      Check(info.serial == 0 && state.bundle().empty() &&
                &state.snapshot() == &edict::Snapshot::Defaults(),
            "defaults with a bundle or a serial");
    } else {
      Check(state.snapshot().serial() == info.serial, "snapshot serial != info serial");
      const auto payload = state.payload();
      const auto bundle = state.bundle();
      Check(!payload.empty() && payload.data() >= bundle.data() &&
                payload.data() + payload.size() <= bundle.data() + bundle.size(),
            "verified payload not inside the stored bundle");
      Check(info.last_serial >= info.serial, "anti-rollback state below the active serial");
    }
    edict::fuzz::QueryBurst(state.snapshot(), info.serial + size, 1);
    return 0;
  }
  if (mode & 8) {
    const std::string text = AsString(in.Rest());
    const auto record = ports::OwnershipRecord::Decode(text);
    if (record.ok()) {
      const auto encoded = record->Encode();
      Check(encoded.ok(), "a decoded OwnershipRecord does not encode");
      const auto again = ports::OwnershipRecord::Decode(*encoded);
      Check(again.ok() && *again == *record, "OwnershipRecord does not round-trip", *encoded);
    }
    return 0;
  }
  if (mode & 4) {
    Scratch& s = ScratchStore();
    const std::string current = AsString(in.Bytes(255));
    const std::string previous = AsString(in.Rest());
    WriteFile(s.root + "/state", current);
    if (mode & 16) {
      WriteFile(s.root + "/state.prev", previous);
    } else {
      std::remove((s.root + "/state.prev").c_str());
    }
    const auto read = s.store->Read("state");
    if (read.ok()) Check(ports::EncodeStateBlob("state", *read) == current, "Read content");
    const auto fallback = s.store->ReadWithFallback("state");
    if (fallback.ok() && fallback->generation == ports::StateGeneration::kCurrent) {
      Check(read.ok() && *read == fallback->bytes, "Read and ReadWithFallback disagree");
    }
    return 0;
  }
  std::string name;
  switch (mode % 4) {
    case 0:
      name = "state";
      break;
    case 1:
      name = "trust";
      break;
    case 2:
      name = "active_bundle";
      break;
    default:
      name = AsString(in.Bytes(80));
      break;
  }
  Decode(name, AsString(in.Rest()));
  return 0;
}
