package console

import (
	"embed"
	"fmt"
	"net/http"

	"unid/internal/httpx/pagekit"
)

//go:embed static
var staticFS embed.FS

// staticPrefix is where the console's own assets are served.
const staticPrefix = "/console/static/"

// loadAssets holds the files under static/. They are not gzipped: the
// console is a handful of small files on an intranet.
func loadAssets() (*pagekit.Assets, error) {
	a, err := pagekit.LoadAssets(staticFS, "static", staticPrefix, false)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return a, nil
}

// Static serves the console's scripts and style sheet; a name it does not
// hold gets the console's 404 page.
func (c *Console) Static(w http.ResponseWriter, r *http.Request) {
	c.static.ServeHTTP(w, r)
}
