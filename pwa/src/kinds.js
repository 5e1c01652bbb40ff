// The app's registry of record kinds, the client side of backend/records/kinds.py. The
// device's stores, the outbox's mutation types, the sync engine, 我的记录, the sync screen
// and review all iterate this list: a new kind is one entry here (and its pages).
//
//   store       the Dexie table and the server's plural (pull key, /api/<store>)
//   type        the singular: sync mutation prefix (`visit.upsert`), review's record_type,
//               drafts' key prefix (`visit:<id>`)
//   indexes     the Dexie indexes of its table; `since` the db version that added the table
//               (db/index.js: versions are only ever appended)
//   written     the user writes it with upsert/delete (a photo is attached instead)
//   reviewed    supervisors rule on it (api/review.js, the review queue, the evidence view)
//   parent      the record each of its rows belongs to (a visit's household): its table, the
//               field holding its id, how it is named, the words when it is missing
//   name        (row, names) -> how the sync screen names a record; `names` maps parents'
//               ids to their names
//   list        its entry in 我的记录 (Records.vue): title (when it has no parent), detail
//               and time fields, the routes that edit and open it

const personName = (row) => `${row.head_name || ''} ${row.address || ''}`.trim()

export const KINDS = [
  {
    store: 'households', type: 'household', since: 1, indexes: 'id, area_code, _state, updated_at', written: true,
    name: (row) => personName(row),
    list: {
      title: (row) => row.head_name || row.address, detail: 'address', time: 'updated_at',
      edit: (id) => (id === 'new' ? '/households/new' : `/households/${id}/edit`),
      open: (id) => `/households/${id}`,
    },
  },
  {
    store: 'visits', type: 'visit', since: 1, indexes: 'id, household_id, _state, visited_at', written: true,
    reviewed: true,
    parent: { store: 'households', field: 'household_id', title: personName, none: 'records.noHousehold' },
    name: (row, names) => names.get(row.household_id) || row.summary || '',
    list: {
      detail: 'summary', time: 'visited_at', edit: (id) => `/visits/${id}`,
    },
  },
  {
    store: 'hotspots', type: 'hotspot', since: 1, indexes: 'id, area_code, _state, updated_at', written: true,
    name: (row) => row.name || '',
  },
  {
    store: 'inspections', type: 'inspection', since: 1, indexes: 'id, hotspot_id, _state, inspected_at',
    written: true, reviewed: true,
    parent: { store: 'hotspots', field: 'hotspot_id', title: (row) => row.name, none: 'records.noHotspot' },
    name: (row, names) => names.get(row.hotspot_id) || row.findings || '',
    list: {
      detail: 'findings', time: 'inspected_at', edit: (id) => `/inspections/${id}`,
    },
  },
  { store: 'photos', type: 'photo', since: 1, indexes: 'id, [record_type+record_id], _state, _upload' },
]

/** Every kind's Dexie table name. */
export const STORES = KINDS.map((kind) => kind.store)

const BY_STORE = new Map(KINDS.map((kind) => [kind.store, kind]))
const BY_TYPE = new Map(KINDS.map((kind) => [kind.type, kind]))

/** The kind of a table name ("visits"), or undefined. */
export const kindOfStore = (store) => BY_STORE.get(store)

/** The kind of a singular ("visit", or a mutation type "visit.upsert"), or undefined. */
export const kindOfType = (type) => BY_TYPE.get(String(type).split('.')[0])

/** The kinds the user writes record by record (upsert, delete). */
export const WRITTEN = KINDS.filter((kind) => kind.written)

/** The kinds supervisors rule on. */
export const REVIEWED = KINDS.filter((kind) => kind.reviewed)

/** The kinds with an entry in 我的记录, in the order of this list. */
export const LISTED = KINDS.filter((kind) => kind.list)
