// The change feed at the API's edge: a feed transaction as JSON, and the feed's filters read from
// query parameters (GET /v1/feed, GET /v1/feed/stream) or from a JSON object (a webhook's
// "filter"), with the same names and the same checks.
// Thread safety: pure functions.
#pragma once

#include <string>

#include "api/http_types.hpp"
#include "api/json_codec.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"
#include "process/feed.hpp"

namespace cmdb::api {

// {"tx", "time", "actor", "source", "change_ref", "message", "prev_hash", "hash",
//  "schema_version" (only when set), "entries": [{"op": "created"|"updated"|"retired",
//  "kind": "ci"|"relationship", "id", "class" (CIs) | "type", "from", "to" (relationships),
//  "version", "changes": {"<attribute>": {"before": v|null, "after": v|null}, ...}}]}
// prev_hash and hash are null for a write not committed yet.
Json FeedTxToJson(const process::FeedTx& tx);

// The filter names, as query parameters and as members of a JSON filter object: class, type,
// source, actor, not_actor, not_source (each a comma-separated list as a parameter; a string or
// an array of strings in JSON) and change (one change reference).
inline constexpr const char* kFeedFilterNames[] = {"class",     "type",       "source", "actor",
                                                   "not_actor", "not_source", "change"};

// The filter in the query parameters of `req` (other parameters are ignored: the route's
// parameter list refuses unknown ones). With `schema`, class and relationship type names must be
// defined (unless the schema is open), and a class also selects its subclasses. Errors
// (kInvalidArgument): "unknown class 'Sever' in filter 'class' (did you mean 'Server'?)",
// "unknown relationship type 'RUNS' in filter 'type'", "filter 'actor' has an empty name".
Result<process::FeedFilter> FeedFilterFromParams(const HttpRequest& req, const Schema* schema);

// The filter in a JSON object (a webhook's "filter"); `where` is its path for messages
// ("filter"). Besides the errors above: a member that is not a filter name ("unknown field ...
// in \"filter\"; allowed: ..."), a member that is neither a string nor an array of strings
// ("\"filter.class\" must be a string or an array of strings"), a non-object.
Result<process::FeedFilter> FeedFilterFromJson(const Json& j, const std::string& where,
                                               const Schema* schema);

// The filter as a JSON object in the form FeedFilterFromJson reads (lists as arrays, members
// only when set). Subclasses a schema added are listed as classes.
Json FeedFilterToJson(const process::FeedFilter& filter);

}  // namespace cmdb::api
