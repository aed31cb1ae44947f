// Small helpers shared by the public headers: readable type names for error messages and the hex
// form of binary ids.
//
//   ray::internal::TypeName<std::vector<int>>()  // "std::vector<int, std::allocator<int> >"
//   ray::internal::BinaryToHex("\x01\xab")        // "01ab"
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>

#if defined(__GNUG__)
#include <cxxabi.h>
#endif

namespace ray::internal {

inline std::string Demangle(const char* mangled) {
#if defined(__GNUG__)
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                              std::free);
  if (status == 0 && name) return name.get();
#endif
  return mangled;
}

template <typename T>
std::string TypeName() {
  return Demangle(typeid(T).name());
}

inline std::string BinaryToHex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 0xf]);
  }
  return hex;
}

}  // namespace ray::internal
