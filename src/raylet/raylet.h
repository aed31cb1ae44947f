// Raylet: the composition root of one node's raylet. Builds and wires the event loop, the GCS
// thread, the node's object store (src/object_store, on its own thread), the node manager (local
// server, lease manager, worker pool), registers the node with the GCS, and tears it all down. RunRaylet (raylet_main.h) wraps it for the `moray` process;
// tests run it in-process with a FakeGcsAccessor.
//
//   Raylet raylet(options, std::make_unique<FakeGcsAccessor>());
//   absl::Status started = raylet.Start();   // listening and registered when OK
//   Connect to 127.0.0.1:raylet.port() ...
//   raylet.Stop();                           // kills workers, unregisters the node
//
// Thread model: Start and Stop from one controlling thread (not the raylet's own loop). The raylet
// runs threads of its own: the event loop (all node state), the GCS thread (blocking GCS calls)
// and the object store's loop and prefault threads. RunOnLoop lets a test inspect state on the loop thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/id.h"
#include "object_store/store_server.h"
#include "raylet/gcs_accessor.h"
#include "raylet/gcs_thread.h"
#include "raylet/log_agent.h"
#include "raylet/node_manager.h"
#include "raylet/object_manager.h"
#include "raylet/raylet_options.h"
#include "rpc/event_loop.h"

namespace moray::raylet {

class Raylet {
 public:
  Raylet(RayletOptions options, std::unique_ptr<GcsAccessor> gcs);
  ~Raylet();  // Stop()

  // Listens, then registers the node with the GCS (blocking). Fails on a bad option, a port in
  // use, or a GCS that refuses the node; nothing keeps running after a failure.
  [[nodiscard]] absl::Status Start();
  // Idempotent. Stops accepting, kills workers, flushes reports, unregisters the node.
  void Stop();

  int port() const { return port_; }
  const NodeId& node_id() const { return node_id_; }
  // The object store's Unix socket (also in every RegisterClientReply).
  const std::string& store_socket() const { return store_socket_; }
  // The NodeInfo registered with the GCS.
  const proto::NodeInfo& node_info() const { return node_info_; }

  // Runs `fn` on the loop thread with the node manager and waits for it (tests, diagnostics).
  void RunOnLoop(const std::function<void(const NodeManager&)>& fn);

  // The GCS declared this node dead (it missed health checks, e.g. while paused or cut off):
  // the rest of the cluster has moved on without it, so it must stop. `on_declared_dead` (set
  // before Start; called once, from one of the raylet's threads) tells the process.
  void set_on_declared_dead(std::function<void(const std::string&)> fn) {
    on_declared_dead_ = std::move(fn);
  }

 private:
  const RayletOptions options_;
  std::unique_ptr<GcsAccessor> gcs_;
  NodeId node_id_;
  std::string store_socket_;
  proto::NodeInfo node_info_;
  int port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  std::function<void(const std::string&)> on_declared_dead_;
  std::atomic<bool> declared_dead_{false};
  void DeclaredDead(const std::string& reason);
  bool registered_ = false;  // with the GCS
  // Destroyed in reverse order: the node manager before the threads it uses.
  std::unique_ptr<object_store::StoreServer> store_;
  std::unique_ptr<ObjectManager> objects_;  // after store_: it is a client of the store
  std::unique_ptr<GcsThread> gcs_thread_;
  std::unique_ptr<LogAgent> logs_;  // outlives the node manager: it reads its workers' pipes
  std::unique_ptr<rpc::EventLoop> loop_;
  std::unique_ptr<NodeManager> node_manager_;
};

// Resolves defaults of `options` into the node's schedulable resources (CPU, memory, custom;
// GPU: `num_gpus`, resolved by NodeGpuIds). InvalidArgument for negative or malformed quantities.
[[nodiscard]] absl::StatusOr<scheduling::ResourceSet> NodeResources(const RayletOptions& options,
                                                                    int num_gpus);
// The object store size to report: options.object_store_memory, or 30% of RAM capped by the
// size of /dev/shm.
int64_t ObjectStoreMemory(const RayletOptions& options);
// Where the node's object store listens: <session_dir>/sockets/store-<node>.sock, or a shorter
// path under /tmp when that would not fit a Unix socket address (108 bytes).
std::string StoreSocketPath(const std::string& session_dir, const std::string& node_id_hex);

}  // namespace moray::raylet
