// The QR code of an enrolment link, as SVG markup: the official points the phone's camera at the
// administrator's screen instead of typing 80 bits. `uqr` is small (no dependencies) and MIT.
import { renderSVG } from 'uqr';

export const qrSvg = (text) => renderSVG(text, { ecc: 'M', border: 2 });
