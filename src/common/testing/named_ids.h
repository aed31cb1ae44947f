// Readable ids for tests: NamedId<WorkerId>("w1") is the bytes of "w1", zero-padded to the id's
// size, so a test can write and print short names and still pass the types the runtime takes.
#pragma once

#include <string>
#include <string_view>

#include "common/id.h"

namespace moray::testing {

template <typename T>
T NamedId(std::string_view name) {
  std::string bytes(name.substr(0, T::kSize));
  bytes.resize(T::kSize, '\0');
  return T::FromBinary(bytes);
}

}  // namespace moray::testing
