#include "python/value_layout.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace moray::python {
namespace {

std::string Write(const std::string& inband, const std::vector<std::string>& buffers) {
  std::vector<size_t> sizes;
  for (const auto& b : buffers) sizes.push_back(b.size());
  Pickle5Layout layout = LayOut(inband.size(), sizes);
  std::string out(layout.total, 'x');
  WriteLayout(layout, out.data());
  std::memcpy(out.data() + layout.inband_offset, inband.data(), inband.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    std::memcpy(out.data() + layout.buffers[i].first, buffers[i].data(), buffers[i].size());
  }
  return out;
}

TEST(ValueLayout, RoundTripsThePickleAndAlignedBuffers) {
  const std::string value = Write("pickle!", {"abc", std::string(1000, 'z'), ""});
  ASSERT_TRUE(IsPythonValue(value.data(), value.size()));
  absl::StatusOr<Pickle5Layout> layout = ReadLayout(value.data(), value.size());
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(value.substr(layout->inband_offset, layout->inband_size), "pickle!");
  ASSERT_EQ(layout->buffers.size(), 3u);
  EXPECT_EQ(value.substr(layout->buffers[0].first, layout->buffers[0].second), "abc");
  EXPECT_EQ(value.substr(layout->buffers[1].first, layout->buffers[1].second),
            std::string(1000, 'z'));
  EXPECT_EQ(layout->buffers[2].second, 0u);
  for (const auto& [offset, length] : layout->buffers) EXPECT_EQ(offset % kBufferAlignment, 0u);
}

TEST(ValueLayout, MsgpackIsNotAPythonValue) {
  const char msgpack_int[] = {0x05};
  EXPECT_FALSE(IsPythonValue(msgpack_int, 1));
  EXPECT_FALSE(IsPythonValue("", 0));
  EXPECT_FALSE(ReadLayout(msgpack_int, 1).ok());
}

TEST(ValueLayout, RefusesHeadersThatPointOutside) {
  std::string value = Write("p", {"buffer"});
  // Truncated: the buffer now lies past the end.
  EXPECT_FALSE(ReadLayout(value.data(), value.size() - 1).ok());
  // A buffer count that cannot fit.
  std::string huge = value;
  const uint64_t count = 1ull << 60;
  std::memcpy(huge.data() + 16, &count, sizeof(count));
  EXPECT_FALSE(ReadLayout(huge.data(), huge.size()).ok());
  // A pickle length past the end.
  std::string long_pickle = value;
  const uint64_t length = value.size();
  std::memcpy(long_pickle.data() + 8, &length, sizeof(length));
  EXPECT_FALSE(ReadLayout(long_pickle.data(), long_pickle.size()).ok());
  // Shorter than the fixed header, and an unknown format.
  EXPECT_FALSE(ReadLayout(value.data(), 10).ok());
  std::string other = value;
  other[1] = 7;
  EXPECT_FALSE(ReadLayout(other.data(), other.size()).ok());
}

}  // namespace
}  // namespace moray::python
