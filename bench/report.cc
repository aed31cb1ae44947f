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
FILE* json_lines = nullptr;

// A child's R line is tab-separated, one line per result.
std::string OneField(std::string text) {
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\t' || c == '\n'; }, ' ');
  return text;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The fields of one result's JSON object, without the braces.
std::string JsonFields(const Result& r) {
  if (!r.failed.empty()) return "\"failed\": " + JsonString(r.failed);
  char value[64];
  std::snprintf(value, sizeof(value), "%.6f", r.value);
  std::string out = std::string("\"value\": ") + value + ", \"unit\": " + JsonString(r.unit);
  if (r.std >= 0) {
    std::snprintf(value, sizeof(value), "%.3f", r.std);
    out += std::string(", \"std\": ") + value;
  }
  return out;
}
}  // namespace

void SetChildMode() { child_mode = true; }

bool SetJsonLines(const std::string& path) {
  json_lines = std::fopen(path.c_str(), "a");
  return json_lines != nullptr;
}

const std::vector<Result>& Results() { return results; }

const Result* FindResult(const std::string& name) {
  for (const Result& r : results) {
    if (r.name == name && r.failed.empty()) return &r;
  }
  return nullptr;
}

bool AnyFailed() {
  return std::any_of(results.begin(), results.end(),
                     [](const Result& r) { return !r.failed.empty(); });
}

void Report(Result r) {
  if (child_mode) {
    std::printf("R\t%s\t%.6f\t%.6f\t%s\t%s\t%s\n", r.name.c_str(), r.value, r.std,
                OneField(r.unit).c_str(), OneField(r.note).c_str(), OneField(r.failed).c_str());
    std::fflush(stdout);
    return;
  }
  char line[256];
  int digits = r.value < 10 ? 3 : 1;  // sub-millisecond latencies, GB/s
  if (!r.failed.empty()) {
    std::snprintf(line, sizeof(line), "%-44s %14s", r.name.c_str(), "FAILED");
    std::printf("%s   %s\n", line, r.failed.c_str());
  } else {
    if (r.std >= 0) {
      std::snprintf(line, sizeof(line), "%-44s %14.*f ± %-10.*f %s", r.name.c_str(), digits,
                    r.value, digits, r.std, r.unit.c_str());
    } else {
      std::snprintf(line, sizeof(line), "%-44s %14.*f   %-10s %s", r.name.c_str(), digits, r.value,
                    "", r.unit.c_str());
    }
    std::printf("%s%s%s\n", line, r.note.empty() ? "" : "   # ", r.note.c_str());
  }
  std::fflush(stdout);
  if (json_lines) {
    std::fprintf(json_lines, "{\"metric\": %s, %s}\n", JsonString(r.name).c_str(),
                 JsonFields(r).c_str());
    std::fflush(json_lines);
  }
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

std::vector<Result> ParseChildResults(const std::string& output) {
  std::vector<Result> parsed;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    std::string field;
    while (std::getline(fields, field, '\t')) f.push_back(field);
    if (f.size() >= 5 && f[0] == "R") {
      Result r{f[1], std::atof(f[2].c_str()), std::atof(f[3].c_str()), f[4],
               f.size() > 5 ? f[5] : "", f.size() > 6 ? f[6] : ""};
      parsed.push_back(std::move(r));
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
    std::fprintf(f, "  %s: {%s}%s\n", JsonString(results[i].name).c_str(),
                 JsonFields(results[i]).c_str(), i + 1 < results.size() ? "," : "");
  }
  std::fprintf(f, "}\n");
  std::fclose(f);
}

}  // namespace moray::bench
