//go:build !linux

package app

// ExecLazyFree does nothing here: madvdontneed is a setting for Linux.
func ExecLazyFree() error { return nil }
