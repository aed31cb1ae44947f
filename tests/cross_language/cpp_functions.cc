#include "tests/cross_language/cpp_functions.h"

#include <numeric>
#include <stdexcept>

#include "ray/api.h"

namespace cross_language {

int Plus(int a, int b) { return a + b; }
std::string Echo(std::string text) { return text; }
int Sum(std::vector<int> values) { return std::accumulate(values.begin(), values.end(), 0); }
int ThrowTask() { throw std::runtime_error("ThrowTask failed on purpose"); }

Counter* Counter::FactoryCreate() { return new Counter(0); }
Counter* Counter::FactoryCreate(int start) { return new Counter(start); }
int Counter::Plus(int n) { return value_ += n; }
int Counter::Get() const { return value_; }

// Registered as "Plus", ..., "RAY_FUNC(Counter::FactoryCreate)", "&Counter::Plus": the names
// Python calls them by. RAY_REMOTE runs inside the namespace, so the names carry no prefix.
RAY_REMOTE(Plus, Echo, Sum, ThrowTask, RAY_FUNC(Counter::FactoryCreate),
           RAY_FUNC(Counter::FactoryCreate, int), &Counter::Plus, &Counter::Get);

}  // namespace cross_language
