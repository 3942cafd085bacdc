// A RowReader that remembers the rows of reference tables (units, indicators, tasks...) it has
// read, for the length of one write transaction. Authorization reads a reference row for
// nearly every op it checks (a report's indicator, for its range); a push's group of change
// sets names the same few dozen again and again, and those reads were a sixth of the server
// writer's time. Rows of other tables are read through each time.
//
// Exact, not approximate: it lives inside one transaction, whose only writer is its owner, and
// the owner calls forget() with every change set it records, which drops the rows that change
// set wrote. Not thread-safe, like every RowReader.
#pragma once

#include <string>
#include <unordered_map>

#include "tram/engine/changeset.hpp"
#include "tram/engine/row_reader.hpp"

namespace tram {

class ReferenceRows final : public RowReader {
 public:
  explicit ReferenceRows(RowReader& rows) : rows_(rows) {}

  const Schema& schema() const override { return rows_.schema(); }
  Result<std::optional<RowState>> get_row(std::string_view table, std::string_view row) override;
  Result<std::optional<RowImage>> row_image(std::string_view table, std::string_view row) override {
    return rows_.row_image(table, row);
  }
  Result<size_t> scan_images(std::string_view table, std::string_view after_id, size_t limit,
                             const std::function<Status(std::string_view id, RowImage&& image)>& visit) override {
    return rows_.scan_images(table, after_id, limit, visit);
  }
  Result<std::vector<ConflictRecord>> conflicts_of(std::string_view table, std::string_view row) override {
    return rows_.conflicts_of(table, row);
  }
  Result<bool> has_conflicts() override { return rows_.has_conflicts(); }

  // `cs` was recorded (accepted or not): the rows it names are read afresh from now on.
  void forget(const ChangeSet& cs);

 private:
  RowReader& rows_;
  // table, NUL, row id -> the row as read (nullopt: never seen).
  std::unordered_map<std::string, std::optional<RowState>> remembered_;
};

}  // namespace tram
