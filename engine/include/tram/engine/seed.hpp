// Seed data: reference rows shipped with a schema (schemas/<id>/seed/rows/*.json), turned into
// ops that an administrator's device signs and pushes like any other change.
// File format: {"table": NAME, "rows": [{"id": ROW_ID, FIELD_NAME: VALUE, ...}, ...]}.
#pragma once

#include <string>
#include <vector>

#include "tram/engine/changeset.hpp"
#include "tram/engine/schema.hpp"

namespace tram {

// Reads every *.json file in `dir` (in schema table order) and returns one put per row, each
// value converted to its field's type and checked against the field's constraints; required
// fields must be present. Errors name the file, row and field.
Result<std::vector<Op>> load_seed_rows(const std::string& dir, const Schema& schema);

}  // namespace tram
