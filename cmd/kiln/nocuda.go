//go:build !cuda

package main

// cudaBuilt says whether this kiln links the CUDA backend (go build -tags
// cuda); without it the binary stays static and --device cuda is a usage
// error.
const cudaBuilt = false
