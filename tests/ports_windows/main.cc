// gtest main for the Windows ports tests, with child modes used by the crash and lock tests
// (Windows has no fork: the test re-runs this executable with a --child-... argument).

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/ports_windows/test_util.h"

int main(int argc, char** argv) {
  if (argc >= 2) {
    const std::string mode = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    if (mode == "--child-state-crash") return edict::ports::wintest::StateCrashChild(args);
    if (mode == "--child-registry-crash") return edict::ports::wintest::RegistryCrashChild(args);
    if (mode == "--child-hold-lock") return edict::ports::wintest::HoldLockChild(args);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
