package main

// This file will hold "kiln fed simulate"; it is being built (issue 18)
// and refuses to run until then.

import (
	"context"
	"errors"
	"io"
)

func fedSimulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("kiln fed simulate is not built yet (issue 18)")
}
