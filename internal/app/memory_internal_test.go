package app

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"unid/internal/account"
)

// The memory limit an operator plans with is the formula of
// docs/deployment.md, and the operator's own GOGC or GOMEMLIMIT win.
func TestTuneMemory(t *testing.T) {
	before, beforePercent := debug.SetMemoryLimit(-1), debug.SetGCPercent(100)
	debug.SetGCPercent(beforePercent)
	t.Cleanup(func() {
		debug.SetMemoryLimit(before)
		debug.SetGCPercent(beforePercent)
	})
	a := &App{Hasher: account.NewHasher(account.Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)}
	dir := t.TempDir()
	defer func(p string) { cgroupMemoryMax = p }(cgroupMemoryMax)
	cgroupMemoryMax = filepath.Join(dir, "memory.max")
	os.WriteFile(cgroupMemoryMax, []byte("max\n"), 0o644) // a container without a limit

	got := a.TuneMemory(func(string) string { return "" })
	if want := int64(216 << 20); got != want || debug.SetMemoryLimit(-1) != want {
		t.Errorf("limit = %d (runtime %d), want 64 MiB + 2 × 4 × 19 MiB = %d", got, debug.SetMemoryLimit(-1), want)
	}
	if p := debug.SetGCPercent(gcPercent); p != gcPercent {
		t.Errorf("GOGC = %d, want %d", p, gcPercent)
	}

	// In a container of 200 MiB, 85 % of it.
	os.WriteFile(cgroupMemoryMax, []byte("209715200\n"), 0o644)
	if got, want := a.TuneMemory(func(string) string { return "" }), int64(209715200*85/100); got != want {
		t.Errorf("limit in a 200 MiB container = %d, want %d", got, want)
	}

	debug.SetMemoryLimit(before)
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		got := a.TuneMemory(func(k string) string {
			if k == env {
				return "200"
			}
			return ""
		})
		if got != 0 || debug.SetMemoryLimit(-1) != before {
			t.Errorf("with %s set, TuneMemory set a limit of %d", env, got)
		}
	}
}
