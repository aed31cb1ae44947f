// The log agent's per-worker and per-read state, shared by its two files: log_agent.cc (pipes,
// files, rotation, the stream to the GCS) and log_agent_reads.cc (the CLI's listings and reads).
// Internal to src/raylet; agent thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>

#include "raylet/log_agent.h"

namespace moray::raylet {

struct LogAgent::Stream {
  Worker* worker = nullptr;
  bool err = false;
  int pipe_fd = -1;
  std::string name;  // the file's name
  std::string path;
  int file_fd = -1;
  int64_t size = 0;
  std::string partial;         // an incomplete last line
  size_t partial_in_file = 0;  // how much of it is in the file already
};

struct LogAgent::Worker {
  WorkerId id;
  JobId job_id;
  pid_t pid = 0;
  std::string name;          // from the last marker
  bool forgettable = false;  // both streams closed: in exited_
  Stream out;
  Stream err;
  bool alive() const { return out.pipe_fd >= 0 || err.pipe_fd >= 0; }
};

struct LogAgent::JobBatch {
  proto::WorkerLogBatch batch;
  size_t bytes = 0;
  int64_t lines = 0;
  uint64_t timer = 0;
};

struct LogAgent::Waiter {
  explicit Waiter(rpc::Responder<proto::ReadLogReply> r) : respond(std::move(r)) {}
  std::string path;
  int64_t offset = 0;
  int64_t max_bytes = 0;
  proto::ReadLogReply reply;  // file_name and worker_alive filled
  rpc::Responder<proto::ReadLogReply> respond;
  uint64_t timer = 0;
};

}  // namespace moray::raylet
