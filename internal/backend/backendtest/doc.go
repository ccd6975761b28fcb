// Package backendtest checks a backend.Backend: every op's backward by
// central finite differences of its forward (CheckGrads), and every op's
// results against the CPU reference backend (Compare), so that the CUDA
// backend's tests are the CPU backend's tests run on another device.
//
// The cases (Cases) are small, seeded and chosen to stay away from the
// kinks of max and ReLU, so that finite differences are meaningful. It
// leaves out whole training steps: package device compares those with the
// engine.
package backendtest
