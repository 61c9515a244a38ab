// The one instantiation of the DDL grammar (Spirit X3 compiles slowly: keep it to one TU).
#include "query/ddl/config.hpp"
#include "query/ddl/ddl_def.hpp"

namespace cmdb::ddl::parser {
BOOST_SPIRIT_INSTANTIATE(script_type, iterator_type, context_type)
}  // namespace cmdb::ddl::parser
