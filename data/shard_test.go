package data

import (
	"slices"
	"testing"
)

// TestShardsMakeTheGlobalBatch checks that the shards of every rank,
// concatenated in rank order, are exactly the one-process loader's batch
// of the global size (order, augmentation and labels), for any worker
// count, and that a last batch smaller than the number of shards is left
// out.
func TestShardsMakeTheGlobalBatch(t *testing.T) {
	for _, tc := range []struct{ n, global, shards, workers int }{
		{n: 64, global: 32, shards: 2, workers: 0},
		{n: 70, global: 32, shards: 2, workers: 2}, // last batch of 6: 3 and 3
		{n: 67, global: 16, shards: 4, workers: 1}, // last batch of 3 < 4: dropped
		{n: 50, global: 12, shards: 3, workers: 0}, // last batch of 2 < 3: dropped
		{n: 41, global: 12, shards: 3, workers: 3}, // last batch of 5: 1, 2, 2
	} {
		whole, err := NewLoader(newFake(tc.n), LoaderOptions{BatchSize: tc.global, Shuffle: true, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		want := collect(t, whole, 2, 0)
		if last := tc.n % tc.global; last != 0 && last < tc.shards {
			want = want[:len(want)-1]
		}
		parts := make([][]batchCopy, tc.shards)
		for r := range parts {
			l, err := NewLoader(newFake(tc.n), LoaderOptions{BatchSize: tc.global, Shuffle: true, Seed: 7, Workers: tc.workers, Shard: r, Shards: tc.shards})
			if err != nil {
				t.Fatal(err)
			}
			if l.NumBatches() != len(want) {
				t.Fatalf("%+v: %d batches per shard, want %d", tc, l.NumBatches(), len(want))
			}
			parts[r] = collect(t, l, 2, 0)
		}
		for k, w := range want {
			var x []float32
			var y, idx []int
			for r := range parts {
				p := parts[r][k]
				if p.Pos != k {
					t.Fatalf("%+v: rank %d's batch %d has position %d", tc, r, k, p.Pos)
				}
				if d := len(p.Y) - len(w.Y)/tc.shards; d < 0 || d > 1 {
					t.Errorf("%+v: rank %d's shard of batch %d has %d of %d examples", tc, r, k, len(p.Y), len(w.Y))
				}
				x, y, idx = append(x, p.X...), append(y, p.Y...), append(idx, p.Idx...)
			}
			if !slices.Equal(x, w.X) || !slices.Equal(y, w.Y) || !slices.Equal(idx, w.Idx) {
				t.Errorf("%+v: batch %d: the shards together differ from the global batch", tc, k)
			}
		}
	}
}

func TestShardOptionsErrors(t *testing.T) {
	for _, o := range []LoaderOptions{{BatchSize: 4, Shard: 2, Shards: 2}, {BatchSize: 4, Shard: -1, Shards: 2}, {BatchSize: 4, Shards: -3}} {
		if _, err := NewLoader(newFake(8), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
