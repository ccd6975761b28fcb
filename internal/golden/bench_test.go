package golden

import "testing"

// BenchmarkReadGroupSeedCNN measures the largest file's load (gunzip and
// parse of ~1M numbers), the cost a test pays for each golden.Load of it.
func BenchmarkReadGroupSeedCNN(b *testing.B) {
	dir, err := Dir()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ReadGroup(dir, "seedcnn"); err != nil {
			b.Fatal(err)
		}
	}
}
