// The fuzz targets: each feeds arbitrary bytes to one front end of cmdb. Used by the libFuzzer
// binaries (fuzz_main.cpp, built with clang by scripts/fuzz.sh) and by the replay test, which runs
// every corpus and regression input in the normal test suite.
// A target returns normally for any input; a crash or sanitizer report is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cmdb::fuzz {

// "query", "ddl", "bulk", "bulk-line" (the two bulk line parsers agree), and "import-<format>" for every importer format.
std::vector<std::string> TargetNames();
// Runs one input through a target (by name). Unknown names abort.
void Run(const std::string& target, const uint8_t* data, size_t size);

}  // namespace cmdb::fuzz
