// TaskPool: the threads that run local-mode tasks. It keeps `num_threads` threads able to run:
// when a pool thread is about to block (a task waiting in Get for another task), BeginBlocking adds
// a thread if fewer than `num_threads` would be left unblocked, so nested tasks cannot deadlock the
// pool. Added threads stay (idle) until Stop.
//
//   TaskPool pool(4);
//   pool.Post([] { ... });
//   pool.Stop();  // drops work not yet started, waits for running work
//
// Thread-safe. Lock order: callers may hold their own locks when calling BeginBlocking/EndBlocking;
// the pool never calls out while holding its lock.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace moray::api {

class TaskPool {
 public:
  explicit TaskPool(size_t num_threads);
  ~TaskPool();  // Stop()

  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Runs `work` on a pool thread. After Stop, `work` is dropped.
  void Post(std::function<void()> work);

  // Drops queued work and joins every thread (running work finishes first). Idempotent. Must not
  // be called from a pool thread.
  void Stop();

  // Whether the calling thread belongs to any TaskPool.
  static bool OnPoolThread();

  // Bracket a wait on the calling thread; no-ops on threads that are not this pool's.
  void BeginBlocking();
  void EndBlocking();

  // Threads started so far.
  size_t NumThreads() const;

 private:
  void Run();
  void AddThreadLocked();  // requires mu_

  const size_t num_threads_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  std::vector<std::thread> threads_;         // guarded by mu_
  size_t blocked_ = 0;                       // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
};

// Calls BeginBlocking on construction and EndBlocking on destruction.
class BlockingScope {
 public:
  explicit BlockingScope(TaskPool& pool) : pool_(pool) { pool_.BeginBlocking(); }
  ~BlockingScope() { pool_.EndBlocking(); }
  BlockingScope(const BlockingScope&) = delete;
  BlockingScope& operator=(const BlockingScope&) = delete;

 private:
  TaskPool& pool_;
};

}  // namespace moray::api
