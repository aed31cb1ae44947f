#include "core_worker/context.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/id.h"

namespace moray::core {

std::string AddressToString(const proto::Address& address) {
  return absl::StrCat(address.ip(), ":", address.port(), ":", ToHex(address.worker_id()));
}

bool AddressFromString(const std::string& text, proto::Address* address) {
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  int port = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &port)) return false;
  address->set_ip(parts[0]);
  address->set_port(port);
  address->set_worker_id(FromHex(parts[2]));
  return true;
}

bool KeepInMemory(const CoreContext& context, size_t size) {
  if (!context.plasma) return true;
  if (size > kInlineLimit) return false;
  return context.store->bytes() + kEntryOverhead + static_cast<int64_t>(size) <=
         context.inline_object_memory;
}

}  // namespace moray::core
