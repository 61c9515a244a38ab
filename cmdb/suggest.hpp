// Did-you-mean suggestions and the message for unknown names, shared by every layer.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cmdb {

// Edit distance between two names, ignoring case.
size_t EditDistance(std::string_view a, std::string_view b);
// The closest candidate within a small distance, or "" when none is close.
std::string ClosestName(std::string_view name, const std::vector<std::string>& candidates);
// " (did you mean 'X'?)" or "" when nothing is close.
std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates);
// The one message for a name that is not defined, in every layer:
// "unknown <what> '<name>'" followed by DidYouMean(name, candidates), e.g.
// "unknown class 'Sevice' (did you mean 'Service'?)". `what` is "class", "relationship type"...
std::string UnknownName(std::string_view what, std::string_view name,
                        const std::vector<std::string>& candidates);

}  // namespace cmdb
