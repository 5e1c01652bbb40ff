// What happens to a camera photo on the phone before anything is sent (DESIGN §5.1): its
// EXIF is read first; the pixels are shrunk to at most 1600 px and re-encoded as JPEG; the
// original EXIF goes back in with Orientation 1 (the pixels are already upright); then the
// SHA-256 that the server will check. A 4 MB photo leaves the phone as ~400 KB.
import exifr from 'exifr/dist/lite.esm.mjs'
import piexif from 'piexifjs'
import { sha256Hex } from './sha256.js'
import { exifTime } from '../time.js'

export const MAX_EDGE = 1600
export const THUMB_EDGE = 240
export const QUALITY = 0.85
// iOS Safari refuses canvases over 16,777,216 pixels.
export const CANVAS_LIMIT = 16_777_216

/** Position, time and camera from a photo's EXIF; fields it lacks are null. */
export async function readExif(file) {
  let tags = null
  try {
    tags = await exifr.parse(file, { tiff: true, exif: true, gps: true, ifd1: false, xmp: false })
  } catch {
    tags = null
  }
  const gps = tags && Number.isFinite(tags.latitude) && Number.isFinite(tags.longitude) ? tags : null
  return {
    lat: gps ? gps.latitude : null,
    lon: gps ? gps.longitude : null,
    altitude: Number.isFinite(tags?.GPSAltitude) ? (tags.GPSAltitudeRef === 1 ? -1 : 1) * tags.GPSAltitude : null,
    taken: tags?.DateTimeOriginal instanceof Date ? tags.DateTimeOriginal.toISOString() : null,
    make: tags?.Make || null,
    model: tags?.Model || null,
  }
}

/** The sizes a shrink goes through: halving (better than one big jump), each under the canvas limit. */
export function shrinkSteps(width, height, maxEdge = MAX_EDGE, limit = CANVAS_LIMIT) {
  const scale = Math.min(1, maxEdge / Math.max(width, height))
  const target = [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))]
  const steps = []
  let [w, h] = [width, height]
  while (w / 2 >= target[0] * 1.5) {
    ;[w, h] = [Math.round(w / 2), Math.round(h / 2)]
    if (w * h <= limit) steps.push([w, h])
  }
  steps.push(target)
  return steps
}

/** The photo's pixels, upright, at most ``maxEdge`` px, as a JPEG Blob without metadata. */
export async function shrink(file, maxEdge = MAX_EDGE, quality = QUALITY) {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' })
  let source = bitmap
  for (const [w, h] of shrinkSteps(bitmap.width, bitmap.height, maxEdge)) {
    const canvas = document.createElement('canvas')
    canvas.width = w
    canvas.height = h
    const context = canvas.getContext('2d')
    context.imageSmoothingQuality = 'high'
    context.drawImage(source, 0, 0, w, h)
    source = canvas
  }
  bitmap.close?.()
  return new Promise((resolve, reject) =>
    source.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('encode failed'))), 'image/jpeg', quality))
}

const toBinary = (bytes) => {
  let text = ''
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return text
}
const fromBinary = (text) => Uint8Array.from(text, (char) => char.charCodeAt(0))

/**
 * ``jpeg`` (bytes of the re-encoded photo) with the EXIF of ``original`` (bytes of the
 * camera's file) put back, Orientation set to 1 and the embedded thumbnail dropped. When the
 * original's EXIF cannot be carried over (not a JPEG, or broken), ``fallback`` (as
 * readExif returns it) is written instead, so position and time still travel.
 */
export function insertExif(original, jpeg, fallback = null) {
  let exif = null
  try {
    exif = piexif.load(toBinary(original))
    exif['0th'][piexif.ImageIFD.Orientation] = 1
    exif['1st'] = {}
    exif.thumbnail = null
    return fromBinary(piexif.insert(piexif.dump(exif), toBinary(jpeg)))
  } catch {
    if (!fallback) return jpeg
  }
  try {
    return fromBinary(piexif.insert(piexif.dump(minimalExif(fallback)), toBinary(jpeg)))
  } catch {
    return jpeg
  }
}

function rational(value, precision = 1e6) {
  return [Math.round(value * precision), precision]
}

function dms(value) {
  const abs = Math.abs(value)
  const degrees = Math.floor(abs)
  const minutes = Math.floor((abs - degrees) * 60)
  const seconds = (abs - degrees - minutes / 60) * 3600
  return [[degrees, 1], [minutes, 1], rational(seconds, 1000)]
}

function minimalExif({ lat, lon, altitude, taken, make, model }) {
  const exif = { '0th': { [piexif.ImageIFD.Orientation]: 1 }, Exif: {}, GPS: {}, '1st': {}, thumbnail: null }
  if (make) exif['0th'][piexif.ImageIFD.Make] = make
  if (model) exif['0th'][piexif.ImageIFD.Model] = model
  if (taken) exif.Exif[piexif.ExifIFD.DateTimeOriginal] = exifTime(new Date(taken))
  if (lat != null && lon != null) {
    exif.GPS[piexif.GPSIFD.GPSLatitudeRef] = lat < 0 ? 'S' : 'N'
    exif.GPS[piexif.GPSIFD.GPSLatitude] = dms(lat)
    exif.GPS[piexif.GPSIFD.GPSLongitudeRef] = lon < 0 ? 'W' : 'E'
    exif.GPS[piexif.GPSIFD.GPSLongitude] = dms(lon)
  }
  if (altitude != null) {
    exif.GPS[piexif.GPSIFD.GPSAltitudeRef] = altitude < 0 ? 1 : 0
    exif.GPS[piexif.GPSIFD.GPSAltitude] = rational(Math.abs(altitude), 100)
  }
  return exif
}


/** Everything the app keeps of a newly taken photo: the file to upload, a thumbnail, its hash and EXIF. */
export async function preparePhoto(file) {
  const exif = await readExif(file)
  const original = new Uint8Array(await file.arrayBuffer())
  const small = new Uint8Array(await (await shrink(file)).arrayBuffer())
  const bytes = insertExif(original, small, exif)
  const blob = new Blob([bytes], { type: 'image/jpeg' })
  const thumb = await shrink(blob, THUMB_EDGE, 0.7)
  return { blob, thumb, sha256: await sha256Hex(bytes), bytes: bytes.length, exif }
}
