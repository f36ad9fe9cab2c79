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
	// By its path, not as /proc/self/exe, which would rename the process
	// "exe" for ps, top and pgrep. An upgrade that replaced the file in
	// the moment since start runs the new one, as a restart would; one
	// that removed it fails here, and the server goes on as it is.
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return syscall.Exec(exe, os.Args, env)
}
