// Package GC over the GCS's own KvStore, with packages written by the real uploader.
#include "gcs/package_gc.h"

#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "runtime_env/package_store.h"

namespace moray::gcs {
namespace {

using runtime_env::kPackageNamespace;

// The uploader's KvAccess over a KvStore (what GcsKvAccess does over the wire).
class KvStoreAccess : public runtime_env::KvAccess {
 public:
  explicit KvStoreAccess(KvStore* kv) : kv_(kv) {}
  absl::StatusOr<bool> Put(std::string_view ns, std::string_view key, std::string_view value,
                           bool overwrite) override {
    return kv_->Put(ns, key, std::string(value), overwrite);
  }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    return kv_->Get(ns, key);
  }
  absl::StatusOr<int64_t> Del(std::string_view ns, std::string_view key, bool by_prefix) override {
    return kv_->Del(ns, key, by_prefix);
  }
  absl::StatusOr<std::vector<std::string>> Keys(std::string_view ns,
                                                std::string_view prefix) override {
    return kv_->Keys(ns, prefix);
  }

 private:
  KvStore* kv_;
};

runtime_env::Package MakePackage(char fill, size_t size) {
  runtime_env::Package p;
  p.bytes = std::string(size, fill);
  p.hash = runtime_env::Sha256Hex(p.bytes);
  p.format = "tar.gz";
  return p;
}

class PackageGcTest : public ::testing::Test {
 protected:
  size_t KeysOf(const std::string& hash) { return kv_.Keys(kPackageNamespace, hash)->size(); }

  InMemoryTableStorage storage_;
  KvStore kv_{&storage_};
  KvStoreAccess access_{&kv_};
  const JobId job1_ = JobIdFromInt(1);
  const JobId job2_ = JobIdFromInt(2);
  // p1 only job 1's, p2 shared, p3 only job 2's; p1 spans two chunks.
  runtime_env::Package p1_ = MakePackage('1', runtime_env::kPackageChunkBytes + 10);
  runtime_env::Package p2_ = MakePackage('2', 100);
  runtime_env::Package p3_ = MakePackage('3', 100);

  void SetUp() override {
    ASSERT_TRUE(runtime_env::UploadPackage(access_, p1_, job1_).ok());
    ASSERT_TRUE(runtime_env::UploadPackage(access_, p2_, job1_).ok());
    ASSERT_TRUE(runtime_env::UploadPackage(access_, p2_, job2_).ok());
    ASSERT_TRUE(runtime_env::UploadPackage(access_, p3_, job2_).ok());
    ASSERT_TRUE(kv_.Put(kPackageNamespace, "unrelated", "x", false).ok());
    ASSERT_TRUE(kv_.Put("other_ns", "index/" + p1_.hash, "x", false).ok());
  }
};

TEST_F(PackageGcTest, DropsTheJobsRefsThenUnreferencedPackages) {
  EXPECT_EQ(KeysOf(p1_.hash), 3u);  // two chunks and the meta
  auto result = CollectPackages(&kv_, {job1_});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->refs_dropped, 2);
  EXPECT_EQ(result->packages_deleted, 1);
  EXPECT_EQ(KeysOf(p1_.hash), 0u);
  EXPECT_FALSE(kv_.Get(kPackageNamespace, "index/" + p1_.hash)->has_value());
  EXPECT_TRUE(*runtime_env::HasPackage(access_, p2_.hash));  // job 2 still uses it
  EXPECT_TRUE(*runtime_env::HasPackage(access_, p3_.hash));
  EXPECT_EQ(*kv_.Keys(kPackageNamespace, "refs/"),
            (std::vector<std::string>{runtime_env::PackageRefKey(p2_.hash, job2_),
                                      runtime_env::PackageRefKey(p3_.hash, job2_)}));

  result = CollectPackages(&kv_, {job2_});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->refs_dropped, 2);
  EXPECT_EQ(result->packages_deleted, 2);
  // Only what is not a package is left.
  EXPECT_EQ(*kv_.Keys(kPackageNamespace, ""), std::vector<std::string>{"unrelated"});
  EXPECT_TRUE(kv_.Get("other_ns", "index/" + p1_.hash)->has_value());
}

TEST_F(PackageGcTest, CollectingAgainChangesNothing) {
  ASSERT_TRUE(CollectPackages(&kv_, {job1_}).ok());
  auto again = CollectPackages(&kv_, {job1_});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->refs_dropped, 0);
  EXPECT_EQ(again->packages_deleted, 0);
}

TEST_F(PackageGcTest, ReuploadAfterCollectionWorks) {
  ASSERT_TRUE(CollectPackages(&kv_, {job1_}).ok());
  const JobId job3 = JobIdFromInt(3);
  ASSERT_TRUE(runtime_env::UploadPackage(access_, p1_, job3).ok());
  EXPECT_TRUE(*runtime_env::HasPackage(access_, p1_.hash));
  EXPECT_EQ(KeysOf(p1_.hash), 3u);
}

TEST_F(PackageGcTest, CollectorThreadCoversEveryDeadJob) {
  JobManager jobs(&storage_);
  proto::JobInfo info;
  auto id1 = jobs.AddJob(info);
  auto id2 = jobs.AddJob(info);
  ASSERT_TRUE(id1.ok() && id2.ok());
  ASSERT_EQ(*id1, job1_);
  ASSERT_EQ(*id2, job2_);
  // Job 1 died while no collector ran; job 2's finish collects both.
  ASSERT_TRUE(jobs.MarkJobFinished(job1_).ok());
  ASSERT_TRUE(jobs.MarkJobFinished(job2_).ok());
  PackageGc gc(&kv_, &jobs);
  gc.Start();
  gc.OnJobFinished(job2_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (kv_.Keys(kPackageNamespace, "index/")->size() > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  gc.Stop();
  EXPECT_TRUE(kv_.Keys(kPackageNamespace, "index/")->empty());
  EXPECT_TRUE(kv_.Keys(kPackageNamespace, "refs/")->empty());
}

TEST_F(PackageGcTest, SubmissionAndPendingRefsAreDroppedOnlyByTheirOwners) {
  // p4 is held by a submission, p5 by a pending upload: no job's end drops either ref.
  runtime_env::Package p4 = MakePackage('4', 100);
  runtime_env::Package p5 = MakePackage('5', 100);
  const std::string submission = runtime_env::SubmissionRefOwner("raysubmit_abc");
  const std::string pending = runtime_env::NewPendingRefOwner();
  EXPECT_NE(pending, runtime_env::NewPendingRefOwner());  // two uploaders never share one
  ASSERT_TRUE(runtime_env::UploadPackage(access_, p4, submission).ok());
  ASSERT_TRUE(runtime_env::UploadPackage(access_, p5, pending).ok());
  EXPECT_TRUE(kv_.Get(kPackageNamespace, "refs/" + p4.hash + "/sub-raysubmit_abc")->has_value());
  auto result = CollectPackages(&kv_, {job1_, job2_});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->packages_deleted, 3);  // p1, p2, p3
  EXPECT_TRUE(*runtime_env::HasPackage(access_, p4.hash));
  EXPECT_TRUE(*runtime_env::HasPackage(access_, p5.hash));

  // The owners drop their refs; the next collection deletes what nothing names.
  ASSERT_TRUE(runtime_env::DropPackageRef(access_, p4.hash, submission).ok());
  result = CollectPackages(&kv_, {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->packages_deleted, 1);
  EXPECT_FALSE(*runtime_env::HasPackage(access_, p4.hash));
  EXPECT_TRUE(*runtime_env::HasPackage(access_, p5.hash));
  ASSERT_TRUE(runtime_env::DropPackageRef(access_, p5.hash, pending).ok());
  ASSERT_TRUE(runtime_env::DropPackageRef(access_, p5.hash, pending).ok());  // idempotent
  ASSERT_TRUE(CollectPackages(&kv_, {}).ok());
  EXPECT_FALSE(*runtime_env::HasPackage(access_, p5.hash));
}

}  // namespace
}  // namespace moray::gcs
