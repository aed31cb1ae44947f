// EventLoop: one thread, one epoll set. Components post work to it instead of sharing locks.
//
//   EventLoop loop;
//   loop.StartThread("io");                  // or loop.Run() on the calling thread
//   loop.Post([] { ... });                   // from any thread; runs on the loop thread, in order
//   loop.RunAfter(absl::Milliseconds(5), f); // one-shot timer
//
// Thread model: Post, RunAfter, CancelTimer, Stop and InLoopThread are thread-safe; Watch,
// Modify and Unwatch must be called on the loop thread. Callbacks always run on the loop thread.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/time/time.h"

namespace moray::rpc {

class EventLoop {
 public:
  using FdCallback = std::function<void(uint32_t epoll_events)>;

  EventLoop();
  ~EventLoop();  // stops and joins the loop thread if StartThread started one
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs the loop on a new thread named `name`.
  void StartThread(const std::string& name);
  // Runs the loop on the calling thread until Stop().
  void Run();
  // Makes Run() return after the callback in progress; joins the thread from StartThread unless
  // called on the loop thread itself.
  void Stop();

  void Post(std::function<void()> fn);
  // Returns a timer id for CancelTimer.
  uint64_t RunAfter(absl::Duration delay, std::function<void()> fn);
  void CancelTimer(uint64_t timer_id);

  void Watch(int fd, uint32_t events, FdCallback callback);
  void Modify(int fd, uint32_t events);
  void Unwatch(int fd);

  bool InLoopThread() const;

 private:
  struct Timer {
    uint64_t id;
    std::function<void()> fn;
  };

  void Wake();
  void DrainPosted();
  void RunDueTimers();
  int NextTimeoutMs();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd
  std::atomic<bool> stopping_{false};
  std::atomic<bool> wake_pending_{false};
  std::thread thread_;
  std::atomic<std::thread::id> loop_thread_id_{};

  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;               // guarded by mutex_
  std::multimap<absl::Time, Timer> timers_;                 // guarded by mutex_
  std::unordered_map<uint64_t, absl::Time> timer_deadline_; // guarded by mutex_
  uint64_t next_timer_id_ = 1;                              // guarded by mutex_

  std::unordered_map<int, std::shared_ptr<FdCallback>> watches_;  // loop thread only
};

}  // namespace moray::rpc
