package checkpoint

// This file parses and checks the JSON header. It leaves out the tensor
// bytes (decode.go) and trusts nothing: a tensor entry is only returned once
// its dtype is supported, its shape is non-negative, and its element count
// times its element size equals its byte range without overflowing.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// entry is one checked tensor entry of a header.
type entry struct {
	name       string
	dtype      DType
	shape      []int
	n          uint64 // element count
	begin, end uint64 // byte range relative to the data buffer
}

// headerError is a header problem, before the file name is known.
type headerError struct {
	tensor string
	msg    string
}

func (e *headerError) Error() string { return e.msg }

func badHeader(tensor, format string, args ...any) *headerError {
	return &headerError{tensor: tensor, msg: fmt.Sprintf(format, args...)}
}

// member is one key of a JSON object, with its value still undecoded.
type member struct {
	key   string
	value json.RawMessage
}

// parseHeader returns the header's tensor entries, in header order, and its
// metadata (nil when absent).
func parseHeader(hdr []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(hdr) {
		return nil, nil, badHeader("", "header is not valid UTF-8")
	}
	// The specification requires the opening brace first, with no leading
	// whitespace; only trailing spaces are allowed, as alignment padding.
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, nil, badHeader("", "header does not start with '{'")
	}
	members, err := objectMembers(hdr, true)
	if err != nil {
		return nil, nil, badHeader("", "header is not a valid JSON object: %v", err)
	}
	var meta map[string]string
	entries := make([]entry, 0, len(members))
	for _, m := range members {
		if m.key == MetadataKey {
			meta, err = parseMetadata(m.value)
			if err != nil {
				return nil, nil, err
			}
			continue
		}
		e, err := parseEntry(m.key, m.value)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	return entries, meta, nil
}

// objectMembers splits a JSON object into its members, rejecting duplicate
// keys (which the specification forbids and which would let two tensors
// share a name). With whole set, nothing but whitespace may follow the
// object.
func objectMembers(data []byte, whole bool) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	// Inside the object, io.EOF means a truncated header, not success.
	unexpected := func(err error) error {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, unexpected(err)
	}
	if tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var members []member
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, unexpected(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key %v is not a string", tok)
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, unexpected(err)
		}
		members = append(members, member{key, value})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, unexpected(err)
	}
	if whole {
		if tok, err := dec.Token(); err != io.EOF {
			if err == nil {
				err = fmt.Errorf("unexpected %v after the object", tok)
			}
			return nil, err
		}
	}
	return members, nil
}

// parseMetadata decodes the "__metadata__" object of string pairs.
func parseMetadata(raw json.RawMessage) (map[string]string, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	members, err := objectMembers(raw, false)
	if err != nil {
		return nil, badHeader("", "%s: %v", MetadataKey, err)
	}
	meta := make(map[string]string, len(members))
	for _, m := range members {
		s, ok := jsonString(m.value)
		if !ok {
			return nil, badHeader("", "%s: value of %q is %s, not a string", MetadataKey, m.key, m.value)
		}
		meta[m.key] = s
	}
	return meta, nil
}

// parseEntry decodes and checks one tensor entry.
func parseEntry(name string, raw json.RawMessage) (entry, error) {
	e := entry{name: name}
	members, err := objectMembers(raw, false)
	if err != nil {
		return e, badHeader(name, "entry is not a JSON object: %v", err)
	}
	var dtype, shape, offsets json.RawMessage
	for _, m := range members {
		// Other keys are ignored, as by the reference implementation.
		switch m.key {
		case "dtype":
			dtype = m.value
		case "shape":
			shape = m.value
		case "data_offsets":
			offsets = m.value
		}
	}
	if dtype == nil || shape == nil || offsets == nil {
		return e, badHeader(name, "entry needs dtype, shape and data_offsets")
	}

	s, ok := jsonString(dtype)
	if !ok {
		return e, badHeader(name, "dtype %s is not a string", dtype)
	}
	e.dtype = DType(s)
	if !e.dtype.Supported() {
		return e, badHeader(name, "unsupported dtype %q", s)
	}

	dims, ok := jsonArray(shape)
	if !ok {
		return e, badHeader(name, "shape %s is not an array", shape)
	}
	e.shape = make([]int, len(dims))
	for i, d := range dims {
		v, err := jsonUint(d, math.MaxInt)
		if err != nil {
			return e, badHeader(name, "shape %s: dimension %d = %s %v", shape, i, d, err)
		}
		e.shape[i] = int(v)
	}

	offs, ok := jsonArray(offsets)
	if !ok || len(offs) != 2 {
		return e, badHeader(name, "data_offsets %s is not a [BEGIN, END] pair", offsets)
	}
	if e.begin, err = jsonUint(offs[0], math.MaxUint64); err != nil {
		return e, badHeader(name, "data_offsets %s: begin = %s %v", offsets, offs[0], err)
	}
	if e.end, err = jsonUint(offs[1], math.MaxUint64); err != nil {
		return e, badHeader(name, "data_offsets %s: end = %s %v", offsets, offs[1], err)
	}
	if e.end < e.begin {
		return e, badHeader(name, "data_offsets [%d, %d] end before they begin", e.begin, e.end)
	}

	n, size, err := numBytes(e.dtype, e.shape)
	if err != nil {
		return e, badHeader(name, "%v", err)
	}
	if size != e.end-e.begin {
		return e, badHeader(name, "data_offsets [%d, %d] hold %d bytes, but %s %v needs %d",
			e.begin, e.end, e.end-e.begin, e.dtype, e.shape, size)
	}
	e.n = n
	return e, nil
}

// jsonString decodes a JSON string value. A null is not a string, although
// encoding/json would silently accept it.
func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// jsonArray decodes a JSON array into its undecoded elements.
func jsonArray(raw json.RawMessage) ([]json.RawMessage, bool) {
	var a []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &a) != nil {
		return nil, false
	}
	return a, true
}

// jsonUint decodes a non-negative JSON integer no larger than limit. The
// error reads after the value, e.g. "dimension 0 = -1 is negative".
func jsonUint(raw json.RawMessage, limit uint64) (uint64, error) {
	s := string(raw)
	if len(s) > 0 && s[0] == '-' {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("is negative")
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) || (err == nil && v > limit) {
		return 0, errors.New("is too large")
	}
	if err != nil {
		return 0, errors.New("is not a non-negative integer")
	}
	return v, nil
}
