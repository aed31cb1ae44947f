// msgpack support for std::any holding a simple value, so that tasks can take and return loosely
// typed values.
//
//   std::any in = std::string("hi");          // packs as a msgpack str
//   std::any out = ...round trip...;           // std::any_cast<std::string>(out) == "hi"
//
// Packing supports: empty (nil), bool, every integer type, float, double, std::string,
// const char*, std::vector<char> / std::vector<uint8_t> (bin). Anything else throws
// msgpack::type_error. msgpack does not record C++ types, so unpacking maps by msgpack type:
// nil -> empty any, bool -> bool, non-negative integer -> uint64_t, negative integer -> int64_t,
// float32 -> float, float64 -> double, str -> std::string, bin -> std::vector<char>;
// arrays, maps and extensions throw msgpack::type_error.
#pragma once

#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif

#include <any>
#include <cstdint>
#include <string>
#include <vector>

#include "msgpack.hpp"

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <>
struct pack<std::any> {
  template <typename Stream>
  packer<Stream>& operator()(packer<Stream>& o, const std::any& v) const {
    if (!v.has_value()) return o.pack_nil();
    if (PackAs<bool>(o, v) || PackAs<char>(o, v) || PackAs<signed char>(o, v) ||
        PackAs<unsigned char>(o, v) || PackAs<short>(o, v) || PackAs<unsigned short>(o, v) ||
        PackAs<int>(o, v) || PackAs<unsigned int>(o, v) || PackAs<long>(o, v) ||
        PackAs<unsigned long>(o, v) || PackAs<long long>(o, v) ||
        PackAs<unsigned long long>(o, v) || PackAs<float>(o, v) || PackAs<double>(o, v) ||
        PackAs<std::string>(o, v) || PackAs<const char*>(o, v) || PackAs<std::vector<char>>(o, v) ||
        PackAs<std::vector<unsigned char>>(o, v)) {
      return o;
    }
    throw msgpack::type_error();  // a type std::any packing does not support
  }

 private:
  template <typename T, typename Stream>
  static bool PackAs(packer<Stream>& o, const std::any& v) {
    const T* value = std::any_cast<T>(&v);
    if (value == nullptr) return false;
    if constexpr (std::is_same_v<T, char> || std::is_same_v<T, signed char>) {
      o.pack(static_cast<int>(*value));  // as a number, not a one-character string
    } else if constexpr (std::is_same_v<T, unsigned char>) {
      o.pack(static_cast<unsigned>(*value));
    } else {
      o.pack(*value);
    }
    return true;
  }
};

template <>
struct convert<std::any> {
  const msgpack::object& operator()(const msgpack::object& o, std::any& v) const {
    switch (o.type) {
      case msgpack::type::NIL:
        v.reset();
        break;
      case msgpack::type::BOOLEAN:
        v = o.as<bool>();
        break;
      case msgpack::type::POSITIVE_INTEGER:
        v = o.as<uint64_t>();
        break;
      case msgpack::type::NEGATIVE_INTEGER:
        v = o.as<int64_t>();
        break;
      case msgpack::type::FLOAT32:
        v = o.as<float>();
        break;
      case msgpack::type::FLOAT64:
        v = o.as<double>();
        break;
      case msgpack::type::STR:
        v = o.as<std::string>();
        break;
      case msgpack::type::BIN:
        v = o.as<std::vector<char>>();
        break;
      default:
        throw msgpack::type_error();
    }
    return o;
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
