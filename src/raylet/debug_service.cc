#include "raylet/debug_service.h"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/environment.h"
#include "raylet/process.h"
#include "spdlog/spdlog.h"

extern char** environ;

namespace moray::raylet {
namespace {

constexpr rpc::Roles kCli = rpc::RoleBit(proto::ROLE_CLI);

// `name` on PATH (or `name` itself when it has a slash), if executable.
std::optional<std::string> FindProgram(const std::string& name) {
  if (absl::StrContains(name, '/')) {
    if (access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin", ':',
                      absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::string BaseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The raylet's environment without what would make a tool reach out to the network.
std::vector<std::string> ToolEnvironment() {
  std::vector<std::string> env;
  for (char** var = environ; var != nullptr && *var != nullptr; ++var) {
    if (absl::StartsWith(*var, "DEBUGINFOD_URLS=")) continue;
    env.emplace_back(*var);
  }
  return env;
}

// Everything written to `fd` (a memfd), at most `max` bytes, with a note when cut.
std::string ReadAll(int fd, size_t max) {
  std::string out;
  const off_t size = lseek(fd, 0, SEEK_END);
  if (size <= 0) return out;
  out.resize(std::min<size_t>(static_cast<size_t>(size), max));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  if (static_cast<size_t>(size) > max) {
    absl::StrAppend(&out, "\n[output cut at ", max, " of ", size, " bytes]\n");
  }
  return out;
}

}  // namespace

DebugService::DebugService(rpc::EventLoop* loop, DebugServiceOptions options)
    : loop_(loop), options_(std::move(options)) {
  thread_ = std::thread([this] { Loop(); });
}

DebugService::~DebugService() {
  *alive_ = false;
  Stop();
}

void DebugService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_all();
  if (pid_t tool = running_tool_.load(); tool > 0) SignalProcessGroup(tool, SIGKILL);
  if (thread_.joinable()) thread_.join();
}

bool DebugService::Queue(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

namespace {
const absl::Status& ShuttingDown() {
  static const absl::Status* status =
      new absl::Status(absl::UnavailableError("the raylet is shutting down"));
  return *status;
}
}  // namespace

void DebugService::Loop() {
  pthread_setname_np(pthread_self(), "raylet_debug");
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

void DebugService::RegisterMethods(rpc::Service* service) {
  service->Unary<proto::DumpStackRequest, proto::DumpStackReply>(
      proto::RAYLET_DUMP_STACK, kCli,
      [this](const rpc::Peer&, proto::DumpStackRequest&& request,
             rpc::Responder<proto::DumpStackReply> respond) {
        const pid_t pid = request.pid();
        if (pid <= 0) {
          respond.Fail(absl::InvalidArgumentError(absl::StrCat("pid must be positive, not ", pid)));
          return;
        }
        std::optional<WorkerId> worker =
            options_.worker_of_pid ? options_.worker_of_pid(pid) : std::nullopt;
        if (!worker.has_value()) {
          respond.Fail(absl::NotFoundError(
              absl::StrCat("pid ", pid,
                           " is not a live worker of this node's raylet; only its own workers' "
                           "stacks can be dumped")));
          return;
        }
        absl::Duration timeout = request.timeout_ms() > 0 ? absl::Milliseconds(request.timeout_ms())
                                                          : options_.default_stack_timeout;
        timeout = std::min(timeout, options_.max_stack_timeout);
        bool queued = Queue([this, pid, worker = *worker, timeout, respond, alive = alive_] {
          absl::StatusOr<proto::DumpStackReply> reply = DumpStack(pid, timeout);
          if (reply.ok()) reply->set_worker_id(worker.Binary());
          loop_->Post([alive, respond, reply = std::move(reply)] {
            if (*alive) respond(reply);
          });
        });
        if (!queued) respond.Fail(ShuttingDown());
      });
  service->Unary<proto::ListStoreObjectsRequest, proto::ListStoreObjectsReply>(
      proto::RAYLET_LIST_STORE_OBJECTS, kCli,
      [this](const rpc::Peer&, proto::ListStoreObjectsRequest&& request,
             rpc::Responder<proto::ListStoreObjectsReply> respond) {
        if (!options_.list_store_objects) {
          respond.Fail(absl::FailedPreconditionError("this raylet has no object store"));
          return;
        }
        const int64_t limit = request.limit() > 0
                                  ? std::min(request.limit(), options_.max_store_objects)
                                  : options_.max_store_objects;
        bool queued = Queue([this, limit, respond, alive = alive_] {
          auto reply = options_.list_store_objects(limit);
          loop_->Post([alive, respond, reply = std::move(reply)] {
            if (*alive) respond(reply);
          });
        });
        if (!queued) respond.Fail(ShuttingDown());
      });
}

absl::StatusOr<std::vector<std::string>> DebugService::StackCommand(
    const std::vector<std::string>& tools, pid_t pid) {
  for (const std::string& tool : tools) {
    std::optional<std::string> path = FindProgram(tool);
    if (!path.has_value()) continue;
    if (BaseName(*path) == "gdb") {
      return std::vector<std::string>{*path, "-batch",         "-nx", "-ex", "thread apply all bt",
                                      "-p",  absl::StrCat(pid)};
    }
    return std::vector<std::string>{*path, "-p", absl::StrCat(pid)};
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "no stack tool is installed on this node (looked for ", absl::StrJoin(tools, ", "),
      " on PATH; Debian: apt-get install elfutils, or gdb)"));
}

absl::StatusOr<proto::DumpStackReply> DebugService::DumpStack(pid_t pid, absl::Duration timeout) {
  auto command = StackCommand(options_.stack_tools, pid);
  if (!command.ok()) return command.status();
  const std::string command_line = absl::StrJoin(*command, " ");
  const int out = memfd_create("moray_stack", MFD_CLOEXEC);
  if (out < 0) return absl::InternalError(absl::StrCat("memfd_create: ", strerror(errno)));
  SpawnSpec spec;
  spec.argv = *command;
  spec.env = ToolEnvironment();
  spec.stdout_path = absl::StrCat("/proc/self/fd/", out);
  spec.stderr_path = spec.stdout_path;
  absl::StatusOr<Child> child = Spawn(spec);
  if (!child.ok()) {
    close(out);
    return absl::Status(child.status().code(), absl::StrCat("could not run ", command_line, ": ",
                                                            child.status().message()));
  }
  running_tool_ = child->pid;
  const absl::Time deadline = absl::Now() + timeout;
  bool exited = false;
  int status = 0;
  while (true) {
    if (Reap(child->pid, &status)) {
      exited = true;
      break;
    }
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) break;
    pollfd wait{.fd = child->pidfd, .events = POLLIN, .revents = 0};
    poll(&wait, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
  }
  if (!exited) {
    SignalProcessGroup(child->pid, SIGKILL);
    while (waitpid(child->pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  running_tool_ = 0;
  close(child->pidfd);
  std::string text = ReadAll(out, options_.max_output_bytes);
  close(out);
  if (!exited) {
    return absl::DeadlineExceededError(absl::StrCat(command_line, " did not finish within ",
                                                    absl::FormatDuration(timeout),
                                                    "; what it printed: ", text));
  }
  const bool has_frames = absl::StrContains(text, "#0");
  if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !has_frames) {
    return absl::InternalError(
        absl::StrCat(command_line, " failed (", DescribeWaitStatus(status), "): ", text));
  }
  spdlog::info("dumped the stacks of worker pid {} with {}", pid, command_line);
  proto::DumpStackReply reply;
  reply.set_text(std::move(text));
  reply.set_tool(command_line);
  return reply;
}

}  // namespace moray::raylet
