package fetch

// This file is the registry of datasets kiln knows how to download. It
// leaves out CIFAR-100 and anything else not yet wired to `kiln data fetch`.
//
// Checksums: the SHA-256 sums are the ones TensorFlow Datasets publishes in
// tensorflow_datasets/url_checksums/{mnist,fashion_mnist,cifar10}.txt for the
// same URLs, together with the sizes below; the dataset authors themselves
// publish only MD5 sums. The Fashion-MNIST sums are also checked locally by
// TestFashionMNISTSumsFromDebian: Debian's dataset-fashion-mnist ships the
// upstream deflate streams under a rewritten gzip header, and restoring the
// original header reproduces both the MD5 sums in Fashion-MNIST's README and
// the SHA-256 sums below. The MNIST and CIFAR-10 sums could not be checked
// here (no copy of those files, no internet access).

import (
	"slices"
	"sort"
)

// File is one file of a dataset: its name (both under the base URL and in
// the cache directory), SHA-256 and size.
type File struct {
	Name   string
	SHA256 string // lower-case hex
	Size   int64  // bytes; 0 if unknown
}

// Spec describes a downloadable dataset.
type Spec struct {
	Name    string
	BaseURL string // a File is fetched from BaseURL + "/" + File.Name
	Files   []File
	// Unpack, if set, names the directory that the (single, .tar.gz) file
	// unpacks to. Fetch unpacks it into the cache and returns that directory.
	Unpack string
}

var registry = []Spec{
	{
		Name: "mnist",
		// Google's CVDF mirror: the original yann.lecun.com host has long
		// been unreliable. Same files (sizes match the original's).
		BaseURL: "https://storage.googleapis.com/cvdf-datasets/mnist",
		Files: []File{
			{"train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422},
			{"train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881},
			{"t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877},
			{"t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542},
		},
	},
	{
		Name: "fashion-mnist",
		// The S3 website endpoint serves plain HTTP only; the SHA-256 check
		// is what guards integrity.
		BaseURL: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
		Files: []File{
			{"train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880},
			{"train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515},
			{"t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102},
			{"t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148},
		},
	},
	{
		Name:    "cifar10",
		BaseURL: "https://www.cs.toronto.edu/~kriz",
		Files: []File{
			{"cifar-10-binary.tar.gz", "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", 170052171},
		},
		Unpack: "cifar-10-batches-bin",
	},
}

// Names returns the names of the registered datasets, sorted.
func Names() []string {
	var ns []string
	for _, s := range registry {
		ns = append(ns, s.Name)
	}
	sort.Strings(ns)
	return ns
}

// Lookup returns the registered dataset called name.
func Lookup(name string) (Spec, bool) {
	for _, s := range registry {
		if s.Name == name {
			s.Files = slices.Clone(s.Files)
			return s, true
		}
	}
	return Spec{}, false
}
