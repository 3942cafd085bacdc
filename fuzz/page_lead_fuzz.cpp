// Agreement of the SDK's page lead (wire::peek_page, read before the page is parsed so that the
// next request leaves early) with parse_pull: whenever parse_pull reads a page, peek_page must read
// it too and say the same next, more and cursor, and so the read-ahead (PageReader) asks for the
// same following page as the page itself names (client::next_cursor). This target caught peek_page
// returning an empty cursor when an unknown member stood between "more" and "cursor"
// (corpus/page_lead/regress-member-between-more-and-cursor.json).
#include "common.hpp"

#include "page_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tram;
  if (size > fuzz::kMaxInput) return -1;
  const std::string_view body = fuzz::as_text(data, size);
  const auto lead = wire::peek_page(body);
  auto page = wire::parse_pull(body, fuzz::sonla_schema());
  if (!page.ok()) return 0;
  FUZZ_CHECK(lead.has_value());
  FUZZ_CHECK(lead->next == page->next);
  FUZZ_CHECK(lead->more == page->more);
  FUZZ_CHECK(lead->cursor == page->cursor);
  for (const bool snapshot : {false, true}) {
    const client::PageCursor from{snapshot, "7"};
    const auto early = client::next_cursor(from, lead->more, lead->next, lead->cursor);
    const auto late = client::next_cursor(from, page->more, page->next, page->cursor);
    FUZZ_CHECK(early.has_value() == late.has_value());
    if (early) FUZZ_CHECK(early->snapshot == late->snapshot && early->at == late->at);
  }
  return 0;
}
