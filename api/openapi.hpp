// docs/openapi.yaml, the API's OpenAPI description, embedded in the binary at build time
// (cmake/embed_file.cmake writes its definition), so cmdbd serves it at GET /v1/openapi.yaml
// without the source tree.
// Thread safety: a constant.
#pragma once

#include <string_view>

namespace cmdb::api {

// The bytes of docs/openapi.yaml as it was when the binary was built. Static storage.
std::string_view OpenApiYaml();

}  // namespace cmdb::api
