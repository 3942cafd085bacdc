// Loads schemas from the JSON files under schemas/ (format: docs/schema-format.md).
// A schema directory holds every published version, v1.json, v2.json, …; each must be an
// additive change of the one before (check_upgrade), so old clients and data keep working.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tram/engine/schema.hpp"

namespace tram {

// Parses one schema file's content. Errors name the JSON path: "tables[2].fields[0].type: …".
Result<Schema> parse_schema(std::string_view json);

// Reads and parses one file.
Result<Schema> load_schema_file(const std::string& path);

// Every version in `dir` (files v<N>.json), ascending, each checked against the one before.
Result<std::vector<Schema>> load_schema_history(const std::string& dir);

// The newest version in `dir`, after checking the whole history.
Result<Schema> load_schema_dir(const std::string& dir);

}  // namespace tram
