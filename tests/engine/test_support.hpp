// Helpers shared by the engine tests: a small schema built in code and change-set builders.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tram/engine/changeset.hpp"
#include "tram/engine/schema.hpp"

namespace tram::testing {

// A cut-down progress report table, one field of every value type.
inline Schema report_schema() {
  return Schema{"sonla-2026",
                1,
                {TableDef{"progress_report",
                          {FieldDef{1, "unit_code", ValueType::text}, FieldDef{2, "value", ValueType::real},
                           FieldDef{3, "narrative", ValueType::text}, FieldDef{4, "status", ValueType::integer},
                           FieldDef{5, "final", ValueType::boolean}, FieldDef{6, "recorded_on", ValueType::date},
                           FieldDef{7, "photo", ValueType::attachment}}}}};
}

// The value of a Result that must be ok in this test (fails the test otherwise).
template <typename T>
T must(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) std::abort();
  return std::move(r).value();
}

inline Value text(std::string s) { return Value{Text{std::move(s)}}; }

inline Op put(std::string row, std::vector<FieldWrite> fields, std::vector<FieldBase> bases = {}) {
  return Op{"progress_report", std::move(row), OpKind::put, std::move(fields), std::move(bases)};
}

inline Op del(std::string row, std::vector<FieldBase> bases = {}) {
  return Op{"progress_report", std::move(row), OpKind::del, {}, std::move(bases)};
}

}  // namespace tram::testing
