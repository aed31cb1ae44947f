#include "core_worker/context.h"

namespace moray::core {

bool KeepInMemory(const CoreContext& context, size_t size) {
  if (!context.plasma) return true;
  if (size > kInlineLimit) return false;
  return context.store->bytes() + kEntryOverhead + static_cast<int64_t>(size) <=
         context.inline_object_memory;
}

}  // namespace moray::core
