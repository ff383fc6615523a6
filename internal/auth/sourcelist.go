package auth

import "sync/atomic"

// SourceList holds the account sources in effect, which a reload
// replaces as a whole (docs/accounts.md): a login reads the list once
// when it starts, so it runs to its end with the sources it began with,
// and every login that starts after Swap sees only the new ones.
type SourceList struct{ p atomic.Pointer[[]Source] }

// NewSourceList returns a list holding sources.
func NewSourceList(sources []Source) *SourceList {
	l := &SourceList{}
	l.p.Store(&sources)
	return l
}

// Load returns the sources in effect. A nil list has none.
func (l *SourceList) Load() []Source {
	if l == nil {
		return nil
	}
	return *l.p.Load()
}

// Swap puts sources in effect and returns the ones they replace.
func (l *SourceList) Swap(sources []Source) []Source {
	return *l.p.Swap(&sources)
}
