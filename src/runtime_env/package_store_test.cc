// The package store over an in-memory KV (testing/fake_kv_access.h).
#include "runtime_env/package_store.h"

#include "common/testing/named_ids.h"
#include "gtest/gtest.h"
#include "runtime_env/testing/fake_kv_access.h"
#include "runtime_env/testing/temp_tree.h"

namespace moray::runtime_env {
namespace {

using testing::FakeKvAccess;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

std::string Pattern(size_t size) {
  std::string s(size, '\0');
  uint32_t x = 7;
  for (char& c : s) c = static_cast<char>((x = x * 1664525 + 1013904223) >> 24);
  return s;
}

Package MakePackage(std::string bytes) {
  Package p;
  p.hash = Sha256Hex(bytes);
  p.format = "tar.gz";
  p.bytes = std::move(bytes);
  return p;
}

const JobId kJob1 = JobIdFromInt(1);
const JobId kJob2 = JobIdFromInt(2);

TEST(PackageMetaTest, EncodeDecode) {
  PackageMeta meta{kPackageChunkBytes * 2 + 1, 3, "zip"};
  auto back = DecodePackageMeta(EncodePackageMeta(meta));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->size, meta.size);
  EXPECT_EQ(back->chunks, 3u);
  EXPECT_EQ(back->format, "zip");
  EXPECT_FALSE(DecodePackageMeta("size=10\n").has_value());
  EXPECT_FALSE(DecodePackageMeta("size=10\nchunks=5\n").has_value());
}

TEST(PackageStoreTest, UploadDownloadRoundTripOfSeveralChunks) {
  FakeKvAccess kv;
  Package pkg = MakePackage(Pattern(3 * kPackageChunkBytes + 12345));
  ASSERT_FALSE(*HasPackage(kv, pkg.hash));
  ASSERT_TRUE(UploadPackage(kv, pkg, kJob1).ok());
  EXPECT_TRUE(*HasPackage(kv, pkg.hash));
  EXPECT_LE(kv.max_value_bytes(), kPackageChunkBytes);
  auto keys = *kv.Keys("packages", pkg.hash + "/");
  EXPECT_EQ(keys, (std::vector<std::string>{pkg.hash + "/0", pkg.hash + "/1", pkg.hash + "/2",
                                            pkg.hash + "/3", pkg.hash + "/meta"}));
  EXPECT_EQ(*kv.Keys("packages", "refs/"),
            std::vector<std::string>{"refs/" + pkg.hash + "/" + kJob1.Hex()});
  TempDir dir;
  const std::string dest = dir.path() + "/pkg.tar.gz";
  absl::Status s = DownloadPackage(kv, pkg.hash, dest);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(ReadFile(dest), pkg.bytes);
  EXPECT_EQ(*GetPackageMeta(kv, pkg.hash)->format.data(), 't');
}

TEST(PackageStoreTest, EmptyPackage) {
  FakeKvAccess kv;
  Package pkg = MakePackage("");
  ASSERT_TRUE(UploadPackage(kv, pkg, kJob1).ok());
  TempDir dir;
  ASSERT_TRUE(DownloadPackage(kv, pkg.hash, dir.path() + "/p").ok());
  EXPECT_EQ(ReadFile(dir.path() + "/p"), "");
}

TEST(PackageStoreTest, SecondUploadSkippedButRefRecorded) {
  FakeKvAccess kv;
  Package pkg = MakePackage(Pattern(kPackageChunkBytes + 1));
  ASSERT_TRUE(UploadPackage(kv, pkg, kJob1).ok());
  const int puts = kv.puts();
  ASSERT_TRUE(UploadPackage(kv, pkg, kJob2).ok());
  EXPECT_EQ(kv.puts(), puts + 1);  // only the ref
  EXPECT_EQ(kv.Keys("packages", "refs/" + pkg.hash + "/")->size(), 2u);
}

TEST(PackageStoreTest, UploadFileStreamsAndDownloadMatches) {
  FakeKvAccess kv;
  TempDir dir;
  const std::string content = Pattern(3 * kPackageChunkBytes + 7);
  WriteFile(dir.path() + "/app", content, 0755);
  const std::string hash = *Sha256OfFile(dir.path() + "/app");
  ASSERT_TRUE(UploadFile(kv, hash, dir.path() + "/app", "exe", kJob1).ok());
  EXPECT_LE(kv.max_value_bytes(), kPackageChunkBytes);
  EXPECT_EQ(GetPackageMeta(kv, hash)->format, "exe");
  ASSERT_TRUE(DownloadPackage(kv, hash, dir.path() + "/copy").ok());
  EXPECT_EQ(ReadFile(dir.path() + "/copy"), content);
}

TEST(PackageStoreTest, CorruptChunkDetectedAndNothingLeftBehind) {
  FakeKvAccess kv;
  Package pkg = MakePackage(Pattern(2 * kPackageChunkBytes + 5));
  ASSERT_TRUE(UploadPackage(kv, pkg, kJob1).ok());
  kv.Corrupt("packages", pkg.hash + "/1");
  TempDir dir;
  absl::Status s = DownloadPackage(kv, pkg.hash, dir.path() + "/p");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find(pkg.hash), std::string::npos) << s;
  EXPECT_EQ(testing::DescribeTree(dir.path()), "");  // neither the file nor its .tmp
}

TEST(PackageStoreTest, MissingChunkAndMissingPackage) {
  FakeKvAccess kv;
  Package pkg = MakePackage(Pattern(2 * kPackageChunkBytes));
  ASSERT_TRUE(UploadPackage(kv, pkg, kJob1).ok());
  ASSERT_EQ(*kv.Del("packages", pkg.hash + "/1", false), 1);
  TempDir dir;
  absl::Status s = DownloadPackage(kv, pkg.hash, dir.path() + "/p");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("chunk 1 is missing"), std::string::npos) << s;
  const std::string other(64, 'a');
  s = DownloadPackage(kv, other, dir.path() + "/q");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_NE(s.message().find(other), std::string::npos) << s;
}

TEST(PackageStoreTest, AddPackageRefIsIdempotent) {
  FakeKvAccess kv;
  ASSERT_TRUE(AddPackageRef(kv, "h", kJob1).ok());
  ASSERT_TRUE(AddPackageRef(kv, "h", kJob1).ok());
  EXPECT_EQ(*kv.Keys("packages", "refs/h/"), std::vector<std::string>{PackageRefKey("h", kJob1)});
}

}  // namespace
}  // namespace moray::runtime_env
