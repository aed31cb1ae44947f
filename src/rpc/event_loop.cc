#include "rpc/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace moray::rpc {

EventLoop::EventLoop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    spdlog::critical("event loop: cannot create epoll/eventfd: {}", std::strerror(errno));
    std::abort();  // no loop, no process: a broken invariant of the host, not user input
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

EventLoop::~EventLoop() {
  Stop();
  // Closures still queued may own resources (connections); destroy them here, off any lock.
  std::vector<std::function<void()>> posted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    posted.swap(posted_);
    timers_.clear();
  }
  posted.clear();
  watches_.clear();
  close(wake_fd_);
  close(epoll_fd_);
}

void EventLoop::StartThread(const std::string& name) {
  thread_ = std::thread([this, name] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    Run();
  });
}

void EventLoop::Run() {
  loop_thread_id_ = std::this_thread::get_id();
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  while (!stopping_.load(std::memory_order_acquire)) {
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, NextTimeoutMs());
    if (n < 0 && errno != EINTR) {
      spdlog::error("event loop: epoll_wait failed: {}", std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t value;
        while (read(wake_fd_, &value, sizeof(value)) > 0) {
        }
        continue;
      }
      auto it = watches_.find(fd);
      if (it == watches_.end()) continue;
      auto callback = it->second;  // keep alive even if the callback unwatches itself
      (*callback)(events[i].events);
    }
    RunDueTimers();
    DrainPosted();
  }
}

void EventLoop::Stop() {
  stopping_.store(true, std::memory_order_release);
  Wake();
  if (!thread_.joinable()) return;
  if (std::this_thread::get_id() != thread_.get_id()) {
    thread_.join();
  } else {
    thread_.detach();  // stopping from a callback: the loop returns after it
  }
}

void EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    posted_.push_back(std::move(fn));
  }
  Wake();
}

uint64_t EventLoop::RunAfter(absl::Duration delay, std::function<void()> fn) {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    id = next_timer_id_++;
    absl::Time deadline = absl::Now() + delay;
    timers_.emplace(deadline, Timer{id, std::move(fn)});
    timer_deadline_[id] = deadline;
  }
  Wake();  // the loop may be sleeping past the new deadline
  return id;
}

void EventLoop::CancelTimer(uint64_t timer_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = timer_deadline_.find(timer_id);
  if (it == timer_deadline_.end()) return;
  auto range = timers_.equal_range(it->second);
  for (auto t = range.first; t != range.second; ++t) {
    if (t->second.id == timer_id) {
      timers_.erase(t);
      break;
    }
  }
  timer_deadline_.erase(it);
}

void EventLoop::Watch(int fd, uint32_t events, FdCallback callback) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  watches_[fd] = std::make_shared<FdCallback>(std::move(callback));
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    spdlog::error("event loop: cannot watch fd {}: {}", fd, std::strerror(errno));
  }
}

void EventLoop::Modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::Unwatch(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  watches_.erase(fd);
}

bool EventLoop::InLoopThread() const {
  return loop_thread_id_.load() == std::this_thread::get_id();
}

void EventLoop::Wake() {
  // One eventfd write per batch of posts: later posters see wake_pending_ and skip the syscall.
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof(one));
  (void)ignored;
}

void EventLoop::DrainPosted() {
  // Clear the flag before swapping, so a post racing with the swap wakes the next round.
  wake_pending_.store(false, std::memory_order_release);
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void EventLoop::RunDueTimers() {
  std::vector<std::function<void()>> due;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    absl::Time now = absl::Now();
    while (!timers_.empty() && timers_.begin()->first <= now) {
      due.push_back(std::move(timers_.begin()->second.fn));
      timer_deadline_.erase(timers_.begin()->second.id);
      timers_.erase(timers_.begin());
    }
  }
  for (auto& fn : due) fn();
}

int EventLoop::NextTimeoutMs() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!posted_.empty()) return 0;
  if (timers_.empty()) return -1;
  absl::Duration wait = timers_.begin()->first - absl::Now();
  if (wait <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))));
}

}  // namespace moray::rpc
