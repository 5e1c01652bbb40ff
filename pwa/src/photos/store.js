// Photos on the phone: a taken photo is prepared and saved to IndexedDB at once (never
// only in memory); it is attached to its record when the record is saved, right after
// the record's own mutation in the outbox.
import { db } from '../db/index.js'
import { attachPhoto, deleteRecord, saveTogether } from '../db/outbox.js'
import { session } from '../session.js'

/**
 * Prepare a picked or taken photo and keep it on the device. Returns the draft the form
 * holds until it saves: {id, sha256, bytes, captured_at, lat, lon, accuracy_m, exif}.
 * ``fix`` is the device's position at capture ({lat, lon, accuracy_m}) or null.
 */
export async function keepPhoto(file, fix) {
  const { preparePhoto } = await import('./capture.js')
  const prepared = await preparePhoto(file)
  const draft = {
    id: crypto.randomUUID(),
    sha256: prepared.sha256,
    bytes: prepared.bytes,
    captured_at: new Date().toISOString(),
    lat: fix?.lat ?? null,
    lon: fix?.lon ?? null,
    accuracy_m: fix?.accuracy_m ?? null,
    exif: prepared.exif,
  }
  await db.files.put({ photo_id: draft.id, blob: prepared.blob, thumb: prepared.thumb, sha256: draft.sha256,
    upload_url: null, done: false, draft })
  return draft
}

/** Queue photo.attach for each draft (call after the record's own save). */
export async function attachDrafts(recordType, recordId, drafts) {
  for (const draft of drafts) {
    const { exif, ...photo } = draft
    await attachPhoto({ ...photo, record_type: recordType, record_id: recordId })
  }
}

/** A photo taken but not kept in a saved record: drop its file. */
export function discardDraft(draft) {
  return db.files.delete(draft.id)
}

/** The user asks for a rejected photo to go up again (the next sync sends its bytes anew). */
export function sendAgain(photoId) {
  return db.files.update(photoId, { resend: true, upload_url: null })
}

/**
 * The user removes a photo kept on the phone (one the server rejected, say): its file goes,
 * and if the server knows the photo, its deletion is queued in the same transaction.
 */
export function removePhoto(photoId) {
  return saveTogether(async () => {
    if (await db.photos.get(photoId)) await deleteRecord('photos', photoId)
    await db.files.delete(photoId)
  })
}

/** The photos of a record as the device knows them, with a local thumbnail where there is one. */
export async function photosOf(recordType, recordId) {
  const photos = await db.photos.where('[record_type+record_id]').equals([recordType, recordId]).toArray()
  const files = await db.files.bulkGet(photos.map((photo) => photo.id))
  return photos.map((photo, index) => ({ ...photo, thumb: files[index]?.thumb || null }))
}

/** An <img> source for a photo: the local thumbnail, else the server's (fetched with the token). */
export async function thumbUrl(photo) {
  if (photo.thumb) return URL.createObjectURL(photo.thumb)
  if (photo.status !== 'stored') return null
  try {
    const response = await fetch(`/api/photos/${photo.id}/thumb`, {
      headers: { Authorization: `Bearer ${session.token}` },
    })
    return response.ok ? URL.createObjectURL(await response.blob()) : null
  } catch {
    return null // offline: the list shows a placeholder
  }
}
