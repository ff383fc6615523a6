//go:build race

package imapserver

// raceEnabled: the race detector slows the scan tenfold; large corpora
// shrink under it.
const raceEnabled = true
