package app

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// memoryBase is what a serving instance needs besides its password hashes:
// an idle one holds about 11 MiB of its own, and token and page traffic
// adds garbage, not live data.
const memoryBase = 64 << 20

// TuneMemory paces the garbage collector of a serving process. With Go's
// default (collect when the heap has doubled) and the few MiB an instance
// keeps live, the token endpoint collected many times a second, a fifth of
// its time. unid lets the heap grow to five times the live heap (GOGC=400:
// about 55 MB under token load) and caps it with a memory limit, so that
// memory under sign-in load is bounded by the hash workers:
//
//	limit = 64 MiB + hashHeaps × hash workers × argon2 memory
//
// (292 MiB with the defaults on 2 CPUs), or 85 % of the container's
// memory (cgroup v2 memory.max) when that is less. While every worker
// hashes, their memory is most of what is live, and GOGC=400 lets the heap
// reach five times it; the limit sits above that with room for the
// runtime's own memory, so that it bounds the heap without setting its
// pace. A limit the heap meets at every collection made the runtime give
// part of the hashes' memory back each time (its scavenger keeps what it
// holds under 95 % of the limit), and the next hash took those pages again
// and cleared them: on a hypervisor where that is dear, a fifth more CPU
// per sign-in (docs/design-notes.md, "Scale"). The limit is soft: the
// collector works harder as the heap nears it, and memory the runtime does
// not manage (the program's own pages, SQLite's caches) comes on top.
// GOGC or GOMEMLIMIT in the environment are the operator's own choice and
// leave the runtime as it is. It returns the limit set, 0 if none.
func (a *App) TuneMemory(getenv func(string) string) int64 {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit := int64(memoryBase) + hashHeaps*int64(a.Hasher.Workers())*int64(a.Hasher.Params().Memory)<<10
	if max := containerMemory(); max > 0 && max*85/100 < limit {
		limit = max * 85 / 100
	}
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(gcPercent)
	return limit
}

// StartLean keeps the heap close to what is live while the server starts
// (it parses and tries every page, then drops them), so that the memory
// start-up used and gave back is little, which matters with lazy freeing
// (lazyFreeEnv): the kernel counts such pages in the resident size until
// it needs them. The returned func puts Go's pacing back; call it before
// TuneMemory. GOGC in the environment leaves the runtime as it is.
func StartLean(getenv func(string) string) (done func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(startGCPercent)
	return func() { debug.SetGCPercent(old) }
}

// startGCPercent is the heap growth between collections while starting.
const startGCPercent = 20

// lazyFreeEnv is environ with madvdontneed=0 added to GODEBUG, and ok,
// unless GODEBUG already says madvdontneed (the operator's choice).
//
// Go gives memory it no longer needs back to the kernel with
// MADV_DONTNEED, and the kernel zeroes and maps it again, a page fault for
// every 4 KiB, when Go next uses it. Every password hash allocates its 19
// MiB anew, and in a sign-in burst the runtime kept giving those pages
// back and faulting them in again: 30,000–60,000 faults a second, a
// quarter of a core in the kernel on 2 cores, and sign-ins at 80–85 % of
// the argon2id rate. With madvdontneed=0 Go uses MADV_FREE: the kernel
// takes such pages only when it needs memory, and until then they are
// used again without a fault (1,500–3,500 a second; 89–95 %). What it
// costs: the resident size counts pages given back this way until the
// kernel takes them (LazyFree in /proc/PID/smaps_rollup); the kernel
// reclaims them as it does clean page cache, without I/O.
func lazyFreeEnv(environ []string) (env []string, ok bool) {
	godebug, seen := "", false
	env = make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if v, isGodebug := strings.CutPrefix(kv, "GODEBUG="); isGodebug {
			if !seen { // the first is the one Go reads
				godebug, seen = v, true
			}
			continue
		}
		env = append(env, kv)
	}
	for _, setting := range strings.Split(godebug, ",") {
		if strings.HasPrefix(setting, "madvdontneed=") { // as Go reads it: no spaces
			return nil, false
		}
	}
	if godebug != "" {
		godebug += ","
	}
	return append(env, "GODEBUG="+godebug+"madvdontneed=0"), true
}

// gcPercent is the heap growth between collections below the limit.
const gcPercent = 400

// hashHeaps is how many times the memory of the running hashes the limit
// allows: the 1 + gcPercent/100 the collector's pacing lets the heap grow
// to while they are what is live, and one more for the rest of the heap
// and the runtime's margin below the limit.
const hashHeaps = 1 + gcPercent/100 + 1

// cgroupMemoryMax is where cgroup v2 says how much memory the process's
// container may use ("max": no limit).
var cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// containerMemory is the container's memory limit in bytes, 0 if none.
func containerMemory() int64 {
	b, err := os.ReadFile(cgroupMemoryMax)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
