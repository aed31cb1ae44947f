// C++ calling Python (ray::PyFunction, ray::PyActorClass, ray::PyActorMethod; docs/python.md,
// "Across languages") against a real private cluster: the Python module lives in a directory on
// the job's code_search_path beside the C++ library, so one job runs both kinds of worker. The
// Python workers run MORAY_PYTHON or python3 from PATH, importing moray from PYTHONPATH (set by
// CTest to the build tree's package).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/cross_language/cpp_functions.h"
#include "tests/scoped_env.h"
#include "tests/test_env.h"

namespace {

class CrossLanguageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ray::RayConfig config;
    config.code_search_path = {PYTHON_MODULES_DIR, CROSS_LANGUAGE_LIBRARY};
    config.head_args = {"--num-cpus=2"};
    ray::Init(config);
  }
  static void TearDownTestSuite() { ray::Shutdown(); }
};

TEST_F(CrossLanguageTest, PythonFunctionsTakeAndReturnMsgpackValues) {
  EXPECT_EQ(*ray::Task(ray::PyFunction<int>{"xlang_functions", "add"}).Remote(1, 2).Get(), 3);
  // A reference argument travels by reference and reaches Python as its value.
  ray::ObjectRef<int> forty = ray::Put(40);
  EXPECT_EQ(*ray::Task(ray::PyFunction<int>{"xlang_functions", "add"}).Remote(forty, 2).Get(), 42);
  std::vector<std::string> words = {"across", "languages"};
  EXPECT_EQ(*ray::Task(ray::PyFunction<std::string>{"xlang_functions", "join"})
                 .SetName("join words")
                 .Remote(words, "-")
                 .Get(),
            "across-languages");
  std::map<std::string, int> counts = {{"a", 1}, {"b", 2}};
  auto doubled =
      ray::Task(ray::PyFunction<std::map<std::string, int>>{"xlang_functions", "doubled"})
          .Remote(counts)
          .Get();
  EXPECT_EQ(*doubled, (std::map<std::string, int>{{"a", 2}, {"b", 4}}));
}

TEST_F(CrossLanguageTest, PythonActorKeepsItsStateAcrossCalls) {
  ray::ActorHandleXlang counter =
      ray::Actor(ray::PyActorClass{"xlang_functions", "Counter"}).Remote(10);
  EXPECT_EQ(*counter.Task(ray::PyActorMethod<int>{"add"}).Remote(5).Get(), 15);
  EXPECT_EQ(*counter.Task(ray::PyActorMethod<int>{"add"}).Remote(ray::Put(7)).Get(), 22);
  EXPECT_EQ(*counter.Task(ray::PyActorMethod<int>{"get"}).Remote().Get(), 22);
  try {
    counter.Task(ray::PyActorMethod<int>{"fail"}).Remote().Get();
    ADD_FAILURE() << "the Python actor's KeyError did not reach C++";
  } catch (const ray::internal::RayTaskException& e) {
    EXPECT_NE(std::string(e.what()).find("KeyError"), std::string::npos) << e.what();
  }
  // The actor lives on after a method raised.
  EXPECT_EQ(*counter.Task(ray::PyActorMethod<int>{"get"}).Remote().Get(), 22);
  counter.Kill();
}

TEST_F(CrossLanguageTest, PythonExceptionSurfacesAsRayTaskExceptionWithTraceback) {
  auto failed = ray::Task(ray::PyFunction<int>{"xlang_functions", "fail"}).Remote("on purpose");
  try {
    failed.Get();
    ADD_FAILURE() << "the Python exception did not reach C++";
  } catch (const ray::internal::RayTaskException& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("ValueError: on purpose"), std::string::npos) << what;
    EXPECT_NE(what.find("Traceback"), std::string::npos) << what;
    EXPECT_NE(what.find("xlang_functions.py"), std::string::npos) << what;
  }
}

TEST_F(CrossLanguageTest, PythonValueWithoutMsgpackFormIsAClearError) {
  try {
    ray::Task(ray::PyFunction<int>{"xlang_functions", "no_msgpack_form"}).Remote().Get();
    ADD_FAILURE() << "a set crossed to C++";
  } catch (const ray::internal::RayTaskException& e) {
    EXPECT_NE(std::string(e.what()).find("no msgpack form"), std::string::npos) << e.what();
  }
}

TEST_F(CrossLanguageTest, MissingModuleOrFunctionNamesIt) {
  try {
    ray::Task(ray::PyFunction<int>{"no_such_module_here", "f"}).Remote().Get();
    ADD_FAILURE() << "an unknown module was called";
  } catch (const ray::internal::RayTaskException& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_module_here"), std::string::npos) << e.what();
  }
  try {
    ray::Task(ray::PyFunction<int>{"xlang_functions", "no_such_function"}).Remote().Get();
    ADD_FAILURE() << "an unknown function was called";
  } catch (const ray::internal::RayTaskException& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_function"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ray::Task(ray::PyFunction<int>{"", "f"}), ray::internal::RayException);
}

TEST_F(CrossLanguageTest, CppTasksOfTheSameJobRunFromItsLibrary) {
  EXPECT_EQ(*ray::Task(cross_language::Plus).Remote(2, 3).Get(), 5);
  // A C++ task's result feeds a Python task, and back.
  auto sum = ray::Task(cross_language::Plus).Remote(1, 1);
  auto python = ray::Task(ray::PyFunction<int>{"xlang_functions", "add"}).Remote(sum, 10);
  EXPECT_EQ(*ray::Task(cross_language::Plus).Remote(python, 100).Get(), 112);
}

// A cluster whose raylet finds no interpreter (no MORAY_PYTHON, no python3 on its PATH: the
// private cluster inherits the driver's environment at Init) fails a Python task saying so.
TEST(CrossLanguageWithoutPythonTest, PythonTaskFailsNamingTheMissingInterpreter) {
  const std::string empty_dir = ::testing::TempDir() + "/cross_language_no_python";
  std::filesystem::create_directories(empty_dir);
  {
    moray::testing::ScopedEnv no_python("MORAY_PYTHON", std::nullopt);
    moray::testing::ScopedEnv path("PATH", empty_dir);
    ray::RayConfig config;
    config.head_args = {"--num-cpus=1"};
    ray::Init(config);
  }
  try {
    ray::Task(ray::PyFunction<int>{"xlang_functions", "add"}).Remote(1, 2).Get(60000);
    ADD_FAILURE() << "a Python task ran without an interpreter";
  } catch (const ray::internal::RayTimeoutException& e) {
    ADD_FAILURE() << "no answer: " << e.what();
  } catch (const ray::internal::RayException& e) {
    EXPECT_NE(std::string(e.what()).find("needs a Python interpreter"), std::string::npos)
        << e.what();
  }
  ray::Shutdown();
}

}  // namespace
