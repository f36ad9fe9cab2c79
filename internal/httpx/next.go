package httpx

// SafeNext returns next when it is a path on this site, and "" otherwise.
// It accepts only an absolute path: "/" followed by anything but a second
// "/" or a "\" (both of which browsers read as the start of another host),
// with no control characters (browsers drop tabs and newlines, turning
// "/\t/evil.example" into "//evil.example") and no backslash at all.
func SafeNext(next string) string {
	if len(next) == 0 || len(next) > 2048 || next[0] != '/' {
		return ""
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return ""
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	return next
}
