#include "ray/api/function_manager.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "api/task_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ray/api.h"

namespace moray::api {
namespace {

using ray::internal::ArgView;
using ray::internal::FunctionManager;
using ray::internal::Serializer;
using ::testing::HasSubstr;

int Plus(int a, int b) { return a + b; }
int Twice(int a) { return 2 * a; }
double Twice(double a) { return 2 * a; }
void Nothing() {}
std::string Greet(const std::string& name) { return "hello " + name; }
int NotRegistered(int a) { return a; }

class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  static Counter* FactoryCreate(int start) { return new Counter(start); }
  static Counter* FactoryCreate() { return new Counter(0); }
  int Add(int delta) { return value_ += delta; }
  int Value() const { return value_; }

 private:
  int value_;
};

RAY_REMOTE(Plus, RAY_FUNC(Twice, int),   &Counter::Add, RAY_FUNC(Counter::FactoryCreate, int));
RAY_REMOTE(Nothing, Greet, &Counter::Value);

// Arguments as msgpack buffers, kept alive by the test.
struct Args {
  std::vector<std::string> buffers;
  template <typename... T>
  explicit Args(const T&... values) : buffers{Serializer::Serialize(values)...} {}
  std::vector<ArgView> Views() const {
    std::vector<ArgView> views;
    for (const auto& b : buffers) views.push_back({b.data(), b.size()});
    return views;
  }
};

template <typename T>
T Decode(const std::string& bytes) {
  return Serializer::Deserialize<T>(bytes.data(), bytes.size());
}

TEST(SplitRemoteNamesTest, SplitsAtTopLevelCommasAndTrims) {
  EXPECT_THAT(ray::internal::SplitRemoteNames("Plus, &Counter::Add, RAY_FUNC(g, int)"),
              ::testing::ElementsAre("Plus", "&Counter::Add", "RAY_FUNC(g, int)"));
  EXPECT_THAT(ray::internal::SplitRemoteNames(" f ,RAY_FUNC(h, std::map<int, int>),&A<int, 2>::M"),
              ::testing::ElementsAre("f", "RAY_FUNC(h, std::map<int, int>)", "&A<int, 2>::M"));
}

TEST(FunctionManagerTest, RegistersEachEntryUnderTheTextWritten) {
  std::vector<std::string> names = FunctionManager::Instance().GetFunctionNames();
  for (const char* expected : {"Plus", "RAY_FUNC(Twice, int)", "&Counter::Add",
                               "RAY_FUNC(Counter::FactoryCreate, int)", "Nothing", "Greet",
                               "&Counter::Value"}) {
    EXPECT_THAT(names, ::testing::Contains(expected));
  }
}

TEST(FunctionManagerTest, FindsNamesByFunctionAddress) {
  auto& manager = FunctionManager::Instance();
  EXPECT_EQ(manager.GetFunctionName(ray::internal::FunctionKey(&Plus)), "Plus");
  EXPECT_EQ(manager.GetFunctionName(ray::internal::FunctionKey(RAY_FUNC(Twice, int))),
            "RAY_FUNC(Twice, int)");
  EXPECT_EQ(manager.GetFunctionName(ray::internal::FunctionKey(&Counter::Add)), "&Counter::Add");
  EXPECT_EQ(manager.GetFunctionName(ray::internal::FunctionKey(RAY_FUNC(Twice, double))), "");
  EXPECT_EQ(manager.GetFunctionName(ray::internal::FunctionKey(&NotRegistered)), "");
}

TEST(FunctionManagerTest, CallsFreeFunctions) {
  auto& manager = FunctionManager::Instance();
  ASSERT_NE(manager.GetFunction("Plus"), nullptr);
  EXPECT_EQ(Decode<int>((*manager.GetFunction("Plus"))(Args(2, 3).Views())), 5);
  EXPECT_EQ(Decode<int>((*manager.GetFunction("RAY_FUNC(Twice, int)"))(Args(21).Views())), 42);
  EXPECT_EQ(Decode<std::string>((*manager.GetFunction("Greet"))(Args(std::string("moray")).Views())),
            "hello moray");
  EXPECT_EQ((*manager.GetFunction("Nothing"))({}), Serializer::SerializeNil());
  EXPECT_EQ(manager.GetFunction("Unknown"), nullptr);
  EXPECT_EQ(manager.GetFunction("&Counter::Add"), nullptr);  // a member: not a plain function
}

TEST(FunctionManagerTest, CreatesActorsAndCallsMembers) {
  auto& manager = FunctionManager::Instance();
  const auto* factory = manager.GetActorFactory("RAY_FUNC(Counter::FactoryCreate, int)");
  ASSERT_NE(factory, nullptr);
  std::shared_ptr<void> counter = (*factory)(Args(10).Views());
  const auto* add = manager.GetMemberFunction("&Counter::Add");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(Decode<int>((*add)(counter.get(), Args(5).Views())), 15);
  const auto* value = manager.GetMemberFunction("&Counter::Value");
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(Decode<int>((*value)(counter.get(), {})), 15);
}

TEST(FunctionManagerTest, ArityMismatchIsAClearInvalidArgument) {
  const auto* plus = FunctionManager::Instance().GetFunction("Plus");
  try {
    (*plus)(Args(1, 2, 3).Views());
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "function Plus takes 2 arguments but the caller passed 3");
  }
}

TEST(FunctionManagerTest, TypeMismatchNamesTheArgument) {
  const auto* plus = FunctionManager::Instance().GetFunction("Plus");
  try {
    (*plus)(Args(1, std::string("two")).Views());
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("argument 2 of Plus: cannot convert the value to int (msgpack: "));
  }
  ArgView garbage{"\xc1", 1};  // 0xc1 is never used by msgpack
  EXPECT_THROW((*plus)({garbage, garbage}), std::invalid_argument);
}

TEST(FunctionManagerTest, DuplicateNameThrows) {
  try {
    ray::internal::RegisterRemoteFunctions("Plus", &Plus);
    FAIL() << "expected RayException";
  } catch (const ray::internal::RayException& e) {
    EXPECT_STREQ(e.what(), "Duplicate RAY_REMOTE function: Plus");
  }
}

TEST(FunctionManagerTest, TaskOfUnregisteredFunctionThrowsAtTask) {
  try {
    ray::Task(NotRegistered);
    FAIL() << "expected RayException";
  } catch (const ray::internal::RayException& e) {
    EXPECT_STREQ(e.what(), "Function not found. Please use RAY_REMOTE to register this function.");
  }
}

TEST(TaskErrorTest, FormatsTypeAndMessage) {
  auto error = std::make_exception_ptr(std::out_of_range("index 7"));
  EXPECT_EQ(FormatTaskError("Plus", error),
            "An exception was thrown while executing function(Plus): std::out_of_range: index 7");
  EXPECT_EQ(FormatTaskError("F", std::make_exception_ptr(42)),
            "An exception was thrown while executing function(F): int: (not a std::exception)");
}

}  // namespace
}  // namespace moray::api
