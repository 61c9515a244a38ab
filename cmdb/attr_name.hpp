// Interned attribute names: every distinct attribute name is stored once for the life of the
// process, so the millions of attribute maps of a large CMDB hold an 8-byte pointer per entry
// instead of their own copy of "environment" or "ip_address".
//
// The pool only grows: a name stays after the last attribute using it is gone. Its size is
// bounded by the distinct names ever written (the schema's attributes, plus what open-mode
// classes and relationship properties use), which the history keeps anyway.
// Thread safety: InternAttrName may be called from any thread; the returned reference is valid
// for the life of the process.
#pragma once

#include <string>
#include <string_view>

namespace cmdb {

// The interned copy of `name`. Equal names give the same object, so two interned names are
// equal exactly when their addresses are.
const std::string& InternAttrName(std::string_view name);

// How many distinct names are interned (diagnostics and tests).
size_t InternedAttrNameCount();

}  // namespace cmdb
