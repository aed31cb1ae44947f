// The msgpack header of a byte string (bin or str), written and read without msgpack-c, so large
// byte buffers can be put with one copy and read in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ray::internal {

// Byte containers whose msgpack form is a header followed by the raw bytes.
template <typename T>
struct IsByteContainer : std::false_type {};
template <>
struct IsByteContainer<std::vector<uint8_t>> : std::true_type {};
template <>
struct IsByteContainer<std::vector<char>> : std::true_type {};
template <>
struct IsByteContainer<std::string> : std::true_type {};

// msgpack-c packs std::string as str, byte vectors as bin.
template <typename T>
constexpr bool kPacksAsStr = std::is_same_v<T, std::string>;

inline size_t ByteHeaderSize(size_t n, bool str) {
  if (str && n < 32) return 1;
  if (n < 256) return 2;
  if (n < 65536) return 3;
  return 5;
}

// Writes the header for `n` bytes at `out` (ByteHeaderSize(n, str) bytes).
inline void WriteByteHeader(char* out, size_t n, bool str) {
  auto* p = reinterpret_cast<uint8_t*>(out);
  if (str && n < 32) {
    p[0] = static_cast<uint8_t>(0xa0 | n);
  } else if (n < 256) {
    p[0] = str ? 0xd9 : 0xc4;
    p[1] = static_cast<uint8_t>(n);
  } else if (n < 65536) {
    p[0] = str ? 0xda : 0xc5;
    p[1] = static_cast<uint8_t>(n >> 8);
    p[2] = static_cast<uint8_t>(n);
  } else {
    p[0] = str ? 0xdb : 0xc6;
    for (int i = 0; i < 4; ++i) p[1 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
  }
}

// Parses a bin/str header at `data`; false if the bytes are not a byte string.
inline bool ReadByteHeader(const char* data, size_t size, size_t* header, size_t* length) {
  if (size == 0) return false;
  auto* p = reinterpret_cast<const uint8_t*>(data);
  size_t h = 0, n = 0;
  if ((p[0] & 0xe0) == 0xa0) {
    h = 1;
    n = p[0] & 0x1f;
  } else if (p[0] == 0xc4 || p[0] == 0xd9) {
    h = 2;
    if (size < h) return false;
    n = p[1];
  } else if (p[0] == 0xc5 || p[0] == 0xda) {
    h = 3;
    if (size < h) return false;
    n = (size_t{p[1]} << 8) | p[2];
  } else if (p[0] == 0xc6 || p[0] == 0xdb) {
    h = 5;
    if (size < h) return false;
    n = (size_t{p[1]} << 24) | (size_t{p[2]} << 16) | (size_t{p[3]} << 8) | p[4];
  } else {
    return false;
  }
  if (h + n > size) return false;
  *header = h;
  *length = n;
  return true;
}

}  // namespace ray::internal
