#include <gtest/gtest.h>

#include "core/logging.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  armap::InitLogging(armap::LogLevel::kWarn);
  return RUN_ALL_TESTS();
}
