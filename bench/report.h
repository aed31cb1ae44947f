// Results of the benchmarks: each is printed as one table line when reported and kept for the
// JSON file; with SetJsonLines(path) each is also appended to `path` as one JSON line the moment
// it is reported, so what a run measured survives the run crashing later. In a child driver
// (SetChildMode) results go to stdout as tab-separated "R" lines that the parent reads back
// (ParseChildResults) and reports as its own.
//
//   Report({"single_client_tasks_sync", mean, std, "tasks/s", ""});
//   Report(Failed("n_n_actor_calls_async", "RayWorkerException: ..."));
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
  std::string failed;  // non-empty: the metric was not measured, and why
};

inline Result Failed(std::string name, std::string reason) {
  Result r;
  r.name = std::move(name);
  r.failed = reason.empty() ? "failed" : std::move(reason);
  return r;
}

void Report(Result r);
void SetChildMode();
// Appends every result reported from now on to `path` as one JSON object per line; false if the
// file cannot be opened.
bool SetJsonLines(const std::string& path);
const std::vector<Result>& Results();
const Result* FindResult(const std::string& name);  // the measured (not failed) result, or null
bool AnyFailed();
// The results a child printed in child mode.
std::vector<Result> ParseChildResults(const std::string& output);
void WriteJson(const std::string& path);

double Mean(const std::vector<double>& v);
double StdDev(const std::vector<double>& v);  // sample standard deviation
double Median(std::vector<double> v);

}  // namespace moray::bench
