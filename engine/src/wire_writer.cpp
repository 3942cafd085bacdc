// Writers of the protocol's messages; their readers are in wire.cpp.
#include "tram/engine/wire_writer.hpp"

namespace tram::wire {

Head sign_head(uint64_t server_seq, const Hash& log, const DeviceKey& server) {
  return Head{server_seq, log, server.sign(head_signed_text(server_seq, log))};
}

void write_head(json::Writer& out, const Head& head) {
  out.begin_object().key("server_seq").number(head.server_seq).key("log").hex(head.log).key("sig").hex(head.sig).end_object();
}

std::string write_head(const Head& head) {
  json::Writer out(256);
  write_head(out, head);
  return out.take();
}

std::string receipt_body(const Receipt& r) {
  json::Writer out(512);
  out.begin_object().key("v").number(1).key("server").hex(r.server).key("server_seq").number(r.server_seq);
  out.key("id").hex(r.id).key("device").hex(r.device).key("seq").number(r.seq);
  out.key("status").string(r.accepted ? "accepted" : "rejected");
  if (!r.accepted) out.key("code").string(r.code);
  out.key("received_at_ms").number(r.received_at_ms).key("clock_ahead").boolean(r.clock_ahead);
  out.key("log").hex(r.log).end_object();
  return out.take();
}

std::string write_receipt(const Receipt& r, const DeviceKey& server) {
  Receipt named = r;
  named.server = server.public_key();
  const std::string body = receipt_body(named);
  json::Writer out(body.size() + 200);
  out.begin_object().key("body").string(body).key("sig").hex(server.sign(body)).end_object();
  return out.take();
}

size_t PageWriter::index_of(const Hash& w) {
  auto [it, inserted] = writer_index_.emplace(w, writers_.size());
  if (inserted) writers_.push_back(w);
  return it->second;
}

void PageWriter::add(uint64_t version, std::string_view table, std::string_view id, const RowImage& image,
                     std::span<const ConflictRecord> conflicts) {
  ++rows_written_;
  rows_.begin_object().key("v").number(version).key("t").string(table).key("id").string(id);
  // The row's common writer and rank (usually every cell's: the change set that created it) are
  // said once; cells written by them travel as bare values.
  const CellImage* common = nullptr;
  for (const CellImage& cell : image.cells) {
    if (cell.writer) {
      common = &cell;
      break;
    }
  }
  size_t common_w = 0;
  if (common) {
    common_w = index_of(*common->writer);
    rows_.key("r").number(common->rank).key("w").number(uint64_t{common_w});
  }
  rows_.key("c").begin_array();
  for (const CellImage& cell : image.cells) {
    if (!cell.writer) {
      rows_.null();
      continue;
    }
    const size_t w = index_of(*cell.writer);
    if (w == common_w && cell.rank == common->rank && value_type(cell.value) != ValueType::null) {
      rows_.value(cell.value);
      continue;
    }
    rows_.begin_array().value(cell.value).number(cell.rank).number(uint64_t{w}).end_array();
  }
  rows_.end_array();
  if (!conflicts.empty()) {
    rows_.key("x").begin_array();
    for (const ConflictRecord& c : conflicts) {
      rows_.begin_array().number(uint64_t{c.field}).number(uint64_t{index_of(c.winner)});
      rows_.number(uint64_t{index_of(c.loser)}).value(c.loser_value).end_array();
    }
    rows_.end_array();
  }
  rows_.end_object();
}

std::string PageWriter::finish(uint64_t next, bool more, const std::optional<std::string>& cursor, const Head& head) {
  json::Writer out(rows_.size() + 80 * writers_.size() + 512);
  out.begin_object().key("next").number(next).key("more").boolean(more);
  if (cursor) out.key("cursor").string(*cursor);
  out.key("rows").begin_array().raw(rows_.str()).end_array();
  out.key("writers").begin_array();
  for (const Hash& w : writers_) out.hex(w);
  out.end_array().key("head");
  write_head(out, head);
  out.end_object();
  return out.take();
}

std::string write_push_body(std::span<const SignedChangeSet> changesets) {
  size_t size = 32;
  for (const SignedChangeSet& cs : changesets) size += cs.bytes.size() * 4 / 3 + 160;
  json::Writer out(size);
  out.begin_object().key("changesets").begin_array();
  for (const SignedChangeSet& cs : changesets) {
    out.begin_object().key("cs").string(to_base64(cs.bytes)).key("sig").hex(cs.sig).end_object();
  }
  out.end_array().end_object();
  return out.take();
}

}  // namespace tram::wire
