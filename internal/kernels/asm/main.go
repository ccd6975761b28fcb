// Command asm generates kiln's amd64 assembly kernels with avo. It lives in
// its own module so that the main module does not depend on avo; run it
// through `go generate` in internal/kernels, which passes -kind, -out,
// -stubs and -pkg. It leaves out every non-amd64 target: other
// architectures use the pure-Go kernels.
package main

import (
	"flag"
	"fmt"
	"os"

	. "github.com/mmcloughlin/avo/build"
)

func main() {
	kind := flag.String("kind", "gemm", "which kernels to generate: gemm, vec or int8")
	flag.Parse()
	ConstraintExpr("amd64,!purego")
	switch *kind {
	case "gemm":
		genGemm()
	case "vec":
		genVec()
		genSIMD()
	case "int8":
		genInt8()
	default:
		fmt.Fprintf(os.Stderr, "asm: -kind %q: want gemm, vec or int8\n", *kind)
		os.Exit(2)
	}
	Generate()
}
