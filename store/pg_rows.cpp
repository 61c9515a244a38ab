#include "store/pg_rows.hpp"

namespace cmdb::pg {

TokenRecord ReadToken(const Row& s) {
  TokenRecord t;
  t.id = s.Int(0);
  t.name = s.Text(1);
  t.role = ParseRole(s.Text(2)).value_or(Role::kReader);
  t.hash = s.Text(3);
  t.created_at = s.Int(4);
  t.revoked_at = s.Int(5);
  return t;
}

}  // namespace cmdb::pg
