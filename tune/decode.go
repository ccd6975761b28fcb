package tune

// This file decodes space files into plain values (maps, lists, scalars)
// and normalises the numbers the two decoders give. It leaves out what the
// values mean (space.go).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"gopkg.in/yaml.v3"
)

// decodeTree decodes JSON (when the text starts with '{') or YAML into maps,
// slices and scalars. JSON goes through encoding/json, which reads every
// valid JSON document, where YAML parsers trip on some (tabs, "\/").
func decodeTree(b []byte) (any, error) {
	if t := bytes.TrimLeft(b, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		d := json.NewDecoder(bytes.NewReader(t))
		d.UseNumber()
		v, err := jsonValue(d)
		if err != nil {
			return nil, err
		}
		if rest := bytes.TrimSpace(t[d.InputOffset():]); len(rest) > 0 {
			return nil, fmt.Errorf("unexpected data after the JSON object")
		}
		return v, nil
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return normalizeYAML(v)
}

// jsonValue reads one JSON value token by token so that duplicate keys,
// which encoding/json would silently merge, are reported.
func jsonValue(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			m := map[string]any{}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string) // the decoder only yields string keys inside objects
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("key %q appears twice", k)
				}
				if m[k], err = jsonValue(d); err != nil {
					return nil, err
				}
			}
			_, err := d.Token()
			return m, err
		case '[':
			l := []any{}
			for d.More() {
				v, err := jsonValue(d)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := d.Token()
			return l, err
		}
		return nil, fmt.Errorf("unexpected %v", tok)
	default:
		return tok, nil
	}
}

// normalizeYAML turns the map[any]any that YAML gives for non-string keys
// into an error, and leaves everything else as decoded.
func normalizeYAML(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			n, err := normalizeYAML(e)
			if err != nil {
				return nil, err
			}
			v[k] = n
		}
		return v, nil
	case map[any]any:
		for k := range v {
			return nil, fmt.Errorf("key %v: want a string key", k)
		}
		return map[string]any{}, nil
	case []any:
		for i, e := range v {
			n, err := normalizeYAML(e)
			if err != nil {
				return nil, err
			}
			v[i] = n
		}
		return v, nil
	}
	return v, nil
}

// scalarChoice normalises a decoded choice: integers to int64, other
// numbers to float64; strings and booleans as they are.
func scalarChoice(v any) (any, bool) {
	switch v := v.(type) {
	case string, bool:
		return v, true
	case int:
		return int64(v), true
	case int64:
		return v, true
	case uint64:
		if v > math.MaxInt64 {
			return float64(v), true
		}
		return int64(v), true
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, false
		}
		return v, true
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, true
		}
		f, err := v.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, false
		}
		return f, true
	}
	return nil, false
}

// toFloat reads any decoded number.
func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float64:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// canonical is a value's JSON text, the identity used to match choices.
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// describe names a decoded value's type for error messages.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("string %q", v)
	case bool:
		return fmt.Sprintf("boolean %v", v)
	}
	return fmt.Sprintf("%v", v)
}
