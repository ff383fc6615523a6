package imapwire

import "testing"

// TestInProgress pins the INPROGRESS response code of RFC 9585 §5 in each
// of its forms, among them the degrees of completeness of §4's examples
// ("tag" NIL NIL, "tag" 175 NIL, "tag" 175 1000), and the rules of §4: a
// tag with "]" is NIL, GOAL is always greater than PROGRESS.
func TestInProgress(t *testing.T) {
	tests := []struct {
		name string
		p    Progress
		text string
		want string
	}{
		{"unknown", Progress{Tag: "A001"}, "Hang in there", `* OK [INPROGRESS ("A001" NIL NIL)] Hang in there`},
		{"counting", Progress{Tag: "A001", Counting: true, Done: 175}, "Processed 175 items", `* OK [INPROGRESS ("A001" 175 NIL)] Processed 175 items`},
		{"known goal", Progress{Tag: "A001", Counting: true, Done: 175, Goal: 1000}, "Processed 17%", `* OK [INPROGRESS ("A001" 175 1000)] Processed 17%`},
		{"zero done", Progress{Tag: "t", Counting: true, Goal: 5}, "", `* OK [INPROGRESS ("t" 0 5)] In progress`},
		{"tag with bracket", Progress{Tag: "a]1", Counting: true, Done: 3, Goal: 9}, "x", `* OK [INPROGRESS (NIL 3 9)] x`},
		{"no tag", Progress{}, "x", `* OK [INPROGRESS (NIL NIL NIL)] x`},
		{"tag with 8-bit", Progress{Tag: "t\xe9"}, "x", `* OK [INPROGRESS (NIL NIL NIL)] x`},
		{"done reaches goal", Progress{Tag: "t", Counting: true, Done: 7, Goal: 7}, "x", `* OK [INPROGRESS ("t" 6 7)] x`},
		{"done past goal", Progress{Tag: "t", Counting: true, Done: 9, Goal: 1}, "x", `* OK [INPROGRESS ("t" 0 1)] x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encode(t, EncoderOptions{}, func(enc *Encoder) {
				if err := enc.InProgress(tt.p, tt.text); err != nil {
					t.Fatal(err)
				}
			})
			if got != tt.want+"\r\n" {
				t.Errorf("got %q, want %q", got, tt.want+"\r\n")
			}
		})
	}
}
