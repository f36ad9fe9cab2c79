package app

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
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
	if want := int64(520 << 20); got != want || debug.SetMemoryLimit(-1) != want {
		t.Errorf("limit = %d (runtime %d), want 64 MiB + 6 × 4 × 19 MiB = %d", got, debug.SetMemoryLimit(-1), want)
	}
	if p := debug.SetGCPercent(gcPercent); p != gcPercent {
		t.Errorf("GOGC = %d, want %d", p, gcPercent)
	}

	// In a container of 500 MiB, 85 % of it.
	os.WriteFile(cgroupMemoryMax, []byte("524288000\n"), 0o644)
	if got, want := a.TuneMemory(func(string) string { return "" }), int64(524288000*85/100); got != want {
		t.Errorf("limit in a 500 MiB container = %d, want %d", got, want)
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

// A server starts again with lazy freeing added to what the operator put
// in GODEBUG, and an operator's own madvdontneed is left alone.
func TestLazyFreeEnv(t *testing.T) {
	for _, c := range []struct {
		name    string
		environ []string
		want    []string // nil: no restart
	}{
		{"no GODEBUG", []string{"PATH=/bin", "HOME=/root"}, []string{"PATH=/bin", "HOME=/root", "GODEBUG=madvdontneed=0"}},
		{"other settings kept", []string{"GODEBUG=http2client=0", "PATH=/bin"}, []string{"PATH=/bin", "GODEBUG=http2client=0,madvdontneed=0"}},
		{"the first of two GODEBUGs is the one Go reads", []string{"GODEBUG=x509sha1=1", "GODEBUG=madvdontneed=1"}, []string{"GODEBUG=x509sha1=1,madvdontneed=0"}},
		{"the operator's choice", []string{"GODEBUG=gctrace=1,madvdontneed=1", "PATH=/bin"}, nil},
		{"a setting Go does not read (a space before it)", []string{"GODEBUG=gctrace=1, madvdontneed=1"}, []string{"GODEBUG=gctrace=1, madvdontneed=1,madvdontneed=0"}},
		{"already started again", []string{"GODEBUG=madvdontneed=0"}, nil},
	} {
		got, ok := lazyFreeEnv(c.environ)
		if ok != (c.want != nil) || !slices.Equal(got, c.want) {
			t.Errorf("%s: lazyFreeEnv(%q) = %q, %v; want %q", c.name, c.environ, got, ok, c.want)
		}
	}
}

// While the server starts the heap stays close to what is live, and Go's
// pacing (or the operator's GOGC) is back when it has started.
func TestStartLean(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	done := StartLean(func(string) string { return "" })
	if p := debug.SetGCPercent(startGCPercent); p != startGCPercent {
		t.Errorf("GOGC while starting = %d, want %d", p, startGCPercent)
	}
	done()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GOGC after starting = %d, want 100 again", p)
	}

	done = StartLean(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	})
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("with GOGC set, GOGC while starting = %d, want it left at 100", p)
	}
	done()
}
