#include "gtest/gtest.h"
TEST(ChannelTest, Placeholder) {}
