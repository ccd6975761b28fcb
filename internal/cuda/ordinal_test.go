package cuda

import (
	"strings"
	"testing"
)

func TestChooseOrdinal(t *testing.T) {
	for _, c := range []struct {
		env     map[string]string
		count   int
		want    int
		wantErr string
	}{
		{nil, 4, 0, ""},
		{map[string]string{"OMPI_COMM_WORLD_LOCAL_RANK": "3"}, 4, 3, ""},
		{map[string]string{"OMPI_COMM_WORLD_LOCAL_RANK": "5"}, 4, 1, ""}, // more ranks than GPUs: shared round robin
		{map[string]string{"LOCAL_RANK": "2", "SLURM_LOCALID": "1"}, 8, 1, ""},
		{map[string]string{"MPI_LOCALRANKID": "x"}, 2, 0, ""},
		{map[string]string{"KILN_CUDA_DEVICE": "1", "LOCAL_RANK": "0"}, 2, 1, ""},
		{map[string]string{"KILN_CUDA_DEVICE": "2"}, 2, 0, `KILN_CUDA_DEVICE="2": want a device number from 0 to 1 (2 present)`},
		{map[string]string{"KILN_CUDA_DEVICE": "gpu0"}, 2, 0, "KILN_CUDA_DEVICE"},
	} {
		got, err := ChooseOrdinal(func(k string) string { return c.env[k] }, c.count)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: err %v, want %q", c.env, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v of %d: %d, %v; want %d", c.env, c.count, got, err, c.want)
		}
	}
}
