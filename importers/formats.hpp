// Discovery formats: each parser turns a source file into candidate CIs and relationships on
// the default schema (the mappings are documented in docs/importers.md).
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"
#include "importers/candidates.hpp"

namespace cmdb::importers {

struct ParseOptions {
  std::string mapping;  // CSV: the mapping (JSON text); required for csv
  // ndjson: the schema its lines are read against (the bulk reader's, bulk/bulk_reader.hpp);
  // required for ndjson, not owned, must outlive the call.
  const Schema* schema = nullptr;
  // kubernetes: the cluster the objects belong to (their `cluster` attribute, which scopes
  // namespaces and nodes; docs/importers.md); "" leaves them unscoped.
  std::string cluster;
};

// "ndjson", "csv", "nmap", "kubernetes", "terraform", "ansible", "aws".
std::vector<std::string> FormatNames();

// Parses `text` as `format`. A malformed source (bad XML/JSON/CSV, an unsupported version, an
// unknown format) returns an error naming where (line and column, JSON path or XML element);
// problems with single records are added to out.errors (all of them) and refuse the import.
Status ParseSource(const std::string& format, std::string_view text, const ParseOptions& options,
                   CandidateSet& out);

// The individual parsers (see ParseSource).
// The bulk format, read by the bulk reader as POST /v1/bulk reads it: the same lines are refused
// with the same messages (out.errors, located "line 12"); what is accepted becomes candidates.
Status ParseNdjson(std::string_view text, const Schema& schema, CandidateSet& out);
Status ParseCsv(std::string_view text, const std::string& mapping, CandidateSet& out);
Status ParseNmap(std::string_view text, CandidateSet& out);
Status ParseKubernetes(std::string_view text, CandidateSet& out, const std::string& cluster = "");
Status ParseTerraform(std::string_view text, CandidateSet& out);
Status ParseAnsible(std::string_view text, CandidateSet& out);
Status ParseAws(std::string_view text, CandidateSet& out);

}  // namespace cmdb::importers
