// C++ functions and an actor in a shared library, for the cross-language tests: a Python job
// loads the library through its code_search_path (moray.cross_language.cpp_function("Plus"),
// cpp_actor_class("RAY_FUNC(Counter::FactoryCreate)", "Counter")); the C++ test links it too.
#pragma once

#include <string>
#include <vector>

namespace cross_language {

int Plus(int a, int b);
std::string Echo(std::string text);
int Sum(std::vector<int> values);
// Throws std::runtime_error("ThrowTask failed on purpose").
int ThrowTask();

class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  static Counter* FactoryCreate();
  static Counter* FactoryCreate(int start);
  int Plus(int n);
  int Get() const;

 private:
  int value_;
};

}  // namespace cross_language
