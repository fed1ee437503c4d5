package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

// PinSelf restricts every thread of this process to cpus, and GOMAXPROCS
// to their number. Threads the runtime starts later inherit the mask of
// the thread that starts them, so the whole process stays there.
func PinSelf(cpus []int) error {
	var mask [16]uint64 // 1024 CPUs, the kernel's default cpu_set_t
	for _, c := range cpus {
		if c < 0 || c >= 1024 {
			return fmt.Errorf("bench: no CPU %d", c)
		}
		mask[c/64] |= 1 << (c % 64)
	}
	// Twice: a thread started during the first pass by a thread not yet
	// pinned has the old mask.
	for range 2 {
		if err := pinThreads(&mask); err != nil {
			return err
		}
	}
	runtime.GOMAXPROCS(len(cpus))
	return nil
}

func pinThreads(mask *[16]uint64) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid),
			unsafe.Sizeof(*mask), uintptr(unsafe.Pointer(mask)))
		if errno != 0 && errno != syscall.ESRCH { // ESRCH: the thread has just exited
			return fmt.Errorf("bench: sched_setaffinity: %w", errno)
		}
	}
	return nil
}
