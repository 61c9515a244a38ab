#include "process/history.hpp"

namespace cmdb::process {
namespace {

template <typename Rec>
std::optional<Rec> Pick(const std::vector<Rec>& versions, TxId tx) {
  for (const Rec& v : versions) {
    if (v.valid_from <= tx && (v.valid_to == kNoTx || v.valid_to > tx)) {
      return v.retired ? std::nullopt : std::optional<Rec>(v);
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::optional<CiRecord>> CiAt(Store& store, const CiRecord* current, CiId id, TxId tx) {
  if (current && current->valid_from <= tx) return std::optional<CiRecord>(*current);
  auto history = store.CiHistory(id);
  if (!history.ok()) return history.status();
  return Pick(*history, tx);
}

Result<std::optional<RelRecord>> RelAt(Store& store, const std::optional<RelRecord>& current, RelId id,
                                       TxId tx) {
  if (current && current->valid_from <= tx) return current;
  auto history = store.RelHistory(id);
  if (!history.ok()) return history.status();
  return Pick(*history, tx);
}

}  // namespace cmdb::process
