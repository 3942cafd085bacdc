// Evidence photos are resized on the phone before they are kept: a 12-megapixel camera photo is
// 4–8 MB, which would take half an hour over 2G; at ~1600 px JPEG it is ~300 KB and still shows
// a health station's sign or a water meter clearly.
const MAX_SIDE = 1600;
const QUALITY = 0.8;

export async function resizePhoto(file, maxSide = MAX_SIDE) {
  const img = await decode(file);
  const scale = Math.min(1, maxSide / Math.max(img.width, img.height));
  const w = Math.max(1, Math.round(img.width * scale));
  const hgt = Math.max(1, Math.round(img.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = hgt;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff'; // a PNG with transparency would otherwise turn black in JPEG
  g.fillRect(0, 0, w, hgt);
  g.drawImage(img, 0, 0, w, hgt);
  img.close?.();
  const blob = await new Promise((res, rej) => canvas.toBlob((b) => (b ? res(b) : rej(new Error('toBlob failed'))), 'image/jpeg', QUALITY));
  return { blob, width: w, height: hgt };
}

async function decode(file) {
  // createImageBitmap applies the camera's EXIF rotation, so portrait photos stay upright.
  if (typeof createImageBitmap === 'function') {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch {}
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}
