// The county's clock now lives in src/time.js; api/exports.js still imports it from here.
export { countyDay, countyMinute, countyTime, dayRange, dayStart, nextDay, wallClock, zoneOffsetMinutes } from '../time.js'
