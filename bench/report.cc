#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace moray::bench {

namespace {
std::vector<Result> results;
bool child_mode = false;
}  // namespace

void SetChildMode() { child_mode = true; }

const std::vector<Result>& Results() { return results; }

void Report(Result r) {
  if (child_mode) {
    std::printf("R\t%s\t%.6f\t%s\t%s\n", r.name.c_str(), r.value, r.unit.c_str(), r.note.c_str());
    std::fflush(stdout);
    return;
  }
  char line[256];
  int digits = r.value < 10 ? 3 : 1;  // sub-millisecond latencies, GB/s
  if (r.std >= 0) {
    std::snprintf(line, sizeof(line), "%-44s %14.*f ± %-10.*f %s", r.name.c_str(), digits, r.value,
                  digits, r.std, r.unit.c_str());
  } else {
    std::snprintf(line, sizeof(line), "%-44s %14.*f   %-10s %s", r.name.c_str(), digits, r.value,
                  "", r.unit.c_str());
  }
  std::printf("%s%s%s\n", line, r.note.empty() ? "" : "   # ", r.note.c_str());
  std::fflush(stdout);
  results.push_back(std::move(r));
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / v.size();
}

double StdDev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = Mean(v), sq = 0;
  for (double x : v) sq += (x - m) * (x - m);
  return std::sqrt(sq / (v.size() - 1));
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Ray's timeit: `fn` does `multiplier` units of work per call.

std::vector<Result> ParseChildResults(const std::string& output) {
  std::vector<Result> parsed;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    std::string field;
    while (std::getline(fields, field, '\t')) f.push_back(field);
    if (f.size() >= 4 && f[0] == "R") {
      parsed.push_back({f[1], std::atof(f[2].c_str()), -1, f[3], f.size() > 4 ? f[4] : ""});
    }
  }
  return parsed;
}

void WriteJson(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return;
  }
  std::fprintf(f, "{\n");
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    std::fprintf(f, "  \"%s\": {\"value\": %.6f, \"unit\": \"%s\"", r.name.c_str(), r.value,
                 r.unit.c_str());
    if (r.std >= 0) std::fprintf(f, ", \"std\": %.3f", r.std);
    std::fprintf(f, "}%s\n", i + 1 < results.size() ? "," : "");
  }
  std::fprintf(f, "}\n");
  std::fclose(f);
}

}  // namespace moray::bench
