package audit

// Segments cuts every verification into n segments of at least min
// events, until the returned function puts the defaults back.
func Segments(n, min int64) (restore func()) {
	oldN, oldMin := maxSegments, minSegment
	maxSegments, minSegment = func() int64 { return n }, min
	return func() { maxSegments, minSegment = oldN, oldMin }
}
