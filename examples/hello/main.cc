// Hello, Moray: a remote function, a few tasks, their results.
//
// ray::Init() with no address starts a private local cluster (the installed `moray` executable
// runs its services) and Shutdown() stops it; the tasks run in worker processes that re-execute
// this program. Pass --ray_address=HOST:PORT (or set RAY_ADDRESS) to use a running cluster instead.
#include <ray/api.h>

#include <iostream>
#include <string>
#include <vector>

int Square(int x) { return x * x; }

std::string Greet(const std::string& name) { return "hello, " + name; }

RAY_REMOTE(Square, Greet);

int main(int argc, char** argv) {
  ray::RayConfig config;
  ray::Init(config, argc, argv);

  std::vector<ray::ObjectRef<int>> squares;
  for (int i = 0; i < 5; ++i) squares.push_back(ray::Task(Square).Remote(i));
  std::cout << "squares:";
  for (const auto& value : ray::Get(squares)) std::cout << " " << *value;
  std::cout << "\n";

  // An ObjectRef as an argument: the second task waits for the first one's result.
  auto nested = ray::Task(Square).Remote(ray::Task(Square).Remote(3));
  std::cout << "square of square of 3: " << *ray::Get(nested) << "\n";

  std::cout << *ray::Task(Greet).Remote(std::string("moray")).Get() << "\n";

  ray::Shutdown();
  return 0;
}
