#include "python/value_layout.h"

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace moray::python {
namespace {

constexpr size_t kFixedHeader = 24;
constexpr size_t kPerBuffer = 16;

size_t AlignUp(size_t n) {
  return (n + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}

void PutU64(char* out, uint64_t value) { std::memcpy(out, &value, sizeof(value)); }

uint64_t GetU64(const char* in) {
  uint64_t value;
  std::memcpy(&value, in, sizeof(value));
  return value;
}

}  // namespace

Pickle5Layout LayOut(size_t inband_size, const std::vector<size_t>& buffer_sizes) {
  Pickle5Layout layout;
  layout.inband_offset = kFixedHeader + kPerBuffer * buffer_sizes.size();
  layout.inband_size = inband_size;
  size_t end = layout.inband_offset + inband_size;
  layout.buffers.reserve(buffer_sizes.size());
  for (size_t size : buffer_sizes) {
    const size_t offset = AlignUp(end);
    layout.buffers.emplace_back(offset, size);
    end = offset + size;
  }
  layout.total = end;
  return layout;
}

void WriteLayout(const Pickle5Layout& layout, char* out) {
  std::memset(out, 0, layout.inband_offset);
  out[0] = static_cast<char>(kPythonValueMarker);
  out[1] = static_cast<char>(kPickle5Format);
  PutU64(out + 8, layout.inband_size);
  PutU64(out + 16, layout.buffers.size());
  size_t end = layout.inband_offset + layout.inband_size;
  for (size_t i = 0; i < layout.buffers.size(); ++i) {
    const auto [offset, size] = layout.buffers[i];
    PutU64(out + kFixedHeader + kPerBuffer * i, offset);
    PutU64(out + kFixedHeader + kPerBuffer * i + 8, size);
    std::memset(out + end, 0, offset - end);  // alignment padding
    end = offset + size;
  }
}

bool IsPythonValue(const char* data, size_t size) {
  return size > 0 && static_cast<uint8_t>(data[0]) == kPythonValueMarker;
}

absl::StatusOr<Pickle5Layout> ReadLayout(const char* data, size_t size) {
  if (!IsPythonValue(data, size)) {
    return absl::InvalidArgumentError("not a Python value (no 0xC1 marker)");
  }
  if (size < kFixedHeader) {
    return absl::InvalidArgumentError(
        absl::StrCat("a Python value of ", size, " bytes is shorter than its header"));
  }
  if (static_cast<uint8_t>(data[1]) != kPickle5Format) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown Python value format ", static_cast<int>(data[1])));
  }
  Pickle5Layout layout;
  layout.total = size;
  layout.inband_size = GetU64(data + 8);
  const uint64_t count = GetU64(data + 16);
  if (count > (size - kFixedHeader) / kPerBuffer) {
    return absl::InvalidArgumentError(
        absl::StrCat("a Python value claims ", count, " buffers in ", size, " bytes"));
  }
  layout.inband_offset = kFixedHeader + kPerBuffer * count;
  if (layout.inband_size > size - layout.inband_offset) {
    return absl::InvalidArgumentError("a Python value's pickle runs past its end");
  }
  layout.buffers.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t offset = GetU64(data + kFixedHeader + kPerBuffer * i);
    const uint64_t length = GetU64(data + kFixedHeader + kPerBuffer * i + 8);
    if (offset > size || length > size - offset) {
      return absl::InvalidArgumentError(
          absl::StrCat("buffer ", i, " of a Python value lies outside its ", size, " bytes"));
    }
    layout.buffers.emplace_back(offset, length);
  }
  return layout;
}

}  // namespace moray::python
