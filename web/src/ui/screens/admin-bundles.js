// A bundle carried by hand (protocol §16): the administrator picks the .bundle file an official
// exported without signal; POST /v1/admin/bundles checks the device's signature and takes the
// change sets exactly as a push from that device; the answer is the receipt bundle, offered as a
// file to give back (`tram-server admin import-bundle` does the same from the command line).
import { h } from '../dom.js';
import { t } from '../i18n/index.js';
import { problemText, codeOf } from '../errors.js';
import { admin } from '../admin-api.js';
import { shortId } from '../receipt.js';
import { fileLink, readChosen } from '../bundle.js';

export async function bundlesTab() {
  const err = h('p.error.bundle-error', { role: 'alert' });
  const out = h('div.bundle-result');
  const input = h('input#bundle-file', {
    type: 'file', accept: '.bundle,.json,application/json,text/plain',
    onchange: async () => {
      err.textContent = '';
      out.textContent = '';
      const file = input.files?.[0];
      try {
        const text = await readChosen(input);
        if (text == null) return;
        const receipts = await admin('bundles', { method: 'POST', body: text, text: true });
        const r = JSON.parse(receipts);
        const results = r.response?.results || [];
        const accepted = results.filter((x) => x.receipt && JSON.parse(x.receipt.body).status === 'accepted').length;
        const name = (file?.name || 'tram').replace(/\.bundle$/, '') + '.receipts';
        // The photos the bundle carried (version 2): stored, or left out with the server's reason.
        const files = Array.isArray(r.files) ? r.files : [];
        const stored = files.filter((f) => f.stored).length;
        out.append(h('p.note.ok', '✓ ', t('admin.bundle.done', { device: shortId(r.device), accepted, rejected: results.length - accepted })),
          files.length > 0 && h('p.note.photos', t('admin.bundle.photos', { stored, left: files.length - stored })),
          fileLink(receipts, name), h('p.hint', t('admin.bundle.give_back')));
      } catch (e) {
        const code = codeOf(e);
        // An altered photo refuses the whole bundle; a bundle over the page's limit goes by the
        // command line. Said in the administrator's words, not the server's.
        err.textContent = code === 'hash_mismatch' ? t('admin.bundle.altered') : code === 'too_large' ? t('admin.bundle.too_large') : problemText(e);
      } finally {
        input.value = '';
      }
    },
  });
  return h('section.card', h('h2', t('admin.bundle.title')), h('p', t('admin.bundle.intro')),
    h('label', { for: 'bundle-file' }, t('admin.bundle.file')), input, err, out);
}
