#include "cli/format_yaml.h"

#include <cctype>
#include <cstring>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace moray::cli {
namespace {

constexpr int kIndent = 4;

bool LooksLikeNumber(const std::string& s) {
  // What a YAML 1.1 or 1.2 reader resolves to a number: an id like 01000000 must stay a string
  // for whoever parses the output. Hex ids with letters (16310a0f...) stay plain.
  static const std::regex kNumber(
      "[-+]?(0x[0-9a-fA-F_]+|0o[0-7]+|0b[01_]+|[0-9][0-9_]*|[0-9][0-9_]*[eE][-+]?[0-9]+|"
      "([0-9][0-9_]*)?\\.[0-9_]*([eE][-+]?[0-9]+)?|\\.(inf|Inf|INF|nan|NaN|NAN))");
  return std::regex_match(s, kNumber);
}

bool IsReservedWord(const std::string& s) {
  static const char* kWords[] = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"};
  std::string lower = absl::AsciiStrToLower(s);
  for (const char* w : kWords) {
    if (lower == w) return true;
  }
  return false;
}

bool NeedsDoubleQuotes(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool NeedsSingleQuotes(const std::string& s) {
  if (s.empty() || IsReservedWord(s) || LooksLikeNumber(s)) return true;
  // "-", "?" and ":" start an indicator only when a space (or nothing) follows: "--x" is plain.
  if (std::strchr("-?:", s.front())) {
    if (s.size() == 1 || s[1] == ' ') return true;
  } else if (std::strchr(",[]{}#&*!|>'\"%@` ", s.front())) {
    return true;
  }
  if (s.back() == ' ' || s.back() == ':') return true;
  return s.find(": ") != std::string::npos || s.find(" #") != std::string::npos;
}

std::string DoubleQuoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += absl::StrFormat("\\x%02x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string QuoteString(const std::string& s) {
  if (NeedsDoubleQuotes(s)) return DoubleQuoted(s);
  if (!NeedsSingleQuotes(s)) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool IsEmptyCollection(const Row& v) { return (v.is_object() || v.is_array()) && v.empty(); }
bool IsBlock(const Row& v) { return (v.is_object() || v.is_array()) && !v.empty(); }

void Emit(const Row& value, int indent, std::string* out);

// A mapping whose first line continues the current line (after "- " padding) and whose other
// lines start at `indent`.
void EmitMapping(const Row& map, int indent, std::string* out) {
  bool first = true;
  for (const auto& [key, item] : map.items()) {
    if (!first) out->append(indent, ' ');
    first = false;
    absl::StrAppend(out, QuoteString(key), ":");
    if (item.is_object() && !item.empty()) {
      out->push_back('\n');
      out->append(indent + kIndent, ' ');
      EmitMapping(item, indent + kIndent, out);
    } else if (item.is_array() && !item.empty()) {
      out->push_back('\n');
      // PyYAML writes a sequence inside a mapping without extra indentation.
      out->append(indent, ' ');
      Emit(item, indent, out);
    } else {
      absl::StrAppend(out, " ", YamlScalar(item), "\n");
    }
  }
}

void EmitSequence(const Row& seq, int indent, std::string* out) {
  bool first = true;
  for (const auto& item : seq) {
    if (!first) out->append(indent, ' ');
    first = false;
    if (IsBlock(item)) {
      out->append("-");
      out->append(kIndent - 1, ' ');
      Emit(item, indent + kIndent, out);
    } else {
      absl::StrAppend(out, "- ", YamlScalar(item), "\n");
    }
  }
}

void Emit(const Row& value, int indent, std::string* out) {
  if (value.is_object() && !value.empty()) {
    EmitMapping(value, indent, out);
  } else if (value.is_array() && !value.empty()) {
    EmitSequence(value, indent, out);
  } else {
    absl::StrAppend(out, YamlScalar(value), "\n");
  }
}

}  // namespace

std::string YamlScalar(const Row& value) {
  switch (value.type()) {
    case Row::value_t::null:
      return "null";
    case Row::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case Row::value_t::number_float:
      return FormatPyFloat(value.get<double>());
    case Row::value_t::number_integer:
    case Row::value_t::number_unsigned:
      return value.dump();
    case Row::value_t::string:
      return QuoteString(value.get<std::string>());
    default:
      if (IsEmptyCollection(value)) return value.is_object() ? "{}" : "[]";
      return value.dump();
  }
}

std::string ToYaml(const Row& value, bool explicit_start) {
  std::string out = explicit_start ? "---\n" : "";
  Emit(value, 0, &out);
  return out;
}

}  // namespace moray::cli
