//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package run

import "os"

// lockFile does nothing where POSIX record locks are not available.
func lockFile(*os.File) (int, error) { return 0, nil }
