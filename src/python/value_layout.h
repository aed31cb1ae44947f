// The bytes of a Python value in the object store and in task messages (docs/python.md).
// msgpack — the C++ API's format — never begins a value with the byte 0xC1, so a value that does
// is Python's own; everything else is msgpack. A Python value is pickle protocol 5 with its
// out-of-band buffers beside the pickle, each where a reader can view it without a copy:
//
//   offset 0   u8   0xC1
//          1   u8   format (1: pickle 5)
//          2   6 bytes of zero
//          8   u64  length of the in-band pickle
//          16  u64  number of buffers N
//          24  N x {u64 offset, u64 length}      offsets from the value's first byte
//          then the in-band pickle, then each buffer at a 64-byte aligned offset
//
// Integers are little-endian (this machine's order; values never leave x86-64/arm64 here).
//
//   Pickle5Layout layout = LayOut(inband.size(), {buffer.size()});
//   WriteLayout(layout, out);   // then copy the pickle and the buffers to layout's offsets
//   absl::StatusOr<Pickle5Layout> read = ReadLayout(out, layout.total);
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace moray::python {

inline constexpr uint8_t kPythonValueMarker = 0xC1;
inline constexpr uint8_t kPickle5Format = 1;
inline constexpr size_t kBufferAlignment = 64;

struct Pickle5Layout {
  size_t inband_offset = 0;
  size_t inband_size = 0;
  std::vector<std::pair<size_t, size_t>> buffers;  // {offset, length}
  size_t total = 0;                                // the value's whole size
};

// Where each part of a value with these sizes goes.
Pickle5Layout LayOut(size_t inband_size, const std::vector<size_t>& buffer_sizes);

// Writes the header of `layout` at `out` (which holds layout.total bytes); zeroes the padding.
void WriteLayout(const Pickle5Layout& layout, char* out);

// Whether `data` is a Python value (starts with the marker).
bool IsPythonValue(const char* data, size_t size);

// The layout of the Python value `data`; InvalidArgument if it is not one or is malformed
// (every part must lie inside the value).
absl::StatusOr<Pickle5Layout> ReadLayout(const char* data, size_t size);

}  // namespace moray::python
