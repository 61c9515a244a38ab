// Replays every fuzz corpus and regression input (tests/fuzz/corpus/<target>/,
// tests/fuzz/regressions/<target>/) through its target in the normal test suite, so a fixed
// crash stays fixed without clang.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz/fuzz_targets.hpp"

TEST_CASE("fuzz corpora and regression inputs run cleanly through their targets") {
  namespace fs = std::filesystem;
  size_t inputs = 0;
  for (const std::string& target : cmdb::fuzz::TargetNames()) {
    for (const char* kind : {"corpus", "regressions"}) {
      fs::path dir = fs::path(CMDB_SOURCE_DIR) / "tests" / "fuzz" / kind / target;
      if (!fs::exists(dir)) continue;
      for (const auto& entry : fs::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        std::string bytes = s.str();
        INFO(entry.path());
        cmdb::fuzz::Run(target, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
        ++inputs;
      }
    }
  }
  CHECK(inputs > 50);
}
