package backend

// This file lets a backend run a stretch of host code where its calls cost
// least. It leaves out what the code does (package device's steps).

// Runner is a Backend with a cheaper place for a run of calls: CUDA's
// context belongs to one OS thread, and every call made elsewhere hops to
// it, so a training step's hundred launches cost a hundred hops unless the
// step itself runs there.
type Runner interface {
	// Run calls fn where the backend's calls are cheapest and returns
	// when it does; a panic in fn is raised again in the caller.
	Run(fn func())
}

// Run calls fn through b's Runner, or directly.
func Run(b Backend, fn func()) {
	if r, ok := b.(Runner); ok {
		r.Run(fn)
		return
	}
	fn()
}
