#include "api/task_pool.h"

#include <utility>

namespace moray::api {
namespace {
thread_local TaskPool* current_pool = nullptr;  // the pool the calling thread belongs to
}  // namespace

TaskPool::TaskPool(size_t num_threads) : num_threads_(num_threads == 0 ? 1 : num_threads) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < num_threads_; ++i) AddThreadLocked();
}

TaskPool::~TaskPool() { Stop(); }

void TaskPool::Post(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(work));
  }
  work_cv_.notify_one();
}

void TaskPool::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
    threads.swap(threads_);  // no thread is added once stopping_ is set
  }
  work_cv_.notify_all();
  for (std::thread& thread : threads) thread.join();
}

bool TaskPool::OnPoolThread() { return current_pool != nullptr; }

void TaskPool::BeginBlocking() {
  if (current_pool != this) return;
  std::lock_guard<std::mutex> lock(mu_);
  ++blocked_;
  if (threads_.size() - blocked_ < num_threads_) AddThreadLocked();
}

void TaskPool::EndBlocking() {
  if (current_pool != this) return;
  std::lock_guard<std::mutex> lock(mu_);
  --blocked_;
}

size_t TaskPool::NumThreads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_.size();
}

void TaskPool::AddThreadLocked() {
  if (stopping_) return;
  threads_.emplace_back([this] { Run(); });
}

void TaskPool::Run() {
  current_pool = this;
  while (true) {
    std::function<void()> work;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

}  // namespace moray::api
