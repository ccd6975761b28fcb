package selection

// This file maps a search space's parameters onto a run's settings by the
// keys of config.json ("lr", "batch_size", ...), and checks a space
// against them before any trial starts. It leaves out searching nested
// settings (a model's widths): only Config's own fields are parameters.

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/tune"
)

// untunable lists the settings a search may not vary, and why.
var untunable = map[string]string{
	"data":             "the data are what the study is about; give them with --data",
	"task":             "the task fixes what is scored; give it with --task",
	"class_names":      "class names do not change training",
	"val_split":        "it changes the validation set that scores the trials",
	"test_split":       "it changes the test set",
	"seed":             "it also draws the validation split and the folds, so trials would be scored on different data",
	"workers":          "it does not change the result",
	"checkpoint_every": "it does not change the result",
	"out":              "kiln tune puts the trials in the study's folder",
	"name":             "kiln tune names the trials' run directories",
	"folds":            "set by --objective cv and --folds",
	"fold":             "set by --objective cv and --folds",
	"no_test":          "trials never see the test set",
	"architecture":     "name architecture files (FILE.json) among the values of model instead",
}

// configField returns the index of the Config field with JSON key key.
func configField(key string) (int, bool) {
	t := reflect.TypeFor[run.Config]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name == key {
			return i, true
		}
	}
	return 0, false
}

// TunableNames returns the settings a search space may name, sorted.
func TunableNames() []string {
	var out []string
	t := reflect.TypeFor[run.Config]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if _, no := untunable[name]; name != "" && name != "-" && !no {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// settingKey resolves a parameter name to a Config key: "batch-size" (the
// flag's spelling) is "batch_size".
func settingKey(name string) (string, int, error) {
	key := strings.ReplaceAll(name, "-", "_")
	if why, no := untunable[key]; no {
		return "", 0, fmt.Errorf("parameter %q cannot be tuned: %s", name, why)
	}
	i, ok := configField(key)
	if !ok {
		return "", 0, fmt.Errorf("parameter %q is not a training setting; a space names settings as in config.json: %s",
			name, strings.Join(TunableNames(), ", "))
	}
	return key, i, nil
}

// ApplyParams returns cfg with each parameter's value in the setting it
// names. Numbers convert where no information is lost (an integer choice
// into lr, a whole 64.0 into batch_size); anything else is an error
// naming the parameter. The result is not validated.
func ApplyParams(cfg run.Config, params map[string]any) (run.Config, error) {
	v := reflect.ValueOf(&cfg).Elem()
	for _, name := range slices.Sorted(maps.Keys(params)) {
		_, i, err := settingKey(name)
		if err != nil {
			return cfg, err
		}
		if err := setField(v.Field(i), params[name]); err != nil {
			return cfg, fmt.Errorf("parameter %q: %w", name, err)
		}
	}
	if _, ok := params["model"]; ok {
		// The trial's model: an architecture file is read again from
		// its own path (run.Config.ReadArchitecture), not kept from the
		// base settings' file.
		cfg.Architecture = ""
	}
	return cfg, nil
}

// setField stores x in f, converting numbers that convert exactly.
func setField(f reflect.Value, x any) error {
	num, isNum := asFloat(x)
	switch f.Kind() {
	case reflect.String:
		s, ok := x.(string)
		if !ok {
			return fmt.Errorf("the setting takes text, got %v (%T)", x, x)
		}
		f.SetString(s)
	case reflect.Bool:
		b, ok := x.(bool)
		if !ok {
			return fmt.Errorf("the setting takes true or false, got %v (%T)", x, x)
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int64:
		if !isNum || num != math.Trunc(num) || math.Abs(num) > 1<<53 {
			return fmt.Errorf("the setting takes a whole number, got %v (%T); use \"type\": \"int\" or integer choices", x, x)
		}
		f.SetInt(int64(num))
	case reflect.Uint64:
		if !isNum || num != math.Trunc(num) || num < 0 || num > 1<<53 {
			return fmt.Errorf("the setting takes a whole number >= 0, got %v (%T)", x, x)
		}
		f.SetUint(uint64(num))
	case reflect.Float64:
		if !isNum {
			return fmt.Errorf("the setting takes a number, got %v (%T)", x, x)
		}
		f.SetFloat(num)
	default:
		return fmt.Errorf("the setting's type %s cannot be searched", f.Type())
	}
	return nil
}

func asFloat(x any) (float64, bool) {
	switch v := x.(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// CheckSpace checks a search space against base before any trial runs:
// every parameter names a tunable setting (once), its distribution suits
// the setting's type (int settings take "int" or integer choices), and each
// choice and both ends of each range give settings that validate, with
// model names the zoo knows.
func CheckSpace(base run.Config, space *tune.Space) error {
	seen := map[string]string{}
	for _, p := range space.Params {
		key, i, err := settingKey(p.Name)
		if err != nil {
			return err
		}
		if other, dup := seen[key]; dup {
			return fmt.Errorf("parameters %q and %q both set %s", other, p.Name, key)
		}
		seen[key] = p.Name
		kind := reflect.TypeFor[run.Config]().Field(i).Type.Kind()
		intSetting := kind == reflect.Int || kind == reflect.Int64 || kind == reflect.Uint64
		if intSetting && (p.Kind == tune.Uniform || p.Kind == tune.LogUniform) {
			return fmt.Errorf("parameter %q: %s takes whole numbers; use \"type\": \"int\" (with \"log\": true for a log scale) or integer choices", p.Name, key)
		}
		var values []any
		if p.Kind == tune.Categorical {
			values = p.Choices
		} else {
			values = []any{p.External(p.Low), p.External(p.High)}
		}
		for _, v := range values {
			cfg, err := ApplyParams(base, map[string]any{p.Name: v})
			if err == nil {
				err = cfg.Validate()
			}
			if err == nil && key == "model" {
				err = knownModel(cfg.Model)
			}
			if err != nil {
				return fmt.Errorf("parameter %q, value %v: %w", p.Name, v, err)
			}
		}
	}
	return nil
}

// knownModel checks a model name against every zoo.
func knownModel(name string) error {
	all := slices.Concat(models.Names(), models.AutoencoderNames(), models.TextNames())
	if !slices.Contains(all, name) {
		return fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(all, ", "))
	}
	return nil
}
