// The package store through a real GCS (in this process, on loopback): ~20 MB streamed up with
// UploadFile and back with DownloadPackage, each message at most one chunk; a finished job's
// packages deleted by the GCS's package GC.
#include "gcs/gcs_client.h"
#include "gcs/gcs_server.h"
#include "gtest/gtest.h"
#include "rpc/handshake.h"
#include "runtime_env/package_store.h"
#include "runtime_env/testing/temp_tree.h"

namespace moray::runtime_env {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

TEST(PackageStoreGcsTest, UploadFileAndDownloadThroughRealGcs) {
  gcs::GcsServer server({.host = "127.0.0.1", .port = 0});
  ASSERT_TRUE(server.Start().ok());
  auto client = gcs::GcsClient::Connect(absl::StrCat("127.0.0.1:", server.port()));
  ASSERT_TRUE(client.ok()) << client.status();
  GcsKvAccess kv(client->get());

  TempDir dir;
  std::string content(20 << 20, '\0');
  uint32_t x = 11;
  for (char& c : content) c = static_cast<char>((x = x * 1664525 + 1013904223) >> 24);
  WriteFile(dir.path() + "/blob", content);
  const std::string hash = *Sha256OfFile(dir.path() + "/blob");
  const JobId job = JobIdFromInt(3);

  absl::Status s = UploadFile(kv, hash, dir.path() + "/blob", "exe", job);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(*HasPackage(kv, hash));
  EXPECT_EQ(GetPackageMeta(kv, hash)->chunks, 5u);
  s = DownloadPackage(kv, hash, dir.path() + "/copy");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(ReadFile(dir.path() + "/copy") == content);
  EXPECT_EQ(*kv.Keys(kPackageNamespace, "refs/"),
            std::vector<std::string>{PackageRefKey(hash, job)});
  server.Stop();
}

TEST(PackageStoreGcsTest, FinishedJobsPackagesAreCollected) {
  gcs::GcsServer server({.host = "127.0.0.1", .port = 0});
  ASSERT_TRUE(server.Start().ok());
  // A raylet's client: the role that adds and finishes jobs (the test process is a driver).
  rpc::SetProcessRole(proto::ROLE_RAYLET);
  auto client = gcs::GcsClient::Connect(absl::StrCat("127.0.0.1:", server.port()));
  rpc::SetProcessRole(proto::ROLE_DRIVER);
  ASSERT_TRUE(client.ok()) << client.status();
  GcsKvAccess kv(client->get());
  auto job = (*client)->AddJob(proto::JobInfo());
  ASSERT_TRUE(job.ok()) << job.status();

  Package pkg;
  pkg.bytes = std::string(kPackageChunkBytes + 1, 'p');
  pkg.hash = Sha256Hex(pkg.bytes);
  pkg.format = "tar.gz";
  ASSERT_TRUE(UploadPackage(kv, pkg, *job).ok());
  ASSERT_TRUE(*HasPackage(kv, pkg.hash));
  ASSERT_TRUE((*client)->MarkJobFinished(*job).ok());
  // The collector runs on its own thread after the reply: wait for it, with a deadline.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!kv.Keys(kPackageNamespace, "index/")->empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(kv.Keys(kPackageNamespace, "index/")->empty());
  EXPECT_FALSE(*HasPackage(kv, pkg.hash));
  EXPECT_FALSE(kv.Get(kPackageNamespace, PackageChunkKey(pkg.hash, 0))->has_value());
  EXPECT_TRUE(kv.Keys(kPackageNamespace, "refs/")->empty());
  server.Stop();
}

}  // namespace
}  // namespace moray::runtime_env
