#include "common/id.h"

#include <atomic>
#include <cstring>
#include <random>

namespace moray {
namespace {

std::mt19937_64& Generator() {
  thread_local std::mt19937_64 generator([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }());
  return generator;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendLittleEndian(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xf];
  }
  return out;
}

std::string FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return {};
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return {};
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string RandomBytes(size_t size) {
  std::string out(size, '\0');
  auto& gen = Generator();
  for (size_t i = 0; i < size; i += 8) {
    uint64_t word = gen();
    std::memcpy(out.data() + i, &word, std::min<size_t>(8, size - i));
  }
  return out;
}

std::string NewTaskId(std::string_view job_id) {
  // A random per-thread prefix and a counter: unique without a random draw per task.
  thread_local std::string prefix = RandomBytes(4);
  thread_local uint64_t counter = 0;
  std::string id(job_id.substr(0, kJobIdSize));
  id.resize(kJobIdSize, '\0');
  id += prefix;
  uint64_t n = ++counter;
  id.append(reinterpret_cast<const char*>(&n), sizeof(n));
  return id;
}

namespace {
// task id + little-endian index, in one allocation.
std::string ObjectIdOf(std::string_view task_id, uint32_t index) {
  std::string id;
  id.reserve(task_id.size() + sizeof(index));
  id.append(task_id);
  AppendLittleEndian(id, index);
  return id;
}
}  // namespace

std::string ObjectIdForReturn(std::string_view task_id, uint32_t index) {
  return ObjectIdOf(task_id, index);
}

std::string ObjectIdForPut(std::string_view task_id, uint32_t put_index) {
  return ObjectIdOf(task_id, kPutIndexBase + put_index);
}

std::string_view TaskIdOfObject(std::string_view object_id) {
  return object_id.substr(0, kUniqueIdSize);
}

std::string_view JobIdOfTask(std::string_view task_id) { return task_id.substr(0, kJobIdSize); }

std::string JobIdFromInt(uint32_t value) {
  std::string id;
  AppendLittleEndian(id, value);
  return id;
}

uint32_t JobIdToInt(std::string_view job_id) {
  uint32_t value = 0;
  for (size_t i = 0; i < job_id.size() && i < 4; ++i) {
    value |= static_cast<uint32_t>(static_cast<unsigned char>(job_id[i])) << (8 * i);
  }
  return value;
}

}  // namespace moray
