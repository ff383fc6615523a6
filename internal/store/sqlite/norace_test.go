//go:build !race

package sqlite

// raceEnabled: the race detector slows the store's SQLite tenfold; large
// corpora shrink under it.
const raceEnabled = false
