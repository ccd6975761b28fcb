package data

// This file holds index splitting: train/val/test splits, plain or
// stratified, and stratified k-fold. It leaves out group-aware splits (for
// datasets where near-duplicates must stay on one side).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Split partitions the indices 0..len(labels)-1 into len(fracs) parts whose
// sizes follow fracs, drawing with rng. Fractions must be positive and sum to
// at most 1; when they sum to 1 (within 1e-9) every index lands in some
// part, otherwise the remainder is left out. Part sizes are the fractions of
// len(labels) rounded by largest remainder (the remainder counting as one
// more part), so they add up exactly.
//
// With stratified, every class is spread over the parts in the same
// proportions (to within one example per part and class); labels are only
// read in that case. Each part is returned in increasing index order.
func Split(labels []int, fracs []float64, rng *rand.Rand, stratified bool) ([][]int, error) {
	n := len(labels)
	sum, err := checkFracs(fracs)
	if err != nil {
		return nil, err
	}
	// A remainder is one more part, dealt like the others and then dropped,
	// so that a stratified subset stays stratified.
	all := fracs
	if sum < 1-1e-9 {
		all = append(slices.Clone(fracs), 1-sum)
	}
	counts := apportion(all, n)
	var order []int
	if stratified {
		order = classGrouped(labels, rng)
	} else {
		order = rng.Perm(n)
	}
	parts := make([][]int, len(all))
	if stratified {
		// Deal the class-grouped order out in a sequence that spreads each
		// part evenly, so every class's run gets its share of every part.
		for j, p := range spread(counts) {
			parts[p] = append(parts[p], order[j])
		}
	} else {
		at := 0
		for p, c := range counts {
			parts[p] = append(parts[p], order[at:at+c]...)
			at += c
		}
	}
	parts = parts[:len(fracs)]
	for _, p := range parts {
		slices.Sort(p)
	}
	return parts, nil
}

// checkFracs returns the sum of fracs, which must be positive and add up
// to at most 1.
func checkFracs(fracs []float64) (float64, error) {
	if len(fracs) == 0 {
		return 0, fmt.Errorf("data: split needs at least one fraction")
	}
	sum := 0.0
	for _, f := range fracs {
		if !(f > 0) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("data: split fraction %v is not positive", f)
		}
		sum += f
	}
	if sum > 1+1e-9 {
		return 0, fmt.Errorf("data: split fractions %v sum to %v, more than 1", fracs, sum)
	}
	return sum, nil
}

// apportion splits total into len(fracs) counts proportional to fracs by the
// largest-remainder method (ties to the earlier part).
func apportion(fracs []float64, total int) []int {
	sum := 0.0
	for _, f := range fracs {
		sum += f
	}
	counts := make([]int, len(fracs))
	rem := make([]float64, len(fracs))
	used := 0
	for i, f := range fracs {
		exact := f / sum * float64(total)
		counts[i] = int(math.Floor(exact))
		rem[i] = exact - float64(counts[i])
		used += counts[i]
	}
	byRem := make([]int, len(fracs))
	for i := range byRem {
		byRem[i] = i
	}
	sort.SliceStable(byRem, func(a, b int) bool { return rem[byRem[a]] > rem[byRem[b]] })
	for i := 0; used < total; i++ {
		counts[byRem[i%len(byRem)]]++
		used++
	}
	return counts
}

// spread returns a sequence holding part p counts[p] times, each part's
// occurrences as evenly spaced as possible (at (m+0.5)/counts[p]).
func spread(counts []int) []int {
	type slotKey struct {
		at   float64
		part int
	}
	var keys []slotKey
	for p, c := range counts {
		for m := 0; m < c; m++ {
			keys = append(keys, slotKey{(float64(m) + 0.5) / float64(c), p})
		}
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].at != keys[b].at {
			return keys[a].at < keys[b].at
		}
		return keys[a].part < keys[b].part
	})
	seq := make([]int, len(keys))
	for i, k := range keys {
		seq[i] = k.part
	}
	return seq
}

// classGrouped returns all indices grouped by class, classes in a random
// order and members shuffled within each class.
func classGrouped(labels []int, rng *rand.Rand) []int {
	byClass := map[int][]int{}
	var classes []int
	for i, y := range labels {
		if _, ok := byClass[y]; !ok {
			classes = append(classes, y)
		}
		byClass[y] = append(byClass[y], i)
	}
	slices.Sort(classes)
	rng.Shuffle(len(classes), func(i, j int) { classes[i], classes[j] = classes[j], classes[i] })
	order := make([]int, 0, len(labels))
	for _, c := range classes {
		m := byClass[c]
		rng.Shuffle(len(m), func(i, j int) { m[i], m[j] = m[j], m[i] })
		order = append(order, m...)
	}
	return order
}

// Fold is one round of k-fold cross-validation: indices to train on and
// indices to validate on, each in increasing order.
type Fold struct {
	Train, Val []int
}

// StratifiedKFold splits 0..len(labels)-1 into k folds of sizes differing by
// at most one, each class spread over the folds as evenly as its count
// allows (as scikit-learn's StratifiedKFold with shuffle). Every index is in
// exactly one fold's Val and in the Train of all the others.
func StratifiedKFold(labels []int, k int, rng *rand.Rand) ([]Fold, error) {
	if k < 2 || k > len(labels) {
		return nil, fmt.Errorf("data: k-fold needs 2 <= k <= %d examples, got k=%d", len(labels), k)
	}
	fold := make([]int, len(labels))
	for j, i := range classGrouped(labels, rng) {
		fold[i] = j % k
	}
	folds := make([]Fold, k)
	for i, f := range fold {
		for g := range folds {
			if g == f {
				folds[g].Val = append(folds[g].Val, i)
			} else {
				folds[g].Train = append(folds[g].Train, i)
			}
		}
	}
	return folds, nil
}
