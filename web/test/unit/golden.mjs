// The golden change sets of tests/golden/, rebuilt as tests/engine/changeset_test.cpp builds
// them (golden_basic, golden_chained), for the unit tests. Not a test file itself.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { utf8, toHex } from '../../src/core/bytes.js';
import { blake2b256 } from '../../src/core/hash.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const GOLDEN_DIR = `${REPO}tests/golden/`;

// RFC 8032 TEST 1 secret: golden signatures are reproducible by anyone.
export const GOLDEN_SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
export const GOLDEN_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

export function golden(name) {
  return {
    bytes: new Uint8Array(readFileSync(`${GOLDEN_DIR}${name}.json`)),
    id: readFileSync(`${GOLDEN_DIR}${name}.id`, 'utf8'),
    sig: readFileSync(`${GOLDEN_DIR}${name}.sig`, 'utf8'),
  };
}

export function goldenBasic() {
  return {
    device: GOLDEN_PUBLIC,
    seq: 1,
    prev: null,
    hlc: [1780473600000, 0], // 2026-06-03 08:00 UTC
    author: 'can-bo-03808-01',
    schema: 'sonla-2026',
    schema_v: 1,
    ops: [{
      t: 'progress_report',
      id: '01977d2a-7c00-7000-8000-000000000001',
      k: 'put',
      f: {
        1: ['t', '03808'],
        2: ['r', 48.5],
        3: ['t', 'Đã lắp đặt 12 bể chứa nước sạch cho bản Nà Cài; "khó khăn": đường sạt lở\n'],
        4: ['i', 2],
        5: ['b', false],
        6: ['d', '2026-06-03'],
        7: ['a', toHex(blake2b256(utf8('ảnh minh chứng')))],
      },
    }],
  };
}

export function goldenChained(prevId) {
  const w = prevId.slice(0, 16);
  return {
    device: GOLDEN_PUBLIC,
    seq: 2,
    prev: prevId,
    hlc: [1780473600000, 1],
    author: 'can-bo-03808-01',
    schema: 'sonla-2026',
    schema_v: 1,
    ops: [
      { t: 'progress_report', id: '01977d2a-7c00-7000-8000-000000000001', k: 'put', f: { 2: ['r', 52.0], 3: null }, b: { 2: w, 3: w } },
      { t: 'progress_report', id: '01977d2a-7c00-7000-8000-000000000002', k: 'del', b: { 0: w } },
    ],
  };
}

// The newest published version (schemas/sonla-2026/v<N>.json), the one the server serves.
export const schemaVersion = () => Math.max(...readdirSync(`${REPO}schemas/sonla-2026`)
  .map((f) => /^v(\d+)\.json$/.exec(f)).filter(Boolean).map((m) => Number(m[1])));
export const schemaJson = () => readFileSync(`${REPO}schemas/sonla-2026/v${schemaVersion()}.json`, 'utf8');
