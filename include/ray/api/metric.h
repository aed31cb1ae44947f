// User metrics, as in Ray's C++ API: define a metric once (a name, a description, a unit, and
// the tag keys its values are split by), then record values with tags. The values reach the
// Prometheus endpoint of this process's node (GET /metrics on --metrics-export-port) within about
// a second, as moray_<name> (counters and sums: moray_<name>_total) with the tags as labels and a
// WorkerId label naming the process.
//
//   ray::Counter requests("requests", "Requests served.", "requests", {"route"});
//   requests.Inc(1, {{"route", "/"}});
//   ray::Histogram latency("latency_ms", "Request latency.", "ms", {1, 10, 100}, {"route"});
//   latency.Observe(3.5, {{"route", "/"}});
//   ray::Gauge queue("queue_length", "Requests waiting.", "requests");
//   queue.Set(4);
//
// A name must match [a-zA-Z_:][a-zA-Z0-9_:]* and tag keys [a-zA-Z_][a-zA-Z0-9_]*; a bad name, or
// the name of a metric already defined in the process with another kind, tag keys or boundaries,
// throws ray::internal::RayException. Defining the same metric again shares its values. Tags not
// among the tag keys are ignored. Thread-safe. Works in local mode too (the values stay in the
// process: there is no node to export them).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace ray {

class Metric {
 public:
  virtual ~Metric() = default;
  std::string GetName() const { return name_; }
  // Records `value` as the metric's kind does: Gauge sets, Counter and Sum add, Histogram
  // observes.
  void Record(double value, const std::unordered_map<std::string, std::string>& tags = {});

 protected:
  Metric(const std::string& name, const std::string& description, const std::string& unit, int kind,
         const std::vector<double>& boundaries, const std::vector<std::string>& tag_keys);

 private:
  std::string name_;
  void* metric_ = nullptr;  // the process's record of the metric (lives as long as the process)
};

// The last value set.
class Gauge : public Metric {
 public:
  Gauge(const std::string& name, const std::string& description, const std::string& unit,
        const std::vector<std::string>& tag_keys = {});
  void Set(double value, const std::unordered_map<std::string, std::string>& tags = {});
};

// Observations counted in buckets with the given upper boundaries (strictly ascending).
class Histogram : public Metric {
 public:
  Histogram(const std::string& name, const std::string& description, const std::string& unit,
            const std::vector<double> boundaries, const std::vector<std::string>& tag_keys = {});
  void Observe(double value, const std::unordered_map<std::string, std::string>& tags = {});
};

// A count that only goes up (a negative increment is ignored).
class Counter : public Metric {
 public:
  Counter(const std::string& name, const std::string& description, const std::string& unit,
          const std::vector<std::string>& tag_keys = {});
  void Inc(double value = 1.0, const std::unordered_map<std::string, std::string>& tags = {});
};

// A running sum of the values recorded (which may be negative).
class Sum : public Metric {
 public:
  Sum(const std::string& name, const std::string& description, const std::string& unit,
      const std::vector<std::string>& tag_keys = {});
};

}  // namespace ray
