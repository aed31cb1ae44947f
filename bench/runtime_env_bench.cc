// runtime_env_bench: how fast a working_dir becomes a package and a package a directory again
// (src/runtime_env/package.h), on a generated tree of ~50 MB of mixed files: many small
// source-like text files, some incompressible binaries, a few larger semi-compressible ones.
// Figures in MB/s of the tree's bytes (1 MB = 10^6 bytes), mean ± std over the rounds. Unpacking
// is measured into the temporary directory (a disk, as a node cache is), into tmpfs (our code's
// share), and with GNU tar into the disk again (for scale).
//
//   runtime_env_bench [--json PATH] [--rounds N]
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "report.h"
#include "runtime_env/package.h"

namespace moray::bench {
namespace {

namespace fs = std::filesystem;

struct Rng {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  uint64_t Next() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
};

void Write(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// Returns the tree's total bytes.
uint64_t MakeTree(const std::string& root) {
  Rng rng;
  uint64_t total = 0;
  static const char* kWords[] = {"int ",         "return ",  "if (", "x",    "y",
                                 " = ",          "; ",       "\n",   "for ", "auto ",
                                 "std::string ", "// note ", "{",    "}"};
  // ~20 MB of text in 2,000 files of 4-16 KB over 40 directories.
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    const size_t size = 4096 + rng.Next() % 12288;
    while (text.size() < size) text += kWords[rng.Next() % 14];
    Write(root + "/src/mod" + std::to_string(i % 40) + "/file" + std::to_string(i) + ".cc", text);
    total += text.size();
  }
  // ~20 MB of random bytes in 20 files of 1 MB.
  for (int i = 0; i < 20; ++i) {
    std::string bin(1 << 20, '\0');
    for (size_t j = 0; j + 8 <= bin.size(); j += 8) {
      uint64_t v = rng.Next();
      std::memcpy(bin.data() + j, &v, 8);
    }
    Write(root + "/data/blob" + std::to_string(i) + ".bin", bin);
    total += bin.size();
  }
  // ~10 MB semi-compressible: runs of a byte, lengths random.
  for (int i = 0; i < 2; ++i) {
    std::string semi;
    while (semi.size() < (5u << 20))
      semi.append(1 + rng.Next() % 32, static_cast<char>(rng.Next()));
    Write(root + "/models/m" + std::to_string(i) + ".dat", semi);
    total += semi.size();
  }
  return total;
}

}  // namespace
}  // namespace moray::bench

int main(int argc, char** argv) {
  using namespace moray::bench;
  std::string json;
  int rounds = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--json") json = argv[i + 1];
    if (std::string(argv[i]) == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
  }
  char dir[] = "/tmp/moray-runtime-env-bench-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  const std::string root = dir;
  const uint64_t bytes = MakeTree(root + "/tree");
  const double mb = bytes / 1e6;

  std::printf("%-44s %14s   %-10s %s\n", "metric", "value", "± std", "unit");
  std::vector<double> pack_rates, unpack_rates;
  std::string package_bytes;
  for (int r = 0; r < rounds; ++r) {
    auto start = Clock::now();
    auto pkg = moray::runtime_env::PackDirectory(root + "/tree", {}, 1ull << 32);
    const double pack_s = SecondsSince(start);
    if (!pkg.ok()) {
      Report(Failed("runtime_env_working_dir_pack", std::string(pkg.status().message())));
      break;
    }
    pack_rates.push_back(mb / pack_s);
    package_bytes = pkg->bytes;
    const std::string dest = root + "/out" + std::to_string(r);
    start = Clock::now();
    absl::Status s = moray::runtime_env::UnpackArchive(pkg->bytes, dest);
    const double unpack_s = SecondsSince(start);
    if (!s.ok()) {
      Report(Failed("runtime_env_working_dir_unpack", std::string(s.message())));
      break;
    }
    unpack_rates.push_back(mb / unpack_s);
    // Kept until the end: deleting thousands of files makes ext4's next creations slow.
  }
  char note[160];
  std::snprintf(note, sizeof(note), "%.1f MB tree, 2,042 files -> %.1f MB tar.gz, %d rounds", mb,
                package_bytes.size() / 1e6, rounds);
  if (!pack_rates.empty()) {
    Report({"runtime_env_working_dir_pack", Mean(pack_rates), StdDev(pack_rates), "MB/s", note});
  }
  if (!unpack_rates.empty()) {
    Report(
        {"runtime_env_working_dir_unpack", Mean(unpack_rates), StdDev(unpack_rates), "MB/s", note});
    // The same into tmpfs: our side of unpacking (inflate, parsing, system calls) without the
    // file system's allocation cost, which on a busy ext4 varies tenfold.
    char shm[] = "/dev/shm/moray-runtime-env-bench-XXXXXX";
    if (mkdtemp(shm)) {
      std::vector<double> shm_rates;
      for (int r = 0; r < rounds; ++r) {
        const std::string dest = std::string(shm) + "/out" + std::to_string(r);
        auto start = Clock::now();
        if (!moray::runtime_env::UnpackArchive(package_bytes, dest).ok()) break;
        shm_rates.push_back(mb / SecondsSince(start));
        fs::remove_all(dest);
      }
      fs::remove_all(shm);
      if (!shm_rates.empty()) {
        Report({"runtime_env_working_dir_unpack_tmpfs", Mean(shm_rates), StdDev(shm_rates), "MB/s",
                "the same package into /dev/shm"});
      }
    }
    // The same archive through GNU tar, for scale: on a busy ext4 creating the files dominates.
    const std::string archive = root + "/p.tar.gz";
    std::ofstream(archive, std::ios::binary) << package_bytes;
    std::vector<double> tar_rates;
    for (int r = 0; r < rounds; ++r) {
      const std::string dest = root + "/tar" + std::to_string(r);
      fs::create_directories(dest);
      auto start = Clock::now();
      if (std::system(("tar xzf " + archive + " -C " + dest).c_str()) != 0) break;
      tar_rates.push_back(mb / SecondsSince(start));
    }
    if (!tar_rates.empty()) {
      Report({"runtime_env_unpack_gnu_tar_reference", Mean(tar_rates), StdDev(tar_rates), "MB/s",
              "tar xzf of the same archive (a process start included)"});
    }
  }
  fs::remove_all(root);
  if (!json.empty()) WriteJson(json);
  return AnyFailed() ? 1 : 0;
}
