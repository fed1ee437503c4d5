package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// errDataDirInUse is returned by up when a pid file of its data-dir names a
// live process.
var errDataDirInUse = errors.New("data-dir in use")

// checkPIDFiles refuses a data-dir whose run directory holds a pid file of a
// live process: another up (or a run started by hand) uses it. Pid files of
// dead processes, left by a supervisor that was killed, are removed.
func checkPIDFiles(dataDir, runDir string) error {
	files, err := filepath.Glob(filepath.Join(runDir, "*.pid"))
	if err != nil {
		return fmt.Errorf("up: %w", err)
	}
	for _, f := range files {
		pid, err := readPID(f)
		if err == nil && alive(pid) {
			return fmt.Errorf("%w: %s: %s names running process %d (is another 'parley up' using it?); stop that process first",
				errDataDirInUse, dataDir, f, pid)
		}
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("up: remove stale pid file: %w", err)
		}
	}
	return nil
}

func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: invalid pid %q", path, b)
	}
	return pid, nil
}

func writePID(path string, pid int) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("up: write pid file: %w", err)
	}
	return nil
}

// removeFile removes path; it not existing is no error.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("up: %w", err)
	}
	return nil
}
