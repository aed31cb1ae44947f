// UnpackArchive: archives made by other tools (tar, a hand-built zip, Python's zipfile), hostile
// archives, and concurrent unpacks of one destination.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime_env/package.h"
#include "runtime_env/tar_gz_writer.h"
#include "runtime_env/testing/temp_tree.h"

namespace moray::runtime_env {
namespace {

using testing::DescribeTree;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

bool HaveTool(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

// A zip written byte by byte: stored or deflated entries, Unix modes.
class ZipBuilder {
 public:
  void Add(const std::string& name, const std::string& data, uint32_t unix_mode, bool compress) {
    std::string stored = data;
    if (compress) {
      z_stream z{};
      deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
      stored.resize(deflateBound(&z, data.size()));
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      z.avail_in = data.size();
      z.next_out = reinterpret_cast<Bytef*>(stored.data());
      z.avail_out = stored.size();
      deflate(&z, Z_FINISH);
      stored.resize(stored.size() - z.avail_out);
      deflateEnd(&z);
    }
    const uint32_t crc = crc32(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
    const uint16_t method = compress ? 8 : 0;
    const uint32_t offset = body_.size();
    U32(body_, 0x04034b50);
    U16(body_, 20);
    U16(body_, 0);
    U16(body_, method);
    U32(body_, 0);  // time, date
    U32(body_, crc);
    U32(body_, stored.size());
    U32(body_, data.size());
    U16(body_, name.size());
    U16(body_, 0);
    body_ += name + stored;
    U32(cd_, 0x02014b50);
    U16(cd_, 3 << 8 | 20);  // made by Unix
    U16(cd_, 20);
    U16(cd_, 0);
    U16(cd_, method);
    U32(cd_, 0);
    U32(cd_, crc);
    U32(cd_, stored.size());
    U32(cd_, data.size());
    U16(cd_, name.size());
    U16(cd_, 0);
    U16(cd_, 0);
    U16(cd_, 0);
    U16(cd_, 0);
    U32(cd_, unix_mode << 16);
    U32(cd_, offset);
    cd_ += name;
    ++count_;
  }
  std::string Finish() const {
    std::string out = body_ + cd_;
    U32(out, 0x06054b50);
    U16(out, 0);
    U16(out, 0);
    U16(out, count_);
    U16(out, count_);
    U32(out, cd_.size());
    U32(out, body_.size());
    U16(out, 0);
    return out;
  }

 private:
  static void U16(std::string& s, uint16_t v) {
    s.push_back(static_cast<char>(v & 0xff));
    s.push_back(static_cast<char>(v >> 8));
  }
  static void U32(std::string& s, uint32_t v) {
    U16(s, v & 0xffff);
    U16(s, v >> 16);
  }
  std::string body_, cd_;
  uint16_t count_ = 0;
};

TEST(UnpackTest, TarGzMadeByTarWithLinksAndHardLinks) {
  if (!HaveTool("tar")) GTEST_SKIP() << "no tar";
  TempDir dir;
  const std::string src = dir.path() + "/src";
  WriteFile(src + "/a.txt", "alpha", 0640);
  WriteFile(src + "/bin/tool", "#!/bin/sh\n", 0755);
  std::filesystem::create_directories(src + "/empty");
  ::symlink("bin/tool", (src + "/tool").c_str());
  ASSERT_EQ(::link((src + "/a.txt").c_str(), (src + "/hard.txt").c_str()), 0);
  ASSERT_EQ(std::system(("tar czf " + dir.path() + "/p.tar.gz -C " + src + " .").c_str()), 0);
  ASSERT_TRUE(UnpackArchiveFile(dir.path() + "/p.tar.gz", dir.path() + "/out").ok());
  EXPECT_EQ(DescribeTree(dir.path() + "/out"), DescribeTree(src));
  // tar stored the second name as a hard link: it is one again.
  struct stat a {
  }, h{};
  ASSERT_EQ(::stat((dir.path() + "/out/a.txt").c_str(), &a), 0);
  ASSERT_EQ(::stat((dir.path() + "/out/hard.txt").c_str(), &h), 0);
  EXPECT_EQ(a.st_ino, h.st_ino);
}

TEST(UnpackTest, ZipBuiltByHandStoredDeflatedDirsLinks) {
  ZipBuilder zip;
  zip.Add("d/", "", S_IFDIR | 0750, false);
  zip.Add("d/stored.txt", "stored bytes", S_IFREG | 0644, false);
  zip.Add("d/deflated.txt", std::string(100000, 'z') + "end", S_IFREG | 0755, true);
  zip.Add("d/link", "stored.txt", S_IFLNK | 0777, false);
  TempDir dir;
  absl::Status s = UnpackArchive(zip.Finish(), dir.path() + "/out");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(DescribeTree(dir.path() + "/out"),
            "d/ d750\n"
            "d/deflated.txt f755 " +
                std::string(100000, 'z') +
                "end\n"
                "d/link -> stored.txt\n"
                "d/stored.txt f644 stored bytes\n");
}

TEST(UnpackTest, ZipWithBadCrcRefused) {
  ZipBuilder zip;
  zip.Add("a.txt", "hello", S_IFREG | 0644, false);
  std::string bytes = zip.Finish();
  bytes[30 + 5] = 'J';  // the first data byte
  TempDir dir;
  absl::Status s = UnpackArchive(bytes, dir.path() + "/out");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/out"));
}

TEST(UnpackTest, ZipMadeByPython) {
  if (!HaveTool("python3")) GTEST_SKIP() << "no python3";
  TempDir dir;
  const std::string zip = dir.path() + "/p.zip";
  const std::string script =
      "import zipfile,sys\n"
      "with zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED) as z:\n"
      "  z.writestr('proj/main.py','print(1)\\n'*100)\n"
      "  z.writestr('proj/data/x.csv','a,b\\n')\n";
  WriteFile(dir.path() + "/mk.py", script);
  ASSERT_EQ(std::system(("python3 " + dir.path() + "/mk.py " + zip).c_str()), 0);
  auto pkg = PackWorkingDir(zip, {}, 1 << 20);
  ASSERT_TRUE(pkg.ok()) << pkg.status();
  EXPECT_EQ(pkg->format, "zip");
  ASSERT_TRUE(UnpackArchive(pkg->bytes, dir.path() + "/out").ok());
  // One top-level directory: kept as is.
  EXPECT_EQ(ReadFile(dir.path() + "/out/proj/data/x.csv"), "a,b\n");
  EXPECT_EQ(ReadFile(dir.path() + "/out/proj/main.py").size(), 900u);
}

// A tar.gz with whatever entries `build` writes.
template <typename F>
std::string CraftTar(F build) {
  TarGzWriter w;
  build(w);
  return *std::move(w).Finish();
}

absl::Status AddText(TarGzWriter& w, const std::string& path, const std::string& text) {
  TempDir dir;
  WriteFile(dir.path() + "/f", text);
  int fd = ::open((dir.path() + "/f").c_str(), O_RDONLY);
  absl::Status s = w.AddFile(path, 0644, fd, text.size());
  ::close(fd);
  return s;
}

TEST(UnpackTest, RefusesEntriesEscapingTheDirectory) {
  struct Case {
    const char* what;
    std::string archive;
  };
  std::vector<Case> cases = {
      {"dot-dot", CraftTar([](TarGzWriter& w) { (void)AddText(w, "../escaped", "x"); })},
      {"nested dot-dot",
       CraftTar([](TarGzWriter& w) { (void)AddText(w, "a/../../escaped", "x"); })},
      {"absolute", CraftTar([](TarGzWriter& w) { (void)AddText(w, "/tmp/moray_escaped", "x"); })},
      {"link out", CraftTar([](TarGzWriter& w) { (void)w.AddSymlink("l", "../../etc"); })},
      {"absolute link", CraftTar([](TarGzWriter& w) { (void)w.AddSymlink("l", "/etc"); })},
      {"through a link", CraftTar([](TarGzWriter& w) {
         (void)w.AddSymlink("d", ".");
         (void)AddText(w, "d/x", "x");
       })},
  };
  ZipBuilder zip;
  zip.Add("../zip_escaped", "x", S_IFREG | 0644, false);
  cases.push_back({"zip dot-dot", zip.Finish()});
  for (const Case& c : cases) {
    TempDir dir;
    const std::string dest = dir.path() + "/inner/out";
    absl::Status s = UnpackArchive(c.archive, dest);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.what << ": " << s;
    EXPECT_NE(s.message().find("refusing"), std::string::npos) << s;
    EXPECT_FALSE(std::filesystem::exists(dest)) << c.what;
    // Nothing beside it either: the temporary directory is gone and nothing escaped.
    EXPECT_EQ(DescribeTree(dir.path()), "inner/ d755\n") << c.what;
  }
  EXPECT_FALSE(std::filesystem::exists("/tmp/moray_escaped"));
}

TEST(UnpackTest, LinkInsideIsFine) {
  std::string archive = CraftTar([](TarGzWriter& w) {
    (void)w.AddDirectory("a", 0755);
    (void)AddText(w, "a/f", "f");
    (void)w.AddSymlink("a/b/l", "../f");
    (void)w.AddSymlink("top", "a/f");
  });
  TempDir dir;
  ASSERT_TRUE(UnpackArchive(archive, dir.path() + "/out").ok());
  EXPECT_EQ(ReadFile(dir.path() + "/out/a/b/l"), "f");
  EXPECT_EQ(ReadFile(dir.path() + "/out/top"), "f");
}

TEST(UnpackTest, GarbageAndTruncationRefused) {
  TempDir dir;
  EXPECT_EQ(UnpackArchive("hello world", dir.path() + "/a").code(),
            absl::StatusCode::kInvalidArgument);
  std::string archive =
      CraftTar([](TarGzWriter& w) { (void)AddText(w, "f", std::string(1 << 20, 'q')); });
  absl::Status s =
      UnpackArchive(std::string_view(archive).substr(0, archive.size() / 2), dir.path() + "/b");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/b"));
}

TEST(UnpackTest, ExistingDestinationIsLeftAlone) {
  TempDir dir;
  WriteFile(dir.path() + "/out/mine", "mine");
  std::string archive = CraftTar([](TarGzWriter& w) { (void)AddText(w, "theirs", "t"); });
  ASSERT_TRUE(UnpackArchive(archive, dir.path() + "/out").ok());
  EXPECT_EQ(DescribeTree(dir.path() + "/out"), "mine f644 mine\n");
}

TEST(UnpackTest, ConcurrentUnpacksOfOneDestination) {
  TempDir src;
  for (int i = 0; i < 50; ++i) {
    WriteFile(src.path() + "/d" + std::to_string(i % 5) + "/f" + std::to_string(i),
              std::string(10000 + i, 'a' + i % 26));
  }
  auto pkg = PackDirectory(src.path(), {}, 1 << 30);
  ASSERT_TRUE(pkg.ok());
  TempDir dir;
  const std::string dest = dir.path() + "/cache/pkg/" + pkg->hash;
  for (int round = 0; round < 5; ++round) {
    std::filesystem::remove_all(dest);
    std::vector<absl::Status> results(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] { results[t] = UnpackArchive(pkg->bytes, dest); });
    }
    for (auto& t : threads) t.join();
    for (const auto& r : results) EXPECT_TRUE(r.ok()) << r;
    EXPECT_EQ(DescribeTree(dest), DescribeTree(src.path()));
    // Only the destination: every temporary directory is gone.
    EXPECT_EQ(DescribeTree(dir.path() + "/cache/pkg").substr(0, 65), pkg->hash + "/");
    size_t entries = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.path() + "/cache/pkg")) {
      (void)e;
      ++entries;
    }
    EXPECT_EQ(entries, 1u);
  }
}

}  // namespace
}  // namespace moray::runtime_env
