//go:build !unix

package main

import "time"

// processCPU is not read here: the rows show no CPU of the tool.
func processCPU() (time.Duration, bool) { return 0, false }
