// The dashboard's numbers live in src/charts/numbers.js; ExportProgress.vue still imports them from here.
export * from '../../charts/numbers.js'
