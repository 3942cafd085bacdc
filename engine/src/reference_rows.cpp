#include "tram/engine/reference_rows.hpp"

namespace tram {
namespace {
std::string key_of(std::string_view table, std::string_view row) {
  std::string k;
  k.reserve(table.size() + 1 + row.size());
  k.append(table).push_back('\0');
  k.append(row);
  return k;
}
}  // namespace

Result<std::optional<RowState>> ReferenceRows::get_row(std::string_view table, std::string_view row) {
  const TableDef* t = rows_.schema().table(table);
  if (!t || t->kind != TableKind::reference) return rows_.get_row(table, row);
  std::string k = key_of(table, row);
  if (auto it = remembered_.find(k); it != remembered_.end()) return it->second;
  auto r = rows_.get_row(table, row);
  if (r.ok()) remembered_.emplace(std::move(k), *r);
  return r;
}

void ReferenceRows::forget(const ChangeSet& cs) {
  if (remembered_.empty()) return;
  for (const Op& op : cs.ops) remembered_.erase(key_of(op.table, op.row));
}

}  // namespace tram
