// LogAgent's side for the CLI (log_agent.h): RAYLET_LIST_LOGS, RAYLET_READ_LOG, and reads that
// wait at the end of a file until it grows (woken by inotify on the directory, or the timeout).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "raylet/log_agent.h"
#include "raylet/log_agent_parts.h"

namespace moray::raylet {
namespace {

constexpr int64_t kDefaultReadBytes = 1 << 20;
constexpr int64_t kMaxReadBytes = 16 << 20;
constexpr int kMaxWaitMs = 60000;

// The start of the last `lines` lines of the file (a final line without a newline counts).
int64_t TailOffset(int fd, int64_t size, int lines) {
  constexpr int64_t kChunk = 64 << 10;
  std::string chunk;
  int64_t end = size;
  int newlines = 0;
  bool first = true;
  while (end > 0) {
    const int64_t start = std::max<int64_t>(0, end - kChunk);
    chunk.resize(static_cast<size_t>(end - start));
    if (pread(fd, chunk.data(), chunk.size(), start) != static_cast<ssize_t>(chunk.size())) {
      return 0;
    }
    for (int64_t i = static_cast<int64_t>(chunk.size()) - 1; i >= 0; --i) {
      if (chunk[i] != '\n') continue;
      if (first && start + i == size - 1) continue;  // the last line's own newline
      if (++newlines == lines) return start + i + 1;
    }
    first = false;
    end = start;
  }
  return 0;
}

}  // namespace

bool LogAgent::TryAnswer(Waiter& waiter, bool force) {
  const int fd = open(waiter.path.c_str(), O_RDONLY | O_CLOEXEC);
  int64_t size = -1;
  if (fd >= 0) {
    struct stat st;
    if (fstat(fd, &st) == 0) size = st.st_size;
  }
  auto stream = streams_by_file_.find(waiter.reply.file_name());
  const bool alive = stream != streams_by_file_.end();
  waiter.reply.set_worker_alive(alive);
  if (size < 0) {
    if (fd >= 0) close(fd);
    if (!force) return false;
    waiter.respond.Fail(
        absl::NotFoundError(absl::StrCat("the log file ", waiter.reply.file_name(), " is gone")));
    return true;
  }
  // A file shorter than the offset was rotated (or truncated): read the new one from its start.
  int64_t offset = waiter.offset > size ? 0 : waiter.offset;
  const int64_t length = std::min(size - offset, waiter.max_bytes);
  // A worker that is gone will not write again: nothing to wait for. (A worker file's reply
  // carries worker_alive; the files of other processes are waited on until the timeout.)
  const bool worker_file = absl::StartsWith(waiter.reply.file_name(), "worker-");
  if (length <= 0 && !force && !(worker_file && !alive)) {
    close(fd);
    return false;
  }
  std::string data(static_cast<size_t>(std::max<int64_t>(0, length)), '\0');
  const ssize_t n = data.empty() ? 0 : pread(fd, data.data(), data.size(), offset);
  close(fd);
  data.resize(static_cast<size_t>(std::max<ssize_t>(0, n)));
  waiter.reply.set_offset(offset);
  waiter.reply.set_size(size);
  waiter.reply.set_data(std::move(data));
  waiter.respond(waiter.reply);
  return true;
}

proto::ListLogsReply LogAgent::List() const {
  proto::ListLogsReply reply;
  reply.set_node_id(options_.node_id.Binary());
  reply.set_node_ip(options_.node_ip);
  std::vector<std::string> names;
  if (DIR* dir = opendir(options_.log_dir.c_str())) {
    while (struct dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') names.emplace_back(entry->d_name);
    }
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    struct stat st;
    if (stat(absl::StrCat(options_.log_dir, "/", name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    proto::LogFileInfo* file = reply.add_files();
    file->set_name(name);
    file->set_size(st.st_size);
    file->set_mtime_ms(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 +
                       st.st_mtim.tv_nsec / 1000000);
    // worker-<worker id>-<job id>-<pid>.out[.N]
    std::vector<absl::string_view> parts = absl::StrSplit(name, '-');
    if (parts.size() == 4 && parts[0] == "worker") {
      int pid = 0;
      absl::string_view pid_part = parts[3].substr(0, parts[3].find('.'));
      if (absl::SimpleAtoi(pid_part, &pid)) {
        file->set_pid(pid);
        auto worker = workers_.find(pid);
        if (worker != workers_.end() && worker->second->id.Hex() == parts[1]) {
          file->set_worker_id(worker->second->id.Binary());
          file->set_job_id(worker->second->job_id.Binary());
          file->set_alive(streams_by_file_.contains(name));
        }
      }
    }
  }
  return reply;
}

void LogAgent::Read(proto::ReadLogRequest request, rpc::Responder<proto::ReadLogReply> respond) {
  std::string name = request.file_name();
  if (name.empty() && (request.pid() != 0 || !request.worker_id().empty())) {
    const Worker* found = nullptr;
    if (request.pid() != 0) {
      auto it = workers_.find(request.pid());
      if (it != workers_.end()) found = it->second.get();
    } else {
      for (const auto& [pid, worker] : workers_) {
        if (worker->id.Binary() == request.worker_id()) found = worker.get();
      }
    }
    if (found == nullptr) {
      respond.Fail(absl::NotFoundError(
          request.pid() != 0
              ? absl::StrCat("no worker with pid ", request.pid(), " on node ",
                             options_.node_id.Hex())
              : absl::StrCat("no worker ", WorkerId::FromBinary(request.worker_id()).Hex(),
                             " on node ", options_.node_id.Hex())));
      return;
    }
    name = request.err() ? found->err.name : found->out.name;
  }
  if (name.empty()) {
    respond.Fail(absl::InvalidArgumentError("name a log file, a worker pid or a worker id"));
    return;
  }
  if (absl::StrContains(name, '/') || name == "." || name == "..") {
    respond.Fail(absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" is not a file name of the node's log directory")));
    return;
  }
  auto waiter = std::make_unique<Waiter>(respond);
  waiter->path = absl::StrCat(options_.log_dir, "/", name);
  waiter->reply.set_file_name(name);
  waiter->max_bytes =
      request.max_bytes() > 0 ? std::min(request.max_bytes(), kMaxReadBytes) : kDefaultReadBytes;
  const int fd = open(waiter->path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    respond.Fail(absl::NotFoundError(
        absl::StrCat("no log file ", name, " on node ", options_.node_id.Hex())));
    return;
  }
  struct stat st;
  const int64_t size = fstat(fd, &st) == 0 ? st.st_size : 0;
  waiter->offset = request.tail_lines() > 0 ? TailOffset(fd, size, request.tail_lines())
                                            : std::max<int64_t>(0, request.offset());
  close(fd);
  const bool wait = request.wait_ms() > 0;
  if (TryAnswer(*waiter, /*force=*/!wait)) return;
  Waiter* raw = waiter.get();
  auto it = waiters_.emplace(name, std::move(waiter));
  raw->timer = loop_.RunAfter(absl::Milliseconds(std::min(request.wait_ms(), kMaxWaitMs)),
                              [this, raw, name] {
                                auto [begin, end] = waiters_.equal_range(name);
                                for (auto w = begin; w != end; ++w) {
                                  if (w->second.get() != raw) continue;
                                  raw->timer = 0;
                                  TryAnswer(*raw, /*force=*/true);
                                  waiters_.erase(w);
                                  return;
                                }
                              });
  (void)it;
}

void LogAgent::AddMethods(rpc::Service* service) {
  constexpr rpc::Roles kCli = rpc::RoleBit(proto::ROLE_CLI);
  service->Unary<proto::ListLogsRequest, proto::ListLogsReply>(
      proto::RAYLET_LIST_LOGS, kCli,
      [this](const rpc::Peer&, proto::ListLogsRequest&&,
             rpc::Responder<proto::ListLogsReply> respond) {
        loop_.Post([this, respond] { respond(List()); });
      });
  service->Unary<proto::ReadLogRequest, proto::ReadLogReply>(
      proto::RAYLET_READ_LOG, kCli,
      [this](const rpc::Peer&, proto::ReadLogRequest&& request,
             rpc::Responder<proto::ReadLogReply> respond) {
        loop_.Post([this, request = std::move(request), respond]() mutable {
          Read(std::move(request), respond);
        });
      });
}

}  // namespace moray::raylet
