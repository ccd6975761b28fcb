package run

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLockRunHelper is not a test: TestLockRun runs it in a child process
// to hold a run directory's lock until its stdin closes.
func TestLockRunHelper(t *testing.T) {
	dir := os.Getenv("KILN_LOCK_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestLockRun")
	}
	if err := LockRun(dir); err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
}

// TestLockRun checks that a run directory locked by one process is
// refused to another with a SettingError naming that process, as it is to
// a second run in the same process, and that the lock goes with its
// holder.
func TestLockRun(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no POSIX record locks")
	}
	dir, err := NewRunDir(t.TempDir(), "r")
	if err != nil {
		t.Fatal(err)
	}
	if err := LockRun(dir); err == nil || !IsSettingError(err) || !strings.Contains(err.Error(), "in this process") {
		t.Errorf("locking a run this process trains: %v", err)
	}
	UnlockRun(dir)
	if err := LockRun(dir); err != nil {
		t.Fatalf("locking again after UnlockRun: %v", err)
	}
	UnlockRun(dir)

	cmd := exec.Command(os.Args[0], "-test.run", "^TestLockRunHelper$")
	cmd.Env = append(os.Environ(), "KILN_LOCK_HELPER_DIR="+dir)
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		stdin.Close()
		t.Fatalf("helper: %q", line)
	}
	err = LockRun(dir)
	if err == nil || !IsSettingError(err) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", cmd.Process.Pid)) || !strings.Contains(err.Error(), dir) {
		t.Errorf("locking a run another process holds: %v", err)
	}
	stdin.Close()
	cmd.Wait()
	if err := LockRun(dir); err != nil {
		t.Errorf("after the holder exited: %v", err)
	}
	UnlockRun(dir)
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !os.IsNotExist(err) {
		t.Errorf("the lock file is left after UnlockRun: %v", err)
	}
}
