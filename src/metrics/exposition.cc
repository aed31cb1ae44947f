#include "metrics/exposition.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace moray::metrics {
namespace {

bool NameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9'); }

void AppendEscaped(std::string_view text, bool escape_quote, std::string* out) {
  for (char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && escape_quote) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// `{a="x",b="y"}` (with an extra le="..." last when `le` is set); nothing when there is no label.
void AppendLabels(const MetricInfo& info, const Sample& sample, const std::string* le,
                  std::string* out) {
  const size_t n = std::min(info.label_names.size(), sample.label_values.size());
  if (n == 0 && le == nullptr) return;
  out->push_back('{');
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out->push_back(',');
    absl::StrAppend(out, info.label_names[i], "=\"");
    AppendEscaped(sample.label_values[i], true, out);
    out->push_back('"');
  }
  if (le != nullptr) absl::StrAppend(out, n > 0 ? "," : "", "le=\"", *le, "\"");
  out->push_back('}');
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

absl::Status ValidateMetricName(std::string_view name) {
  bool ok = !name.empty() && (NameStart(name[0]) || name[0] == ':');
  for (char c : name) ok = ok && (NameChar(c) || c == ':');
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid metric name \"", std::string(name),
                   "\": use letters, digits, '_' and ':', not starting with a "
                   "digit"));
}

absl::Status ValidateLabelName(std::string_view name) {
  bool ok = !name.empty() && NameStart(name[0]) && !name.starts_with("__") && name != "le";
  for (char c : name) ok = ok && NameChar(c);
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid metric label name \"", std::string(name),
                   "\": use letters, digits and '_', not starting with a "
                   "digit or \"__\", and not \"le\""));
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  // Shortest text that reads back the same value.
  for (int precision = 1; precision < 17; ++precision) {
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", precision, value);
    if (std::strtod(shorter, nullptr) == value) return shorter;
  }
  return buffer;
}

void WriteFamily(const MetricFamilyData& family, std::string* out) {
  const MetricInfo& info = family.info;
  absl::StrAppend(out, "# HELP ", info.name, " ");
  AppendEscaped(info.help, false, out);
  absl::StrAppend(out, "\n# TYPE ", info.name, " ", std::string(TypeName(info.type)), "\n");
  for (const Sample& sample : family.samples) {
    if (info.type != MetricType::kHistogram) {
      out->append(info.name);
      AppendLabels(info, sample, nullptr, out);
      absl::StrAppend(out, " ", FormatValue(sample.value), "\n");
      continue;
    }
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= sample.bounds.size(); ++i) {
      if (i < sample.buckets.size()) cumulative += sample.buckets[i];
      const std::string le =
          i < sample.bounds.size() ? FormatValue(sample.bounds[i]) : std::string("+Inf");
      absl::StrAppend(out, info.name, "_bucket");
      AppendLabels(info, sample, &le, out);
      absl::StrAppend(out, " ", cumulative, "\n");
    }
    absl::StrAppend(out, info.name, "_sum");
    AppendLabels(info, sample, nullptr, out);
    absl::StrAppend(out, " ", FormatValue(sample.sum), "\n", info.name, "_count");
    AppendLabels(info, sample, nullptr, out);
    absl::StrAppend(out, " ", sample.count, "\n");
  }
}

}  // namespace moray::metrics
