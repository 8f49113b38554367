// The one EXIF field the page uses: FocalLengthIn35mmFilm (tag 0xA405), which
// phones write and which gives the focal length in pixels without knowing
// the sensor size. Reads JPEG APP1 "Exif" -> TIFF IFD0 -> Exif IFD.

const TAG_EXIF_IFD = 0x8769;
const TAG_FOCAL_35MM = 0xa405;

// IFD entries as {tag, type, count, valueOffset} (offset of the 4-byte value
// field, relative to the view).
function readIfd(view, tiff, offset, little) {
  if (offset + 2 > view.byteLength - tiff) return [];
  const n = view.getUint16(tiff + offset, little);
  const entries = [];
  for (let i = 0; i < n; ++i) {
    const at = tiff + offset + 2 + 12 * i;
    if (at + 12 > view.byteLength) break;
    entries.push({
      tag: view.getUint16(at, little),
      type: view.getUint16(at + 2, little),
      count: view.getUint32(at + 4, little),
      valueAt: at + 8,
    });
  }
  return entries;
}

// The 35 mm equivalent focal length in mm, or null when the file is not a
// JPEG or has no such tag.
export function focalLength35mm(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return null;
  let at = 2;
  while (at + 4 <= view.byteLength && view.getUint8(at) === 0xff) {
    const marker = view.getUint8(at + 1);
    const length = view.getUint16(at + 2);
    if (marker === 0xda || marker === 0xd9) break;  // image data: no more headers
    const isExif = marker === 0xe1 && at + 10 <= view.byteLength &&
      view.getUint32(at + 4) === 0x45786966 && view.getUint16(at + 8) === 0;  // "Exif\0\0"
    if (isExif) {
      const tiff = at + 10;
      const order = view.getUint16(tiff);
      if (order !== 0x4949 && order !== 0x4d4d) return null;
      const little = order === 0x4949;
      const ifd0 = readIfd(view, tiff, view.getUint32(tiff + 4, little), little);
      const pointer = ifd0.find((e) => e.tag === TAG_EXIF_IFD);
      if (!pointer) return null;
      const exif = readIfd(view, tiff, view.getUint32(pointer.valueAt, little), little);
      const focal = exif.find((e) => e.tag === TAG_FOCAL_35MM && e.type === 3);  // SHORT
      const mm = focal ? view.getUint16(focal.valueAt, little) : 0;
      return mm > 0 ? mm : null;
    }
    at += 2 + length;
  }
  return null;
}

// Focal length in pixels from the 35 mm equivalent: the equivalence is by
// the diagonal (a 36 x 24 mm frame's is 43.27 mm).
export function focalPxFrom35mm(focalMm, width, height) {
  return (focalMm * Math.hypot(width, height)) / Math.hypot(36, 24);
}
