// The one Catch2 main for all test executables (compiled once).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
