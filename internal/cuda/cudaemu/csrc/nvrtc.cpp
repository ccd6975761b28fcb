// kiln CUDA emulator: libnvrtc.so.13, NVRTC's compile API over the host
// C++ compiler. A program's source is compiled behind kernel_rt.h (the
// CUDA built-ins) with a launch descriptor for every
// extern "C" __global__ void NAME( it finds, into a shared object; the
// "PTX" and "CUBIN" are "KILNEMU1:" and that object's path, which the
// emulated cuModuleLoadData opens. Objects are cached by a hash of what
// was compiled in $KILN_CUDA_EMULATOR_CACHE (else a temporary directory).
// The compiler is $KILN_CUDA_EMULATOR_CXX, else g++. Floating-point
// multiply-adds are contracted (-ffp-contract=fast with FMA where the CPU
// has it, as NVRTC's default --fmad=true does), unless
// KILN_CUDA_EMULATOR_FMA=0.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#define KILN_EXPORT extern "C" __attribute__((visibility("default")))

extern const char kiln_emu_rt[];  // kernel_abi.h, kernel_rt.h and kernel_builtins.h, from rt.cpp

typedef int nvrtcResult;
enum {
	NVRTC_SUCCESS = 0,
	NVRTC_ERROR_OUT_OF_MEMORY = 1,
	NVRTC_ERROR_PROGRAM_CREATION_FAILURE = 2,
	NVRTC_ERROR_INVALID_INPUT = 3,
	NVRTC_ERROR_INVALID_PROGRAM = 4,
	NVRTC_ERROR_INVALID_OPTION = 5,
	NVRTC_ERROR_COMPILATION = 6,
	NVRTC_ERROR_INTERNAL_ERROR = 11,
};

namespace {

struct Program {
	std::string src, name, log, image;
	bool compiled = false;
};

// fnv is a 64-bit FNV-1a hash, for the cache's file names.
unsigned long long fnv(const std::string& s, unsigned long long h = 1469598103934665603ull) {
	for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
	return h;
}

std::string cacheDir() {
	const char* d = getenv("KILN_CUDA_EMULATOR_CACHE");
	if (d && *d) return d;
	static std::string tmp;
	if (tmp.empty()) {
		char t[] = "/tmp/kiln-nvrtc-XXXXXX";
		if (mkdtemp(t)) tmp = t;
	}
	return tmp;
}

// archOK accepts sm_XY and compute_XY of the architectures NVRTC 13 knows.
bool archOK(const std::string& a) {
	static const std::regex re("(sm|compute)_(75|80|86|87|89|90|90a|100|100a|103|110|120|121)");
	return std::regex_match(a, re);
}

// generate returns the unit the host compiler builds: the runtime, the
// program, and a descriptor per kernel; fibers are used where a kernel's
// text (or any __device__ function's) has a barrier or a warp operation.
std::string generate(const std::string& src) {
	static const std::regex kern("extern\\s+\"C\"\\s+__global__\\s+void\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");
	static const std::regex sync("__syncthreads|__syncwarp|__shfl");
	bool deviceSync = src.find("__device__") != std::string::npos && std::regex_search(src, sync);
	std::vector<std::pair<std::string, size_t>> ks;
	for (auto it = std::sregex_iterator(src.begin(), src.end(), kern); it != std::sregex_iterator(); ++it)
		ks.push_back({(*it)[1].str(), size_t(it->position(0))});
	std::ostringstream out;
	out << kiln_emu_rt << "\n#line 1 \"kiln_kernels.cu\"\n" << src << "\n";
	for (size_t i = 0; i < ks.size(); i++) {
		size_t end = i + 1 < ks.size() ? ks[i + 1].second : src.size();
		std::string body = src.substr(ks[i].second, end - ks[i].second);
		bool fibers = deviceSync || std::regex_search(body, sync);
		out << "KILN_EMU_KERNEL(" << ks[i].first << ", " << (fibers ? 1 : 0) << ")\n";
	}
	return out.str();
}

bool fileExists(const std::string& p) {
	struct stat st;
	return stat(p.c_str(), &st) == 0;
}

// run runs argv, its output into log; it returns the exit status.
int run(const std::vector<std::string>& argv, std::string* log) {
	std::string cmd;
	for (const std::string& a : argv) {
		cmd += "'";
		for (char ch : a) cmd += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
		cmd += "' ";
	}
	cmd += "2>&1";
	FILE* p = popen(cmd.c_str(), "r");
	if (!p) {
		*log = "kiln CUDA emulator: cannot start the host compiler";
		return -1;
	}
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, p)) > 0) log->append(buf, n);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

KILN_EXPORT nvrtcResult nvrtcVersion(int* major, int* minor) {
	if (!major || !minor) return NVRTC_ERROR_INVALID_INPUT;
	*major = 13;
	*minor = 0;
	return NVRTC_SUCCESS;
}

KILN_EXPORT nvrtcResult nvrtcCreateProgram(Program** p, const char* src, const char* name, int nh, const char* const*,
                                           const char* const*) {
	if (!p || !src) return NVRTC_ERROR_INVALID_INPUT;
	if (nh != 0) return NVRTC_ERROR_INVALID_INPUT;  // headers are not emulated
	*p = new Program;
	(*p)->src = src;
	(*p)->name = name ? name : "default_program";
	return NVRTC_SUCCESS;
}

KILN_EXPORT nvrtcResult nvrtcDestroyProgram(Program** p) {
	if (!p || !*p) return NVRTC_ERROR_INVALID_PROGRAM;
	delete *p;
	*p = nullptr;
	return NVRTC_SUCCESS;
}

KILN_EXPORT nvrtcResult nvrtcCompileProgram(Program* p, int nopts, const char* const* opts) {
	if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
	if (nopts > 0 && !opts) return NVRTC_ERROR_INVALID_INPUT;
	p->log.clear();
	for (int i = 0; i < nopts; i++) {
		std::string o = opts[i] ? opts[i] : "";
		std::string arch;
		if (o.rfind("--gpu-architecture=", 0) == 0) arch = o.substr(19);
		else if (o.rfind("-arch=", 0) == 0) arch = o.substr(6);
		if (!arch.empty()) {
			if (!archOK(arch)) {
				p->log = "nvrtc: error: invalid value for --gpu-architecture (-arch)\n";
				return NVRTC_ERROR_INVALID_OPTION;
			}
			continue;
		}
		if (o.rfind("--std=c++", 0) == 0 || o.rfind("-std=c++", 0) == 0 || o.rfind("--fmad=", 0) == 0 ||
		    o.rfind("-D", 0) == 0 || o == "-lineinfo" || o == "--use_fast_math" || o == "-default-device")
			continue;
		p->log = "nvrtc: error: unrecognized option " + o + "\n";
		return NVRTC_ERROR_INVALID_OPTION;
	}
	std::string cxx = getenv("KILN_CUDA_EMULATOR_CXX") ? getenv("KILN_CUDA_EMULATOR_CXX") : "g++";
	std::vector<std::string> argv = {cxx, "-std=c++20", "-O1", "-shared", "-fPIC", "-fvisibility=hidden", "-pthread",
	                                 "-Wno-unused-function", "-Wno-unused-variable"};
	const char* fma = getenv("KILN_CUDA_EMULATOR_FMA");
	if (!(fma && strcmp(fma, "0") == 0)) {
		__builtin_cpu_init();
		if (__builtin_cpu_supports("fma")) argv.push_back("-mfma");
		argv.push_back("-ffp-contract=fast");
	} else {
		argv.push_back("-ffp-contract=off");
	}
	std::string unit = generate(p->src);
	std::string key;
	for (const std::string& a : argv) key += a + "\n";
	char hex[32];
	snprintf(hex, sizeof hex, "%016llx", fnv(unit, fnv(key)));
	std::string dir = cacheDir();
	if (dir.empty()) {
		p->log = "kiln CUDA emulator: no directory for compiled units";
		return NVRTC_ERROR_INTERNAL_ERROR;
	}
	std::string so = dir + "/unit-" + hex + ".so";
	if (!fileExists(so)) {
		std::string tmp = dir + "/unit-" + hex + "." + std::to_string(getpid()), cpp = tmp + ".cpp", out = tmp + ".so";
		std::ofstream(cpp) << unit;
		argv.insert(argv.end(), {"-o", out, cpp});
		int st = run(argv, &p->log);
		unlink(cpp.c_str());
		if (st != 0) {
			unlink(out.c_str());
			if (p->log.empty()) p->log = "kiln CUDA emulator: the host compiler failed";
			return NVRTC_ERROR_COMPILATION;
		}
		if (rename(out.c_str(), so.c_str()) != 0) {
			p->log = "kiln CUDA emulator: cannot move the compiled unit into the cache";
			return NVRTC_ERROR_INTERNAL_ERROR;
		}
	}
	p->image = "KILNEMU1:" + so;
	p->compiled = true;
	return NVRTC_SUCCESS;
}

KILN_EXPORT nvrtcResult nvrtcGetProgramLogSize(Program* p, size_t* n) {
	if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
	*n = p->log.size() + 1;
	return NVRTC_SUCCESS;
}

KILN_EXPORT nvrtcResult nvrtcGetProgramLog(Program* p, char* log) {
	if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
	memcpy(log, p->log.c_str(), p->log.size() + 1);
	return NVRTC_SUCCESS;
}

static nvrtcResult imageSize(Program* p, size_t* n) {
	if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
	if (!p->compiled) return NVRTC_ERROR_INVALID_INPUT;
	*n = p->image.size() + 1;
	return NVRTC_SUCCESS;
}

static nvrtcResult image(Program* p, char* out) {
	if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
	if (!p->compiled) return NVRTC_ERROR_INVALID_INPUT;
	memcpy(out, p->image.c_str(), p->image.size() + 1);
	return NVRTC_SUCCESS;
}

KILN_EXPORT nvrtcResult nvrtcGetPTXSize(Program* p, size_t* n) { return imageSize(p, n); }
KILN_EXPORT nvrtcResult nvrtcGetPTX(Program* p, char* out) { return image(p, out); }
KILN_EXPORT nvrtcResult nvrtcGetCUBINSize(Program* p, size_t* n) { return imageSize(p, n); }
KILN_EXPORT nvrtcResult nvrtcGetCUBIN(Program* p, char* out) { return image(p, out); }
