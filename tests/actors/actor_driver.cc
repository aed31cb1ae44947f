// A second driver process for actors_test.cc:
//   actor_driver detached ADDRESS NAME NAMESPACE   create a detached Counter(0), Add(5), exit
//   actor_driver owned ADDRESS NAME NAMESPACE      create a non-detached Counter(0), Add(5), exit
//   actor_driver default-detached ADDRESS NAME NAMESPACE   as owned, but with
//                                 RayConfig::default_actor_lifetime = DETACHED
//   actor_driver get ADDRESS NAME NAMESPACE        find the actor, print "value=<Get()>"
// Each prints READY once done. Workers re-execute this program.
#include <cstdio>
#include <cstring>
#include <string>

#include "ray/api.h"
#include "tests/actors/counter.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    ray::Init();  // a worker never returns from here
    std::fprintf(stderr, "usage: actor_driver detached|owned|get ADDRESS NAME NAMESPACE\n");
    return 2;
  }
  const std::string mode = argv[1];
  ray::RayConfig config;
  config.address = argv[2];
  if (mode == "default-detached") config.default_actor_lifetime = ray::ActorLifetime::DETACHED;
  ray::Init(config);
  if (mode == "get") {
    auto handle = ray::GetActor<Counter>(argv[3], argv[4]);
    if (!handle) {
      std::printf("not found\n");
      return 1;
    }
    std::printf("value=%d\n", *handle->Task(&Counter::Get).Remote().Get());
  } else {
    auto creator = ray::Actor(Counter::FactoryCreate).SetName(argv[3], argv[4]);
    if (mode == "detached") creator.SetLifetime(ray::ActorLifetime::DETACHED);
    auto counter = creator.Remote(0);
    std::printf("value=%d\n", *counter.Task(&Counter::Add).Remote(5).Get());
  }
  std::printf("READY\n");
  std::fflush(stdout);
  ray::Shutdown();
  return 0;
}
