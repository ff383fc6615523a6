package thread

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"
)

// sortFixture: five messages with every sort key set, some missing.
func sortFixture() []Message {
	at := func(day int, zone string) time.Time {
		loc := time.FixedZone(zone, map[string]int{"UTC": 0, "+0200": 7200, "-0500": -18000}[zone])
		return time.Date(2026, 3, day, 12, 0, 0, 0, loc)
	}
	return []Message{
		{ // 1
			InternalDate: at(5, "UTC"), Date: at(2, "+0200"), Size: 300,
			Subject: "Re: beta", From: Address{Name: "Zed", Mailbox: "zed", Host: "example.org"},
			To: Address{Mailbox: "carol", Host: "example.net"}, Cc: Address{Mailbox: "bob", Host: "x"},
		},
		{ // 2
			InternalDate: at(1, "UTC"), Date: at(3, "-0500"), Size: 100,
			Subject: "=?UTF-8?Q?=C3=A9clair?=", From: Address{Name: "=?UTF-8?Q?=C3=89mile?=", Mailbox: "emile", Host: "example.fr"},
			To: Address{Name: "Alice", Mailbox: "alice", Host: "example.com"},
		},
		{ // 3: no Date, no Cc
			InternalDate: at(3, "UTC"), Size: 200,
			Subject: "[list] Alpha", From: Address{Mailbox: "Adam", Host: "example.org"},
			To: Address{Name: "bob", Mailbox: "zz", Host: "example.com"},
		},
		{ // 4: no From, no Subject
			InternalDate: at(4, "UTC"), Date: at(1, "UTC"), Size: 200,
			To: Address{Mailbox: "alice", Host: "example.com"}, Cc: Address{Mailbox: "Anna", Host: "x"},
		},
		{ // 5
			InternalDate: at(2, "UTC"), Date: at(2, "UTC"), Size: 50,
			Subject: "Fwd: ALPHA", From: Address{Name: " ", Mailbox: "bea", Host: "example.org"},
			To: Address{Mailbox: "Carol", Host: "example.net"}, Cc: Address{Mailbox: "bob", Host: "y"},
		},
	}
}

func TestSort(t *testing.T) {
	msgs := sortFixture()
	tests := []struct {
		crit []Criterion
		want []int // message numbers, 1-based
	}{
		{[]Criterion{{Key: KeyArrival}}, []int{2, 5, 3, 4, 1}},
		{[]Criterion{{Key: KeyArrival, Reverse: true}}, []int{1, 4, 3, 5, 2}},
		// DATE in UTC: 4 (1st 12:00), 1 (2nd 10:00), 5 (2nd 12:00), 2
		// (3rd 17:00); 3 has no Date and sorts by its INTERNALDATE (3rd
		// 12:00).
		{[]Criterion{{Key: KeyDate}}, []int{4, 1, 5, 3, 2}},
		{[]Criterion{{Key: KeySize}}, []int{5, 2, 3, 4, 1}},
		// Ties keep sequence order, also under REVERSE.
		{[]Criterion{{Key: KeySize, Reverse: true}}, []int{1, 3, 4, 2, 5}},
		// Base subjects: BETA, ÉCLAIR (E + U+0301), ALPHA, "", ALPHA.
		{[]Criterion{{Key: KeySubject}}, []int{4, 3, 5, 1, 2}},
		{[]Criterion{{Key: KeySubject}, {Key: KeyArrival}}, []int{4, 5, 3, 1, 2}},
		// FROM by addr-mailbox, casemapped: zed, emile, Adam, "", bea.
		{[]Criterion{{Key: KeyFrom}}, []int{4, 3, 5, 2, 1}},
		// TO: carol, alice, zz, alice, Carol.
		{[]Criterion{{Key: KeyTo}}, []int{2, 4, 1, 5, 3}},
		// CC: bob, "", "", Anna, bob.
		{[]Criterion{{Key: KeyCc}}, []int{2, 3, 4, 1, 5}},
		{[]Criterion{{Key: KeyCc, Reverse: true}, {Key: KeySize}}, []int{5, 1, 4, 2, 3}},
		// DISPLAYFROM: Zed, Émile, Adam@example.org, "", bea@example.org
		// (a blank display name is none).
		{[]Criterion{{Key: KeyDisplayFrom}}, []int{4, 3, 5, 2, 1}},
		// DISPLAYTO: carol@…, Alice, bob, alice@…, Carol@….
		{[]Criterion{{Key: KeyDisplayTo}}, []int{2, 4, 3, 1, 5}},
	}
	for _, tt := range tests {
		got := Sort(msgs, tt.crit)
		for i := range got {
			got[i]++
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Sort(%v) = %v, want %v", tt.crit, got, tt.want)
		}
	}
}

func TestStringKey(t *testing.T) {
	msgs := sortFixture()
	for _, tt := range []struct {
		msg  int
		key  Key
		want string
	}{
		{1, KeySubject, "E\u0301CLAIR"},
		{1, KeyDisplayFrom, "E\u0301MILE"},
		{2, KeyDisplayFrom, "ADAM@EXAMPLE.ORG"},
		{3, KeyDisplayFrom, ""},
		{3, KeySubject, ""},
		{4, KeyDisplayFrom, "BEA@EXAMPLE.ORG"},
		{0, KeyCc, "BOB"},
		{2, KeyCc, ""},
	} {
		if got := StringKey(&msgs[tt.msg], tt.key); got != tt.want {
			t.Errorf("StringKey(message %d, %d) = %q, want %q", tt.msg+1, tt.key, got, tt.want)
		}
	}
}

// TestSortIsAPermutation: random messages, every key, both directions.
func TestSortIsAPermutation(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	msgs := make([]Message, 200)
	for i := range msgs {
		msgs[i] = Message{
			InternalDate: time.Unix(int64(r.Intn(50)), 0),
			Size:         int64(r.Intn(20)),
			Subject:      fmt.Sprintf("Re: %c", 'a'+r.Intn(5)),
			From:         Address{Mailbox: fmt.Sprintf("%c", 'A'+r.Intn(5))},
		}
	}
	for k := KeyArrival; k <= KeyDisplayTo; k++ {
		for _, rev := range []bool{false, true} {
			order := Sort(msgs, []Criterion{{Key: k, Reverse: rev}})
			sorted := slices.Clone(order)
			slices.Sort(sorted)
			for i, v := range sorted {
				if v != i {
					t.Fatalf("key %d: %v is not a permutation", k, order)
				}
			}
			col := newColumn(msgs, Criterion{Key: k, Reverse: rev})
			for i := 1; i < len(order); i++ {
				c := col.compare(order[i-1], order[i])
				if c > 0 || c == 0 && order[i-1] > order[i] {
					t.Fatalf("key %d reverse %v: %d before %d", k, rev, order[i-1], order[i])
				}
			}
		}
	}
}
