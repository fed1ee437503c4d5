package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// errDataDirInUse is returned by up when a pid file of its data-dir names a
// live process.
var errDataDirInUse = errors.New("data-dir in use")

// checkPIDFiles refuses to start the applications apps when the pid file
// of one of them names a live process: another up (or a run started by
// hand) runs it. Live pid files of the others are theirs: another up may
// run the rest of the deployment. Pid files of dead processes, left by a
// supervisor that was killed, are removed.
func checkPIDFiles(dataDir, runDir string, apps []string) error {
	files, err := filepath.Glob(filepath.Join(runDir, "*.pid"))
	if err != nil {
		return fmt.Errorf("up: %w", err)
	}
	for _, f := range files {
		pid, err := readPID(f)
		if err == nil && alive(pid) {
			if app := strings.TrimSuffix(filepath.Base(f), ".pid"); slices.Contains(apps, app) {
				return fmt.Errorf("%w: %s: %s names running process %d (is another 'parley up' running %s?); stop that process first",
					errDataDirInUse, dataDir, f, pid, app)
			}
			continue
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
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
	if err := writeAtomic(path, []byte(strconv.Itoa(pid)+"\n")); err != nil {
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

// writeAtomic writes b to path through a temporary file renamed over it,
// so that a reader (another up checking its pid files, a child reading
// its deployment) sees the old content or the new, never a part.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	err = errors.Join(err, f.Chmod(0o644), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
