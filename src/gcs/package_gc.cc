#include "gcs/package_gc.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "runtime_env/package_store.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {
namespace {

static_assert(runtime_env::kPackageNamespace == KvStore::kExclusiveNamespace,
              "the collector's exclusive section must cover the packages namespace");

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::StatusOr<PackageGcResult> CollectPackages(KvStore* kv, const std::vector<JobId>& dead_jobs) {
  return kv->Exclusively(
      [&](KvStore::Unlocked& unlocked) { return CollectPackages(unlocked, dead_jobs); });
}

absl::StatusOr<PackageGcResult> CollectPackages(KvStore::Unlocked& kv,
                                                const std::vector<JobId>& dead_jobs) {
  const std::string_view ns = runtime_env::kPackageNamespace;
  absl::flat_hash_set<std::string> dead;
  for (const JobId& job : dead_jobs) dead.insert(job.Hex());

  PackageGcResult result;
  auto refs = kv.Keys(ns, "refs/");
  if (!refs.ok()) return refs.status();
  absl::flat_hash_set<std::string> live;  // hashes some remaining ref names
  for (const std::string& key : *refs) {
    // refs/<hash>/<job hex>
    const size_t slash = key.rfind('/');
    if (slash == std::string::npos || slash < 5) continue;
    const std::string hash = key.substr(5, slash - 5);
    if (dead.contains(key.substr(slash + 1))) {
      auto n = kv.Del(ns, key, /*by_prefix=*/false);
      if (!n.ok()) return n.status();
      result.refs_dropped += *n;
    } else {
      live.insert(hash);
    }
  }
  auto index = kv.Keys(ns, "index/");
  if (!index.ok()) return index.status();
  for (const std::string& key : *index) {
    const std::string hash = key.substr(6);
    if (hash.empty() || live.contains(hash)) continue;
    // The meta first: a reader never sees a complete-looking package losing chunks.
    auto meta = kv.Del(ns, runtime_env::PackageMetaKey(hash), /*by_prefix=*/false);
    if (!meta.ok()) return meta.status();
    auto chunks = kv.Del(ns, absl::StrCat(Sv(hash), "/"), /*by_prefix=*/true);
    if (!chunks.ok()) return chunks.status();
    auto entry = kv.Del(ns, key, /*by_prefix=*/false);
    if (!entry.ok()) return entry.status();
    ++result.packages_deleted;
  }
  return result;
}

void PackageGc::Start() {
  if (running_) return;
  running_ = true;
  loop_.StartThread("gcs_package_gc");
}

void PackageGc::Stop() {
  if (!running_) return;
  running_ = false;
  loop_.Stop();
}

void PackageGc::OnJobFinished(const JobId& job) { Request(job); }

void PackageGc::OnRefDropped() { Request(JobId()); }

void PackageGc::Request(const JobId& finished) {
  {
    absl::MutexLock lock(&mu_);
    if (!finished.IsNil()) finished_.push_back(finished);
    if (queued_) return;
    queued_ = true;
  }
  loop_.Post([this] { CollectRequested(); });
}

void PackageGc::CollectRequested() {
  std::vector<JobId> dead;
  {
    absl::MutexLock lock(&mu_);
    dead.swap(finished_);
    queued_ = false;
  }
  const std::string why = absl::StrCat("after ", dead.size(), " job(s) ended or a ref was dropped");
  if (auto jobs = jobs_->GetAllJobs(); jobs.ok()) {
    for (const auto& info : *jobs) {
      if (info.is_dead()) dead.push_back(JobId::FromBinary(info.job_id()));
    }
  }
  auto result = CollectPackages(kv_, dead);
  if (!result.ok()) {
    spdlog::warn("package GC {}: {}", why, result.status().ToString());
  } else if (result->refs_dropped > 0 || result->packages_deleted > 0) {
    spdlog::info("package GC {}: {} refs dropped, {} packages deleted", why, result->refs_dropped,
                 result->packages_deleted);
  }
}

}  // namespace moray::gcs
