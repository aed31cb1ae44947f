#include "ray/api/function_manager.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "ray/api/ray_exception.h"
#include "ray/api/ray_remote.h"

namespace ray::internal {

struct FunctionManager::State {
  mutable std::shared_mutex mu;
  // Node-based maps: pointers to entries stay valid as the maps grow.
  std::unordered_map<std::string, Entry> entries;       // by name
  std::unordered_map<std::string, std::string> names;  // FunctionKey -> first name
  std::unordered_map<std::string, AdjustFn> adjusters;  // InstanceAdjuster key -> conversion
};

void FunctionManager::RegisterAdjuster(const std::string& key, AdjustFn adjust) {
  std::unique_lock lock(state_->mu);
  state_->adjusters.emplace(key, adjust);
}

FunctionManager::AdjustFn FunctionManager::GetAdjuster(const std::string& key) const {
  std::shared_lock lock(state_->mu);
  auto it = state_->adjusters.find(key);
  return it == state_->adjusters.end() ? nullptr : it->second;
}

FunctionManager::FunctionManager() : state_(std::make_unique<State>()) {}
FunctionManager::~FunctionManager() = default;

FunctionManager& FunctionManager::Instance() {
  // Leaked on purpose: static destructors of user libraries may still look functions up.
  static FunctionManager* instance = new FunctionManager();
  return *instance;
}

const RemoteFunction* FunctionManager::GetFunction(const std::string& name) const {
  std::shared_lock lock(state_->mu);
  auto it = state_->entries.find(name);
  return it != state_->entries.end() && it->second.function ? &it->second.function : nullptr;
}

const RemoteMemberFunction* FunctionManager::GetMemberFunction(const std::string& name) const {
  std::shared_lock lock(state_->mu);
  auto it = state_->entries.find(name);
  return it != state_->entries.end() && it->second.member_function ? &it->second.member_function
                                                                   : nullptr;
}

const ActorFactory* FunctionManager::GetActorFactory(const std::string& name) const {
  std::shared_lock lock(state_->mu);
  auto it = state_->entries.find(name);
  return it != state_->entries.end() && it->second.actor_factory ? &it->second.actor_factory
                                                                 : nullptr;
}

std::string FunctionManager::GetFunctionName(const std::string& key) const {
  std::shared_lock lock(state_->mu);
  auto it = state_->names.find(key);
  return it == state_->names.end() ? std::string() : it->second;
}

std::vector<std::string> FunctionManager::GetFunctionNames() const {
  std::vector<std::string> names;
  {
    std::shared_lock lock(state_->mu);
    for (const auto& [name, entry] : state_->entries) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void FunctionManager::Register(const std::string& name, const std::string& key, Entry entry) {
  std::unique_lock lock(state_->mu);
  if (!state_->entries.emplace(name, std::move(entry)).second) {
    throw RayException("Duplicate RAY_REMOTE function: " + name);
  }
  state_->names.emplace(key, name);  // keeps the first name of a function registered twice
}

std::vector<std::string> SplitRemoteNames(const std::string& text) {
  std::vector<std::string> names;
  std::string current;
  int depth = 0;
  auto flush = [&] {
    size_t begin = current.find_first_not_of(" \t\n");
    size_t end = current.find_last_not_of(" \t\n");
    names.push_back(begin == std::string::npos ? "" : current.substr(begin, end - begin + 1));
    current.clear();
  };
  for (char c : text) {
    if (c == '(' || c == '<' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == '>' || c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      flush();
    } else {
      current.push_back(c);
    }
  }
  flush();
  return names;
}

}  // namespace ray::internal
