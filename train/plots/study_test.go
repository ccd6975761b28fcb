package plots

import (
	"image/color"
	"math"
	"path/filepath"
	"testing"
)

func TestHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.png")
	err := History(path, "study", "accuracy (%)", []float64{0, 1, 3, 4}, []float64{50, 70, math.NaN(), 60}, []float64{50, 70, 70, 70})
	if err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	// The points and the best-so-far line are drawn in their colours.
	for i, c := range []color.Color{lineColors[0], lineColors[3]} {
		if n := countColor(img, c.(color.RGBA)); n < 30 {
			t.Errorf("series %d: %d pixels of its colour", i, n)
		}
	}
	if err := History(filepath.Join(t.TempDir(), "empty.png"), "empty", "accuracy (%)", nil, nil, nil); err != nil {
		t.Errorf("no trials: %v", err)
	}
}

// TestImportance checks that bar lengths follow the values: one full bar
// has about twice the pixels of two half bars each.
func TestImportance(t *testing.T) {
	dir := t.TempDir()
	bars := func(name string, values ...float64) int {
		names := []string{"lr", "batch_size", "optimizer"}[:len(values)]
		path := filepath.Join(dir, name)
		if err := Importance(path, "importance", names, values); err != nil {
			t.Fatal(err)
		}
		return countColor(readPNG(t, path), lineColors[0].(color.RGBA))
	}
	full, halves, zero := bars("full.png", 1, 0), bars("halves.png", 0.5, 0.5), bars("zero.png", 0, 0, math.NaN())
	if full < 1000 || math.Abs(float64(halves)/float64(full)-1) > 0.1 || zero > 20 {
		t.Errorf("bar pixels: one full bar %d, two half bars %d, zeros %d", full, halves, zero)
	}
}

func TestTrialTicks(t *testing.T) {
	for _, tk := range (trialTicks{}).Ticks(-0.5, 3.5) {
		if tk.Label == "-0" {
			t.Errorf("tick %+v", tk)
		}
	}
}
