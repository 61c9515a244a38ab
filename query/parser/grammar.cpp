// The one instantiation of the query grammar (Spirit X3 compiles slowly: keep it to one TU).
#include "query/parser/config.hpp"
#include "query/parser/grammar_def.hpp"

namespace cmdb::gql::parser {
BOOST_SPIRIT_INSTANTIATE(query_type, iterator_type, context_type)
}  // namespace cmdb::gql::parser
