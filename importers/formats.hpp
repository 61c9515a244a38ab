// Discovery formats: each parser turns a source file into candidate CIs and relationships on
// the default schema (the mappings are documented in docs/importers.md).
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bulk/bulk_reader.hpp"
#include "cmdb/database.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"
#include "importers/candidates.hpp"
#include "importers/import.hpp"
#include "importers/scopes.hpp"

namespace cmdb::importers {

struct ParseOptions {
  std::string mapping;  // CSV: the mapping (JSON text); required for csv
  // ndjson: the schema its lines are read against (the bulk reader's, bulk/bulk_reader.hpp);
  // required for ndjson, not owned, must outlive the call.
  const Schema* schema = nullptr;
  // kubernetes: the cluster the objects belong to (their `cluster` attribute, which scopes
  // namespaces and nodes, and limits what a full scan covers; docs/importers.md); "" leaves them
  // unscoped.
  std::string cluster;
  // aws: the account (12 digits) and region the output was taken from, for records that do not
  // say (describe-vpcs names no region, a classic ELB no account); "" when not given. A record's
  // own values win.
  std::string account, region;
  // ndjson: the database whose committed state the lines naming CIs are checked against, as the
  // bulk loader checks them (ndjson_csv.cpp; a short read per check, no lock held between lines);
  // null: they are not, and RunImport's identify step refuses what names no CI, with its own
  // texts. Not owned.
  const Database* db = nullptr;
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
// with the same messages and codes (out.errors, located "line 12"), with `graph` also those that
// name a CI the bulk loader would not find (with `db`: ParseOptions::db); what is accepted becomes
// candidates. out.lines is the number of lines read.
Status ParseNdjson(std::string_view text, const Schema& schema, const Database* db,
                   CandidateSet& out);
// The refusal of an ndjson import whose records have errors, exactly as POST /v1/bulk refuses the
// same body (bulk::LinesRefused): report.errors (the reader's and the steps', all located "line
// N") become one error per line in line order, at most BulkResult::kMaxListedErrors listed
// (`errors`) of `error_count`. OK when report.errors is empty.
Status NdjsonRefusal(const CandidateSet& set, const ImportReport& report,
                     std::vector<bulk::BulkError>& errors, int64_t& error_count);
Status ParseCsv(std::string_view text, const std::string& mapping, CandidateSet& out);
Status ParseNmap(std::string_view text, CandidateSet& out);
Status ParseKubernetes(std::string_view text, CandidateSet& out, const std::string& cluster = "");
Status ParseTerraform(std::string_view text, CandidateSet& out);
Status ParseAnsible(std::string_view text, CandidateSet& out);
// `given`: the account and region for records that do not name theirs (docs/importers.md).
Status ParseAws(std::string_view text, CandidateSet& out, const CloudScope& given = {});

}  // namespace cmdb::importers
