// Values across languages (docs/python.md): msgpack, the C++ API's format, to and from Python
// objects. nil, bool, int (64-bit), float, str, bytes, list/tuple and dict map both ways; a
// msgpack array comes back as a list, bin as bytes. Anything else cannot cross: TypeError.
//
// Thread model: call with the GIL held.
#pragma once

#include <string>
#include <string_view>

#include "pybind11/pybind11.h"

namespace moray::python {

// The Python object a msgpack value decodes to; ValueError if `data` is not one msgpack value.
pybind11::object FromMsgpack(std::string_view data);

// `value` in msgpack; TypeError for an object that has no msgpack form.
std::string ToMsgpack(const pybind11::handle& value);

}  // namespace moray::python
