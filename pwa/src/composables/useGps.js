// The device's position for a record: watch until a fix is good enough (≤ 30 m) or 20 s
// pass, keeping the best one; the user may save without one (it is then marked missing).
// Browsers give WGS-84, which is what the server stores.
import { onBeforeUnmount, reactive } from 'vue'

export const GOOD_ENOUGH_M = 30
export const GIVE_UP_MS = 20000

/** The better of two fixes: the more accurate one; a newer one when equally accurate. */
export function betterFix(best, next) {
  if (!next || !Number.isFinite(next.accuracy_m)) return best
  if (!best) return next
  if (next.accuracy_m < best.accuracy_m) return next
  if (next.accuracy_m === best.accuracy_m && next.at > best.at) return next
  return best
}

export function toFix(position) {
  return {
    lat: Math.round(position.coords.latitude * 1e7) / 1e7,
    lon: Math.round(position.coords.longitude * 1e7) / 1e7,
    accuracy_m: Math.round(position.coords.accuracy * 10) / 10,
    at: position.timestamp,
  }
}

export function useGps({ goodEnoughM = GOOD_ENOUGH_M, giveUpMs = GIVE_UP_MS } = {}) {
  const state = reactive({ fix: null, status: 'idle' }) // idle | searching | good | done | denied | unavailable
  let watchId = null
  let timer = null

  function stop(status = state.fix ? 'done' : 'unavailable') {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId)
    clearTimeout(timer)
    watchId = null
    if (state.status === 'searching') state.status = status
  }

  function start() {
    if (!('geolocation' in navigator)) {
      state.status = 'unavailable'
      return
    }
    stop()
    state.status = 'searching'
    timer = setTimeout(() => stop(), giveUpMs)
    watchId = navigator.geolocation.watchPosition(
      (position) => {
        state.fix = betterFix(state.fix, toFix(position))
        if (state.fix.accuracy_m <= goodEnoughM) {
          stop()
          state.status = 'good'
        }
      },
      (error) => stop(error.code === 1 ? 'denied' : undefined),
      { enableHighAccuracy: true, maximumAge: 10000, timeout: giveUpMs },
    )
  }

  onBeforeUnmount(() => stop())
  return { state, start, stop }
}
