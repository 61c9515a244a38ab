// libFuzzer entry for one target, chosen at build time (CMDB_FUZZ_TARGET); see scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cmdb::fuzz::Run(CMDB_FUZZ_TARGET, data, size);
  return 0;
}
