// Pull and snapshot pages (protocol §8.2, §8.3), read with the Sơn La schema as a device reads
// them: parse_pull must never crash, and a page it reads, written again by the server's
// PageWriter, must read back to the same rows (cells with their ranks and writers, conflicts),
// lead and head. Each row image also goes through the device's own stored form (row_image_to_json).
#include "common.hpp"

#include "tram/engine/wire_writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tram;
  if (size > fuzz::kMaxInput) return -1;
  const Schema& schema = fuzz::sonla_schema();
  auto page = wire::parse_pull(fuzz::as_text(data, size), schema);
  if (!page.ok()) return 0;
  wire::PageWriter w;
  for (const wire::PulledRow& r : page->rows) {
    FUZZ_CHECK(schema.table(r.table) != nullptr);
    FUZZ_CHECK(r.image.cells.size() == schema.table(r.table)->fields.size() + 1);
    w.add(r.version, r.table, r.id, r.image, r.conflicts);
    auto stored = wire::row_image_from_json(wire::row_image_to_json(r.image));
    FUZZ_CHECK(stored.ok() && fuzz::same_image(*stored, r.image));
  }
  const std::optional<std::string> cursor = page->cursor.empty() ? std::nullopt : std::optional(page->cursor);
  const std::string body = w.finish(page->next, page->more, cursor, page->head);
  // A PullParser of its own: parse_pull's thread-local parser still holds the first page.
  wire::PullParser parser;
  auto back = parser.parse(body, schema);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->next == page->next && back->more == page->more && back->cursor == page->cursor);
  FUZZ_CHECK(back->head.server_seq == page->head.server_seq && back->head.log == page->head.log &&
             back->head.sig == page->head.sig);
  FUZZ_CHECK(back->rows.size() == page->rows.size());
  for (size_t i = 0; i < page->rows.size(); ++i) {
    const wire::PulledRow &a = page->rows[i], &b = back->rows[i];
    FUZZ_CHECK(a.version == b.version && a.table == b.table && a.id == b.id);
    FUZZ_CHECK(fuzz::same_image(a.image, b.image));
    FUZZ_CHECK(a.conflicts.size() == b.conflicts.size());
    for (size_t k = 0; k < a.conflicts.size(); ++k) FUZZ_CHECK(fuzz::same_conflict(a.conflicts[k], b.conflicts[k]));
  }
  // What the server writes, the lead reader reads the same.
  auto lead = wire::peek_page(body);
  FUZZ_CHECK(lead && lead->next == page->next && lead->more == page->more && lead->cursor == page->cursor);
  return 0;
}
