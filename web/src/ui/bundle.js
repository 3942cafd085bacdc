// "Gửi nhờ qua thiết bị khác" (store and forward, protocol §16): with no signal before the
// deadline, the official exports what waits in the outbox as a file, signed by the phone, to carry
// on a USB stick or a colleague's laptop to the office; the receipts file the office gives back is
// imported here and settles the outbox with verified receipts. The file is offered as a link (a
// tap saves it), which works offline: nothing leaves the phone but through the user's hands.
import { h, toast } from './dom.js';
import { t } from './i18n/index.js';
import { todayVN, fmtBytes } from './format.js';
import { problemText } from './errors.js';

export const ADMIN_PAGE_LIMIT = 8 << 20; // bytes: the server's request body limit

export function fileLink(text, name, cls = 'a.button.primary.file-link') {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  return h(cls, { href: url, download: name }, t('bundle.save', { name }));
}

// Reads a chosen file as text (the input's first file).
export const readChosen = (input) => input.files?.[0]?.text();

export function bundleCard(dev, waitingCount) {
  const out = h('div.bundle-out');
  const err = h('p.error', { role: 'alert' });
  const exportBtn = waitingCount > 0 && h('button.secondary.big.export-bundle', {
    type: 'button',
    onclick: async () => {
      err.textContent = '';
      out.textContent = '';
      exportBtn.disabled = true;
      try {
        // Packing photos takes a moment on a slow phone: say which one it is at.
        const packing = h('p.note.packing', { role: 'status' });
        out.append(packing);
        const b = await dev.exportBundle({ onProgress: ({ done, total }) => {
          packing.textContent = total ? t('bundle.packing', { done: Math.min(done + 1, total), total }) : '';
        } });
        out.textContent = '';
        const name = `tram-${dev.principal.user}-${todayVN()}-${b.seqs[0]}-${b.seqs[b.seqs.length - 1]}.bundle`;
        const made = b.files ? t('bundle.made_photos', { n: b.count, photos: b.files, size: fmtBytes(b.fileBytes) }) : t('bundle.made', { n: b.count });
        out.append(h('p.note', made), fileLink(b.text, name), h('p.hint', t('bundle.carry')));
        // The administrator's page takes bodies up to 8 MiB (protocol §1.1, §16.1); the
        // command line has no limit.
        if (b.text.length > ADMIN_PAGE_LIMIT) out.append(h('p.hint.large', t('bundle.large')));
      } catch (e) {
        out.textContent = ''; // no progress line left over from a failed export
        err.textContent = problemText(e);
      } finally {
        exportBtn.disabled = false;
      }
    },
  }, t('bundle.export'));
  const done = h('div.bundle-in');
  const input = h('input#receipts-file', {
    type: 'file', accept: '.receipts,.json,application/json,text/plain',
    onchange: async () => {
      err.textContent = '';
      done.textContent = '';
      try {
        const text = await readChosen(input);
        if (text == null) return;
        const r = await dev.importReceipts(text);
        let said = r.accepted + r.rejected ? t('bundle.imported', { n: r.accepted, rejected: r.rejected }) : '';
        if (r.uploaded) said = [said, t('bundle.imported_photos', { photos: r.uploaded })].filter(Boolean).join(' ');
        said ||= t('bundle.nothing_new');
        done.append(h('p.note.ok', '✓ ', said));
        toast(said); // the screen redraws when the outbox settles: the toast outlives it
      } catch (e) {
        err.textContent = problemText(e);
      } finally {
        input.value = '';
      }
    },
  });
  return h('details.card.bundle-card', { open: waitingCount > 0 && !navigator.onLine },
    h('summary', t('bundle.title')),
    h('p', t('bundle.intro')),
    exportBtn, out,
    h('label', { for: 'receipts-file' }, t('bundle.import')), input, h('p.hint', t('bundle.import_hint')),
    err, done);
}
