package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/postern/postern/internal/message"
)

// TestThreadRefsOf: the own id, then In-Reply-To's first id and the
// References from the last, without duplicates or the own id, bounded
// by MaxThreadRefs; ids that are not valid UTF-8 or hold control
// characters are left out.
func TestThreadRefsOf(t *testing.T) {
	many := make([]string, MaxThreadRefs+5)
	for i := range many {
		many[i] = fmt.Sprintf("<r%d@x>", i)
	}
	tests := []struct {
		name             string
		id, irt, refs    string
		wantOwn, wantRef string
	}{
		{"none", "", "", "", "", ""},
		{"own", "<a@x>", "", "", "a@x", ""},
		{"reply", "<b@x>", "<a@x>", "<r@x> <a@x>", "b@x", "a@x r@x"},
		{"irt not in references", "<b@x>", "<i@x>", "<r1@x> <r2@x>", "b@x", "i@x r2@x r1@x"},
		{"self reference", "<b@x>", "<b@x>", "<b@x>", "b@x", ""},
		{"bad ids", "<a\x00@x>", "<\xff@x>", "<ok@x>", "", "ok@x"},
		{"bounded", "", "", strings.Join(many, " "), "", ""},
	}
	for _, tt := range tests {
		var h message.Header
		for _, f := range [][2]string{{"Message-ID", tt.id}, {"In-Reply-To", tt.irt}, {"References", tt.refs}} {
			if f[1] != "" {
				h = append(h, message.Field{Name: f[0], Raw: []byte(f[0] + ": " + f[1] + "\r\n")})
			}
		}
		tr := ThreadRefsOf(h)
		if tt.name == "bounded" {
			if len(tr.Refs) != MaxThreadRefs || tr.Refs[0] != fmt.Sprintf("r%d@x", len(many)-1) {
				t.Errorf("%s: %d refs from %q, want %d from the last", tt.name, len(tr.Refs), tr.Refs[0], MaxThreadRefs)
			}
			continue
		}
		if tr.Own != tt.wantOwn || strings.Join(tr.Refs, " ") != tt.wantRef {
			t.Errorf("%s: %+v, want own %q refs %q", tt.name, tr, tt.wantOwn, tt.wantRef)
		}
	}
}
