package kernelsrc

// This file holds the optimiser updates, with PyTorch's single-tensor
// operation order as kernels.AdamStep, AdamAMSGradStep, SGDStep and
// RMSpropStep have it; the coefficients are computed on the host once per
// step (optim's StepCoef methods, which the CPU kernels take too).

// adamKernel is Adam's update; with amsgrad it takes vmax, the running
// maximum of v (a NaN sticks), and divides by its root instead.
func adamKernel(name string, amsgrad bool) Kernel {
	vmaxParam, denom := "", "v[i] = vi;"
	if amsgrad {
		vmaxParam = " float* vmax,"
		denom = "v[i] = vi;\n\t\tif (vi > vmax[i] || vi != vi) vmax[i] = vi;\n\t\tvi = vmax[i];"
	}
	return Kernel{name, `extern "C" __global__ void ` + name + `(float* p, const float* g, float* m, float* v,` + vmaxParam + ` int n, int mode,
	float b1, float b2, float c1, float c2, float bc2sqrt, float negstep, float eps, float wd, float decay) {
	KILN_LOOP(i, n) {
		float gi = g[i];
		if (mode & 4) gi = -gi;
		if ((mode & 3) == 1) gi += wd * p[i];
		if ((mode & 3) == 2) p[i] *= decay;
		float mi = m[i] * b1 + gi * c1;
		float vi = v[i] * b2 + c2 * gi * gi;
		m[i] = mi;
		` + denom + `
		p[i] += (negstep * mi) / (sqrtf(vi) / bc2sqrt + eps);
	}
}`}
}

var optimizers = []Kernel{
	// adam_step: mode's low bits 0 plain, 1 L2 (torch.optim.Adam's
	// weight_decay: g += wd*p), 2 decoupled (AdamW: p *= decay); mode bit
	// 4 negates g first (maximize). Then m = m*b1 + g*c1;
	// v = v*b2 + (c2*g)*g; p += (negstep*m) / (sqrt(v)/bc2sqrt + eps).
	adamKernel("adam_step", false),
	// adam_amsgrad_step is adam_step dividing by the root of vmax, the
	// running maximum of v.
	adamKernel("adam_amsgrad_step", true),
	// sgd_step: g = -g with maximize; g += wd*p when wd != 0; with
	// momentum, buf = g on the first step, else momentum*buf + damp*g,
	// then g = buf or, with Nesterov, g + momentum*buf; p -= lr*g.
	{"sgd_step", `extern "C" __global__ void sgd_step(float* p, const float* g, float* buf, int n, float lr, float wd,
	float momentum, float damp, int first, int nesterov, int maximize) {
	KILN_LOOP(i, n) {
		float gi = g[i];
		if (maximize) gi = -gi;
		if (wd != 0.f) gi += wd * p[i];
		if (momentum != 0.f) {
			float b = first ? gi : momentum * buf[i] + damp * gi;
			buf[i] = b;
			gi = nesterov ? gi + momentum * b : b;
		}
		p[i] -= lr * gi;
	}
}`},
	// rmsprop_step: g = -g with maximize; g += wd*p when wd != 0;
	// sq = sq*alpha + (c1*g)*g; centered: avg = avg*alpha + g*c1 and
	// a = sqrt(sq - avg*avg) + eps, else a = sqrt(sq) + eps; with momentum
	// buf = buf*momentum + g/a and p -= lr*buf, else p += (-lr*g)/a. avg
	// and buf are read only when centered and usemom.
	{"rmsprop_step", `extern "C" __global__ void rmsprop_step(float* p, const float* g, float* sq, float* avg, float* buf, int n,
	float lr, float alpha, float c1, float eps, float wd, float momentum, int centered, int usemom, int maximize) {
	KILN_LOOP(i, n) {
		float gi = g[i];
		if (maximize) gi = -gi;
		if (wd != 0.f) gi += wd * p[i];
		float s = sq[i] * alpha + c1 * gi * gi;
		sq[i] = s;
		float a;
		if (centered) {
			float ga = avg[i] * alpha + gi * c1;
			avg[i] = ga;
			a = sqrtf(s - ga * ga) + eps;
		} else {
			a = sqrtf(s) + eps;
		}
		if (usemom) {
			float b = buf[i] * momentum + gi / a;
			buf[i] = b;
			p[i] -= lr * b;
		} else {
			p[i] += (-lr * gi) / a;
		}
	}
}`},
}
