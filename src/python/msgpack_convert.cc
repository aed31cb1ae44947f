#include "python/msgpack_convert.h"

#include <msgpack.hpp>

#include "absl/strings/str_cat.h"

namespace moray::python {
namespace py = pybind11;
namespace {

constexpr int kMaxDepth = 512;

py::object Convert(const msgpack::object& o, int depth) {
  if (depth > kMaxDepth) throw py::value_error("a msgpack value nests deeper than 512 levels");
  switch (o.type) {
    case msgpack::type::NIL:
      return py::none();
    case msgpack::type::BOOLEAN:
      return py::bool_(o.via.boolean);
    case msgpack::type::POSITIVE_INTEGER:
      return py::int_(o.via.u64);
    case msgpack::type::NEGATIVE_INTEGER:
      return py::int_(o.via.i64);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return py::float_(o.via.f64);
    case msgpack::type::STR:
      return py::str(o.via.str.ptr, o.via.str.size);
    case msgpack::type::BIN:
      return py::bytes(o.via.bin.ptr, o.via.bin.size);
    case msgpack::type::ARRAY: {
      py::list list(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        list[i] = Convert(o.via.array.ptr[i], depth + 1);
      }
      return std::move(list);
    }
    case msgpack::type::MAP: {
      py::dict dict;
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        dict[Convert(o.via.map.ptr[i].key, depth + 1)] = Convert(o.via.map.ptr[i].val, depth + 1);
      }
      return std::move(dict);
    }
    default:
      throw py::value_error(absl::StrCat("a msgpack value of type ", static_cast<int>(o.type),
                                         " has no Python form"));
  }
}

void Pack(msgpack::packer<msgpack::sbuffer>& packer, const py::handle& value, int depth) {
  if (depth > kMaxDepth) throw py::type_error("a value nests deeper than 512 levels");
  if (value.is_none()) {
    packer.pack_nil();
  } else if (py::isinstance<py::bool_>(value)) {
    if (value.cast<bool>()) {
      packer.pack_true();
    } else {
      packer.pack_false();
    }
  } else if (py::isinstance<py::int_>(value)) {
    try {
      packer.pack(value.cast<int64_t>());
    } catch (const py::cast_error&) {
      packer.pack(value.cast<uint64_t>());
    }
  } else if (py::isinstance<py::float_>(value)) {
    packer.pack(value.cast<double>());
  } else if (py::isinstance<py::str>(value)) {
    packer.pack(value.cast<std::string>());
  } else if (py::isinstance<py::bytes>(value)) {
    std::string_view bytes = value.cast<std::string_view>();
    packer.pack_bin(static_cast<uint32_t>(bytes.size()));
    packer.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
  } else if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    py::sequence seq = py::reinterpret_borrow<py::sequence>(value);
    packer.pack_array(static_cast<uint32_t>(py::len(seq)));
    for (const py::handle item : seq) Pack(packer, item, depth + 1);
  } else if (py::isinstance<py::dict>(value)) {
    py::dict dict = py::reinterpret_borrow<py::dict>(value);
    packer.pack_map(static_cast<uint32_t>(py::len(dict)));
    for (const auto& [key, item] : dict) {
      Pack(packer, key, depth + 1);
      Pack(packer, item, depth + 1);
    }
  } else {
    throw py::type_error(absl::StrCat(
        "a value of type ", std::string(py::str(value.get_type().attr("__name__"))),
        " cannot cross to C++: only None, bool, int, float, str, bytes, lists, tuples and dicts "
        "of them have a msgpack form"));
  }
}

}  // namespace

py::object FromMsgpack(std::string_view data) {
  msgpack::object_handle handle;
  try {
    std::size_t offset = 0;
    handle = msgpack::unpack(data.data(), data.size(), offset);
    if (offset != data.size()) throw py::value_error("trailing bytes after a msgpack value");
  } catch (const msgpack::type_error& e) {
    throw py::value_error(absl::StrCat("not a msgpack value: ", e.what()));
  } catch (const msgpack::unpack_error& e) {
    throw py::value_error(absl::StrCat("not a msgpack value: ", e.what()));
  }
  return Convert(handle.get(), 0);
}

std::string ToMsgpack(const py::handle& value) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  Pack(packer, value, 0);
  return std::string(buffer.data(), buffer.size());
}

}  // namespace moray::python
