#include "gcs/placement_group_scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

absl::StatusOr<scheduling::ResourceSet> ResourcesOf(const proto::Bundle& bundle) {
  return scheduling::ResourceSet::FromMap(
      std::map<std::string, double>(bundle.resources().begin(), bundle.resources().end()));
}

}  // namespace

PlacementGroupScheduler::PlacementGroupScheduler(rpc::EventLoop* loop, rpc::ConnectionPool* pool,
                                                 PlacementGroupManager* groups, NodeManager* nodes,
                                                 ActorScheduler* actors,
                                                 PlacementGroupSchedulerOptions options)
    : loop_(loop),
      pool_(pool),
      groups_(groups),
      nodes_(nodes),
      actors_(actors),
      options_(options) {}

PlacementGroupScheduler::~PlacementGroupScheduler() { *alive_ = false; }

void PlacementGroupScheduler::Shutdown() {
  *alive_ = false;
  returning_.clear();
  attempts_.clear();
  waiting_.clear();
  waiting_key_.clear();
  waiters_.clear();
}

void PlacementGroupScheduler::Schedule(const PlacementGroupId& id) { TryPlace(id); }

scheduling::ClusterView PlacementGroupScheduler::View() const {
  scheduling::ClusterView view = nodes_->ResourceView(/*with_group_scoped=*/false);
  for (const auto& [key, resources] : returning_) {
    if (scheduling::NodeView* node = view.FindMutable(key.second)) {
      node->available.Add(resources);
    }
  }
  for (const auto& [id, attempt] : attempts_) {
    if (attempt.committing) continue;  // prepared: the raylets' replies updated the view
    for (const NodeId& node : attempt.awaiting) {
      for (const proto::Bundle& bundle : attempt.by_node.at(node)) {
        if (auto r = ResourcesOf(bundle); r.ok()) view.Charge(node, *r);
      }
    }
  }
  return view;
}

void PlacementGroupScheduler::TryPlace(const PlacementGroupId& id) {
  if (!*alive_ || attempts_.contains(id)) return;
  auto info = groups_->Get(id);
  if (!info.ok() || info->state() == proto::PG_REMOVED || info->state() == proto::PG_CREATED) {
    if (auto it = waiting_key_.find(id); it != waiting_key_.end()) {
      waiting_.erase(it->second);
      waiting_key_.erase(it);
    }
    return;
  }
  std::vector<scheduling::BundleToPlace> unplaced;
  scheduling::BundleNodes fixed;
  for (const proto::Bundle& bundle : info->bundles()) {
    if (!bundle.node_id().empty()) {
      fixed[bundle.index()] = NodeId::FromBinary(bundle.node_id());
      continue;
    }
    auto resources = ResourcesOf(bundle);
    if (!resources.ok()) return;  // validated at registration
    unplaced.push_back({bundle.index(), *std::move(resources)});
  }
  if (unplaced.empty()) {  // every bundle is placed: finish what an earlier attempt left
    info->set_state(proto::PG_CREATED);
    (void)groups_->Update(*info);
    Answer(*info);
    return;
  }
  info->set_scheduling_attempts(info->scheduling_attempts() + 1);
  auto placed = scheduling::PlaceBundles(View(), unplaced, info->strategy(), fixed);
  if (!placed.ok()) {
    (void)groups_->Update(*info);
    KeepWaiting(id, placed.status());
    Backoff(id);
    return;
  }
  if (auto it = waiting_key_.find(id); it != waiting_key_.end()) {
    waiting_.erase(it->second);
    waiting_key_.erase(it);
  }
  Attempt& attempt = attempts_[id];
  attempt.id = next_attempt_++;
  attempt.placement = *placed;
  for (const auto& [index, node] : *placed) {
    attempt.by_node[node].push_back(info->bundles(index));
  }
  (void)groups_->Update(*info);
  Prepare(id);
}

void PlacementGroupScheduler::CallRaylet(
    const NodeId& node, uint16_t method, const proto::BundlesRequest& request,
    std::function<void(absl::Status, proto::BundlesReply)> done) {
  const std::optional<proto::NodeInfo> info = nodes_->GetAliveNode(node);
  if (!info) {
    done(absl::UnavailableError(absl::StrCat("node ", node.Hex(), " is not alive")), {});
    return;
  }
  auto conn = pool_->Get(rpc::Endpoint{info->node_ip(), info->raylet_port()});
  if (!conn.ok()) {
    done(conn.status(), {});
    return;
  }
  (*conn)->Call(method, request,
                [done = std::move(done), alive = alive_](absl::Status s, rpc::Frame&& frame) {
                  if (!*alive) return;
                  proto::BundlesReply reply;
                  if (s.ok() && !frame.ParseBody(&reply).ok()) {
                    s = absl::InternalError("the raylet's reply did not parse");
                  }
                  done(s, std::move(reply));
                });
}

void PlacementGroupScheduler::Prepare(const PlacementGroupId& id) {
  Attempt& attempt = attempts_.at(id);
  const uint64_t attempt_id = attempt.id;
  for (const auto& [node, bundles] : attempt.by_node) attempt.awaiting.insert(node);
  attempt.timer = loop_->RunAfter(options_.attempt_timeout, [this, id, attempt_id, alive = alive_] {
    if (!*alive) return;
    auto it = attempts_.find(id);
    if (it == attempts_.end() || it->second.id != attempt_id) return;
    it->second.timer = 0;
    Abandon(id, absl::StrCat("raylets did not answer within ",
                             absl::FormatDuration(options_.attempt_timeout)));
  });
  SendPhase(id, proto::RAYLET_PREPARE_BUNDLES);
}

void PlacementGroupScheduler::SendPhase(const PlacementGroupId& id, uint16_t method) {
  Attempt& attempt = attempts_.at(id);
  const uint64_t attempt_id = attempt.id;
  for (const auto& [node, bundles] : attempt.by_node) attempt.awaiting.insert(node);
  for (const auto& [node, bundles] : attempt.by_node) {
    proto::BundlesRequest request;
    request.set_placement_group_id(id.Binary());
    for (const auto& b : bundles) *request.add_bundles() = b;
    CallRaylet(node, method, request,
               [this, id, attempt_id, node](absl::Status s, proto::BundlesReply reply) {
                 OnReply(id, attempt_id, node, s, reply);
               });
  }
}

void PlacementGroupScheduler::OnReply(const PlacementGroupId& id, uint64_t attempt_id,
                                      const NodeId& node, const absl::Status& status,
                                      const proto::BundlesReply& reply) {
  if (status.ok() && !reply.resources_total().empty()) {
    nodes_->UpdateResources(node, reply.resources_total(), reply.resources_available());
  }
  auto it = attempts_.find(id);
  if (it == attempts_.end() || it->second.id != attempt_id) {
    return;  // an abandoned attempt: its returns went out when it was abandoned
  }
  Attempt& attempt = it->second;
  attempt.awaiting.erase(node);
  if (status.ok() && !attempt.committing) attempt.prepared.insert(node);
  if (!status.ok() && !attempt.failed) {
    attempt.failed = true;
    attempt.why = absl::StrCat("node ", node.Hex(), ": ", status.message());
  }
  if (!attempt.awaiting.empty()) return;
  if (attempt.failed) {
    Abandon(id, attempt.why);
  } else if (!attempt.committing) {
    Commit(id);
  } else {
    Created(id);
  }
}

void PlacementGroupScheduler::Commit(const PlacementGroupId& id) {
  Attempt& attempt = attempts_.at(id);
  auto info = groups_->Get(id);
  if (!info.ok() || info->state() == proto::PG_REMOVED) {
    attempts_.erase(id);  // Remove told every raylet already
    return;
  }
  for (const auto& [index, node] : attempt.placement) {
    info->mutable_bundles(index)->set_node_id(node.Binary());
  }
  info->set_state(proto::PG_PREPARED);
  if (auto s = groups_->Update(*info); !s.ok()) {
    Abandon(id, std::string(s.message()));
    return;
  }
  attempt.committing = true;
  SendPhase(id, proto::RAYLET_COMMIT_BUNDLES);
}

void PlacementGroupScheduler::Created(const PlacementGroupId& id) {
  auto it = attempts_.find(id);
  Attempt& attempt = it->second;
  if (attempt.timer) loop_->CancelTimer(attempt.timer);
  attempts_.erase(it);
  backoff_.erase(id);
  auto info = groups_->Get(id);
  if (!info.ok() || info->state() == proto::PG_REMOVED) return;
  if (info->state() != proto::PG_PREPARED) {  // a node died meanwhile: place its bundles again
    KeepWaiting(id, absl::UnavailableError(info->state_message()));
    RetryPending();
    return;
  }
  info->set_state(proto::PG_CREATED);
  info->set_state_message("");
  info->set_infeasible(false);
  info->set_created_time_ms(NowMs());
  if (groups_->Update(*info).ok()) {
    spdlog::debug("placement group {} created", id.Hex());
    Answer(*info);
  }
}

void PlacementGroupScheduler::Abandon(const PlacementGroupId& id, std::string why) {
  auto it = attempts_.find(id);
  if (it == attempts_.end()) return;
  Attempt attempt = std::move(it->second);
  attempts_.erase(it);
  if (attempt.timer) loop_->CancelTimer(attempt.timer);
  // Give back whatever may be held: prepared bundles, and on a commit every node of the attempt.
  for (const auto& [node, bundles] : attempt.by_node) {
    if (!attempt.committing && !attempt.prepared.contains(node) &&
        !attempt.awaiting.contains(node)) {
      continue;  // it refused: holds nothing
    }
    proto::BundlesRequest request;
    request.set_placement_group_id(id.Binary());
    for (const auto& b : bundles) *request.add_bundles() = b;
    CallRaylet(node, proto::RAYLET_RETURN_BUNDLES, request,
               [](absl::Status, proto::BundlesReply) {});
  }
  auto info = groups_->Get(id);
  if (!info.ok() || info->state() == proto::PG_REMOVED) return;
  bool kept_any = false;
  for (auto& bundle : *info->mutable_bundles()) {
    if (attempt.placement.contains(bundle.index())) bundle.clear_node_id();
    kept_any = kept_any || !bundle.node_id().empty();
  }
  info->set_state(kept_any || info->state() == proto::PG_RESCHEDULING ? proto::PG_RESCHEDULING
                                                                      : proto::PG_PENDING);
  (void)groups_->Update(*info);
  spdlog::info("placement group {}: attempt undone: {}", id.Hex(), why);
  KeepWaiting(id, absl::UnavailableError(why));
  Backoff(id);
}

void PlacementGroupScheduler::KeepWaiting(const PlacementGroupId& id, const absl::Status& why) {
  auto info = groups_->Get(id);
  if (!info.ok() || info->state() == proto::PG_REMOVED) return;
  info->set_state_message(std::string(why.message()));
  info->set_infeasible(absl::IsFailedPrecondition(why));
  (void)groups_->Update(*info);
  if (!waiting_key_.contains(id)) {
    const std::pair<int, int64_t> key{info->state() == proto::PG_RESCHEDULING ? 0 : 1,
                                      info->create_time_ms()};
    // Creation times may tie: make the key unique with the smallest free successor.
    auto unique = key;
    while (waiting_.contains(unique)) ++unique.second;
    waiting_[unique] = id;
    waiting_key_[id] = unique;
  }
}

void PlacementGroupScheduler::Backoff(const PlacementGroupId& id) {
  absl::Duration& delay = backoff_.try_emplace(id, options_.min_backoff).first->second;
  if (auto it = backoff_timer_.find(id); it != backoff_timer_.end()) {
    loop_->CancelTimer(it->second);
  }
  backoff_timer_[id] = loop_->RunAfter(delay, [this, id, alive = alive_] {
    if (!*alive) return;
    backoff_timer_.erase(id);
    TryPlace(id);
  });
  delay = std::min(delay * 2, options_.max_backoff);
}

void PlacementGroupScheduler::RetryPending() {
  if (retry_posted_ || waiting_.empty()) return;
  retry_posted_ = true;
  loop_->RunAfter(absl::Milliseconds(5), [this, alive = alive_] {
    if (!*alive) return;
    retry_posted_ = false;
    std::vector<PlacementGroupId> ids;
    for (const auto& [key, id] : waiting_) ids.push_back(id);  // rescheduling first
    for (const auto& id : ids) TryPlace(id);
  });
}

void PlacementGroupScheduler::Remove(const PlacementGroupId& id, const std::string& reason) {
  if (!*alive_) return;
  if (auto it = attempts_.find(id); it != attempts_.end()) {
    if (it->second.timer) loop_->CancelTimer(it->second.timer);
    attempts_.erase(it);  // the broadcast below returns whatever it reserved
  }
  if (auto it = waiting_key_.find(id); it != waiting_key_.end()) {
    waiting_.erase(it->second);
    waiting_key_.erase(it);
  }
  if (auto it = backoff_timer_.find(id); it != backoff_timer_.end()) {
    loop_->CancelTimer(it->second);
    backoff_timer_.erase(it);
  }
  backoff_.erase(id);
  if (auto info = groups_->Get(id); info.ok()) {
    for (const proto::Bundle& bundle : info->bundles()) {
      auto resources = ResourcesOf(bundle);
      if (bundle.node_id().empty() || !resources.ok()) continue;
      returning_[{id, NodeId::FromBinary(bundle.node_id())}].Add(*resources);
    }
  }
  proto::BundlesRequest request;
  request.set_placement_group_id(id.Binary());
  request.set_group_removed(true);
  request.set_reason(reason);
  for (const auto& node : nodes_->GetAllNodes()) {
    if (node.state() != proto::NODE_ALIVE) continue;
    const NodeId node_id = NodeId::FromBinary(node.node_id());
    CallRaylet(node_id, proto::RAYLET_RETURN_BUNDLES, request,
               [this, id, node_id](absl::Status s, proto::BundlesReply reply) {
                 if (s.ok() && !reply.resources_total().empty()) {
                   nodes_->UpdateResources(node_id, reply.resources_total(),
                                           reply.resources_available());
                 }
                 // Its reply says what is free now; what it held may fit a waiting group.
                 if (returning_.erase({id, node_id}) > 0) RetryPending();
               });
  }
  actors_->EndGroupActors(id, reason);
  if (auto info = groups_->Get(id); info.ok()) Answer(*info);
}

void PlacementGroupScheduler::OnNodeDead(const NodeId& node_id) {
  if (!*alive_) return;
  for (proto::PlacementGroupInfo info : groups_->Live()) {
    bool lost = false;
    for (auto& bundle : *info.mutable_bundles()) {
      if (NodeId::FromBinary(bundle.node_id()) != node_id) continue;
      bundle.clear_node_id();
      lost = true;
    }
    if (!lost) continue;
    const PlacementGroupId id = PlacementGroupId::FromBinary(info.placement_group_id());
    info.set_state(proto::PG_RESCHEDULING);
    info.set_state_message(absl::StrCat("bundles lost with node ", node_id.Hex()));
    (void)groups_->Update(info);
    spdlog::info("placement group {}: {}", id.Hex(), info.state_message());
    if (!attempts_.contains(id)) {
      backoff_.erase(id);
      KeepWaiting(id, absl::UnavailableError(info.state_message()));
    }
  }
  RetryPending();
}

void PlacementGroupScheduler::Wait(const PlacementGroupId& id, absl::Duration timeout,
                                   rpc::Responder<proto::WaitPlacementGroupReply> respond) {
  if (!*alive_) return;  // stopping: the connection closes without a reply
  auto info = groups_->Get(id);
  if (!info.ok()) {
    respond.Fail(info.status());
    return;
  }
  if (info->state() == proto::PG_CREATED || info->state() == proto::PG_REMOVED ||
      timeout <= absl::ZeroDuration()) {
    proto::WaitPlacementGroupReply reply;
    reply.set_ready(info->state() == proto::PG_CREATED);
    *reply.mutable_group() = *std::move(info);
    respond(reply);
    return;
  }
  auto it = waiters_.emplace(id, Waiter{std::move(respond), 0});
  it->second.timer = loop_->RunAfter(timeout, [this, id, alive = alive_, key = &it->second] {
    if (!*alive) return;
    for (auto w = waiters_.lower_bound(id); w != waiters_.end() && w->first == id; ++w) {
      if (&w->second != key) continue;
      proto::WaitPlacementGroupReply reply;
      if (auto now = groups_->Get(id); now.ok()) *reply.mutable_group() = *now;
      reply.set_ready(false);
      w->second.respond(reply);
      waiters_.erase(w);
      return;
    }
  });
}

void PlacementGroupScheduler::Answer(const proto::PlacementGroupInfo& info) {
  const PlacementGroupId id = PlacementGroupId::FromBinary(info.placement_group_id());
  auto [begin, end] = waiters_.equal_range(id);
  for (auto it = begin; it != end; ++it) {
    loop_->CancelTimer(it->second.timer);
    proto::WaitPlacementGroupReply reply;
    reply.set_ready(info.state() == proto::PG_CREATED);
    *reply.mutable_group() = info;
    it->second.respond(reply);
  }
  waiters_.erase(begin, end);
}

}  // namespace moray::gcs
