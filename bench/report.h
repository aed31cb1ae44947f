// Results of the microbenchmark: each is printed as one table line when reported and kept for the
// JSON file. In a child driver (SetChildMode) results go to stdout as tab-separated "R" lines that
// the parent reads back (ReadChildResults) and reports as its own.
//
//   Report({"single_client_tasks_sync", mean, std, "tasks/s", ""});
//   WriteJson("latest.json");  // {"<name>": {"value": v, "unit": "u", "std": s}, ...}
//
// Thread model: the driver's main thread only.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace moray::bench {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Result {
  std::string name;
  double value = 0;
  double std = 0;  // < 0: not applicable (a single figure, e.g. a median)
  std::string unit;
  std::string note;
};

void Report(Result r);
void SetChildMode();
const std::vector<Result>& Results();
// The results a child printed in child mode.
std::vector<Result> ParseChildResults(const std::string& output);
void WriteJson(const std::string& path);

double Mean(const std::vector<double>& v);
double StdDev(const std::vector<double>& v);  // sample standard deviation
double Median(std::vector<double> v);

}  // namespace moray::bench
