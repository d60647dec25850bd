package auth

import "syscall"

// lowerThreadPriority sets the calling thread, locked to its goroutine,
// to nice hashNice. On Linux a priority set with the thread's id is that
// thread's alone.
func lowerThreadPriority() error {
	return syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), hashNice)
}

// threadPriority returns the calling thread's nice value.
func threadPriority() (int, error) {
	// getpriority(2) answers 20 - nice, so that no answer is negative.
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	return 20 - p, err
}
