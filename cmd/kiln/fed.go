package main

// This file holds "kiln fed": it dispatches to server and client
// (fednet.go, over gRPC) and simulate (fedsim.go, in one process).

import (
	"context"
	"fmt"
	"io"
)

const fedHead = `Usage: kiln fed server --rounds R --min-clients K [--strategy S] [--addr HOST:PORT] [flags]
       kiln fed client --server HOST:PORT --data DIR [flags]
       kiln fed simulate --clients N --per-round M [--dirichlet ALPHA] [flags]

Federated learning: a server sends the global model to clients each round;
each trains it on its own data, which never leaves it, and sends back its
new parameters; the server combines them by a strategy (fedavg, fedavgm,
fedprox, fedmedian, trimmedmean, krum, fedadam). simulate runs the same
server and clients in one process over a dataset cut into partitions.
Run "kiln fed SUBCOMMAND -h" for each one's flags.
`

func fedCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("want a subcommand: server, client or simulate")}
	}
	switch args[0] {
	case "server":
		return fedServerCmd(ctx, args[1:], stdout, stderr)
	case "client":
		return fedClientCmd(ctx, args[1:], stdout, stderr)
	case "simulate":
		return fedSimulateCmd(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, fedHead)
		return nil
	}
	return usageError{fmt.Errorf("unknown subcommand %q; want server, client or simulate", args[0])}
}
