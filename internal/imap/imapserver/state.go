package imapserver

// state is the protocol state of a connection (RFC 9051 §3). Transitions
// happen only through (*conn).setState, called by the handlers named below;
// the dispatch table decides which commands run in which state, so no
// handler checks the state itself.
type state uint8

const (
	// stateNotAuthenticated is the state after the greeting. LOGIN and
	// AUTHENTICATE move to stateAuthenticated; LOGOUT to stateLogout.
	stateNotAuthenticated state = 1 << iota
	// stateAuthenticated is the state after login and after CLOSE or
	// UNSELECT. SELECT and EXAMINE move to stateSelected; LOGOUT to
	// stateLogout.
	stateAuthenticated
	// stateSelected is the state while a mailbox is selected. CLOSE,
	// UNSELECT and a failed SELECT move back to stateAuthenticated; a
	// successful SELECT stays here with another mailbox; LOGOUT goes to
	// stateLogout.
	stateSelected
	// stateLogout is final: the connection closes after the current
	// response.
	stateLogout
)

// State sets used by the dispatch table.
const (
	anyState   = stateNotAuthenticated | stateAuthenticated | stateSelected
	authed     = stateAuthenticated | stateSelected
	notAuthed  = stateNotAuthenticated
	onSelected = stateSelected
)

func (s state) String() string {
	switch s {
	case stateNotAuthenticated:
		return "not-authenticated"
	case stateAuthenticated:
		return "authenticated"
	case stateSelected:
		return "selected"
	case stateLogout:
		return "logout"
	}
	return "invalid"
}

// setState moves the connection to s. Leaving stateSelected drops the
// selected-mailbox view.
func (c *conn) setState(s state) {
	if s != stateSelected {
		c.sel = nil
	}
	c.state = s
}
