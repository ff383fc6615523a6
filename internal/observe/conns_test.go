package observe

import (
	"testing"
	"time"
)

func TestConns(t *testing.T) {
	c := NewConns()
	now := time.Unix(1000, 0)
	a := c.Add("imap", "192.0.2.1:5000", now)
	b := c.Add("pop3", "192.0.2.2:5001", now)
	if a == b || b <= a {
		t.Fatalf("ids %d, %d: want distinct and increasing", a, b)
	}
	c.SetUser(b, "alice")
	got := c.List()
	if len(got) != 2 || got[0].ID != a || got[1].User != "alice" || got[1].Proto != "pop3" {
		t.Fatalf("List = %+v", got)
	}
	c.Remove(a)
	c.SetUser(a, "ghost") // no effect on a closed connection
	if got := c.List(); len(got) != 1 || got[0].ID != b {
		t.Fatalf("after Remove: %+v", got)
	}
}
