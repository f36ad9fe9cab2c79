package flow

// LocalPath returns p when it is a path on this site, and "" otherwise: a
// flow's "go on to" (next, a message's link) never leads elsewhere. It
// accepts only an absolute path: "/" followed by anything but a second "/"
// or a "\" (both of which browsers read as the start of another host),
// with no control characters (browsers drop tabs and newlines, turning
// "/\t/evil.example" into "//evil.example") and no backslash at all.
func LocalPath(p string) string {
	if len(p) == 0 || len(p) > 2048 || p[0] != '/' {
		return ""
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return ""
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	return p
}
