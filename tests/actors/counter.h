// The actor classes the actor tests use, shared by actors_test and actor_driver (a second driver
// process): both register them under the same names, so either program's workers can host them.
#pragma once

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "ray/api.h"

class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  static Counter* FactoryCreate(int start) { return new Counter(start); }
  int Add(int x) {
    value_ += x;
    return value_;
  }
  int Get() { return value_; }
  int Pid() { return static_cast<int>(getpid()); }
  bool Restarted() { return ray::WasCurrentActorRestarted(); }
  // Appends to a sequence and returns its length: call order, as the actor saw it.
  int Append(int x) {
    if (x != next_expected_) out_of_order_ = true;
    next_expected_ = x + 1;
    return ++calls_;
  }
  bool InOrder() { return !out_of_order_; }
  int Exit() {
    ray::ExitActor();
    return 0;
  }

 private:
  int value_;
  int calls_ = 0;
  int next_expected_ = 0;
  bool out_of_order_ = false;
};

RAY_REMOTE(Counter::FactoryCreate, &Counter::Add, &Counter::Get, &Counter::Pid,
           &Counter::Restarted, &Counter::Append, &Counter::InOrder, &Counter::Exit);
