package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// staticPrefix is where the console's own assets are served.
const staticPrefix = "/console/static/"

var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
}

type asset struct {
	ctype string
	hash  string
	body  []byte
}

type assets struct {
	files map[string]*asset
}

func loadAssets() (*assets, error) {
	a := &assets{files: make(map[string]*asset)}
	err := fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ctype, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("console: static file %s has no known content type", name)
		}
		body, err := fs.ReadFile(staticFS, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a.files[strings.TrimPrefix(name, "static/")] = &asset{ctype: ctype, hash: hex.EncodeToString(sum[:8]), body: body}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: load static files: %w", err)
	}
	return a, nil
}

// url is the versioned URL of a static file, for templates.
func (a *assets) url(name string) (string, error) {
	f, ok := a.files[name]
	if !ok {
		return "", fmt.Errorf("console: no static file %q", name)
	}
	return staticPrefix + name + "?v=" + f.hash, nil
}

// Static serves the console's scripts and style sheet.
func (c *Console) Static(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, staticPrefix)
	f, ok := c.assets.files[name]
	if !ok {
		c.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("ETag", `"`+f.hash+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
