// Package garbage collection: when a job finishes, the GCS drops the job's package refs
// (`refs/<hash>/<job hex>` in the KV namespace "packages", src/runtime_env/package_store.h) and
// deletes every package (chunks, meta, index entry) that no ref names any more. A client that
// deletes a ref itself (a job submission that ended, an upload's pending ref) starts the same
// collection (OnRefDropped). Refs whose owner is not a job's hex id (`sub-...`, `pending-...`)
// are never dropped by a collection: only their owners delete them.
//
//   PackageGc gc(&kv, &jobs);
//   gc.Start();
//   managers.on_job_finished = [&](const JobId& id) { gc.OnJobFinished(id); };
//   ...
//   gc.Stop();
//
// Each collection also drops the refs of every other job the job table says is dead, so refs
// left by a collection that failed or never ran (the GCS stopped first) go at the next one.
// An uploader records its ref before it looks for the package or writes anything, and a
// collection runs as one exclusive section of the KV's "packages" namespace
// (KvStore::Exclusively): a ref recorded before it is seen (the package stays), one recorded
// after it finds the package gone, so its uploader writes it again. No package a job refers to
// is ever lost.
//
// Thread model: OnJobFinished and OnRefDropped may be called from any thread; collections run
// one at a time on the collector's own thread, and a burst of requests is one collection. While
// one runs, KV requests on "packages" wait for it; those on other namespaces never do.
// CollectPackages is a plain function over a thread-safe KvStore.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/id.h"
#include "gcs/job_manager.h"
#include "gcs/kv_store.h"
#include "rpc/event_loop.h"

namespace moray::gcs {

struct PackageGcResult {
  int64_t refs_dropped = 0;
  int64_t packages_deleted = 0;
};

// Drops the refs of every job in `dead_jobs`, then deletes the packages no ref names: the
// first form inside the caller's exclusive section, the second makes one.
absl::StatusOr<PackageGcResult> CollectPackages(KvStore::Unlocked& kv,
                                                const std::vector<JobId>& dead_jobs);
absl::StatusOr<PackageGcResult> CollectPackages(KvStore* kv, const std::vector<JobId>& dead_jobs);

class PackageGc {
 public:
  // `kv` and `jobs` are borrowed and must outlive this collector.
  PackageGc(KvStore* kv, JobManager* jobs) : kv_(kv), jobs_(jobs) {}
  ~PackageGc() { Stop(); }
  PackageGc(const PackageGc&) = delete;
  PackageGc& operator=(const PackageGc&) = delete;

  void Start();
  // Joins the thread; a collection still queued is skipped (the next one covers its job).
  void Stop();
  // Queues a collection for `job` (and every other dead job).
  void OnJobFinished(const JobId& job);
  // Queues a collection (every dead job's refs, then unreferenced packages) after a client
  // deleted a ref.
  void OnRefDropped();

 private:
  // Queues one collection unless one is queued and not started yet (a burst of job ends and
  // dropped refs is one collection, which covers every job that ended before it starts).
  void Request(const JobId& finished);
  // On the collector's thread: collects for the dead jobs and those requested.
  void CollectRequested();

  KvStore* kv_;
  JobManager* jobs_;
  rpc::EventLoop loop_;
  bool running_ = false;  // the controlling thread's
  absl::Mutex mu_;
  bool queued_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<JobId> finished_ ABSL_GUARDED_BY(mu_);
};

}  // namespace moray::gcs
