package httpx

import "unid/internal/flow"

// SafeNext returns next when it is a path on this site, and "" otherwise
// (flow.LocalPath's rule): a ?next= never sends the browser elsewhere.
func SafeNext(next string) string { return flow.LocalPath(next) }
