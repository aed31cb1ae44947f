// Worker output end to end (docs/observability.md, "Logs"), with real processes: a two-node
// cluster on loopback and logs_driver, whose tasks and actors print on the non-head node.
//   - the driver prints their lines prefixed "(name pid=N, ip=A)" on its stdout and stderr, and
//     folds a line three actors print ("[repeated 2x across cluster]"); markers never show;
//   - `moray logs` finds the actor's and the task's log on the other node by id, a worker's by
//     pid, with --tail and --follow (a line printed after the follower started appears);
//   - bad input: an unknown actor, a pid on no node, a malformed id — clear errors;
//   - rotation: a small --log-rotation-bytes rotates a worker's file, keeps at most the backup
//     count, and no line is lost at a rotation (and every line reached the driver).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cluster/local_cluster.h"
#include "tests/test_env.h"

namespace moray::testing {
namespace {
namespace fs = std::filesystem;

// A child process with stdout and stderr in files; killed and reaped by the destructor.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* o = std::freopen(out.c_str(), "w", stdout);
      FILE* e = std::freopen(err.c_str(), "w", stderr);
      if (o == nullptr || e == nullptr) _exit(126);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The exit code, or -1 if it did not exit within the deadline.
  int Wait(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    int status = 0;
    const bool exited = WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; },
                                std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    if (!exited) return -1;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

std::string Moray() {
  const char* bin = std::getenv("MORAY_BIN");
  return bin ? bin : "moray";
}

bool Contains(const std::string& path, const std::string& text) {
  return ReadFile(path).find(text) != std::string::npos;
}

class Logs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(Scratch(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  LocalCluster cluster_;
  fs::path dir_;
};

TEST_F(Logs, DriverPrintsPrefixedLinesAndMorayLogsFindsThemOnTheOtherNode) {
  ASSERT_TRUE(cluster_.Start({{.num_cpus = 4}, {.num_cpus = 2}})) << cluster_.error();
  Child driver({LOGS_DRIVER, cluster_.address(), dir_.string(), "main"}, Path("driver.out"),
               Path("driver.err"));
  ASSERT_TRUE(WaitFor([&] { return Contains(Path("driver.out"), "info actor_id="); },
                      std::chrono::seconds(120)))
      << ReadFile(Path("driver.out")) << ReadFile(Path("driver.err"));
  std::smatch m;
  const std::string info = ReadFile(Path("driver.out"));
  ASSERT_TRUE(std::regex_search(info, m,
                                std::regex("info actor_id=([0-9a-f]+) task_pid=(\\d+) "
                                           "actor_pid=(\\d+)")))
      << info;
  const std::string actor_id = m[1];
  const std::string task_pid = m[2];
  const std::string actor_pid = m[3];

  // The driver's stdout and stderr: the other node's lines with Ray's prefix (an ip: another
  // node), each stream to its own.
  const std::string task_line =
      "(TaskOnOther pid=" + task_pid + ", ip=127.0.0.1) hello from the other node";
  const std::string task_err =
      "(TaskOnOther pid=" + task_pid + ", ip=127.0.0.1) warning from the other node";
  EXPECT_TRUE(WaitFor([&] { return Contains(Path("driver.out"), task_line); }))
      << ReadFile(Path("driver.out"));
  EXPECT_TRUE(WaitFor([&] { return Contains(Path("driver.err"), task_err); }))
      << ReadFile(Path("driver.err"));
  EXPECT_FALSE(Contains(Path("driver.out"), "warning from the other node"));
  const std::regex actor_line("\\(Talker pid=" + actor_pid + ", ip=127\\.0\\.0\\.1\\) count 10");
  EXPECT_TRUE(WaitFor([&] {
    const std::string out = ReadFile(Path("driver.out"));
    return std::regex_search(out, actor_line);
  })) << ReadFile(Path("driver.out"));
  // Three actors print the same line: one printed at once, two folded after the 5 s window.
  EXPECT_TRUE(WaitFor(
      [&] {
        return Contains(Path("driver.out"), "same line from an actor [repeated 2x across cluster]");
      },
      std::chrono::seconds(30)))
      << ReadFile(Path("driver.out"));
  const std::string out = ReadFile(Path("driver.out"));
  size_t plain = 0;
  for (const std::string& line : Lines(out)) {
    if (line.ends_with(") same line from an actor")) ++plain;
  }
  EXPECT_EQ(plain, 1u) << out;
  EXPECT_EQ(out.find('\x1e'), std::string::npos) << "a name marker reached the driver";

  // `moray logs` on the other node: the actor's by id (its whole stdout, no marker).
  const std::string address = "--address=" + cluster_.address();
  CommandResult actor_log = RunMoray({"logs", "actor", "--id", actor_id, address});
  EXPECT_EQ(actor_log.exit_code, 0) << actor_log.err;
  EXPECT_NE(actor_log.out.find("actor says hi\ncount 1\n"), std::string::npos) << actor_log.out;
  EXPECT_EQ(actor_log.out.find('\x1e'), std::string::npos) << "a marker is in the file";
  // --tail 2: the last two lines only.
  CommandResult tail = RunMoray({"logs", "actor", "--id", actor_id, "--tail", "2", address});
  EXPECT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_EQ(tail.out, "count 9\ncount 10\n");
  // A worker by pid (found on whichever node has it), its stderr with --err.
  CommandResult by_pid = RunMoray({"logs", "worker", "--pid", task_pid, "--err", address});
  EXPECT_EQ(by_pid.exit_code, 0) << by_pid.err;
  EXPECT_EQ(by_pid.out, "warning from the other node\n");
  // The task by id (from the task records).
  nlohmann::json tasks = RunMorayJson({"list", "tasks", address, "--filter", "name=TaskOnOther"});
  ASSERT_TRUE(tasks.is_array() && !tasks.empty()) << tasks;
  const std::string task_id = tasks[0]["task_id"].get<std::string>();
  CommandResult task_log = RunMoray({"logs", "task", "--id", task_id, address});
  EXPECT_EQ(task_log.exit_code, 0) << task_log.err;
  EXPECT_NE(task_log.out.find("hello from the other node\n"), std::string::npos) << task_log.out;
  // The listing names the worker files of both nodes.
  CommandResult listing = RunMoray({"logs", address});
  EXPECT_EQ(listing.exit_code, 0) << listing.err;
  EXPECT_NE(listing.out.find("-" + task_pid + ".out"), std::string::npos) << listing.out;
  EXPECT_NE(listing.out.find("raylet"), std::string::npos) << listing.out;

  // --follow: a line the actor prints after the follower started appears in its output.
  Child follower({Moray(), "logs", "actor", "--id", actor_id, "--follow", "--tail", "1", address},
                 Path("follow.out"), Path("follow.err"));
  ASSERT_TRUE(WaitFor([&] { return Contains(Path("follow.out"), "count 10\n"); }))
      << ReadFile(Path("follow.out")) << ReadFile(Path("follow.err"));
  Touch(Path("late"));
  EXPECT_TRUE(WaitFor([&] { return Contains(Path("follow.out"), "late line\n"); }))
      << ReadFile(Path("follow.out")) << ReadFile(Path("follow.err"));

  // Bad input.
  CommandResult unknown = RunMoray({"logs", "actor", "--id", std::string(32, 'a'), address});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find(std::string(32, 'a')), std::string::npos) << unknown.err;
  CommandResult malformed = RunMoray({"logs", "task", "--id", "xyz", address});
  EXPECT_NE(malformed.exit_code, 0);
  EXPECT_NE(malformed.err.find("\"xyz\" is not a task id"), std::string::npos) << malformed.err;
  CommandResult no_pid = RunMoray({"logs", "worker", "--pid", "999999999", address});
  EXPECT_NE(no_pid.exit_code, 0);
  EXPECT_NE(no_pid.err.find("with pid 999999999"), std::string::npos) << no_pid.err;
  CommandResult no_file = RunMoray({"logs", "no-such-file.out", address});
  EXPECT_NE(no_file.exit_code, 0);
  EXPECT_NE(no_file.err.find("no log file no-such-file.out"), std::string::npos) << no_file.err;
  CommandResult bad_node = RunMoray({"logs", "raylet.out", "--node-id", "12", address});
  EXPECT_NE(bad_node.exit_code, 0);
  EXPECT_NE(bad_node.err.find("is not a node id"), std::string::npos) << bad_node.err;

  Touch(Path("release"));
  EXPECT_EQ(driver.Wait(), 0) << ReadFile(Path("driver.err"));
}

TEST_F(Logs, RotationKeepsTheBackupCountAndLosesNoLine) {
  ASSERT_TRUE(cluster_.Start(
      {{.num_cpus = 1,
        .extra_args = {"--log-rotation-bytes=4096", "--log-rotation-backup-count=3"}}}))
      << cluster_.error();
  Child driver({LOGS_DRIVER, cluster_.address(), dir_.string(), "rotate"}, Path("driver.out"),
               Path("driver.err"));
  ASSERT_TRUE(WaitFor([&] { return Contains(Path("driver.out"), "info task_pid="); },
                      std::chrono::seconds(120)))
      << ReadFile(Path("driver.out")) << ReadFile(Path("driver.err"));
  std::smatch m;
  const std::string info = ReadFile(Path("driver.out"));
  ASSERT_TRUE(std::regex_search(info, m, std::regex("info task_pid=(\\d+)")));
  const std::string pid = m[1];
  // Every line reached the driver, in order.
  ASSERT_TRUE(WaitFor([&] { return Contains(Path("driver.out"), " line 1999 "); }))
      << ReadFile(Path("driver.out")).substr(0, 2000);
  int next = 0;
  for (const std::string& line : Lines(ReadFile(Path("driver.out")))) {
    std::smatch l;
    if (!std::regex_search(line, l,
                           std::regex("^\\(PrintMany pid=" + pid + "\\) line (\\d+) x+$"))) {
      continue;
    }
    EXPECT_EQ(std::stoi(l[1]), next) << line;
    next = std::stoi(l[1]) + 1;
  }
  EXPECT_EQ(next, 2000);

  // The worker's files: .out and at most 3 old ones, each within the limit; together the last
  // lines, contiguous, ending with line 1999.
  std::set<fs::path> found;  // canonical: a session_latest link names a session twice
  for (const auto& session : fs::directory_iterator(PrivateTmpDir::path())) {
    if (!fs::is_directory(session.path() / "logs")) continue;
    for (const auto& entry : fs::directory_iterator(session.path() / "logs")) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("worker-", 0) == 0 && name.find("-" + pid + ".out") != std::string::npos) {
        found.insert(fs::canonical(entry.path()));
      }
    }
  }
  std::vector<fs::path> files(found.begin(), found.end());
  ASSERT_EQ(files.size(), 4u) << "the .out and 3 backups";
  std::sort(files.begin(), files.end());  // .out, .out.1, .out.2, .out.3
  std::string all;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {  // oldest first
    EXPECT_LE(fs::file_size(*it), 4096u) << *it;
    all += ReadFile(it->string());
  }
  std::vector<std::string> lines = Lines(all);
  ASSERT_FALSE(lines.empty());
  int expect = -1;
  for (const std::string& line : lines) {
    std::smatch l;
    ASSERT_TRUE(std::regex_match(line, l, std::regex("line (\\d+) x{24}")))
        << "a cut line: " << line;
    if (expect >= 0) EXPECT_EQ(std::stoi(l[1]), expect) << "a line lost at a rotation";
    expect = std::stoi(l[1]) + 1;
  }
  EXPECT_EQ(expect, 2000);
  // Bad values are refused with the option's name.
  CommandResult bad = RunMoray({"start", "--head", "--port=0", "--log-rotation-bytes=0"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--log-rotation-bytes"), std::string::npos) << bad.err;

  Touch(Path("release"));
  EXPECT_EQ(driver.Wait(), 0) << ReadFile(Path("driver.err"));
}

}  // namespace
}  // namespace moray::testing
