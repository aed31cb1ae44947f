// Serializer: values <-> msgpack bytes, one buffer per task argument, return value or Put object.
//
//   std::string bytes = ray::internal::Serializer::Serialize(std::vector<int>{1, 2, 3});
//   auto back = ray::internal::Serializer::Deserialize<std::vector<int>>(bytes.data(), bytes.size());
//
// Supported: arithmetic types, bool, std::string, standard containers, pairs and tuples, byte
// vectors (msgpack bin), std::optional, std::any of simple values (msgpack_any.h), ObjectRef<T>
// (object_ref.h: its id and owner address) and structs with MSGPACK_DEFINE(field, ...).
// Deserialize throws msgpack::type_error (a std::bad_cast) when the bytes hold a value of another
// type and msgpack::unpack_error (a std::runtime_error) for malformed bytes; callers turn these into
// RayException / std::invalid_argument with context.
#pragma once

#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>

#include "msgpack.hpp"
#include "ray/api/msgpack_any.h"

namespace ray::internal {

class Serializer {
 public:
  template <typename T>
  static std::string Serialize(const T& value) {
    std::string out;
    StringWriter writer{&out};
    msgpack::pack(writer, value);
    return out;
  }

  // msgpack nil: the result of a void function.
  static std::string SerializeNil() {
    std::string out;
    StringWriter writer{&out};
    msgpack::packer<StringWriter>(writer).pack_nil();
    return out;
  }

  // Unpacks exactly one value filling all of [data, data+size).
  template <typename T>
  static T Deserialize(const char* data, size_t size) {
    T value{};
    DeserializeInto(data, size, value);
    return value;
  }

  template <typename T>
  static std::shared_ptr<T> DeserializeShared(const char* data, size_t size) {
    auto value = std::make_shared<T>();
    DeserializeInto(data, size, *value);
    return value;
  }

  template <typename T>
  static void DeserializeInto(const char* data, size_t size, T& value) {
    ZoneScope scope;
    size_t offset = 0;
    msgpack::object object = msgpack::unpack(scope.zone(), data, size, offset);
    if (offset != size) {
      throw msgpack::unpack_error("trailing bytes after the value");
    }
    object.convert(value);
  }

 private:
  // The unpacking zone: one per thread, reused, so unpacking a small value allocates nothing
  // (a fresh zone costs two allocations, one of 8 KiB). A converter may deserialize inside
  // another; the zone is cleared when the outermost scope ends. Converted values own their data
  // (every converter copies out of the zone).
  class ZoneScope {
   public:
    ZoneScope() { ++State().depth; }
    ~ZoneScope() {
      if (--State().depth == 0) State().zone.clear();
    }
    ZoneScope(const ZoneScope&) = delete;
    ZoneScope& operator=(const ZoneScope&) = delete;
    msgpack::zone& zone() { return State().zone; }

   private:
    struct ThreadState {
      msgpack::zone zone;
      int depth = 0;
    };
    static ThreadState& State() {
      thread_local ThreadState state;
      return state;
    }
  };

  // msgpack output stream appending to a std::string.
  struct StringWriter {
    std::string* out;
    void write(const char* data, size_t size) { out->append(data, size); }
  };
};

}  // namespace ray::internal
