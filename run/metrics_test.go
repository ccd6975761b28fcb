package run

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/train"
)

// TestWriteMetricsExtraColumns: a task's own column follows the common
// ones in metrics.csv and is a key of each metrics.jsonl record.
func TestWriteMetricsExtraColumns(t *testing.T) {
	dir := t.TempDir()
	rows := []train.EpochStats{{Epoch: 1, Step: 10, TrainLoss: 0.5}, {Epoch: 2, Step: 20, TrainLoss: 0.25}}
	eps := Column{Name: "epsilon", Value: func(st train.EpochStats) float64 { return float64(st.Step) / 8 }}
	if err := WriteMetrics(dir, rows, eps); err != nil {
		t.Fatal(err)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, MetricsCSV))
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], ",seconds,epsilon") || !strings.HasSuffix(lines[2], ",2.5") {
		t.Errorf("metrics.csv:\n%s", csv)
	}
	js, _ := os.ReadFile(filepath.Join(dir, MetricsJSON))
	for i, line := range strings.Split(strings.TrimSpace(string(js)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["epsilon"] != float64(rows[i].Step)/8 || rec["train_loss"] != rows[i].TrainLoss {
			t.Errorf("metrics.jsonl line %d: %s (%v)", i, line, err)
		}
	}
	if err := WriteMetrics(dir, rows); err != nil {
		t.Fatal(err)
	}
	if csv, _ := os.ReadFile(filepath.Join(dir, MetricsCSV)); strings.Contains(string(csv), "epsilon") {
		t.Error("the column stayed without being asked for")
	}
}
