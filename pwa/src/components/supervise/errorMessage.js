// The supervisor screens' error words live in src/pages/supervise/errorMessage.js; Exports.vue still
// imports them from here.
export * from '../../pages/supervise/errorMessage.js'
