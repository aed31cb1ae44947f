// Measurements, not checks: run with --gtest_also_run_disabled_tests. Prints the numbers quoted in
// src/object_store/README.md (Put vs memcpy, small round trip, Get of 1 GiB, prefault rate).
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "gtest/gtest.h"
#include "object_store/store_client.h"
#include "object_store/store_server.h"

namespace moray::object_store {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
// Distinct object ids: the puts of one made-up task.
ObjectId Id(int i) { return ObjectIdForPut(TaskId::FromBinary(std::string(16, 't')), i); }

TEST(StorePerf, DISABLED_PutGetAndRoundTrips) {
  constexpr uint64_t kCapacity = 1536ull << 20;
  constexpr uint64_t kPut = 256ull << 20;
  const std::string dir = absl::StrCat("/tmp/moray_store_perf_", getpid());
  StoreServerOptions options;
  options.socket_path = dir + "/store.sock";
  options.capacity = kCapacity;
  options.spill_dir = dir + "/spill";
  options.prefault_bytes = kCapacity;
  auto start = Clock::now();
  auto server = StoreServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  while ((*server)->Stats().prefaulted_bytes() < kCapacity) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double prefault_s = Seconds(start);
  printf("prefault: %.2f GiB in %.3f s = %.2f GB/s\n", kCapacity / double(1 << 30), prefault_s,
         kCapacity / prefault_s / 1e9);

  auto client = StoreClient::Connect((*server)->socket_path());
  ASSERT_TRUE(client.ok());
  std::vector<char> source(kPut), destination(kPut);
  for (uint64_t i = 0; i < kPut; i += 4096) source[i] = static_cast<char>(i), destination[i] = 1;
  std::memcpy(destination.data(), source.data(), kPut);  // warm both
  start = Clock::now();
  std::memcpy(destination.data(), source.data(), kPut);
  const double memcpy_s = Seconds(start);
  printf("memcpy 256 MiB warm heap -> warm heap: %.1f ms = %.2f GB/s\n", memcpy_s * 1e3,
         kPut / memcpy_s / 1e9);

  for (int round = 0; round < 3; ++round) {
    start = Clock::now();
    ASSERT_TRUE((*client)->Put(Id(round), source.data(), kPut).ok());
    const double put_s = Seconds(start);
    printf("Put 256 MiB #%d (%s): %.1f ms = %.2f GB/s\n", round,
           round == 0 ? "first touch of these pages in the client" : "pages mapped before",
           put_s * 1e3, kPut / put_s / 1e9);
    ASSERT_TRUE((*client)->Delete({Id(round)}).ok());
  }

  // Small objects: Create + Seal + Get (+ release, delete), sequential.
  constexpr int kRounds = 2000;
  char small[1024] = {};
  start = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    auto span = (*client)->Create(Id(1000 + i), sizeof(small));
    ASSERT_TRUE(span.ok());
    std::memcpy(span->data(), small, sizeof(small));
    ASSERT_TRUE((*client)->Seal(Id(1000 + i)).ok());
    auto got = (*client)->Get({Id(1000 + i)}, absl::Seconds(5));
    ASSERT_TRUE(got.ok() && (*got)[0]);
    got->clear();
    ASSERT_TRUE((*client)->Delete({Id(1000 + i)}).ok());
  }
  printf("Create+Seal+Get+Release+Delete of 1 KiB: %.1f us per object\n",
         Seconds(start) / kRounds * 1e6);
  start = Clock::now();
  for (int i = 0; i < kRounds; ++i) ASSERT_TRUE((*client)->Stats().ok());
  printf("one synchronous round trip (STATS): %.1f us\n", Seconds(start) / kRounds * 1e6);

  // A 1 GiB object: Get is a round trip and a pointer; reading the view is the user's cost.
  constexpr uint64_t kGiB = 1ull << 30;
  auto span = (*client)->Create(Id(1), kGiB);
  ASSERT_TRUE(span.ok()) << span.status();
  std::memset(span->data(), 7, kGiB);
  ASSERT_TRUE((*client)->Seal(Id(1)).ok());
  auto reader = StoreClient::Connect((*server)->socket_path());
  ASSERT_TRUE(reader.ok());
  for (int round = 0; round < 3; ++round) {
    start = Clock::now();
    auto got = (*reader)->Get({Id(1)}, absl::Seconds(5));
    const double get_s = Seconds(start);
    ASSERT_TRUE(got.ok() && (*got)[0] && (*got)[0]->Size() == kGiB);
    start = Clock::now();
    uint64_t sum = 0;
    const char* data = (*got)[0]->Data();
    for (uint64_t i = 0; i < kGiB; i += 4096) sum += static_cast<uint64_t>(data[i]);
    const double touch_s = Seconds(start);
    printf("Get 1 GiB from another client #%d: %.1f us; then touching each page: %.1f ms (%lu)\n",
           round, get_s * 1e6, touch_s * 1e3, static_cast<unsigned long>(sum % 10));
  }
  server->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace moray::object_store
