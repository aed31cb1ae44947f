#include "cli/format_table.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/format_yaml.h"
#include "common/option_values.h"

namespace moray::cli {
namespace {

constexpr size_t kMinPadding = 2;  // tabulate pads every header by two
constexpr std::string_view kSeparator = "  ";

struct Column {
  std::string header;
  std::vector<std::vector<std::string>> cells;  // per row, its lines
  size_t width = 0;
};

std::string Pad(const std::string& text, size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

void RightTrim(std::string* line) {
  while (!line->empty() && line->back() == ' ') line->pop_back();
}

Column MakeColumn(std::string header, std::vector<std::string> texts) {
  Column column{std::move(header), {}, 0};
  column.width = column.header.size() + kMinPadding;
  for (auto& text : texts) {
    std::vector<std::string> lines = absl::StrSplit(text, '\n');
    for (const auto& line : lines) column.width = std::max(column.width, line.size());
    column.cells.push_back(std::move(lines));
  }
  return column;
}

std::string Render(const std::vector<Column>& columns, size_t num_rows) {
  std::string out;
  std::string line;
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c > 0) line += kSeparator;
    line += Pad(columns[c].header, columns[c].width);
  }
  RightTrim(&line);
  absl::StrAppend(&out, line, "\n");
  for (size_t r = 0; r < num_rows; ++r) {
    size_t height = 1;
    for (const auto& column : columns) height = std::max(height, column.cells[r].size());
    for (size_t l = 0; l < height; ++l) {
      line.clear();
      for (size_t c = 0; c < columns.size(); ++c) {
        if (c > 0) line += kSeparator;
        const auto& cell = columns[c].cells[r];
        line += Pad(l < cell.size() ? cell[l] : "", columns[c].width);
      }
      RightTrim(&line);
      absl::StrAppend(&out, line, "\n");
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view text) {
  auto format = ParseChoice("--format", text, {"default", "table", "json", "yaml"});
  if (!format.ok()) return format.status();
  if (*format == "table") return OutputFormat::kTable;
  if (*format == "json") return OutputFormat::kJson;
  if (*format == "yaml") return OutputFormat::kYaml;
  return OutputFormat::kDefault;
}

std::string FormatIndexedTable(const std::vector<std::string>& columns,
                               const std::vector<Row>& rows) {
  std::vector<Column> table;
  std::vector<std::string> index;
  for (size_t i = 0; i < rows.size(); ++i) index.push_back(absl::StrCat(i));
  // Ray calls tabulate with number parsing off, so every column, numbers and the index
  // included, is left-aligned.
  table.push_back(MakeColumn("", std::move(index)));
  for (const auto& key : columns) {
    std::vector<std::string> texts;
    for (const auto& row : rows) texts.push_back(CellText(row.contains(key) ? row.at(key) : Row()));
    table.push_back(MakeColumn(absl::AsciiStrToUpper(key), std::move(texts)));
  }
  return Render(table, rows.size());
}

Row Project(const Row& row, const std::vector<std::string>& columns) {
  Row out = Row::object();
  for (const auto& key : columns) out[key] = row.contains(key) ? row.at(key) : Row();
  return out;
}

std::string BannerLine(std::string_view title, absl::Time now) {
  return absl::StrCat("======== ", std::string(title), ": ", FormatDateTime(now), " ========");
}

std::string FormatList(const ListResult& result, const std::vector<std::string>& columns,
                       OutputFormat format, absl::Time now) {
  if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
    Row array = Row::array();
    for (const auto& row : result.rows) array.push_back(Project(row, columns));
    return format == OutputFormat::kJson ? array.dump(4) + "\n" : ToYaml(array);
  }
  if (result.rows.empty()) return "No resource in the cluster\n";
  std::string table = FormatIndexedTable(columns, result.rows);
  if (format == OutputFormat::kTable) return table;
  return absl::StrCat(BannerLine("List", now), "\n", "Stats:\n", kDashes, "\n", "Total: ",
                      result.rows.size(), "\n\n", "Table:\n", kDashes, "\n", table);
}

std::string ListWarnings(const ListResult& result) {
  std::string out;
  if (result.num_truncated > 0) {
    absl::StrAppend(&out, "Warning: ", result.rows.size(), " (out of ", result.total, ") ",
                    result.resource, " were shown. Use --limit to see more.\n");
  }
  if (result.num_evicted > 0) {
    absl::StrAppend(&out, "Warning: the GCS dropped ", result.num_evicted,
                    " task records (the oldest finished first) to stay within its limit "
                    "(--task-events-max-num-task-in-gcs); those tasks are missing.\n");
  }
  if (result.num_events_dropped > 0) {
    absl::StrAppend(&out, "Warning: ", result.num_events_dropped, " ", result.resource,
                    " events were dropped before reaching the GCS (reporters' buffers full); "
                    "some entries may be missing or incomplete.\n");
  }
  if (result.num_dropped > 0 && result.num_evicted == 0 && result.num_events_dropped == 0) {
    absl::StrAppend(&out, "Warning: the cluster dropped ", result.num_dropped, " ",
                    result.resource,
                    " records or events (buffers full); some entries may be missing or "
                    "incomplete.\n");
  }
  return out;
}

}  // namespace moray::cli
