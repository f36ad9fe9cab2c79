package web

import (
	"embed"
	"fmt"
	"net/http"

	"unid/internal/httpx/pagekit"
)

//go:embed static
var staticFS embed.FS

// staticPrefix is where the app mounts Static.
const staticPrefix = "/static/"

// loadAssets holds the files under static/, gzipped for the browsers that
// take it.
func loadAssets() (*pagekit.Assets, error) {
	a, err := pagekit.LoadAssets(staticFS, "static", staticPrefix, true)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return a, nil
}

// Static serves the embedded assets, mounted at /static/ (with or without
// http.StripPrefix); see pagekit.Assets.Handler.
func (p *Pages) Static() http.Handler {
	return p.assets.Handler(http.NotFound)
}
