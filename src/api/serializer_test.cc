#include "ray/api/serializer.h"

#include <any>
#include <array>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/fake_ray_runtime.h"
#include "api/runtime_slot.h"
#include "gtest/gtest.h"
#include "ray/api.h"

// A value whose converter deserializes another value inside it (as ObjectRef and handle
// converters may), then reads more of its own object: the nested call must not free it.
struct Wrapped {
  std::vector<std::string> inner;  // carried as msgpack bytes inside the outer array
  std::vector<int> after;
};
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {
  template <>
  struct convert<Wrapped> {
    const msgpack::object& operator()(const msgpack::object& o, Wrapped& v) const {
      if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) throw msgpack::type_error();
      const msgpack::object& bytes = o.via.array.ptr[0];
      v.inner = ray::internal::Serializer::Deserialize<std::vector<std::string>>(
          bytes.via.bin.ptr, bytes.via.bin.size);
      o.via.array.ptr[1].convert(v.after);
      return o;
    }
  };
  template <>
  struct pack<Wrapped> {
    template <typename Stream>
    packer<Stream>& operator()(packer<Stream>& p, const Wrapped& v) const {
      std::string inner = ray::internal::Serializer::Serialize(v.inner);
      p.pack_array(2);
      p.pack_bin(static_cast<uint32_t>(inner.size()));
      p.pack_bin_body(inner.data(), static_cast<uint32_t>(inner.size()));
      p.pack(v.after);
      return p;
    }
  };
  }  // namespace adaptor
}
}  // namespace msgpack

namespace moray::api {
namespace {

using ray::internal::Serializer;

struct Point {
  int x = 0;
  double y = 0;
  std::string label;
  std::vector<int> tags;
  bool operator==(const Point& o) const {
    return x == o.x && y == o.y && label == o.label && tags == o.tags;
  }
  MSGPACK_DEFINE(x, y, label, tags);
};

template <typename T>
T RoundTrip(const T& value) {
  std::string bytes = Serializer::Serialize(value);
  return Serializer::Deserialize<T>(bytes.data(), bytes.size());
}

TEST(SerializerTest, ArithmeticAndStringsRoundTrip) {
  EXPECT_EQ(RoundTrip(42), 42);
  EXPECT_EQ(RoundTrip(-7LL), -7LL);
  EXPECT_EQ(RoundTrip(uint64_t{18446744073709551615ull}), 18446744073709551615ull);
  EXPECT_EQ(RoundTrip(int8_t{-128}), -128);
  EXPECT_FLOAT_EQ(RoundTrip(1.5f), 1.5f);
  EXPECT_DOUBLE_EQ(RoundTrip(3.25), 3.25);
  EXPECT_EQ(RoundTrip(true), true);
  EXPECT_EQ(RoundTrip(false), false);
  EXPECT_EQ(RoundTrip(std::string("hello\0world", 11)), std::string("hello\0world", 11));
  EXPECT_EQ(RoundTrip(std::string()), "");
}

TEST(SerializerTest, ContainersRoundTrip) {
  std::vector<int> v{1, 2, 3};
  EXPECT_EQ(RoundTrip(v), v);
  std::list<std::string> l{"a", "b"};
  EXPECT_EQ(RoundTrip(l), l);
  std::map<std::string, std::vector<double>> m{{"x", {1.0, 2.5}}, {"y", {}}};
  EXPECT_EQ(RoundTrip(m), m);
  std::unordered_map<int, std::string> um{{1, "one"}, {2, "two"}};
  EXPECT_EQ(RoundTrip(um), um);
  std::set<int> s{3, 1, 2};
  EXPECT_EQ(RoundTrip(s), s);
  std::array<int, 3> a{7, 8, 9};
  EXPECT_EQ(RoundTrip(a), a);
  std::optional<int> some = 5, none;
  EXPECT_EQ(RoundTrip(some), some);
  EXPECT_EQ(RoundTrip(none), none);
}

TEST(SerializerTest, PairsAndTuplesRoundTrip) {
  std::pair<int, std::string> p{1, "one"};
  EXPECT_EQ(RoundTrip(p), p);
  std::tuple<int, double, std::string, bool> t{1, 2.5, "three", true};
  EXPECT_EQ(RoundTrip(t), t);
}

TEST(SerializerTest, ByteVectorsRoundTripAsBin) {
  std::vector<char> chars{'\0', '\xff', 'a'};
  std::string bytes = Serializer::Serialize(chars);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xc4);  // msgpack bin8
  EXPECT_EQ(RoundTrip(chars), chars);
  std::vector<uint8_t> octets{0, 255, 128};
  EXPECT_EQ(RoundTrip(octets), octets);
}

TEST(SerializerTest, MsgpackDefineStructRoundTrips) {
  Point p{3, -1.5, "corner", {1, 2}};
  EXPECT_EQ(RoundTrip(p), p);
  std::vector<Point> points{p, Point{}};
  EXPECT_EQ(RoundTrip(points), points);
}

TEST(SerializerTest, AnyOfSimpleTypesRoundTrips) {
  EXPECT_EQ(std::any_cast<std::string>(RoundTrip(std::any(std::string("s")))), "s");
  EXPECT_EQ(std::any_cast<std::string>(RoundTrip(std::any("literal"))), "literal");
  EXPECT_DOUBLE_EQ(std::any_cast<double>(RoundTrip(std::any(2.5))), 2.5);
  EXPECT_FLOAT_EQ(std::any_cast<float>(RoundTrip(std::any(0.5f))), 0.5f);
  EXPECT_EQ(std::any_cast<bool>(RoundTrip(std::any(true))), true);
  // msgpack keeps no C++ type: integers come back as uint64_t / int64_t.
  EXPECT_EQ(std::any_cast<uint64_t>(RoundTrip(std::any(7))), 7u);
  EXPECT_EQ(std::any_cast<int64_t>(RoundTrip(std::any(-3))), -3);
  std::vector<char> bin{'a', '\0'};
  EXPECT_EQ(std::any_cast<std::vector<char>>(RoundTrip(std::any(bin))), bin);
  EXPECT_FALSE(RoundTrip(std::any()).has_value());
  std::vector<std::any> mixed{std::any(1), std::any(std::string("x"))};
  auto back = RoundTrip(mixed);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(std::any_cast<std::string>(back[1]), "x");
}

TEST(SerializerTest, AnyOfUnsupportedTypeThrows) {
  EXPECT_THROW(Serializer::Serialize(std::any(std::vector<int>{1})), msgpack::type_error);
  std::string array = Serializer::Serialize(std::vector<int>{1});
  EXPECT_THROW(Serializer::Deserialize<std::any>(array.data(), array.size()), msgpack::type_error);
}

TEST(SerializerTest, WrongTypeAndMalformedBytesThrow) {
  std::string text = Serializer::Serialize(std::string("not a number"));
  EXPECT_THROW(Serializer::Deserialize<int>(text.data(), text.size()), std::bad_cast);
  std::string number = Serializer::Serialize(1) + Serializer::Serialize(2);
  EXPECT_THROW(Serializer::Deserialize<int>(number.data(), number.size()), std::runtime_error);
  std::string truncated = Serializer::Serialize(std::string("abcdef")).substr(0, 3);
  EXPECT_THROW(Serializer::Deserialize<std::string>(truncated.data(), truncated.size()),
               std::exception);
}

TEST(SerializerTest, NilIsWhatVoidReturns) {
  std::string nil = Serializer::SerializeNil();
  ASSERT_EQ(nil.size(), 1u);
  EXPECT_EQ(static_cast<unsigned char>(nil[0]), 0xc0);
}

class NestedRefTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = std::make_unique<FakeRayRuntime>();
    fake_ = fake.get();
    InstallRuntime(std::move(fake));
  }
  void TearDown() override { UninstallRuntime(); }
  FakeRayRuntime* fake_ = nullptr;
};

TEST_F(NestedRefTest, RefInsideValueCarriesOwnerAndRegistersBorrower) {
  std::string bytes;
  {
    ray::ObjectRef<int> ref("id-1");
    EXPECT_EQ(fake_->references["id-1"], 1);
    bytes = Serializer::Serialize(std::vector<ray::ObjectRef<int>>{ref});
    EXPECT_EQ(fake_->references["id-1"], 1);  // the temporary vector's copy came and went
  }
  EXPECT_EQ(fake_->references["id-1"], 0);
  auto refs = Serializer::Deserialize<std::vector<ray::ObjectRef<int>>>(bytes.data(), bytes.size());
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].BinaryID(), "id-1");
  EXPECT_EQ(refs[0].ID(), "69642d31");  // hex of "id-1"
  ASSERT_EQ(fake_->borrowed.size(), 1u);
  EXPECT_EQ(fake_->borrowed[0], std::make_pair(std::string("id-1"), std::string("owner-of-id-1")));
  EXPECT_EQ(fake_->references["id-1"], 1);
}

TEST_F(NestedRefTest, CopyMoveAndDestroyCountReferences) {
  {
    ray::ObjectRef<int> a("x");
    ray::ObjectRef<int> b = a;
    EXPECT_EQ(fake_->references["x"], 2);
    ray::ObjectRef<int> c = std::move(a);
    EXPECT_EQ(fake_->references["x"], 2);
    EXPECT_TRUE(a.BinaryID().empty());
    b = c;
    EXPECT_EQ(fake_->references["x"], 2);
    EXPECT_TRUE(b == c);
  }
  EXPECT_EQ(fake_->references["x"], 0);
}

TEST(ObjectRefTest, DestroyingAfterShutdownIsHarmless) {
  auto fake = std::make_unique<FakeRayRuntime>();
  InstallRuntime(std::move(fake));
  auto ref = std::make_unique<ray::ObjectRef<int>>("y");
  UninstallRuntime();
  ref.reset();  // no runtime: must neither crash nor throw
  EXPECT_EQ(ray::internal::GetRuntimeOrNull(), nullptr);
  EXPECT_THROW(ray::internal::GetRuntime(), ray::internal::RayException);
}

TEST(SerializerTest, ADeserializationInsideAConverterLeavesTheOuterValueIntact) {
  Wrapped value;
  for (int i = 0; i < 200; ++i) value.inner.push_back(std::string(100, static_cast<char>('a' + i % 26)));
  for (int i = 0; i < 1000; ++i) value.after.push_back(i * 3);
  for (int round = 0; round < 3; ++round) {  // the thread's zone is reused between calls
    std::string bytes = Serializer::Serialize(value);
    Wrapped back = Serializer::Deserialize<Wrapped>(bytes.data(), bytes.size());
    EXPECT_EQ(back.inner, value.inner);
    EXPECT_EQ(back.after, value.after);
  }
}

}  // namespace
}  // namespace moray::api
