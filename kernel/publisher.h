// SnapshotPublisher: swaps activated snapshots under running readers.
//
// Thread-safety: any number of threads may hold Readers and query through them while
// other threads call Publish. The read path takes no lock and never allocates: a Reader
// is two atomic increments/decrements and one atomic load. Publish calls are serialised
// among themselves (a yielding spin flag); Publish allocates (payload copy, arena) and
// waits until no reader can still hold the snapshot it replaces before freeing it.
#ifndef EDICT_KERNEL_PUBLISHER_H_
#define EDICT_KERNEL_PUBLISHER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "kernel/kernel.h"

namespace edict {

class SnapshotPublisher {
 public:
  // Starts with Snapshot::Defaults() (serial 0).
  SnapshotPublisher();
  // Precondition: no Reader is alive and no Publish is running.
  ~SnapshotPublisher();
  SnapshotPublisher(const SnapshotPublisher&) = delete;
  SnapshotPublisher& operator=(const SnapshotPublisher&) = delete;

  // Activates `payload` (kept by the publisher) in a new arena and makes it current.
  // On failure returns Snapshot::Activate's error and the current snapshot stays.
  // Against the built-in catalogue, or against `catalogs` (kept alive by the publisher as
  // long as the snapshot is; null means the built-in catalogue). Readers get handles of
  // the set the current snapshot was activated against: Snapshot::catalogs().
  absl::Status Publish(std::vector<uint8_t> payload);
  absl::Status Publish(std::vector<uint8_t> payload, std::shared_ptr<const CatalogSet> catalogs);

  // A read guard: pins the current snapshot for its lifetime. Keep it short (one query
  // or a few); a Publish waits for guards taken before it to end. Not copyable or
  // movable; use on the thread that created it.
  class Reader {
   public:
    explicit Reader(const SnapshotPublisher& publisher);
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    const Snapshot& snapshot() const { return *snapshot_; }
    const Snapshot& operator*() const { return *snapshot_; }
    const Snapshot* operator->() const { return snapshot_; }

   private:
    std::atomic<uint64_t>* counter_;
    const Snapshot* snapshot_;
  };

  // Serial of the current snapshot (a momentary value).
  uint64_t serial() const;
  // Number of successful Publish calls.
  uint64_t publish_count() const { return publish_count_.load(std::memory_order_relaxed); }

 private:
  struct Slot;  // payload + arena + snapshot
  struct alignas(64) Counter {
    std::atomic<uint64_t> value{0};
  };

  std::atomic<const Snapshot*> current_;
  std::atomic<uint32_t> epoch_{0};
  mutable Counter active_[2];
  std::atomic_flag publishing_ = ATOMIC_FLAG_INIT;
  std::unique_ptr<Slot> current_slot_;  // owned; touched only by the publishing thread
  std::atomic<uint64_t> publish_count_{0};
};

}  // namespace edict

#endif  // EDICT_KERNEL_PUBLISHER_H_
