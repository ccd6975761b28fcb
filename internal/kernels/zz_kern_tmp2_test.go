package kernels

var tmpKernels = []*microKernel{
	{name: "k14x32", mr: 14, nr: 32, fn: sgemmKernelAVX512, mc: 168, kc: 256, nc: 4096, directBMaxM: 64},
	{name: "k12x32", mr: 12, nr: 32, fn: sgemmKernelAVX512x12, mc: 168, kc: 256, nc: 4096, directBMaxM: 64},
	{name: "k10x32", mr: 10, nr: 32, fn: sgemmKernelAVX512x10, mc: 160, kc: 256, nc: 4096, directBMaxM: 64},
	{name: "k8x32", mr: 8, nr: 32, fn: sgemmKernelAVX512x8, mc: 168, kc: 256, nc: 4096, directBMaxM: 64},
	{name: "k8x48", mr: 8, nr: 48, fn: sgemmKernelAVX512x8w3, mc: 168, kc: 256, nc: 4096, directBMaxM: 64},
	{name: "k6x64", mr: 6, nr: 64, fn: sgemmKernelAVX512x6w4, mc: 168, kc: 256, nc: 4096, directBMaxM: 64},
}
