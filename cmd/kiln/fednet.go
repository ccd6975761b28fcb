package main

// This file will hold "kiln fed server" and "kiln fed client" over gRPC;
// they are being built (issue 18) and refuse to run until then.

import (
	"context"
	"errors"
	"io"
)

func fedServerCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("kiln fed server is not built yet (issue 18)")
}

func fedClientCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("kiln fed client is not built yet (issue 18)")
}
