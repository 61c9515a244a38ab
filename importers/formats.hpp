// Discovery formats: each parser turns a source file into candidate CIs and relationships on
// the default schema (the mappings are documented in docs/importers.md).
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cmdb/status.hpp"
#include "importers/candidates.hpp"

namespace cmdb::importers {

struct ParseOptions {
  std::string mapping;  // CSV: the mapping (JSON text); required for csv
};

// "ndjson", "csv", "nmap", "kubernetes", "terraform", "ansible", "aws".
std::vector<std::string> FormatNames();

// Parses `text` as `format`. A malformed source (bad XML/JSON/CSV, an unsupported version, an
// unknown format) returns an error naming where (line and column, JSON path or XML element);
// problems with single records are added to out.errors (all of them) and refuse the import.
Status ParseSource(const std::string& format, std::string_view text, const ParseOptions& options,
                   CandidateSet& out);

// The individual parsers (see ParseSource).
Status ParseNdjson(std::string_view text, CandidateSet& out);
Status ParseCsv(std::string_view text, const std::string& mapping, CandidateSet& out);
Status ParseNmap(std::string_view text, CandidateSet& out);
Status ParseKubernetes(std::string_view text, CandidateSet& out);
Status ParseTerraform(std::string_view text, CandidateSet& out);
Status ParseAnsible(std::string_view text, CandidateSet& out);
Status ParseAws(std::string_view text, CandidateSet& out);

}  // namespace cmdb::importers
