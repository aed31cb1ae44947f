// Zero-copy bytes (beyond Ray's C++ API): put a large contiguous buffer with one copy into the
// node's shared-memory object store, and read it back as a read-only view into that memory — no
// copy on Get; the object stays pinned while any ByteView of it is alive.
//
//   #include <moray/byte_view.h>
//   std::vector<uint8_t> frame(64 << 20);
//   ray::ObjectRef<moray::ByteView> ref = moray::PutBytes(frame.data(), frame.size());
//   std::shared_ptr<moray::ByteView> view = ref.Get();   // view->data() points into shared memory
//   process(view->data(), view->size());
//
// The object is an ordinary msgpack byte string, so ray::ObjectRef<std::vector<uint8_t>> of the
// same id reads it too (with a copy), and a task may take a std::vector<uint8_t> argument for it.
// Objects up to 100 KiB live in the owner's memory instead of shared memory; ByteView still reads
// them without a copy.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "ray/api.h"

namespace moray {

class ByteView {
 public:
  ByteView() = default;
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(data_); }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }

  // Internal: a view of `size` bytes at `data`, kept alive by `holder`.
  ByteView(std::shared_ptr<const void> holder, const char* data, size_t size)
      : holder_(std::move(holder)), data_(data), size_(size) {}

 private:
  std::shared_ptr<const void> holder_;  // the object's buffer: pins it while the view lives
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// Puts `size` bytes from `data` as one object (a msgpack bin): one copy into the object's memory.
inline ray::ObjectRef<ByteView> PutBytes(const void* data, size_t size) {
  size_t header = ray::internal::ByteHeaderSize(size, /*str=*/false);
  std::string id = ray::internal::GetRuntime().PutWith(header + size, [&](char* out) {
    ray::internal::WriteByteHeader(out, size, /*str=*/false);
    if (size > 0) std::memcpy(out + header, data, size);
  });
  return ray::ObjectRef<ByteView>(std::move(id));
}

}  // namespace moray

namespace ray::internal {

// Get of an ObjectRef<ByteView> reads in place.
template <>
struct ObjectReader<moray::ByteView> {
  static std::shared_ptr<moray::ByteView> Read(const std::string& id,
                                               const std::shared_ptr<Buffer>& buffer) {
    size_t header = 0, length = 0;
    if (!ReadByteHeader(buffer->Data(), buffer->Size(), &header, &length)) {
      throw RayException("Object " + BinaryToHex(id) + " is not a byte string; it cannot be read as "
                         "a moray::ByteView");
    }
    return std::make_shared<moray::ByteView>(buffer, buffer->Data() + header, length);
  }
};

}  // namespace ray::internal

// A ByteView passed as a task argument or put by value travels as a byte string (with a copy).
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {
  template <>
  struct pack<moray::ByteView> {
    template <typename Stream>
    packer<Stream>& operator()(packer<Stream>& o, const moray::ByteView& v) const {
      o.pack_bin(static_cast<uint32_t>(v.size()));
      o.pack_bin_body(reinterpret_cast<const char*>(v.data()), static_cast<uint32_t>(v.size()));
      return o;
    }
  };
  template <>
  struct convert<moray::ByteView> {
    const msgpack::object& operator()(const msgpack::object& o, moray::ByteView& v) const {
      if (o.type != msgpack::type::BIN && o.type != msgpack::type::STR) throw msgpack::type_error();
      const char* ptr = o.type == msgpack::type::BIN ? o.via.bin.ptr : o.via.str.ptr;
      uint32_t size = o.type == msgpack::type::BIN ? o.via.bin.size : o.via.str.size;
      auto copy = std::make_shared<std::string>(ptr, size);
      v = moray::ByteView(copy, copy->data(), copy->size());
      return o;
    }
  };
  }  // namespace adaptor
}
}  // namespace msgpack
