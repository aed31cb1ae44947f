// Lifecycle of a driver's cluster, with real processes: the embedded cluster that ray::Init()
// starts without an address (and what it leaves behind: nothing, however the driver ends), joining
// a `moray start --head` cluster by address, RAY_ADDRESS, "auto" or --ray_address, clear and quick
// failures for wrong addresses, and `moray start` refusing bad input.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "rpc/testing/loopback.h"
#include "tests/test_env.h"

namespace {
namespace fs = std::filesystem;
using moray::testing::Lines;
using moray::testing::ListeningSocket;
using moray::testing::PrivateTmpDir;
using moray::testing::ProcessAlive;
using moray::testing::ReadFile;
using moray::testing::RunMoray;
using moray::testing::WaitFor;

int Pid() { return static_cast<int>(getpid()); }
int Plus(int a, int b) { return a + b; }
RAY_REMOTE(Pid, Plus);

// The entries of `dir`; empty when it vanishes meanwhile (a process of /proc exiting).
std::vector<fs::path> ListDir(const fs::path& dir) {
  std::vector<fs::path> entries;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path());
  }
  return entries;
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  for (const auto& entry : ListDir("/proc")) {
    std::string name = entry.filename();
    if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) {
      pids.push_back(std::stoi(name));
    }
  }
  return pids;
}

// Processes of this test (they carry its MORAY_TMPDIR), other than this one.
std::vector<pid_t> Others() {
  std::vector<pid_t> pids;
  for (pid_t pid : moray::testing::ProcessesOfThisTest()) {
    if (pid != getpid()) pids.push_back(pid);
  }
  return pids;
}
bool NothingRunning() { return Others().empty(); }
// Waits until every one of `pids` has exited. Needed beside NothingRunning: a process on its way
// out has already lost its environment (so Others() no longer lists it) but may still hold its
// sockets for a moment.
bool AllExit(const std::vector<pid_t>& pids) {
  return WaitFor(
      [&] {
        return std::none_of(pids.begin(), pids.end(),
                            [](pid_t pid) { return ProcessAlive(pid); });
      },
      std::chrono::seconds(10));
}
std::string Describe(const std::vector<pid_t>& pids) {
  std::string out;
  for (pid_t pid : pids) {
    std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    out += std::to_string(pid) + ": " + cmdline + "\n";
  }
  return out;
}

pid_t ParentOf(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream in(stat.substr(close_paren + 2));
  char state;
  pid_t ppid = -1;
  in >> state >> ppid;
  return ppid;
}

// TCP ports in LISTEN state held by `pids` (through their socket descriptors).
std::set<int> ListeningPortsOf(const std::vector<pid_t>& pids) {
  std::set<std::string> inodes;
  for (pid_t pid : pids) {
    std::error_code ec;
    for (const auto& fd : ListDir("/proc/" + std::to_string(pid) + "/fd")) {
      std::string target = fs::read_symlink(fd, ec).string();
      if (target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
    }
  }
  std::set<int> ports;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    auto lines = Lines(ReadFile(table));
    for (size_t i = 1; i < lines.size(); ++i) {
      std::istringstream in(lines[i]);
      std::string slot, local, remote, state, queues, timer, retransmit, uid, timeout, inode;
      in >> slot >> local >> remote >> state >> queues >> timer >> retransmit >> uid >> timeout >>
          inode;
      if (state != "0A" || !inodes.count(inode)) continue;  // 0A: LISTEN
      ports.insert(std::stoi(local.substr(local.rfind(':') + 1), nullptr, 16));
    }
  }
  return ports;
}

// A node's object store is one memfd (src/object_store/shared_memory.cc), shown in /proc as
// "/memfd:moray-object-store (deleted)". Its memory is freed when no process holds a descriptor
// or a mapping of it any more, so that is what "nothing left behind" means for the store. Memfds
// are told apart by inode (concurrent tests have stores of the same name).
constexpr char kStoreMemfd[] = "/memfd:moray-object-store";

// Inodes of the store memfds `pid` has open or mapped.
std::set<ino_t> StoreMemfdsHeldBy(pid_t pid) {
  std::set<ino_t> inodes;
  const fs::path proc = "/proc/" + std::to_string(pid);
  std::error_code ec;
  for (const auto& fd : ListDir(proc / "fd")) {
    struct stat st;
    if (fs::read_symlink(fd, ec).string().rfind(kStoreMemfd, 0) == 0 &&
        stat(fd.c_str(), &st) == 0) {
      inodes.insert(st.st_ino);
    }
  }
  // "address perms offset dev inode path"
  for (const auto& line : Lines(ReadFile(proc / "maps"))) {
    std::istringstream in(line);
    std::string address, perms, offset, dev, path;
    unsigned long inode = 0;
    in >> address >> perms >> offset >> dev >> inode;
    std::getline(in >> std::ws, path);
    if (path.rfind(kStoreMemfd, 0) == 0) inodes.insert(static_cast<ino_t>(inode));
  }
  return inodes;
}

// Every live process on the machine that holds one of `inodes` (open or mapped).
std::vector<pid_t> HoldersOf(const std::set<ino_t>& inodes) {
  std::vector<pid_t> holders;
  for (pid_t pid : AllPids()) {
    if (!ProcessAlive(pid)) continue;
    for (ino_t inode : StoreMemfdsHeldBy(pid)) {
      if (inodes.count(inode)) {
        holders.push_back(pid);
        break;
      }
    }
  }
  return holders;
}

// The Unix sockets a session's processes listen on: in its directory, or, when that path is too
// long for a socket address, /tmp/moray-<uid>/ named by node id (src/raylet/raylet.cc).
std::set<std::string> SocketFilesOf(const std::string& session_dir,
                                    const std::vector<std::string>& node_ids) {
  std::set<std::string> sockets;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(session_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_socket(ec)) sockets.insert(it->path().string());
  }
  for (const auto& entry : ListDir("/tmp/moray-" + std::to_string(getuid()))) {
    for (const auto& node : node_ids) {
      if (entry.filename().string().find(node) != std::string::npos &&
          fs::is_socket(entry, ec)) {
        sockets.insert(entry.string());
      }
    }
  }
  return sockets;
}
std::vector<std::string> Existing(const std::set<std::string>& paths) {
  std::vector<std::string> existing;
  for (const auto& path : paths) {
    if (fs::exists(path)) existing.push_back(path);
  }
  return existing;
}
std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += item + "\n";
  return out;
}

// The ids of the nodes of the cluster "auto" finds.
std::vector<std::string> NodeIds() {
  std::vector<std::string> ids;
  for (const auto& node : moray::testing::RunMorayJson({"list", "nodes", "--address", "auto"})) {
    ids.push_back(node["node_id"].get<std::string>());
  }
  return ids;
}

// What a running cluster holds that must go with it: its store memfds, and its socket files.
struct Leftovers {
  std::set<ino_t> memfds;
  std::set<std::string> sockets;
};
Leftovers HeldBy(const std::string& session_dir, pid_t raylet,
                 const std::vector<std::string>& node_ids) {
  return {StoreMemfdsHeldBy(raylet), SocketFilesOf(session_dir, node_ids)};
}
// Expects everything in `held` to be gone (memfds: once every holder has exited or unmapped).
void ExpectReleased(const Leftovers& held) {
  std::vector<pid_t> holders;
  EXPECT_TRUE(WaitFor([&] {
    holders = HoldersOf(held.memfds);
    return holders.empty();
  }, std::chrono::seconds(10))) << "still holding the object store's memory:\n" << Describe(holders);
  EXPECT_TRUE(Existing(held.sockets).empty()) << "sockets left behind:\n"
                                              << Join(Existing(held.sockets));
}

std::vector<std::string> SessionDirs() {
  std::vector<std::string> dirs;
  for (const auto& entry : ListDir(PrivateTmpDir::path())) {
    std::string name = entry.filename().string();
    if (name.rfind("session_", 0) == 0 && !fs::is_symlink(entry)) dirs.push_back(entry);
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

// "pid name" lines of a session's pids file.
std::map<std::string, pid_t> ServicesOf(const std::string& session_dir) {
  std::map<std::string, pid_t> services;
  std::ifstream in(session_dir + "/pids");
  pid_t pid;
  std::string name;
  while (in >> pid >> name) services[name] = pid;
  return services;
}

// The session directory created since `before` was taken (exactly one expected).
std::string NewSession(const std::vector<std::string>& before) {
  std::string found;
  for (const auto& dir : SessionDirs()) {
    if (std::find(before.begin(), before.end(), dir) == before.end()) {
      EXPECT_TRUE(found.empty()) << "two new sessions: " << found << " and " << dir;
      found = dir;
    }
  }
  return found;
}


// Every test starts and ends with nothing of ours running; a failed test's leftovers are stopped
// so that the next test starts clean.
class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("RAY_ADDRESS");
    ASSERT_TRUE(WaitFor(NothingRunning, std::chrono::seconds(10))) << Describe(Others());
  }
  void TearDown() override {
    unsetenv("RAY_ADDRESS");
    if (ray::IsInitialized()) ray::Shutdown();
    if (!NothingRunning()) {
      ADD_FAILURE() << "left running after the test:\n" << Describe(Others());
      RunMoray({"stop", "--force"});
      for (pid_t pid : Others()) kill(pid, SIGKILL);
    }
  }
};

TEST_F(LifecycleTest, EmbeddedClusterLeavesNoProcessesSocketsOrSharedMemory) {
  auto sessions_before = SessionDirs();
  EXPECT_FALSE(ray::IsInitialized());
  ray::Init();
  EXPECT_TRUE(ray::IsInitialized());
  int worker = *ray::Task(Pid).Remote().Get();
  auto large = ray::Put(std::vector<uint8_t>(1 << 20, 7));  // into the store: the driver maps it
  EXPECT_EQ(large.Get()->size(), 1u << 20);

  std::string session = NewSession(sessions_before);
  ASSERT_FALSE(session.empty()) << moray::testing::RunShell("ls -l " + PrivateTmpDir::path()).out;
  auto services = ServicesOf(session);
  ASSERT_EQ(services.size(), 2u) << ReadFile(session + "/pids");
  pid_t gcs = services["gcs_server"], raylet = services["raylet"];
  std::vector<pid_t> running = Others();
  for (pid_t pid : {gcs, raylet, static_cast<pid_t>(worker)}) {
    EXPECT_NE(std::find(running.begin(), running.end(), pid), running.end()) << pid;
  }
  EXPECT_EQ(ParentOf(gcs), getpid());  // the services are children of the driver
  EXPECT_EQ(ParentOf(raylet), getpid());
  EXPECT_EQ(ParentOf(worker), raylet);
  std::set<int> ports = ListeningPortsOf(running);
  EXPECT_FALSE(ListeningPortsOf({gcs}).empty());
  EXPECT_FALSE(ListeningPortsOf({raylet}).empty());
  // The store's memfd: the raylet holds it, and so do this driver and the worker, its clients.
  const std::vector<std::string> nodes = NodeIds();
  ASSERT_EQ(nodes.size(), 1u);
  Leftovers held = HeldBy(session, raylet, nodes);
  ASSERT_EQ(held.memfds.size(), 1u);
  EXPECT_EQ(StoreMemfdsHeldBy(getpid()), held.memfds);
  EXPECT_EQ(StoreMemfdsHeldBy(worker), held.memfds);
  const std::vector<pid_t> holders = HoldersOf(held.memfds);
  for (pid_t pid : {raylet, getpid(), static_cast<pid_t>(worker)}) {
    EXPECT_NE(std::find(holders.begin(), holders.end(), pid), holders.end()) << pid;
  }
  EXPECT_FALSE(held.sockets.empty()) << "no socket files under " << session;

  // The CLI finds the running embedded cluster by "auto".
  auto status = RunMoray({"status", "--address", "auto"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("Healthy:"), std::string::npos) << status.out;
  EXPECT_TRUE(std::regex_search(status.out, std::regex(" 1 node_[0-9a-f]{32}"))) << status.out;

  ray::Shutdown();
  EXPECT_FALSE(ray::IsInitialized());
  // Asked to stop, the services stopped to the end, not killed once a grace period ran out.
  EXPECT_NE(ReadFile(session + "/logs/raylet.log").find("raylet " + nodes[0] + " stopped"),
            std::string::npos)
      << ReadFile(session + "/logs/raylet.log");
  EXPECT_TRUE(WaitFor(NothingRunning, std::chrono::seconds(10))) << Describe(Others());
  EXPECT_TRUE(AllExit(running)) << Describe(running);
  EXPECT_TRUE(ListeningPortsOf(running).empty());
  // No socket of those processes is still listening anywhere on the machine (a dead process's
  // sockets are closed; a port still listening would mean an inherited descriptor survived).
  std::set<int> still = ListeningPortsOf(AllPids());
  for (int port : ports) EXPECT_EQ(still.count(port), 0u) << "port " << port << " still listens";
  // No process, this driver included, holds the store's memory; its sockets are gone.
  ExpectReleased(held);
  // "auto" no longer names the stopped cluster.
  auto after = RunMoray({"status", "--address", "auto"});
  EXPECT_NE(after.exit_code, 0);
  EXPECT_NE(after.err.find("could not find a running Moray cluster"), std::string::npos)
      << after.err;
}

TEST_F(LifecycleTest, InitTwiceIsANoOpAndInitAfterShutdownStartsAFreshCluster) {
  ray::Init();
  auto sessions = SessionDirs();
  int first_worker = *ray::Task(Pid).Remote().Get();
  ray::Init();  // no-op
  EXPECT_EQ(SessionDirs(), sessions);
  EXPECT_EQ(*ray::Task(Plus).Remote(1, 2).Get(), 3);
  ray::Shutdown();
  EXPECT_FALSE(ray::IsInitialized());
  ray::Shutdown();  // harmless when not initialized
  ASSERT_TRUE(WaitFor(NothingRunning, std::chrono::seconds(10))) << Describe(Others());

  ray::Init();
  EXPECT_TRUE(ray::IsInitialized());
  EXPECT_EQ(SessionDirs().size(), sessions.size() + 1);
  int second_worker = *ray::Task(Pid).Remote().Get();
  EXPECT_NE(second_worker, first_worker);
  EXPECT_TRUE(ProcessAlive(second_worker));
  ray::Shutdown();
  EXPECT_TRUE(WaitFor(NothingRunning, std::chrono::seconds(10))) << Describe(Others());
}

TEST_F(LifecycleTest, ArgvFlagsShapeTheEmbeddedClusterAndTheJob) {
  ray::RayConfig config;
  std::vector<std::string> args = {"driver", "--unrelated", "--ray_head_args",
                                   "--num-cpus=3 --resources={\"lifecycle_slot\":2}",
                                   "--ray_job_namespace=lifecycle"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  ray::Init(config, static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(*ray::Task(Plus).SetResource("lifecycle_slot", 2).Remote(2, 3).Get(), 5);
  EXPECT_EQ(config.address, "");  // the caller's config is not modified
  ASSERT_TRUE(WaitFor([] {
    auto status = RunMoray({"status", "--address", "auto"}).out;
    return status.find("/3.0 CPU") != std::string::npos &&
           status.find("/2.0 lifecycle_slot") != std::string::npos;
  }, std::chrono::seconds(10))) << RunMoray({"status", "--address", "auto"}).out;
  auto jobs = RunMoray({"list", "jobs", "--address", "auto", "--format", "json"});
  EXPECT_NE(jobs.out.find("\"ray_namespace\": \"lifecycle\""), std::string::npos) << jobs.out;
  ray::Shutdown();
}

// Runs lifecycle_driver `mode` as a child process and reads its report.
struct ChildDriver {
  pid_t pid = -1;
  std::map<std::string, std::string> report;  // driver_pid, worker_pid
  int stdin_fd = -1;  // closing it lets a driver in mode "exit" return from main
};
ChildDriver StartChildDriver(const std::string& mode) {
  ChildDriver child;
  int fds[2], in[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return child;
  if (pipe2(in, O_CLOEXEC) != 0) return child;
  child.pid = fork();
  if (child.pid == 0) {
    dup2(fds[1], 1);
    dup2(in[0], 0);
    execl(LIFECYCLE_DRIVER, LIFECYCLE_DRIVER, mode.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  close(in[0]);
  child.stdin_fd = in[1];
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (text.find("READY\n") == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{fds[0], POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[256];
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  for (const auto& line : Lines(text)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) child.report[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return child;
}

int WaitExit(pid_t pid) {
  int status = 0;
  // The child exits on its own (mode "exit") or was killed: a blocking wait with a CTest timeout
  // behind it.
  waitpid(pid, &status, 0);
  return status;
}

TEST_F(LifecycleTest, DriverExitingWithoutShutdownLeavesNothingBehind) {
  auto sessions_before = SessionDirs();
  ChildDriver child = StartChildDriver("exit");
  ASSERT_GT(child.pid, 0);
  ASSERT_TRUE(child.report.count("worker_pid")) << "the child driver did not report";
  pid_t worker = std::stoi(child.report["worker_pid"]);
  const std::string session = NewSession(sessions_before);
  auto services = ServicesOf(session);
  ASSERT_EQ(services.size(), 2u);
  Leftovers held = HeldBy(session, services["raylet"], NodeIds());
  EXPECT_EQ(held.memfds.size(), 1u);
  EXPECT_EQ(StoreMemfdsHeldBy(child.pid), held.memfds);
  EXPECT_FALSE(held.sockets.empty()) << "no socket files under " << session;
  close(child.stdin_fd);  // the driver returns from main
  int status = WaitExit(child.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(WaitFor(NothingRunning, std::chrono::seconds(10))) << Describe(Others());
  EXPECT_TRUE(AllExit({worker, services["gcs_server"], services["raylet"]}));
  ExpectReleased(held);
  // "auto" does not name the dead cluster.
  auto after = RunMoray({"status", "--address", "auto"});
  EXPECT_NE(after.exit_code, 0);
  EXPECT_NE(after.err.find("could not find a running Moray cluster"), std::string::npos)
      << after.err;
}

TEST_F(LifecycleTest, SigkilledDriverLeavesNothingBehind) {
  auto sessions_before = SessionDirs();
  ChildDriver child = StartChildDriver("wait");
  ASSERT_GT(child.pid, 0);
  close(child.stdin_fd);  // unused in mode "wait"
  struct Reap {  // never leave the child behind, even when an assertion fails
    pid_t pid;
    ~Reap() {
      if (kill(pid, SIGKILL) == 0) waitpid(pid, nullptr, 0);
    }
  } reap{child.pid};
  ASSERT_TRUE(child.report.count("worker_pid")) << "the child driver did not report";
  pid_t worker = std::stoi(child.report["worker_pid"]);
  const std::string session = NewSession(sessions_before);
  auto services = ServicesOf(session);
  ASSERT_EQ(services.size(), 2u);
  EXPECT_TRUE(ProcessAlive(worker));
  // While it runs, the CLI finds its cluster.
  EXPECT_EQ(RunMoray({"status", "--address", "auto"}).exit_code, 0);
  Leftovers held = HeldBy(session, services["raylet"], NodeIds());
  EXPECT_EQ(held.memfds.size(), 1u);
  EXPECT_FALSE(held.sockets.empty()) << "no socket files under " << session;

  kill(child.pid, SIGKILL);
  int status = WaitExit(child.pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_TRUE(WaitFor(NothingRunning, std::chrono::seconds(10))) << Describe(Others());
  EXPECT_TRUE(AllExit({worker, services["gcs_server"], services["raylet"]}));
  ExpectReleased(held);
  auto after = RunMoray({"status", "--address", "auto"});
  EXPECT_NE(after.exit_code, 0);
  EXPECT_NE(after.err.find("could not find a running Moray cluster"), std::string::npos)
      << after.err;
}

// A cluster from `moray start --head --port=0`: every way of naming it joins it (tasks run under
// its raylet, no embedded cluster starts), it outlives each driver's Shutdown, and `moray stop`
// ends all of it, workers included.
TEST_F(LifecycleTest, DriversJoinAStartedClusterWhichOutlivesThemUntilMorayStop) {
  auto sessions_before = SessionDirs();
  auto started = RunMoray({"start", "--head", "--port=0", "--num-cpus=2", "--dashboard-port=0"});
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(started.out, m, std::regex("GCS address: (\\S+)")));
  const std::string address = m[1];
  std::string session = NewSession(sessions_before);
  auto services = ServicesOf(session);
  ASSERT_EQ(services.size(), 3u);  // GCS, raylet, dashboard
  const pid_t raylet = services["raylet"];
  // A second head on the same port fails with the reason in one line, leaves the first one alone
  // and makes no session of its own.
  auto twice = RunMoray({"start", "--head", "--port=" + address.substr(address.rfind(':') + 1)});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.err.find("is already in use by the Moray cluster running there"),
            std::string::npos)
      << twice.err;
  EXPECT_EQ(std::count(twice.err.begin(), twice.err.end(), '\n'), 1) << twice.err;
  EXPECT_EQ(Others().size(), 3u) << Describe(Others());
  size_t sessions = SessionDirs().size();
  EXPECT_EQ(sessions, sessions_before.size() + 1);

  std::set<pid_t> workers;
  auto join = [&](const std::string& how, auto init) {
    SCOPED_TRACE(how);
    init();
    ASSERT_TRUE(ray::IsInitialized());
    EXPECT_EQ(*ray::Task(Plus).Remote(40, 2).Get(), 42);
    pid_t worker = *ray::Task(Pid).Remote().Get();
    EXPECT_EQ(ParentOf(worker), raylet) << "the task ran outside the started cluster";
    workers.insert(worker);
    EXPECT_EQ(SessionDirs().size(), sessions) << "an embedded cluster was started";
    ray::Shutdown();
    unsetenv("RAY_ADDRESS");
    for (const auto& [name, pid] : services) EXPECT_TRUE(ProcessAlive(pid)) << name;
    auto status = RunMoray({"status", "--address", address});
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  };
  join("config.address", [&] {
    ray::RayConfig config;
    config.address = address;
    ray::Init(config);
  });
  join("RAY_ADDRESS", [&] {
    setenv("RAY_ADDRESS", address.c_str(), 1);
    ray::Init();
  });
  join("auto", [&] {
    ray::RayConfig config;
    config.address = "auto";
    ray::Init(config);
  });
  join("RAY_ADDRESS=auto", [&] {
    setenv("RAY_ADDRESS", "auto", 1);
    ray::Init();
  });
  join("--ray_address", [&] {
    ray::RayConfig config;
    config.address = "127.0.0.1:1";  // the flag overrides the config
    std::string program = "driver", flag = "--ray_address=" + address;
    char* argv[] = {program.data(), flag.data(), nullptr};
    ray::Init(config, 2, argv);
  });
  // An embedded driver meanwhile does not make "auto" lose the started cluster.
  ray::Init();
  ray::Shutdown();
  sessions = SessionDirs().size();
  join("auto after an embedded driver", [&] {
    ray::RayConfig config;
    config.address = "auto";
    ray::Init(config);
  });

  auto stopped = RunMoray({"stop"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_TRUE(WaitFor(NothingRunning, std::chrono::seconds(10))) << Describe(Others());
  std::vector<pid_t> all(workers.begin(), workers.end());
  for (const auto& [name, pid] : services) all.push_back(pid);
  EXPECT_TRUE(AllExit(all)) << Describe(all);
}

// Init with an address where no cluster is: a RayException saying what is wrong, nothing started,
// and the process can still Init afterwards. How long it takes is not asserted (a loaded machine
// is slow); GcsClientConnectTest checks that a refused connection returns before its deadline.
TEST_F(LifecycleTest, WrongAddressesFailFastWithAClearMessage) {
  const std::string closed = "127.0.0.1:" + std::to_string(moray::rpc::testing::UnusedLoopbackPort());
  struct Case {
    std::string address;
    std::string message;
  };
  std::vector<Case> cases = {
      {closed, closed},
      {"nonsense", "invalid address 'nonsense'"},
      {"127.0.0.1:99999", "the port must be a number between 1 and 65535"},
      {"auto", "could not find a running Moray cluster"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.address);
    ray::RayConfig config;
    config.address = c.address;
    try {
      ray::Init(config);
      ADD_FAILURE() << "Init succeeded";
      ray::Shutdown();
    } catch (const ray::internal::RayException& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    }
    EXPECT_FALSE(ray::IsInitialized());
    EXPECT_TRUE(NothingRunning()) << Describe(Others());
  }
  // The same through RAY_ADDRESS.
  setenv("RAY_ADDRESS", "nonsense", 1);
  EXPECT_THROW(ray::Init(), ray::internal::RayException);
  unsetenv("RAY_ADDRESS");
  EXPECT_FALSE(ray::IsInitialized());
  ray::Init();
  EXPECT_EQ(*ray::Task(Plus).Remote(1, 1).Get(), 2);
  ray::Shutdown();
}

// MORAY_MAX_TASKS_IN_FLIGHT_PER_WORKER sets how many short tasks an owner pipelines to one worker
// (the benchmarks set 1, Ray's default): a bad value fails Init before anything starts, a good
// one reaches the cluster's processes (which inherit it and check it too) and tasks run.
TEST_F(LifecycleTest, TasksInFlightPerWorkerComesFromTheEnvironment) {
  constexpr const char* kVar = "MORAY_MAX_TASKS_IN_FLIGHT_PER_WORKER";
  for (const char* bad : {"0", "-1", "abc", "2x", ""}) {
    SCOPED_TRACE(bad);
    setenv(kVar, bad, 1);
    try {
      ray::Init();
      if (*bad) ADD_FAILURE() << "Init succeeded";
      ray::Shutdown();
    } catch (const ray::internal::RayException& e) {
      EXPECT_NE(std::string(e.what()).find(std::string(kVar) +
                                           " must be a whole number of at least 1, not '" + bad),
                std::string::npos)
          << e.what();
    }
    EXPECT_FALSE(ray::IsInitialized());
    EXPECT_TRUE(NothingRunning()) << Describe(Others());
  }
  setenv(kVar, "1", 1);
  ray::Init();
  std::vector<ray::ObjectRef<int>> sums;
  for (int i = 0; i < 200; ++i) sums.push_back(ray::Task(Plus).Remote(i, 1));
  for (int i = 0; i < 200; ++i) EXPECT_EQ(*sums[i].Get(), i + 1);
  ray::Shutdown();
  unsetenv(kVar);
}

TEST_F(LifecycleTest, MorayStartRejectsBadInputAndLeavesNothingRunning) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--num-cpus=abc"}, "--num-cpus"},
      {{"--num-cpus=-2"}, "--num-cpus"},
      {{"--resources", "{bad json"},
       "--resources must be a JSON object of amounts such as '{\"custom\": 2}', not '{bad json'"},
      {{"--resources", "{\"x\": -1}"}, "the amount of 'x' must be a number, 0 or more, not -1"},
      {{"--resources", "[1, 2]"}, "--resources must be a JSON object"},
      {{"--port=70000"}, "--port"},
  };
  auto sessions_before = SessionDirs();
  for (const auto& c : cases) {
    std::vector<std::string> args = {"start", "--head"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    SCOPED_TRACE(args.back());
    auto result = RunMoray(args);
    EXPECT_NE(result.exit_code, 0);
    EXPECT_NE(result.err.find(c.message), std::string::npos) << result.err;
    EXPECT_TRUE(NothingRunning()) << Describe(Others());
  }
  EXPECT_EQ(SessionDirs(), sessions_before);
  // Nothing to stop is not an error.
  auto stopped = RunMoray({"stop"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
}

// ray::Init's embedded cluster on a port in use, or with a head_args value out of range, fails
// with one sentence and starts nothing.
TEST_F(LifecycleTest, EmbeddedClusterOnAPortInUseOrWithBadHeadArgsFailsInOneSentence) {
  ListeningSocket taken;
  ASSERT_TRUE(taken.listening());
  const std::string port = std::to_string(taken.port());
  struct Case {
    std::vector<std::string> head_args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--port=" + port},
       "could not start a local Moray cluster: port " + port +
           " on 127.0.0.1 is already in use by another process (choose another --port, 0 for any "
           "free port)"},
      {{"--port", "70000"}, "in head_args, --port must be a whole number from 0 to 65535, not 70000"},
      {{"--num-cpus"}, "in head_args, --num-cpus needs a value: a number, 0 or more"},
  };
  const auto sessions = SessionDirs();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    ray::RayConfig config;
    config.head_args = c.head_args;
    try {
      ray::Init(config);
      ADD_FAILURE() << "Init succeeded";
      ray::Shutdown();
    } catch (const ray::internal::RayException& e) {
      EXPECT_EQ(std::string(e.what()), c.message);
    }
    EXPECT_FALSE(ray::IsInitialized());
    EXPECT_TRUE(NothingRunning()) << Describe(Others());
  }
  EXPECT_EQ(SessionDirs(), sessions);
}

}  // namespace
