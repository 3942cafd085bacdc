// The highest signed log head this device has verified (protocol §9.2, §9.3). A smaller one means
// the server's log went back (a restored backup, a lost WAL): the device then re-sends what it
// kept (`heal`) and takes the snapshot again (its pull cursor may name versions the restored
// server re-uses). Called inside the transaction that records the answer carrying the head.
import { req } from './idb.js';

export async function noteHead(s, head) {
  if (!head) return false;
  const known = await req(s.meta.get('head'));
  const behind = !!known && head.server_seq < known.server_seq;
  if (behind) {
    await req(s.meta.put(true, 'heal'));
    await req(s.meta.delete('pull'));
  }
  if (!known || behind || head.server_seq >= known.server_seq) {
    await req(s.meta.put({ server_seq: head.server_seq, log: head.log }, 'head'));
  }
  return behind;
}
