// EnsureCode, PrepareJobCode, the hash cache and the ELF reading, against an in-memory package
// store.
#include "runtime_env/code_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "runtime_env/code_hash.h"
#include "runtime_env/elf_dynamic.h"
#include "runtime_env/testing/fake_kv_access.h"

namespace moray::runtime_env {
namespace {
namespace fs = std::filesystem;

// The fake store, running `on_meta_get` (once) when someone first looks for a package's meta.
class MemoryKv : public testing::FakeKvAccess {
 public:
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    std::function<void()> hook;
    {
      absl::MutexLock lock(&hook_mu_);
      if (key.ends_with("/meta")) std::swap(hook, on_meta_get_);
    }
    if (hook) hook();
    return FakeKvAccess::Get(ns, key);
  }
  void OnMetaGet(std::function<void()> hook) {
    absl::MutexLock lock(&hook_mu_);
    on_meta_get_ = std::move(hook);
  }

 private:
  absl::Mutex hook_mu_;
  std::function<void()> on_meta_get_ ABSL_GUARDED_BY(hook_mu_);
};

class CodeCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("code_cache_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "src");
    cache_ = (dir_ / "cache").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / "src" / name).string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return path;
  }
  proto::CodeFile Describe(const std::string& path, proto::CodeFile::Kind kind) {
    absl::StatusOr<proto::CodeFile> code = DescribeCodeFile(path, kind, "");
    EXPECT_TRUE(code.ok()) << code.status();
    return *code;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
  std::string cache_;
  MemoryKv kv_;
  const JobId job_ = JobId::FromBinary(std::string("\x00\x00\x00\x07", 4));
};

TEST_F(CodeCacheTest, TheRunningDriverIsCopiedFromProcEvenIfItsPathIsGone) {
  proto::CodeFile exe = Describe("/proc/self/exe", proto::CodeFile::EXECUTABLE);
  exe.set_name("driver");
  exe.set_original_path((dir_ / "no_such_program").string());
  absl::StatusOr<std::string> path = EnsureCode(exe, kv_, cache_, getpid(), absl::Seconds(1));
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, cache_ + "/code/" + exe.hash() + "/driver");
  EXPECT_EQ(*Sha256OfFile(*path), exe.hash());
  struct stat st;
  ASSERT_EQ(stat(path->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  // Present: the same path at once, without any source.
  absl::StatusOr<std::string> again = EnsureCode(exe, kv_, cache_, 0, absl::ZeroDuration());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *path);
}

TEST_F(CodeCacheTest, AFileMissingHereComesFromThePackageStore) {
  const std::string lib = Write("libf.so", std::string(9 << 20, 'x') + "tail");  // 3 chunks
  proto::CodeFile code = Describe(lib, proto::CodeFile::LIBRARY);
  ASSERT_TRUE(UploadFile(kv_, code.hash(), lib, "so", job_).ok());
  fs::remove(lib);
  absl::StatusOr<std::string> path = EnsureCode(code, kv_, cache_, 0, absl::Seconds(1));
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(Read(*path), std::string(9 << 20, 'x') + "tail");
  // Nothing but the file itself is left in its directory (no temporary files).
  EXPECT_EQ(std::distance(fs::directory_iterator(fs::path(*path).parent_path()),
                          fs::directory_iterator()),
            1);
}

TEST_F(CodeCacheTest, ALocalFileWithOtherBytesIsNotUsed) {
  const std::string lib = Write("libg.so", "the original");
  proto::CodeFile code = Describe(lib, proto::CodeFile::LIBRARY);
  ASSERT_TRUE(UploadFile(kv_, code.hash(), lib, "so", job_).ok());
  Write("libg.so", "rebuilt since");  // the path now holds other code
  absl::StatusOr<std::string> path = EnsureCode(code, kv_, cache_, 0, absl::Seconds(1));
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(Read(*path), "the original");
}

TEST_F(CodeCacheTest, AnUploadUnderWayIsWaitedFor) {
  const std::string lib = Write("libh.so", "late bytes");
  proto::CodeFile code = Describe(lib, proto::CodeFile::LIBRARY);
  code.set_original_path("");
  // The upload starts only once the node has looked for the package and not found it.
  absl::Notification looked;
  kv_.OnMetaGet([&] { looked.Notify(); });
  std::thread uploader([&] {
    looked.WaitForNotification();
    ASSERT_TRUE(UploadFile(kv_, code.hash(), lib, "so", job_).ok());
  });
  absl::StatusOr<std::string> path = EnsureCode(code, kv_, cache_, 0, absl::Seconds(30));
  uploader.join();
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(Read(*path), "late bytes");
}

TEST_F(CodeCacheTest, CodeNobodyUploadedIsAClearErrorAfterTheTimeout) {
  const std::string lib = Write("libi.so", "never uploaded");
  proto::CodeFile code = Describe(lib, proto::CodeFile::LIBRARY);
  fs::remove(lib);
  absl::StatusOr<std::string> path = EnsureCode(code, kv_, cache_, 0, absl::Milliseconds(200));
  ASSERT_EQ(path.status().code(), absl::StatusCode::kNotFound) << path.status();
  EXPECT_NE(path.status().message().find("code libi.so (sha256 " + code.hash() +
                                         ") is not in the cluster's package store"),
            std::string::npos)
      << path.status();
}

TEST_F(CodeCacheTest, MalformedRecordsAreRefused) {
  proto::CodeFile code = Describe(Write("libj.so", "x"), proto::CodeFile::LIBRARY);
  for (const char* name : {"../escape", "", "..", "a/b"}) {
    proto::CodeFile bad = code;
    bad.set_name(name);
    EXPECT_EQ(EnsureCode(bad, kv_, cache_, 0, absl::ZeroDuration()).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
  proto::CodeFile bad = code;
  bad.set_hash("../../etc");
  EXPECT_EQ(EnsureCode(bad, kv_, cache_, 0, absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CodeCacheTest, PrepareJobCodeNamesTheCachedFilesAndRemoveDeletesThem) {
  const std::string a = Write("liba.so", "A"), b = Write("libb.so", "B");
  proto::JobInfo job;
  *job.add_code() = Describe(a, proto::CodeFile::LIBRARY);
  *job.add_code() = Describe(b, proto::CodeFile::LIBRARY);
  absl::StatusOr<PreparedCode> prepared = PrepareJobCode(job, kv_, cache_, 0, absl::Seconds(1), "");
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_TRUE(prepared->program.empty());
  ASSERT_EQ(prepared->library_paths.size(), 2u);
  EXPECT_EQ(Read(prepared->library_paths[1]), "B");
  EXPECT_EQ(prepared->hashes, (std::vector<std::string>{job.code(0).hash(), job.code(1).hash()}));
  RemoveCachedCode(cache_, job.code(0).hash());
  EXPECT_FALSE(fs::exists(prepared->library_paths[0]));
  EXPECT_TRUE(fs::exists(prepared->library_paths[1]));
  EXPECT_EQ(PrepareJobCode(proto::JobInfo(), kv_, cache_, 0, absl::Seconds(1), "").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CodeCacheTest, HashesAreRememberedByStatIdentity) {
  const std::string file = Write("prog", "version 1");
  const std::string hashes = (dir_ / "hashes").string();
  fs::create_directories(hashes);
  absl::StatusOr<std::string> first = CachedSha256(file, hashes);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, *Sha256OfFile(file));
  // The cache answers for the same identity: a planted entry is what comes back.
  ASSERT_EQ(std::distance(fs::directory_iterator(hashes), fs::directory_iterator()), 1);
  const fs::path entry = fs::directory_iterator(hashes)->path();
  const std::string planted(64, 'a');
  std::ofstream(entry, std::ios::trunc) << planted << "\n";
  EXPECT_EQ(*CachedSha256(file, hashes), planted);
  // A rebuilt file (new size and mtime) is hashed again.
  Write("prog", "version 2, longer");
  EXPECT_EQ(*CachedSha256(file, hashes), *Sha256OfFile(file));
}

TEST_F(CodeCacheTest, LibraryFilesReadsTheSearchPathAsTheWorkerLoaderDoes) {
  Write("libz.so", "z");
  Write("liba.so", "a");
  Write("notes.txt", "n");
  const std::string single = Write("single.so.1", "s");
  absl::StatusOr<std::vector<std::string>> files =
      LibraryFiles({(dir_ / "src").string(), single, ""});
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(*files, (std::vector<std::string>{(dir_ / "src/liba.so").string(),
                                              (dir_ / "src/libz.so").string(), single}));
  EXPECT_EQ(LibraryFiles({(dir_ / "missing").string()}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ElfDynamicTest, ThisTestFindsLibmorayThroughItsRunpathFromAnywhere) {
  absl::StatusOr<ElfDynamic> self = ReadElfDynamic("/proc/self/exe");
  ASSERT_TRUE(self.ok()) << self.status();
  bool links_moray = false;
  for (const std::string& needed : self->needed) links_moray |= needed.starts_with("libmoray.so");
  EXPECT_TRUE(links_moray);
  ASSERT_FALSE(self->runpath.empty());
  // The build tree's RUNPATH is absolute: a copy anywhere still finds libmoray.
  EXPECT_TRUE(FindsNeededLibrary(*self, "/nonexistent", "libmoray.so"));
  // An installed program's $ORIGIN/../lib does not, from a cache directory.
  ElfDynamic installed{.needed = {"libmoray.so.0"}, .runpath = {"$ORIGIN/../lib"}};
  EXPECT_FALSE(FindsNeededLibrary(installed, "/nonexistent/code/abc", "libmoray.so"));
  EXPECT_TRUE(FindsNeededLibrary(ElfDynamic{.needed = {"libc.so.6"}}, "/x", "libmoray.so"));
  EXPECT_FALSE(MorayLibraryDir().empty());
  EXPECT_TRUE(fs::exists(MorayLibraryDir() + "/libmoray.so"));
  EXPECT_FALSE(ReadElfDynamic("/proc/self/cmdline").ok());
}

}  // namespace
}  // namespace moray::runtime_env
