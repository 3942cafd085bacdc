// The evidence photos of a report: taken with the camera (or picked from the gallery), resized,
// kept in the device (dev.attach) and shown as thumbnails. Saving the report turns new photos
// into `evidence` rows; removing a saved photo deletes its row (the table allows insert/delete).
import { h, clear } from './dom.js';
import { t } from './i18n/index.js';
import { icon } from './icons.js';
import { resizePhoto } from './photo.js';
import { problemText } from './errors.js';
import { fmtBytes } from './format.js';

// The photo at full size over the screen; a tap anywhere closes it.
function enlarge(src, alt) {
  const box = h('div.lightbox', { role: 'dialog', 'aria-label': alt, onclick: () => box.remove() },
    h('img', { src, alt }), h('button.close', { type: 'button', 'aria-label': t('photo.close'), html: icon('x') }));
  document.body.append(box);
}

// `saved`: evidence rows already stored. Returns { el, added(), removed() }.
export function photosField(dev, saved, { editable = true, label } = {}) {
  const kept = saved.map((r) => ({ row: r, hash: r.file, caption: r.caption }));
  const added = [];
  const removed = [];
  const list = h('div.photos');
  const status = h('p.hint', { 'aria-live': 'polite' });

  async function thumb(item) {
    const img = h('img', { alt: item.caption || t('photo.alt'), loading: 'lazy', onclick: () => img.src && enlarge(img.src, img.alt) });
    const fig = h('figure.photo', img, editable && h('button.remove', {
      type: 'button', 'aria-label': t('photo.remove'), html: icon('x'),
      onclick: () => {
        if (item.row) removed.push(item.row);
        else added.splice(added.indexOf(item), 1);
        const i = kept.indexOf(item);
        if (i >= 0) kept.splice(i, 1);
        fig.remove();
      },
    }));
    try {
      img.src = item.url || (await dev.attachmentUrl(item.hash));
    } catch {
      fig.classList.add('missing');
      fig.append(h('figcaption', t('photo.not_here')));
    }
    return fig;
  }

  async function addFiles(files) {
    for (const file of files) {
      status.textContent = t('photo.preparing');
      try {
        const { blob } = await resizePhoto(file);
        const hash = await dev.attach(blob, 'image/jpeg');
        const item = { hash, url: URL.createObjectURL(blob), caption: file.name || t('photo.alt'), contentType: 'image/jpeg' };
        added.push(item);
        list.append(await thumb(item));
        status.textContent = t('photo.kept', { size: fmtBytes(blob.size) });
      } catch (e) {
        status.textContent = t('photo.failed') + ' ' + problemText(e);
      }
    }
  }

  const camera = h('input', { type: 'file', accept: 'image/*', capture: 'environment', hidden: true, onchange: (e) => { addFiles([...e.target.files]); e.target.value = ''; } });
  const gallery = h('input', { type: 'file', accept: 'image/*', multiple: true, hidden: true, onchange: (e) => { addFiles([...e.target.files]); e.target.value = ''; } });
  const el = h('div.field.photos-field',
    h('div.label', label || t('photo.label')),
    list,
    editable && h('div.photo-buttons',
      h('button.secondary.big', { type: 'button', onclick: () => camera.click() }, h('span.ic', { html: icon('camera') }), t('photo.take')),
      h('button.link', { type: 'button', onclick: () => gallery.click() }, t('photo.pick'))),
    camera, gallery, status);
  (async () => {
    clear(list);
    for (const item of kept) list.append(await thumb(item));
    if (!kept.length && !editable) list.append(h('p.hint', t('photo.none')));
  })();
  return { el, added: () => added.slice(), removed: () => removed.slice(), firstHash: () => kept[0]?.hash || added[0]?.hash || null };
}
