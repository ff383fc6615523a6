package sqlite

import (
	"context"
	"sync"
	"testing"
)

// TestOpenFreshConcurrently opens one fresh store from several openers at
// once, as `postern serve` and `postern user add` started together do: each
// must see the schema created once, none may fail on the migration the
// other already made.
func TestOpenFreshConcurrently(t *testing.T) {
	ctx := context.Background()
	for round := range 10 {
		dir := t.TempDir()
		const openers = 4
		var wg sync.WaitGroup
		errs := make([]error, openers)
		stores := make([]*Store, openers)
		for i := range openers {
			wg.Go(func() { stores[i], errs[i] = Open(ctx, dir, Options{}) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, opener %d: %v", round, i, err)
			}
			stores[i].Close()
		}
	}
}
