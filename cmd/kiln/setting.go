package main

// This file tells run's setting errors apart for the exit status. It
// leaves out the errors themselves (run.SettingError).

import "github.com/kiln-ml/kiln/run"

// isSettingError reports an error in a setting the user gave that showed
// only when it was used: a usage error, exit status 2, as a bad flag.
func isSettingError(err error) bool { return run.IsSettingError(err) }
