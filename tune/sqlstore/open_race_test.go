package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// TestOpenTogether opens one new SQLite file from many stores at once, as
// tuning workers started together do: every one must open it (SQLite can
// answer "database is locked" while another connection turns the file to
// WAL, without waiting on the busy timeout).
func TestOpenTogether(t *testing.T) {
	rounds, stores := 20, 8
	if testing.Short() {
		rounds = 5
	}
	for r := range rounds {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("s%d.db", r))
		var wg sync.WaitGroup
		errs := make([]error, stores)
		for i := range stores {
			wg.Go(func() {
				s, err := Open(context.Background(), path)
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, store %d: %v", r, i, err)
			}
		}
	}
}
