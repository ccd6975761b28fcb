package run

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/train"
)

// TestParseReportRoundTrip reads back a report written as a run writes
// it, class names with spaces included.
func TestParseReportRoundTrip(t *testing.T) {
	c := train.NewConfusion([]string{"T-shirt/top", "Ankle boot", "x"})
	for _, p := range [][2]int{{0, 0}, {0, 2}, {1, 1}, {2, 2}, {2, 1}, {1, 1}} {
		c.Add(p[0], p[1])
	}
	text := fmt.Sprintf("test accuracy %.4f, loss %.4f, %d images, best model\n\n%s", c.Accuracy(), 0.31416, c.Total(), c.Report())
	r, err := parseReport([]byte(text), "report", c.Classes)
	if err != nil {
		t.Fatal(err)
	}
	if r.Accuracy != c.Accuracy() || r.Loss != 0.3142 || fmt.Sprint(r.Confusion.Counts) != fmt.Sprint(c.Counts) {
		t.Errorf("read back %+v %v", r, r.Confusion.Counts)
	}
	if _, err := parseReport([]byte(strings.Replace(text, "6 images", "7 images", 1)), "report", c.Classes); err == nil {
		t.Error("a report whose matrix does not add up was accepted")
	}
}
