#include "rpc/address.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moray::rpc {

absl::StatusOr<Endpoint> Endpoint::Parse(std::string_view text) {
  const absl::string_view address(text.data(), text.size());  // abseil here has its own string_view
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", address, "' is not an address of the form ip:port"));
  }
  return Endpoint{std::string(address.substr(0, colon)), port};
}

std::string Endpoint::ToString() const { return absl::StrCat(ip, ":", port); }

Address Address::FromProto(const proto::Address& address) {
  return Address{EndpointOf(address), NodeId::FromBinary(address.node_id()),
                 WorkerId::FromBinary(address.worker_id())};
}

void Address::ToProto(proto::Address* out) const {
  out->set_ip(endpoint.ip);
  out->set_port(endpoint.port);
  out->set_node_id(node_id.Binary());
  out->set_worker_id(worker_id.Binary());
}

proto::Address Address::ToProto() const {
  proto::Address out;
  ToProto(&out);
  return out;
}

std::string Address::ToString() const {
  return absl::StrCat(endpoint.ip, ":", endpoint.port, ":", worker_id.Hex());
}

std::optional<Address> Address::Parse(std::string_view text) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(text.data(), text.size()), ':');
  int port = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &port)) return std::nullopt;
  auto worker = WorkerId::FromHex(std::string_view(parts[2].data(), parts[2].size()));
  if (!worker) return std::nullopt;
  return Address{Endpoint{std::string(parts[0]), port}, NodeId(), *worker};
}

}  // namespace moray::rpc
