package app

import (
	"runtime/debug"
)

// memoryBase is what a serving instance needs besides its password hashes:
// an idle one holds about 11 MiB of its own, and token and page traffic
// adds garbage, not live data.
const memoryBase = 64 << 20

// TuneMemory paces the garbage collector of a serving process by a memory
// limit instead of by the live heap: with GOGC's default the collector ran
// whenever the heap doubled, and with the few MiB an instance keeps live
// that was every few hundred tokens, a fifth of the token endpoint's time.
// The limit is memoryBase plus twice the memory of the hashes that may run
// at once (a finished hash's memory is garbage until the next collection),
// so memory under sign-in load is bounded by the hash workers:
//
//	limit = 64 MiB + 2 × hash workers × argon2 memory
//
// (216 MiB with the defaults on 2 CPUs). GOGC or GOMEMLIMIT in the
// environment are the operator's own choice and leave the runtime as it
// is. It returns the limit set, 0 if none.
func (a *App) TuneMemory(getenv func(string) string) int64 {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit := int64(memoryBase) + 2*int64(a.Hasher.Workers())*int64(a.Hasher.Params().Memory)<<10
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(-1)
	return limit
}
