//go:build cuda

package main

// A kiln built with -tags cuda links the CUDA backend (loaded at run time
// with purego, so the binary is dynamically linked): --device cuda.

import _ "github.com/kiln-ml/kiln/internal/backend/cuda"

// cudaBuilt says whether this kiln links the CUDA backend.
const cudaBuilt = true
