#include "raylet/log_agent.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/log_marker.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {
namespace {

constexpr int64_t kDefaultReadBytes = 1 << 20;
constexpr int64_t kMaxReadBytes = 16 << 20;
constexpr int kMaxWaitMs = 60000;

void WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk: the bytes are lost for the file, the stream goes on
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

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

struct LogAgent::Stream {
  Worker* worker = nullptr;
  bool err = false;
  int pipe_fd = -1;
  std::string name;  // the file's name
  std::string path;
  int file_fd = -1;
  int64_t size = 0;
  std::string partial;         // an incomplete last line
  size_t partial_in_file = 0;  // how much of it is in the file already
};

struct LogAgent::Worker {
  WorkerId id;
  JobId job_id;
  pid_t pid = 0;
  std::string name;  // from the last marker
  Stream out;
  Stream err;
  bool alive() const { return out.pipe_fd >= 0 || err.pipe_fd >= 0; }
};

struct LogAgent::JobBatch {
  proto::WorkerLogBatch batch;
  size_t bytes = 0;
  int64_t lines = 0;
  uint64_t timer = 0;
};

struct LogAgent::Waiter {
  explicit Waiter(rpc::Responder<proto::ReadLogReply> r) : respond(std::move(r)) {}
  std::string path;
  int64_t offset = 0;
  int64_t max_bytes = 0;
  proto::ReadLogReply reply;  // file_name and worker_alive filled
  rpc::Responder<proto::ReadLogReply> respond;
  uint64_t timer = 0;
};

LogAgent::LogAgent(LogAgentOptions options) : options_(std::move(options)) {}

LogAgent::~LogAgent() { Stop(); }

std::string LogAgent::WorkerFileName(const WorkerId& worker_id, const JobId& job_id, pid_t pid,
                                     bool err) {
  return absl::StrCat("worker-", worker_id.Hex(), "-", job_id.Hex(), "-", pid,
                      err ? ".err" : ".out");
}

absl::Status LogAgent::Start() {
  struct stat st;
  if (stat(options_.log_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the log directory ", options_.log_dir, " is not a directory"));
  }
  if (!options_.gcs_address.empty()) {
    const size_t colon = options_.gcs_address.rfind(':');
    auto ip = rpc::ResolveAddress(options_.gcs_address.substr(0, colon));
    if (colon == std::string::npos || !ip.ok() ||
        !absl::SimpleAtoi(options_.gcs_address.substr(colon + 1), &gcs_port_)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the log agent cannot use the GCS address ", options_.gcs_address));
    }
    gcs_ip_ = *ip;
  }
  started_ = true;
  loop_.StartThread("raylet_logs");
  loop_.Post([this] {
    inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0 ||
        inotify_add_watch(inotify_fd_, options_.log_dir.c_str(), IN_MODIFY | IN_CREATE) < 0) {
      spdlog::warn("log agent: no inotify on {}: {}; following reads wait for their timeout",
                   options_.log_dir, strerror(errno));
      return;
    }
    loop_.Watch(inotify_fd_, EPOLLIN, [this](uint32_t) { OnDirectoryEvents(); });
  });
  return absl::OkStatus();
}

void LogAgent::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  absl::Notification done;
  loop_.Post([this, &done] {
    for (auto& [pid, worker] : workers_) {
      for (Stream* stream : {&worker->out, &worker->err}) {
        if (stream->pipe_fd >= 0) OnReadable(*stream);  // what is there now
        CloseStream(*stream);
      }
    }
    FlushAll();
    for (auto& [name, waiter] : waiters_) {
      if (waiter->timer != 0) loop_.CancelTimer(waiter->timer);
      waiter->respond(waiter->reply);
    }
    waiters_.clear();
    if (inotify_fd_ >= 0) {
      loop_.Unwatch(inotify_fd_);
      close(inotify_fd_);
      inotify_fd_ = -1;
    }
    if (gcs_) gcs_->Close();
    gcs_.reset();
    done.Notify();
  });
  done.WaitForNotification();
  loop_.Stop();
}

void LogAgent::AddWorker(const WorkerId& worker_id, const JobId& job_id, pid_t pid, int out_fd,
                         int err_fd) {
  loop_.Post([this, worker_id, job_id, pid, out_fd, err_fd] {
    auto worker = std::make_unique<Worker>();
    worker->id = worker_id;
    worker->job_id = job_id;
    worker->pid = pid;
    for (Stream* stream : {&worker->out, &worker->err}) {
      stream->worker = worker.get();
      stream->err = stream == &worker->err;
      stream->pipe_fd = stream->err ? err_fd : out_fd;
      stream->name = WorkerFileName(worker_id, job_id, pid, stream->err);
      stream->path = absl::StrCat(options_.log_dir, "/", stream->name);
      stream->file_fd = open(stream->path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (stream->file_fd < 0) {
        spdlog::error("log agent: cannot open {}: {}", stream->path, strerror(errno));
      }
      stream->size = std::max<int64_t>(0, FileSize(stream->path));
      fcntl(stream->pipe_fd, F_SETFL, fcntl(stream->pipe_fd, F_GETFL) | O_NONBLOCK);
      streams_by_file_[stream->name] = stream;
      loop_.Watch(stream->pipe_fd, EPOLLIN, [this, stream](uint32_t) { OnReadable(*stream); });
    }
    auto& slot = workers_[pid];
    if (slot) {  // the pid was reused: the old worker's streams are closed already
      for (Stream* stream : {&slot->out, &slot->err}) CloseStream(*stream);
    }
    slot = std::move(worker);
    for (Stream* stream : {&slot->out, &slot->err}) WakeWaiters(stream->name);
  });
}

void LogAgent::OnReadable(Stream& stream) {
  char buffer[64 << 10];
  for (int round = 0; round < 16; ++round) {  // others' turn after 1 MiB
    const ssize_t n = read(stream.pipe_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {  // EOF: the worker and everything it started closed the pipe
      if (!stream.partial.empty()) {
        HandleLine(stream, stream.partial);
        stream.partial.clear();
        stream.partial_in_file = 0;
      }
      CloseStream(stream);
      return;
    }
    std::string_view data(buffer, static_cast<size_t>(n));
    while (!data.empty()) {
      const size_t newline = data.find('\n');
      if (newline == std::string_view::npos) {
        stream.partial.append(data);
        break;
      }
      if (stream.partial.empty()) {
        HandleLine(stream, data.substr(0, newline));
      } else {
        stream.partial.append(data.substr(0, newline));
        HandleLine(stream, stream.partial);
        stream.partial.clear();
        stream.partial_in_file = 0;
      }
      data.remove_prefix(newline + 1);
    }
    if (stream.partial.size() >= options_.max_line_bytes) {
      HandleLine(stream, stream.partial);
      stream.partial.clear();
      stream.partial_in_file = 0;
    } else if (!stream.partial.empty() && stream.partial[0] != kNameMarkerPrefix[0]) {
      // Bytes without a newline yet (a prompt, a progress bar) reach the file at once, so a
      // follower sees them; the stream gets the line once complete.
      WriteFile(stream, std::string_view(stream.partial).substr(stream.partial_in_file));
      stream.partial_in_file = stream.partial.size();
    }
  }
}

void LogAgent::HandleLine(Stream& stream, std::string_view line) {
  if (line.substr(0, kNameMarkerPrefix.size()) == kNameMarkerPrefix) {
    stream.worker->name = std::string(line.substr(kNameMarkerPrefix.size()));
    return;
  }
  std::string with_newline(line.substr(std::min(stream.partial_in_file, line.size())));
  with_newline.push_back('\n');
  if (stream.partial_in_file == 0 && stream.size > 0 &&
      stream.size + static_cast<int64_t>(with_newline.size()) > options_.rotation_bytes) {
    Rotate(stream);
  }
  WriteFile(stream, with_newline);
  AddToBatch(*stream.worker, stream.err, line);
}

void LogAgent::WriteFile(Stream& stream, std::string_view bytes) {
  if (stream.file_fd < 0 || bytes.empty()) return;
  WriteAll(stream.file_fd, bytes);
  stream.size += static_cast<int64_t>(bytes.size());
  WakeWaiters(stream.name);
}

void LogAgent::Rotate(Stream& stream) {
  close(stream.file_fd);
  // .out.N-1 -> .out.N, ..., .out -> .out.1; the oldest beyond backup_count goes.
  const int keep = options_.backup_count;
  unlink(absl::StrCat(stream.path, ".", std::max(keep, 1)).c_str());
  for (int i = keep - 1; i >= 1; --i) {
    rename(absl::StrCat(stream.path, ".", i).c_str(),
           absl::StrCat(stream.path, ".", i + 1).c_str());
  }
  if (keep > 0) {
    rename(stream.path.c_str(), absl::StrCat(stream.path, ".1").c_str());
  } else {
    unlink(stream.path.c_str());
  }
  stream.file_fd =
      open(stream.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  stream.size = 0;
}

void LogAgent::CloseStream(Stream& stream) {
  if (stream.pipe_fd >= 0) {
    loop_.Unwatch(stream.pipe_fd);
    close(stream.pipe_fd);
    stream.pipe_fd = -1;
  }
  if (stream.file_fd >= 0) {
    close(stream.file_fd);
    stream.file_fd = -1;
  }
  auto it = streams_by_file_.find(stream.name);
  if (it != streams_by_file_.end() && it->second == &stream) streams_by_file_.erase(it);
  WakeWaiters(stream.name);  // a follower learns the worker is gone
}

void LogAgent::AddToBatch(const Worker& worker, bool is_err, std::string_view line) {
  if (gcs_ip_.empty()) return;
  auto& slot = batches_[worker.job_id];
  if (!slot) {
    slot = std::make_unique<JobBatch>();
    slot->batch.set_job_id(worker.job_id.Binary());
    slot->batch.set_node_id(options_.node_id.Binary());
    slot->batch.set_node_ip(options_.node_ip);
  }
  JobBatch& job = *slot;
  proto::WorkerLogBatch& batch = job.batch;
  if (batch.entries_size() == 0 || batch.entries().rbegin()->pid() != worker.pid ||
      batch.entries().rbegin()->is_err() != is_err ||
      batch.entries().rbegin()->name() != worker.name) {
    proto::WorkerLogLines* entry = batch.add_entries();
    entry->set_pid(worker.pid);
    entry->set_worker_id(worker.id.Binary());
    entry->set_name(worker.name);
    entry->set_is_err(is_err);
    job.bytes += worker.name.size() + 32;
  }
  batch.mutable_entries()->rbegin()->add_lines(std::string(line));
  job.bytes += line.size() + 2;
  ++job.lines;
  if (job.bytes >= options_.batch_bytes) {
    FlushBatch(worker.job_id);
  } else if (job.timer == 0) {
    const JobId job_id = worker.job_id;
    job.timer = loop_.RunAfter(options_.batch_interval, [this, job_id] {
      auto it = batches_.find(job_id);
      if (it == batches_.end()) return;
      it->second->timer = 0;
      FlushBatch(job_id);
    });
  }
}

void LogAgent::FlushBatch(const JobId& job_id) {
  auto it = batches_.find(job_id);
  if (it == batches_.end()) return;
  std::unique_ptr<JobBatch> job = std::move(it->second);
  batches_.erase(it);
  if (job->timer != 0) loop_.CancelTimer(job->timer);
  if (job->lines == 0) return;
  auto gcs = Gcs();
  if (!gcs || gcs->queued_bytes() > options_.max_queued_bytes) {
    dropped_lines_ += job->lines;
    return;
  }
  job->batch.set_dropped_lines(dropped_lines_);
  gcs->Send(proto::PUBLISH_WORKER_LOGS, job->batch);
}

void LogAgent::FlushAll() {
  std::vector<JobId> jobs;
  for (const auto& [job_id, batch] : batches_) jobs.push_back(job_id);
  for (const JobId& job_id : jobs) FlushBatch(job_id);
}

std::shared_ptr<rpc::Connection> LogAgent::Gcs() {
  if (gcs_ && !gcs_->closed()) return gcs_;
  gcs_.reset();
  if (gcs_ip_.empty() || absl::Now() < gcs_retry_after_) return nullptr;
  auto conn = rpc::Connection::Connect(&loop_, gcs_ip_, gcs_port_, absl::Seconds(5));
  if (!conn.ok()) {
    gcs_retry_after_ = absl::Now() + absl::Seconds(1);
    return nullptr;
  }
  gcs_ = *conn;
  gcs_->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                    [this](const std::shared_ptr<rpc::Connection>& c) {
                      if (gcs_ == c) gcs_retry_after_ = absl::Now() + absl::Seconds(1);
                    });
  return gcs_;
}

void LogAgent::OnDirectoryEvents() {
  alignas(struct inotify_event) char buffer[16 << 10];
  std::vector<std::string> names;
  while (true) {
    const ssize_t n = read(inotify_fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + i);
      if (event->len > 0) names.emplace_back(event->name);
      i += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const std::string& name : names) WakeWaiters(name);
}

void LogAgent::WakeWaiters(const std::string& name) {
  auto [begin, end] = waiters_.equal_range(name);
  for (auto it = begin; it != end;) {
    if (TryAnswer(*it->second, /*force=*/false)) {
      if (it->second->timer != 0) loop_.CancelTimer(it->second->timer);
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

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
