package app

import (
	"os"
	"syscall"
)

// ExecLazyFree starts the program again in place of this process, once,
// with madvdontneed=0 added to GODEBUG (lazyFreeEnv), and returns only if
// it need not or cannot. Call it first thing in main, before any work.
func ExecLazyFree() error {
	env, ok := lazyFreeEnv(os.Environ())
	if !ok {
		return nil
	}
	// The running file itself, even if an upgrade has replaced or removed
	// the one at its path meanwhile.
	return syscall.Exec("/proc/self/exe", os.Args, env)
}
