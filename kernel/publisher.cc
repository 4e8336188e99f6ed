#include "kernel/publisher.h"

#include <thread>
#include <utility>

namespace edict {

// Why a replaced snapshot may be freed after WaitForReaders():
//
// All operations below are sequentially consistent, so they fall in one total order S.
// A reader does: e = load(epoch_); fetch_add(active_[e & 1]); p = load(current_); query;
// fetch_sub(active_[e & 1]). Publish does: store(current_ = new); then twice: flip
// epoch_, spin until the counter of the parity it flipped away from reads 0.
//
// Take a reader R that obtained the old pointer. Its load of current_ precedes the store
// of the new pointer in S, and its increment precedes that load, so R's +1 is in its
// counter from before the swap until R is done. R's parity is the epoch it read, which
// may be stale (read before an earlier Publish flipped it), so it can be either parity;
// after the swap each of the two rounds drains one parity, together both. A drain that
// reads 0 after the swap proves that every reader counted in that parity before the swap
// has decremented (each reader decrements only its own increment), so R is finished.
// Readers that increment after a drain's load may be counted late, but their load of
// current_ follows the swap in S, so they hold the new snapshot, never the old one.
// The epoch flip is what guarantees progress: new readers go to the other parity, so
// the drained parity only sees the few readers that read a stale epoch.

struct SnapshotPublisher::Slot {
  std::shared_ptr<const CatalogSet> catalogs;  // null: the built-in catalogue (static)
  std::vector<uint8_t> payload;
  std::unique_ptr<std::max_align_t[]> arena;
  const Snapshot* snapshot = nullptr;
};

SnapshotPublisher::SnapshotPublisher() : current_(&Snapshot::Defaults()) {}

SnapshotPublisher::~SnapshotPublisher() = default;

SnapshotPublisher::Reader::Reader(const SnapshotPublisher& publisher) {
  const uint32_t e = publisher.epoch_.load(std::memory_order_seq_cst);
  counter_ = &publisher.active_[e & 1].value;
  counter_->fetch_add(1, std::memory_order_seq_cst);
  snapshot_ = publisher.current_.load(std::memory_order_seq_cst);
}

SnapshotPublisher::Reader::~Reader() { counter_->fetch_sub(1, std::memory_order_seq_cst); }

uint64_t SnapshotPublisher::serial() const {
  Reader r(*this);
  return r->serial();
}

absl::Status SnapshotPublisher::Publish(std::vector<uint8_t> payload) {
  return Publish(std::move(payload), nullptr);
}

absl::Status SnapshotPublisher::Publish(std::vector<uint8_t> payload,
                                        std::shared_ptr<const CatalogSet> catalogs) {
  auto slot = std::make_unique<Slot>();
  slot->catalogs = std::move(catalogs);
  const CatalogSet& set = slot->catalogs ? *slot->catalogs : CatalogSet::Builtin();
  slot->payload = std::move(payload);
  const absl::Span<const uint8_t> bytes(slot->payload.data(), slot->payload.size());
  absl::StatusOr<size_t> size = Snapshot::ArenaSize(bytes, set);
  if (!size.ok()) return size.status();
  const size_t words = (*size + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  slot->arena.reset(new std::max_align_t[words == 0 ? 1 : words]);
  absl::StatusOr<const Snapshot*> snap = Snapshot::Activate(
      bytes, absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(slot->arena.get()), *size), set);
  if (!snap.ok()) return snap.status();
  slot->snapshot = *snap;

  while (publishing_.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
  current_.store(slot->snapshot, std::memory_order_seq_cst);
  for (int round = 0; round < 2; ++round) {
    const uint32_t e = epoch_.load(std::memory_order_seq_cst);
    epoch_.store(e + 1, std::memory_order_seq_cst);
    while (active_[e & 1].value.load(std::memory_order_seq_cst) != 0) {
      std::this_thread::yield();
    }
  }
  std::unique_ptr<Slot> old = std::move(current_slot_);
  current_slot_ = std::move(slot);
  publish_count_.fetch_add(1, std::memory_order_relaxed);
  publishing_.clear(std::memory_order_release);
  return absl::OkStatus();  // `old` (payload and arena) is freed here: no reader holds it
}

}  // namespace edict
