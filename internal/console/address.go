package console

import "net/http"

// AddressForbidden serves the page for a client address the console does
// not answer (UNID_CONSOLE_ALLOW): it says so and shows nothing else.
func (c *Console) AddressForbidden(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, c.lang(w, r), 0, pageAddressForbidden, struct{}{})
}
