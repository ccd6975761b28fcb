package selection

// This file keeps a study's settings in its folder (tune.json), so that a
// rerun kiln tune with other training settings is refused rather than
// mixing incomparable trials. It leaves out the study's own record of its
// space and direction, which the storage checks (tune.OpenStudy).

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/run"
)

// tuneSettings is tune.json.
type tuneSettings struct {
	Study     string          `json:"study"`
	Objective string          `json:"objective"`
	Folds     int             `json:"folds,omitempty"`
	Space     json.RawMessage `json:"space"`
	Config    run.Config      `json:"config"`
}

// checkSettings writes tune.json for a new study, or checks that a rerun
// asks for what the study was started with, so that its trials stay
// comparable. Only where a run keeps its data (--data may move), workers
// and checkpoints may differ.
func (t *Tuner) checkSettings() error {
	now := tuneSettings{Study: t.opt.Study, Objective: t.opt.Objective, Space: json.RawMessage(t.opt.Space.String()), Config: t.base}
	if now.Objective == ObjectiveCV {
		now.Folds = t.opt.Folds
	}
	path := filepath.Join(t.dir, TuneSettings)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return run.WriteJSON(path, now)
	}
	if err != nil {
		return fmt.Errorf("selection: %w", err)
	}
	var was tuneSettings
	if err := json.Unmarshal(b, &was); err != nil {
		return fmt.Errorf("selection: %s: %w", path, err)
	}
	differ := func(what string, a, b any) error {
		return fmt.Errorf("the study %s in %s was started with %s %v, not %v; rerun it with the same settings, or start another with --study",
			t.opt.Study, t.dir, what, a, b)
	}
	switch {
	case was.Objective != now.Objective:
		return differ("--objective", was.Objective, now.Objective)
	case was.Folds != now.Folds:
		return differ("--folds", was.Folds, now.Folds)
	}
	a, c := was.Config, now.Config
	for _, x := range []*run.Config{&a, &c} {
		x.Workers, x.CheckpointEvery, x.Data, x.Out, x.Name = 0, 0, "", "", ""
	}
	searched := map[string]bool{}
	for _, p := range t.opt.Space.Params {
		if key, _, err := settingKey(p.Name); err == nil {
			searched[key] = true // every trial sets it; the base value is moot
		}
	}
	if key, x, y := configDiff(a, c, searched); key != "" {
		return differ("--"+strings.ReplaceAll(key, "_", "-"), x, y)
	}
	return nil
}

// configDiff returns the first config.json key outside skip whose values
// differ in a and b, with both values; "" when they agree.
func configDiff(a, b run.Config, skip map[string]bool) (key string, x, y any) {
	var ma, mb map[string]any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	for _, k := range slices.Sorted(maps.Keys(ma)) {
		if fmt.Sprint(ma[k]) != fmt.Sprint(mb[k]) && !skip[k] {
			return k, ma[k], mb[k]
		}
	}
	for _, k := range slices.Sorted(maps.Keys(mb)) {
		if _, ok := ma[k]; !ok && !skip[k] {
			return k, nil, mb[k]
		}
	}
	return "", nil, nil
}
