// PackDirectory / PackWorkingDir / PackageFromArchive, checked by unpacking what they make.
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "gtest/gtest.h"
#include "runtime_env/package.h"
#include "runtime_env/testing/temp_tree.h"

namespace moray::runtime_env {
namespace {

using testing::DescribeTree;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

constexpr uint64_t kNoLimit = 1ull << 40;

// Packs `src`, unpacks into a fresh dir, returns the unpacked tree's description.
std::string RoundTrip(const std::string& src, const std::vector<std::string>& excludes = {}) {
  auto pkg = PackDirectory(src, excludes, kNoLimit);
  EXPECT_TRUE(pkg.ok()) << pkg.status();
  if (!pkg.ok()) return "";
  EXPECT_EQ(pkg->format, "tar.gz");
  EXPECT_EQ(pkg->hash, Sha256Hex(pkg->bytes));
  TempDir out;
  const std::string dest = out.path() + "/unpacked";
  absl::Status s = UnpackArchive(pkg->bytes, dest);
  EXPECT_TRUE(s.ok()) << s;
  return DescribeTree(dest);
}

void MakeTree(const std::string& root) {
  WriteFile(root + "/a.txt", "alpha", 0644);
  WriteFile(root + "/run.sh", "#!/bin/sh\n", 0755);
  WriteFile(root + "/secret", "s", 0600);
  WriteFile(root + "/sub/deeper/x.bin", std::string("\0\1\2", 3), 0644);
  std::filesystem::create_directories(root + "/empty");
  ::chmod((root + "/empty").c_str(), 0750);
  ::symlink("../a.txt", (root + "/sub/link").c_str());
  ::symlink("deeper", (root + "/sub/dirlink").c_str());
}

TEST(PackTest, RoundTripKeepsFilesModesLinksAndEmptyDirs) {
  TempDir src;
  MakeTree(src.path());
  EXPECT_EQ(RoundTrip(src.path()), DescribeTree(src.path()));
  const std::string tree = RoundTrip(src.path());
  EXPECT_NE(tree.find("empty/ d750"), std::string::npos) << tree;
  EXPECT_NE(tree.find("run.sh f755"), std::string::npos) << tree;
  EXPECT_NE(tree.find("secret f600"), std::string::npos) << tree;
  EXPECT_NE(tree.find("sub/link -> ../a.txt"), std::string::npos) << tree;
}

TEST(PackTest, LongPathsAndLinkTargetsSurvive) {
  TempDir src;
  std::string deep = src.path();
  std::string rel;
  for (int i = 0; i < 6; ++i) rel += std::string(60, 'a' + i) + "/";
  WriteFile(src.path() + "/" + rel + std::string(120, 'z'), "deep", 0644);
  ::symlink((std::string(150, 'q')).c_str(), (src.path() + "/longlink").c_str());
  EXPECT_EQ(RoundTrip(src.path()), DescribeTree(src.path()));
}

TEST(PackTest, SameTreeSameHashWhateverTheMtimes) {
  TempDir a, b;
  MakeTree(a.path());
  MakeTree(b.path());
  struct timeval times[2] = {{1000, 0}, {1000, 0}};
  ::utimes((b.path() + "/a.txt").c_str(), times);
  ::lutimes((b.path() + "/sub/link").c_str(), times);
  auto pa = PackDirectory(a.path(), {}, kNoLimit);
  auto pb = PackDirectory(b.path(), {}, kNoLimit);
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_EQ(pa->hash, pb->hash);
  EXPECT_EQ(pa->bytes, pb->bytes);
  // And a change of content changes it.
  WriteFile(b.path() + "/a.txt", "alphA", 0644);
  auto pc = PackDirectory(b.path(), {}, kNoLimit);
  ASSERT_TRUE(pc.ok());
  EXPECT_NE(pa->hash, pc->hash);
}

TEST(PackTest, ExcludesAndIgnoreFiles) {
  TempDir src;
  const std::string r = src.path();
  WriteFile(r + "/keep.txt", "k");
  WriteFile(r + "/a.log", "l");
  WriteFile(r + "/important.log", "i");
  WriteFile(r + "/build/out.o", "o");
  WriteFile(r + "/src/build/file", "nested build is a file here");
  WriteFile(r + "/data/big.bin", "b");
  WriteFile(r + "/data/small.bin", "s");
  WriteFile(r + "/.gitignore", "# comment\n*.log\n!important.log\n/build/\n");
  WriteFile(r + "/data/.rayignore", "big.*\n");
  WriteFile(r + "/other/big.bin", "not below data/");
  WriteFile(r + "/docs/x.md", "x");
  WriteFile(r + "/docs/y.txt", "y");
  WriteFile(r + "/q/a1", "a1");
  WriteFile(r + "/q/b1", "b1");
  const std::string tree = RoundTrip(r, {"docs/*.md", "q/[a]?"});
  EXPECT_EQ(tree,
            ".gitignore f644 # comment\n*.log\n!important.log\n/build/\n\n"
            "data/ d755\n"
            "data/.rayignore f644 big.*\n\n"
            "data/small.bin f644 s\n"
            "docs/ d755\n"
            "docs/y.txt f644 y\n"
            "important.log f644 i\n"
            "keep.txt f644 k\n"
            "other/ d755\n"
            "other/big.bin f644 not below data/\n"
            "q/ d755\n"
            "q/b1 f644 b1\n"
            "src/ d755\n"
            "src/build/ d755\n"
            "src/build/file f644 nested build is a file here\n");
}

TEST(PackTest, DirectoryOnlyRuleKeepsFileOfThatName) {
  TempDir src;
  WriteFile(src.path() + "/cache", "a file named cache");
  WriteFile(src.path() + "/sub/cache/x", "in a dir named cache");
  const std::string tree = RoundTrip(src.path(), {"cache/"});
  EXPECT_EQ(tree, "cache f644 a file named cache\nsub/ d755\n");
}

TEST(PackTest, OversizeNamesPathSizeAndLimit) {
  TempDir src;
  WriteFile(src.path() + "/a", std::string(3 << 20, 'x'));
  WriteFile(src.path() + "/b", std::string(1 << 20, 'y'));
  auto pkg = PackDirectory(src.path(), {}, 2 << 20);
  ASSERT_EQ(pkg.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(pkg.status().message(), "working_dir " + src.path() +
                                        " holds 4.0 MiB of files (before compression), over "
                                        "the 2.0 MiB limit");
  // Random bytes do not compress: under the raw limit, over the archive limit.
  std::string noise(1 << 20, '\0');
  uint32_t x = 1;
  for (char& c : noise) c = static_cast<char>((x = x * 1664525 + 1013904223) >> 24);
  TempDir src2;
  WriteFile(src2.path() + "/noise", noise);
  auto pkg2 = PackDirectory(src2.path(), {}, noise.size() + 10);
  ASSERT_EQ(pkg2.status().code(), absl::StatusCode::kResourceExhausted) << pkg2.status();
  EXPECT_NE(pkg2.status().message().find("working_dir " + src2.path() +
                                         " packs to 1.0 MiB, over "
                                         "the 1.0 MiB limit"),
            std::string::npos)
      << pkg2.status();
}

TEST(PackTest, MissingPathAndOtherFiles) {
  auto missing = PackWorkingDir("/nonexistent/moray/dir", {}, kNoLimit);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "working_dir /nonexistent/moray/dir does not exist");
  TempDir dir;
  WriteFile(dir.path() + "/notes.txt", "x");
  auto txt = PackWorkingDir(dir.path() + "/notes.txt", {}, kNoLimit);
  EXPECT_EQ(txt.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PackTest, ArchiveFileTakenAsIs) {
  TempDir dir;
  WriteFile(dir.path() + "/src/f.txt", "content");
  auto packed = PackDirectory(dir.path() + "/src", {}, kNoLimit);
  ASSERT_TRUE(packed.ok());
  for (const char* name : {"/p.tar.gz", "/p.tgz"}) {
    WriteFile(dir.path() + name, packed->bytes);
    auto pkg = PackWorkingDir(dir.path() + name, {}, kNoLimit);
    ASSERT_TRUE(pkg.ok()) << pkg.status();
    EXPECT_EQ(pkg->hash, packed->hash);
    EXPECT_EQ(pkg->format, "tar.gz");
  }
  auto small = PackageFromArchive(dir.path() + "/p.tgz", 10);
  EXPECT_EQ(small.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(PackageUriTest, RoundTrip) {
  const std::string hash = Sha256Hex("abc");
  EXPECT_EQ(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(PackageUri(hash), "pkg://" + hash);
  EXPECT_EQ(HashOfUri(PackageUri(hash)), hash);
  EXPECT_EQ(HashOfUri("pkg://abc"), std::nullopt);
  EXPECT_EQ(HashOfUri("/home/x"), std::nullopt);
  EXPECT_EQ(HashOfUri("gcs://" + hash), std::nullopt);
}

TEST(PackageTest, Sha256OfFile) {
  TempDir dir;
  WriteFile(dir.path() + "/f", "abc");
  EXPECT_EQ(*Sha256OfFile(dir.path() + "/f"), Sha256Hex("abc"));
  EXPECT_EQ(Sha256OfFile(dir.path() + "/none").status().code(), absl::StatusCode::kNotFound);
}

TEST(PackageTest, DefaultMaxPackageBytesFromEnvironment) {
  ::unsetenv("MORAY_RUNTIME_ENV_MAX_PACKAGE_BYTES");
  EXPECT_EQ(DefaultMaxPackageBytes(), 500ull << 20);
  ::setenv("MORAY_RUNTIME_ENV_MAX_PACKAGE_BYTES", "1234", 1);
  EXPECT_EQ(DefaultMaxPackageBytes(), 1234u);
  ::setenv("MORAY_RUNTIME_ENV_MAX_PACKAGE_BYTES", "12MB", 1);
  EXPECT_EQ(DefaultMaxPackageBytes(), 500ull << 20);
  ::unsetenv("MORAY_RUNTIME_ENV_MAX_PACKAGE_BYTES");
}

}  // namespace
}  // namespace moray::runtime_env
