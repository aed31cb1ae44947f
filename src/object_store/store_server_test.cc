// StoreServer + StoreClient over a real Unix socket: the server on its own loop thread, clients
// in the test, as a core worker would use them.
#include "object_store/store_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/id.h"
#include "gtest/gtest.h"
#include "object_store/store_client.h"
#include "object_store/store_handshake.h"

namespace moray::object_store {
namespace {

constexpr uint64_t kCapacity = 64ull << 20;

// Distinct object ids: the puts of one made-up task.
ObjectId Id(int i) { return ObjectIdForPut(TaskId::FromBinary(std::string(16, 't')), i); }

// Deterministic bytes for object `seed`.
void Fill(char* out, uint64_t size, int seed) {
  uint64_t x = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(seed + 1);
  for (uint64_t i = 0; i + 8 <= size; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(out + i, &x, 8);
  }
  for (uint64_t i = size / 8 * 8; i < size; ++i) out[i] = static_cast<char>(seed);
}

class StoreServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat("/tmp/moray_store_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    StoreServerOptions options;
    options.socket_path = dir_ + "/sockets/store.sock";
    options.capacity = kCapacity;
    options.spill_dir = dir_ + "/spill";
    options.prefault_bytes = kCapacity;
    options.spill_file_size = 16ull << 20;
    auto server = StoreServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<StoreClient> NewClient() {
    auto client = StoreClient::Connect(server_->socket_path());
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }
  proto::StoreStats Stats(StoreClient& client) {
    auto stats = client.Stats();
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.ok() ? *stats : proto::StoreStats();
  }

  std::string dir_;
  std::unique_ptr<StoreServer> server_;
};

TEST_F(StoreServerTest, TwoClientsShareObjectsWithoutCopies) {
  auto writer = NewClient();
  auto reader = NewClient();
  ASSERT_TRUE(writer && reader);
  EXPECT_EQ(reader->capacity(), kCapacity);

  auto span = writer->Create(Id(1), 1 << 20);
  ASSERT_TRUE(span.ok()) << span.status();
  ASSERT_EQ(span->size(), 1u << 20);
  EXPECT_GE(span->data(), writer->base());
  EXPECT_LE(span->data() + span->size(), writer->base() + kCapacity);
  Fill(span->data(), span->size(), 1);
  EXPECT_FALSE(reader->Contains(Id(1)));
  ASSERT_TRUE(writer->Seal(Id(1)).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(writer->Seal(Id(1))));
  // SEAL is one-way: the writer's own connection is ordered; another client's GET waits for it.
  EXPECT_TRUE(writer->Contains(Id(1)));

  auto first = reader->Get({Id(1)}, absl::Seconds(5));
  auto second = reader->Get({Id(1)}, absl::Seconds(5));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(reader->Contains(Id(1)));
  const auto& buffer = (*first)[0];
  ASSERT_NE(buffer, nullptr);
  // A view into the reader's own mapping, at the same offset the writer wrote, and the same view
  // for both Gets: nothing was copied.
  EXPECT_GE(buffer->Data(), reader->base());
  EXPECT_LE(buffer->Data() + buffer->Size(), reader->base() + kCapacity);
  EXPECT_EQ(buffer->Data() - reader->base(), span->data() - writer->base());
  EXPECT_EQ(buffer->Data(), (*second)[0]->Data());
  std::vector<char> expected(1 << 20);
  Fill(expected.data(), expected.size(), 1);
  ASSERT_EQ(buffer->Size(), expected.size());
  EXPECT_EQ(std::memcmp(buffer->Data(), expected.data(), expected.size()), 0);
  // The writer sees the same object too.
  auto own = writer->Get({Id(1)}, absl::ZeroDuration());
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(std::memcmp((*own)[0]->Data(), expected.data(), expected.size()), 0);
}

TEST_F(StoreServerTest, GetWaitsForSealAndTimesOutOnMissingObjects) {
  auto writer = NewClient();
  auto reader = NewClient();
  std::vector<std::shared_ptr<ray::internal::Buffer>> got;
  absl::Notification done;
  std::thread waiter([&] {
    auto result = reader->Get({Id(1), Id(2)}, absl::Seconds(30));
    ASSERT_TRUE(result.ok()) << result.status();
    got = *result;
    done.Notify();
  });
  const char hello[] = "hello";
  ASSERT_TRUE(writer->Put(Id(1), hello, sizeof(hello)).ok());
  auto span = writer->Create(Id(2), 3);
  ASSERT_TRUE(span.ok());
  std::memcpy(span->data(), "abc", 3);
  EXPECT_FALSE(done.HasBeenNotified());  // object 2 is not sealed yet
  ASSERT_TRUE(writer->Seal(Id(2)).ok());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  waiter.join();
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(got[0] && got[1]);
  EXPECT_STREQ(got[0]->Data(), "hello");
  EXPECT_EQ(std::string(got[1]->Data(), got[1]->Size()), "abc");

  const auto start = absl::Now();
  auto missing = reader->Get({Id(1), Id(3)}, absl::Milliseconds(100));
  ASSERT_TRUE(missing.ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_NE((*missing)[0], nullptr);
  EXPECT_EQ((*missing)[1], nullptr);
  auto now = reader->Get({Id(3)}, absl::ZeroDuration());
  ASSERT_TRUE(now.ok());
  EXPECT_EQ((*now)[0], nullptr);
}

TEST_F(StoreServerTest, BuffersPinUntilDestroyedAndDeleteWaitsForThem) {
  auto owner = NewClient();
  auto reader = NewClient();
  std::vector<char> data(512 << 10, 'q');
  ASSERT_TRUE(owner->Put(Id(1), data.data(), data.size()).ok());
  auto got = reader->Get({Id(1)}, absl::Seconds(5));
  ASSERT_TRUE(got.ok());
  std::shared_ptr<ray::internal::Buffer> buffer = (*got)[0];
  got->clear();
  EXPECT_EQ(Stats(*reader).num_pinned(), 1u);

  ASSERT_TRUE(owner->Delete({Id(1)}).ok());
  EXPECT_FALSE(owner->Contains(Id(1)));        // gone for new readers
  EXPECT_EQ(Stats(*owner).used(), data.size());  // still there for the one holding a view
  EXPECT_EQ(buffer->Data()[data.size() - 1], 'q');

  buffer.reset();  // sends RELEASE on the reader's connection, ahead of its next request
  auto stats = Stats(*reader);
  EXPECT_EQ(stats.num_pinned(), 0u);
  EXPECT_EQ(stats.used(), 0u);
  EXPECT_EQ(stats.num_objects(), 0u);
}

TEST_F(StoreServerTest, BuffersOutliveTheirClient) {
  auto owner = NewClient();
  ASSERT_TRUE(owner->Put(Id(1), "abc", 3).ok());
  std::shared_ptr<ray::internal::Buffer> buffer;
  {
    auto reader = NewClient();
    auto got = reader->Get({Id(1)}, absl::Seconds(5));
    ASSERT_TRUE(got.ok());
    buffer = (*got)[0];
  }
  EXPECT_EQ(std::string(buffer->Data(), 3), "abc");  // still mapped and pinned
  EXPECT_EQ(Stats(*owner).num_pinned(), 1u);
  buffer.reset();  // the last reference: RELEASE, then the connection closes
  for (int i = 0; i < 200 && Stats(*owner).num_pinned() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the close is asynchronous
  }
  EXPECT_EQ(Stats(*owner).num_pinned(), 0u);
}

// A client speaking the wire protocol directly, then vanishing while it holds pins.
TEST_F(StoreServerTest, ClosedConnectionReleasesPinsAndAbortsUnsealedObjects) {
  auto owner = NewClient();
  ASSERT_TRUE(owner->Put(Id(1), "abc", 3).ok());

  rpc::EventLoop loop;
  loop.StartThread("raw_client");
  int received_fd = -1;
  auto conn = rpc::Connection::ConnectUnix(&loop, server_->socket_path(), absl::Seconds(5),
                                           [&](int fd) -> absl::Status {
    auto region = ReceiveStoreRegion(fd, absl::Seconds(5));
    if (!region.ok()) return region.status();
    received_fd = region->first;
    uint64_t size = region->second;
    EXPECT_EQ(size, kCapacity);
    return absl::OkStatus();
  });
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_GE(received_fd, 0);
  close(received_fd);
  (*conn)->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                       [](const std::shared_ptr<rpc::Connection>&) {});
  absl::Status last;  // the status of the last call
  auto call = [&](uint16_t method, const google::protobuf::MessageLite& request) {
    rpc::Frame reply;
    absl::Notification replied;
    (*conn)->Call(method, request, [&](absl::Status status, rpc::Frame&& frame) {
      last = status;
      reply = std::move(frame);
      replied.Notify();
    });
    replied.WaitForNotification();
    return reply;
  };
  proto::StoreGetRequest get;
  get.add_object_ids(Id(1).Binary());
  get.add_object_ids(Id(1).Binary());
  get.set_timeout_ms(1000);
  proto::StoreGetReply got;
  ASSERT_TRUE(call(proto::STORE_GET, get).ParseBody(&got).ok());
  ASSERT_TRUE(last.ok()) << last;
  ASSERT_EQ(got.objects_size(), 2);
  EXPECT_TRUE(got.objects(0).found());
  EXPECT_EQ(got.objects(0).size(), 3u);
  proto::StoreCreateRequest create;
  create.set_object_id(Id(2).Binary());
  create.set_size(100);
  proto::StoreCreateReply created;
  ASSERT_TRUE(call(proto::STORE_CREATE, create).ParseBody(&created).ok());
  ASSERT_TRUE(last.ok()) << last;
  // A failure is an error reply with its status; an unknown method gets the service's policy;
  // neither closes the connection.
  call(proto::STORE_CREATE, create);
  EXPECT_EQ(last.code(), absl::StatusCode::kAlreadyExists) << last;
  call(150, get);
  EXPECT_EQ(last.code(), absl::StatusCode::kUnimplemented) << last;
  EXPECT_FALSE((*conn)->closed());
  auto stats = Stats(*owner);
  EXPECT_EQ(stats.num_pinned(), 2u);
  EXPECT_EQ(stats.num_objects(), 2u);

  (*conn)->Close();
  for (int i = 0; i < 200 && Stats(*owner).num_pinned() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the close is asynchronous
  }
  stats = Stats(*owner);
  EXPECT_EQ(stats.num_pinned(), 0u);
  EXPECT_EQ(stats.num_objects(), 1u);  // the unsealed object was aborted
  EXPECT_TRUE(owner->Contains(Id(1)));
  EXPECT_FALSE(owner->Contains(Id(2)));
}

TEST_F(StoreServerTest, WorkingSetThreeTimesTheStoreSpillsAndReadsBackByteExact) {
  auto writer = NewClient();
  auto reader = NewClient();
  constexpr uint64_t kObject = 4ull << 20;
  constexpr int kCount = 3 * static_cast<int>(kCapacity / kObject);  // 192 MiB through 64 MiB
  for (int i = 0; i < kCount; ++i) {
    // Mixed sizes: most 4 MiB, every third one small (fused in spill files).
    const uint64_t size = i % 3 == 2 ? (200 << 10) + i : kObject;
    auto span = writer->Create(Id(i), size);
    ASSERT_TRUE(span.ok()) << i << ": " << span.status();
    Fill(span->data(), size, i);
    ASSERT_TRUE(writer->Seal(Id(i)).ok());
  }
  auto stats = Stats(*writer);
  EXPECT_GT(stats.num_spilled(), 0u);
  EXPECT_GT(stats.spilled_bytes(), kCapacity);
  EXPECT_LE(stats.used(), kCapacity);
  EXPECT_EQ(stats.num_objects(), static_cast<uint64_t>(kCount));
  std::vector<char> expected(kObject);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kCount; ++i) {
      auto got = reader->Get({Id(i)}, absl::Seconds(10));
      ASSERT_TRUE(got.ok()) << i << ": " << got.status();
      const auto& buffer = (*got)[0];
      ASSERT_NE(buffer, nullptr) << i;
      Fill(expected.data(), buffer->Size(), i);
      ASSERT_EQ(buffer->Size(), i % 3 == 2 ? (200u << 10) + i : kObject);
      ASSERT_EQ(std::memcmp(buffer->Data(), expected.data(), buffer->Size()), 0) << i;
    }
  }
  stats = Stats(*reader);
  EXPECT_GT(stats.restored_total(), static_cast<uint64_t>(kCount));
  ASSERT_TRUE(writer
                  ->Delete([&] {
                    std::vector<ObjectId> ids;
                    for (int i = 0; i < kCount; ++i) ids.push_back(Id(i));
                    return ids;
                  }())
                  .ok());
  stats = Stats(*writer);
  EXPECT_EQ(stats.num_objects(), 0u);
  EXPECT_EQ(stats.used(), 0u);
  EXPECT_EQ(stats.spilled_bytes(), 0u);
  EXPECT_EQ(stats.num_spill_files(), 0u);
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/spill")) {
    files += entry.is_regular_file();
  }
  EXPECT_EQ(files, 0u);
}

TEST_F(StoreServerTest, CreatingTheNilIdIsAnInvalidArgument) {
  auto client = NewClient();
  auto created = client->Create(ObjectId(), 64);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument) << created.status();
  EXPECT_NE(created.status().message().find("object_id must be 20 bytes, got 0"), std::string::npos)
      << created.status();
  EXPECT_TRUE(client->Create(Id(1), 64).ok());  // the connection still serves
}

TEST_F(StoreServerTest, FullWhenPinnedDataLeavesNoRoom) {
  auto client = NewClient();
  std::vector<std::shared_ptr<ray::internal::Buffer>> pinned;
  for (int i = 0; i < 4; ++i) {
    auto span = client->Create(Id(i), 16ull << 20);
    ASSERT_TRUE(span.ok()) << span.status();
    ASSERT_TRUE(client->Seal(Id(i)).ok());
    auto got = client->Get({Id(i)}, absl::ZeroDuration());
    ASSERT_TRUE(got.ok());
    pinned.push_back((*got)[0]);
  }
  auto full = client->Create(Id(9), 1 << 20);
  EXPECT_TRUE(absl::IsResourceExhausted(full.status())) << full.status();
  EXPECT_NE(full.status().message().find("object store full"), std::string::npos);
  pinned.pop_back();  // one unpinned object: spillable
  auto fits = client->Create(Id(9), 1 << 20);
  EXPECT_TRUE(fits.ok()) << fits.status();
}

TEST_F(StoreServerTest, OneClientServesManyThreads) {
  auto client = NewClient();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<char> data(150 << 10), expected(150 << 10);
      for (int i = 0; i < 50; ++i) {
        const int n = t * 1000 + i;
        Fill(data.data(), data.size(), n);
        if (!client->Put(Id(n), data.data(), data.size()).ok()) failures++;
        auto got = client->Get({Id(n)}, absl::Seconds(5));
        if (!got.ok() || !(*got)[0] ||
            std::memcmp((*got)[0]->Data(), data.data(), data.size()) != 0) {
          failures++;
        }
        got->clear();
        if (!client->Delete({Id(n)}).ok()) failures++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto stats = Stats(*client);
  EXPECT_EQ(stats.num_objects(), 0u);
  EXPECT_EQ(stats.num_pinned(), 0u);
}

TEST_F(StoreServerTest, ConnectToNothingFailsClearly) {
  auto client = StoreClient::Connect(dir_ + "/sockets/nothing.sock", absl::Seconds(1));
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(absl::IsUnavailable(client.status())) << client.status();
  EXPECT_NE(client.status().message().find("object store"), std::string::npos);
}

}  // namespace
}  // namespace moray::object_store
