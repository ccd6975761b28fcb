package run

// This file holds SettingError, the mark of a setting the user gave that
// cannot work. It leaves out printing and exit codes (cmd/kiln).

import "errors"

// SettingError marks an error in a setting the user gave, found only when
// it is used (a --data folder without classes, a --name already taken):
// kiln exits with status 2 for it, as for a bad flag. Its message is the
// wrapped error's.
type SettingError struct{ Err error }

// Error returns the wrapped error's message.
func (e *SettingError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *SettingError) Unwrap() error { return e.Err }

// IsSettingError reports whether err, or an error it wraps, is a
// SettingError.
func IsSettingError(err error) bool {
	var se *SettingError
	return errors.As(err, &se)
}
