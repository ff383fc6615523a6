package main

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestBigAnswers checks the large mailbox's known search answers against
// the generated messages, at sizes around the multiples.
func TestBigAnswers(t *testing.T) {
	for _, n := range []int{1, 60, 88, 89, 96, 97, 178, 8633, 8632} {
		rng := rand.New(rand.NewPCG(corpusSeed, 100_000))
		var from, text int
		for i := range n {
			m := bigMessage(rng, i)
			if bytes.Contains(m, []byte(searchFrom)) {
				from++
			}
			if bytes.Contains(m, []byte(searchWord)) {
				text++
			}
		}
		if f, x := bigAnswers(n); f != from || x != text {
			t.Errorf("bigAnswers(%d) = %d, %d; the messages hold %d, %d", n, f, x, from, text)
		}
	}
}
