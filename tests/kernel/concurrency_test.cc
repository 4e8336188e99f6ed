// 4 reader threads query through SnapshotPublisher while a writer publishes 1,000 new
// snapshots; every answer must be consistent with exactly one published policy.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kernel/publisher.h"
#include "policy/catalog.h"
#include "tests/kernel/payload_builder.h"

namespace edict::testing {
namespace {

constexpr int kPublishes = 1000;

// Policy n: support_as_domain_admin = n odd, ceip = n % 3 == 0, usage_data/advertising...
// and schedule interval = 60 * n; all tied to serial n.
std::vector<uint8_t> PolicyFor(uint64_t n) {
  Policy p;
  p.serial = n;
  p.settings = {BoolRule("groove.support_as_domain_admin", 0, n % 2 == 1),
                BoolRule("communicator.ceip", 1, n % 3 == 0)};
  p.data_use = {{"usage_data", "personalisation", n % 2 == 0}};
  p.schedules = {{"genuine.validation_interval", static_cast<int64_t>(60 * n)}};
  return p.Build();
}

TEST(Publisher, StartsWithDefaultsAndKeepsCurrentOnFailure) {
  SnapshotPublisher pub;
  EXPECT_EQ(pub.serial(), 0u);
  EXPECT_TRUE(pub.Publish(PolicyFor(5)).ok());
  EXPECT_EQ(pub.serial(), 5u);
  EXPECT_FALSE(pub.Publish(std::vector<uint8_t>{1, 2, 3}).ok());
  Policy bad;
  bad.serial = 6;
  SRule r = BoolRule("future.setting", 0, true);
  r.critical = true;
  bad.settings = {r};
  EXPECT_EQ(pub.Publish(bad.Build()).code(), absl::StatusCode::kFailedPrecondition);
  SnapshotPublisher::Reader reader(pub);
  EXPECT_EQ(reader->serial(), 5u);
  EXPECT_EQ(reader->Resolve(catalog::setting::kGrooveSupportAsDomainAdmin, Context{}).value.number,
            1);
  EXPECT_EQ(pub.publish_count(), 1u);
}

TEST(Publisher, ReadersSeeConsistentSnapshots) {
  std::vector<std::vector<uint8_t>> payloads;
  for (int n = 1; n <= kPublishes; ++n) payloads.push_back(PolicyFor(n));
  SnapshotPublisher pub;
  std::atomic<bool> done{false};
  std::atomic<long> errors{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      uint64_t last = 0;
      long local = 0;
      Context c;
      c.os_generation = 61;
      while (!done.load(std::memory_order_acquire) || local < 1000) {
        // Guards are meant to be short: yield between them (not inside), so that on an
        // oversubscribed machine a preempted reader rarely sits on a guard.
        std::this_thread::yield();
        SnapshotPublisher::Reader r(pub);
        const uint64_t n = r->serial();
        const Resolution a = r->Resolve(catalog::setting::kGrooveSupportAsDomainAdmin, c);
        const Resolution b = r->Resolve(catalog::setting::kCommunicatorCeip, c);
        const DataUseDecision d =
            r->MayUse(catalog::data_class::kUsageData, catalog::purpose::kPersonalisation, c);
        const ScheduleAnswer s = r->Schedule(0, c);
        bool ok = a.serial == n && b.serial == n && d.serial == n && s.serial == n && n >= last;
        if (n == 0) {
          ok = ok && a.source == Source::kDefault && a.value.number == 0 &&
               s.interval_seconds == 90 * 86400 && !d.allowed;
        } else {
          ok = ok && a.value.number == static_cast<int64_t>(n % 2) &&
               b.value.number == (n % 3 == 0 ? 1 : 0) && d.allowed == (n % 2 == 0) &&
               s.interval_seconds == static_cast<int64_t>(60 * n) && a.rule == 0 &&
               (t % 2 == 0 || r->payload().size() > 0);
        }
        if (!ok) errors.fetch_add(1);
        last = n;
        ++local;
      }
      reads.fetch_add(local);
    });
  }
  std::thread writer([&] {
    for (auto& p : payloads) {
      if (!pub.Publish(std::move(p)).ok()) errors.fetch_add(1000000);
    }
    done.store(true, std::memory_order_release);
  });
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(pub.serial(), static_cast<uint64_t>(kPublishes));
  EXPECT_EQ(pub.publish_count(), static_cast<uint64_t>(kPublishes));
  EXPECT_GE(reads.load(), 4000);
}

}  // namespace
}  // namespace edict::testing
