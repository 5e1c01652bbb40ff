// A form that saves itself: every change is written to IndexedDB (drafts) as the user
// types, so a reload, a killed tab or an app update loses nothing. While the draft differs
// from what was last saved, the form counts as dirty (an app update then waits).
import { onBeforeUnmount, reactive, ref, watch } from 'vue'
import { db } from '../db/index.js'
import { forms } from '../forms.js'

const SAVE_DELAY_MS = 300

/**
 * ``key`` names the form (e.g. "visit:<id>"); ``initial()`` gives the values when no draft
 * exists. Returns {values, ready, restored, clear}: ``values`` is reactive; ``clear()``
 * drops the draft once the record itself is saved.
 */
export function useDraft(key, initial) {
  const values = reactive({})
  const ready = ref(false)
  const restored = ref(false)
  let dirty = false
  let timer = null

  const setDirty = (next) => {
    if (next !== dirty) forms.dirty += next ? 1 : -1
    dirty = next
  }

  // IndexedDB writes started while the page unloads may be cut off; localStorage is
  // synchronous, so the last keystrokes before a reload are kept there and win if newer.
  const UNLOAD_KEY = `zoufang.draft:${key}`

  async function load() {
    let saved = await db.drafts.get(key)
    try {
      const unloaded = JSON.parse(localStorage.getItem(UNLOAD_KEY))
      if (unloaded && (!saved || unloaded.saved_at > saved.saved_at)) {
        saved = unloaded
        await db.drafts.put(saved)
      }
      localStorage.removeItem(UNLOAD_KEY)
    } catch {
      // a broken copy: the IndexedDB one stands
    }
    Object.assign(values, saved ? saved.value : await initial())
    restored.value = Boolean(saved)
    setDirty(Boolean(saved))
    ready.value = true
  }

  watch(values, () => {
    if (!ready.value) return
    setDirty(true)
    clearTimeout(timer)
    timer = setTimeout(() => {
      db.drafts.put({ key, value: JSON.parse(JSON.stringify(values)), saved_at: new Date().toISOString() })
    }, SAVE_DELAY_MS)
  }, { deep: true })

  async function clear() {
    clearTimeout(timer)
    localStorage.removeItem(UNLOAD_KEY)
    await db.drafts.delete(key)
    setDirty(false)
  }

  // Written at once when the page goes away, not after the delay.
  async function flush() {
    clearTimeout(timer)
    if (dirty) await db.drafts.put({ key, value: JSON.parse(JSON.stringify(values)), saved_at: new Date().toISOString() })
  }

  const onHide = () => {
    if (dirty) {
      try {
        localStorage.setItem(UNLOAD_KEY, JSON.stringify({ key, value: JSON.parse(JSON.stringify(values)),
          saved_at: new Date().toISOString() }))
      } catch {
        // storage full: the IndexedDB write below is the only chance
      }
    }
    flush()
  }
  window.addEventListener('pagehide', onHide)
  onBeforeUnmount(() => {
    window.removeEventListener('pagehide', onHide)
    flush()
    setDirty(false)
  })
  load()
  return { values, ready, restored, clear }
}
