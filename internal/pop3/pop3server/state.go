package pop3server

// state is a POP3 session state (RFC 1939 §3). Commands name the states
// they are allowed in; dispatch refuses them elsewhere.
type state uint8

const (
	// stateAuthorization is the state after the greeting. It goes to
	// stateTransaction after USER/PASS, APOP or AUTH succeeds and the
	// maildrop is locked; QUIT ends the connection without an UPDATE.
	stateAuthorization state = 1 << iota
	// stateTransaction is the logged-in state, on a snapshot of the
	// maildrop taken at login. QUIT goes to stateUpdate; a dropped
	// connection or a timeout ends the session without one.
	stateTransaction
	// stateUpdate is entered by QUIT from stateTransaction: deletions are
	// committed, read mail is moved, the lock is released and the
	// connection closes. No command is read in it.
	stateUpdate
)

// stateAny allows a command in both reading states.
const stateAny = stateAuthorization | stateTransaction

func (s state) String() string {
	switch s {
	case stateAuthorization:
		return "AUTHORIZATION"
	case stateTransaction:
		return "TRANSACTION"
	case stateUpdate:
		return "UPDATE"
	}
	return "unknown"
}

// setState moves the session to next.
func (c *conn) setState(next state) {
	c.state = next
}
