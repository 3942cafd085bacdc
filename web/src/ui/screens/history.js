// What happened to a report after it was sent: the reviewers' decisions (review rows, which are
// insert-only, so they cannot be rewritten) and the exchange of comments (ý kiến, the schema's
// `comment` table: officials, departments and reviewers insert, nobody edits). Anyone whose role
// may insert a comment writes one here, offline too: it is signed and waits in the outbox like a
// report, as `tram-field comment ID --text …` does.
import { h, pill, clear } from '../dom.js';
import { t, enumLabel } from '../i18n/index.js';
import { fmtDate, todayVN } from '../format.js';
import { problemText } from '../errors.js';

// Whether the schema lets this role insert comments.
export function mayComment(schema, role) {
  return !!schema?.table?.('comment')?.rules?.get(role)?.insert;
}

// The comment row as the form writes it (fields of schemas/sonla-2026 `comment`).
export function commentOp(report, principal, text, today = todayVN()) {
  return { t: 'comment', k: 'put', f: { report: report.id, unit_code: report.unit_code, body: text.normalize('NFC').trim(),
    author: principal.name || principal.user, written_on: today } };
}

export async function historyBlock(dev, report) {
  const canWrite = dev.state === 'ready' && mayComment(dev.schema, dev.principal?.role);
  const list = h('ul.history');
  const section = h('section.card.history-card', h('h3', t('history.title')), list);
  async function draw() {
    const [reviews, comments] = await Promise.all([
      dev.query('review', (r) => r.report === report.id).catch(() => []),
      dev.query('comment', (r) => r.report === report.id).catch(() => []),
    ]);
    const items = [
      ...reviews.map((r) => ({ on: r.reviewed_on, id: r.id, el: h('li', h('strong', enumLabel('review', 'decision', r.decision)), ` · ${r.reviewer} · ${fmtDate(r.reviewed_on)}`, r.comment && h('p.comment', r.comment)) })),
      ...comments.map((c) => ({ on: c.written_on, id: c.id, el: h('li.talk', h('strong', c.author), ` · ${fmtDate(c.written_on)}`, c._pending ? [' ', pill(t('history.pending'), 'warn')] : null, h('p.comment', c.body)) })),
    ].sort((a, b) => (a.on < b.on ? -1 : a.on > b.on ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)); // ids are time-ordered (UUIDv7)
    clear(list).append(...items.map((i) => i.el));
    list.hidden = !items.length;
    return items.length;
  }
  const n = await draw();
  if (!canWrite) return n ? section : null;
  const text = h('textarea#talk', { rows: 3, maxlength: 2000, oninput: () => (err.textContent = '') });
  const err = h('p.error', { role: 'alert' });
  const ok = h('p.note.ok', { hidden: true });
  const btn = h('button.secondary', { type: 'submit' }, t('history.send'));
  section.append(h('form.talk-form', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      ok.hidden = true;
      const body = text.value.normalize('NFC').trim();
      if (!body) return void (err.textContent = t('history.empty'));
      btn.disabled = true;
      try {
        await dev.write([commentOp(report, dev.principal, body)]);
        text.value = '';
        ok.textContent = '✓ ' + t('history.saved');
        ok.hidden = false;
        await draw();
      } catch (e) {
        err.textContent = problemText(e);
      } finally {
        btn.disabled = false;
      }
    },
  }, h('label', { for: 'talk' }, t('history.write')), text, h('p.hint', t('history.write_hint')), err, btn, ok));
  return section;
}
