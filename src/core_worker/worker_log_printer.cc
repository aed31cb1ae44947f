#include "core_worker/worker_log_printer.h"

#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace moray::core {
namespace {

void WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

WorkerLogPrinter::WorkerLogPrinter(rpc::EventLoop* loop, NodeId own_node,
                                   WorkerLogPrinterOptions options)
    : loop_(loop), own_node_(own_node), options_(options), dedup_(options.window) {}

WorkerLogPrinter::~WorkerLogPrinter() {
  if (timer_ != 0) loop_->CancelTimer(timer_);
}

std::string WorkerLogPrinter::Prefix(const std::string& name, int pid, const std::string& ip) {
  std::string prefix = "(";
  if (!name.empty()) absl::StrAppend(&prefix, name, " ");
  absl::StrAppend(&prefix, "pid=", pid);
  if (!ip.empty()) absl::StrAppend(&prefix, ", ip=", ip);
  prefix.push_back(')');
  return prefix;
}

void WorkerLogPrinter::OnBatch(const proto::WorkerLogBatch& batch) {
  if (finished_) return;
  const bool remote = NodeId::FromBinary(batch.node_id()) != own_node_;
  const std::string ip = remote ? batch.node_ip() : "";
  int64_t& dropped = dropped_by_node_[batch.node_id()];
  if (batch.dropped_lines() > dropped) {
    Print({.prefix = "(moray)",
           .text = absl::StrCat(batch.dropped_lines() - dropped, " lines of worker output",
                                remote ? absl::StrCat(" on ", batch.node_ip()) : "",
                                " were not streamed here (the driver or the GCS fell behind); "
                                "`moray logs` shows them"),
           .is_err = true});
    dropped = batch.dropped_lines();
  }
  const absl::Time now = absl::Now();
  for (const proto::WorkerLogLines& entry : batch.entries()) {
    const std::string prefix = Prefix(entry.name(), entry.pid(), ip);
    const std::string source = absl::StrCat(batch.node_id(), ":", entry.pid());
    for (const std::string& text : entry.lines()) {
      LogOutput line{.prefix = prefix, .text = text, .is_err = entry.is_err()};
      if (!options_.dedup) {
        Print(line);
        continue;
      }
      for (const LogOutput& out : dedup_.Add(std::move(line), source, now)) Print(out);
    }
  }
  ArmTimer();
}

void WorkerLogPrinter::Finish() {
  if (finished_) return;
  finished_ = true;
  if (timer_ != 0) loop_->CancelTimer(timer_);
  timer_ = 0;
  for (const LogOutput& out : dedup_.Flush(absl::InfiniteFuture())) Print(out);
}

void WorkerLogPrinter::Print(const LogOutput& line) {
  WriteAll(line.is_err ? options_.err_fd : options_.out_fd,
           absl::StrCat(line.prefix, " ", line.text, "\n"));
}

void WorkerLogPrinter::ArmTimer() {
  const std::optional<absl::Time> next = dedup_.NextDeadline();
  if (!next) return;
  if (timer_ != 0 && timer_at_ <= *next) return;
  if (timer_ != 0) loop_->CancelTimer(timer_);
  timer_at_ = *next;
  timer_ = loop_->RunAfter(*next - absl::Now(), [this] {
    timer_ = 0;
    timer_at_ = absl::InfiniteFuture();
    for (const LogOutput& out : dedup_.Flush(absl::Now())) Print(out);
    ArmTimer();
  });
}

}  // namespace moray::core
