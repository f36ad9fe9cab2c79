package pagekit

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// contentTypes names the type of every kind of static file, so that the
// answer does not depend on the host's mime tables.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
	".ico": "image/x-icon",
	".txt": "text/plain; charset=utf-8",
}

// asset is one static file, held in memory with its gzip form.
type asset struct {
	ctype string
	hash  string // first 16 hex digits of the SHA-256 of body
	body  []byte
	gz    []byte // nil when not gzipped or gzip does not make it smaller
}

// Assets are the static files of one set of pages, served under prefix
// (e.g. "/static/"). Every asset is served by unid itself: government
// intranets have no internet.
type Assets struct {
	prefix string
	gzip   bool
	files  map[string]*asset // by name under the directory, e.g. "app.js"
}

// LoadAssets reads every file below dir of fsys, to be served under
// prefix. With gzip, text files are also held gzipped and served so to a
// browser that takes it. A file of unknown type is an error.
func LoadAssets(fsys fs.FS, dir, prefix string, gzipped bool) (*Assets, error) {
	a := &Assets{prefix: prefix, gzip: gzipped, files: make(map[string]*asset)}
	// One compressor for every file: each new one would be most of a
	// megabyte of start-up garbage.
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestCompression)
	err := fs.WalkDir(fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ctype, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("static file %s has no known content type", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &asset{ctype: ctype, hash: hex.EncodeToString(sum[:8]), body: body}
		if gzipped && (strings.HasPrefix(ctype, "text/") || ctype == "image/svg+xml") {
			var buf bytes.Buffer
			zw.Reset(&buf)
			zw.Write(body)
			zw.Close()
			if buf.Len() < len(body) {
				f.gz = buf.Bytes()
			}
		}
		a.files[strings.TrimPrefix(name, dir+"/")] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pagekit: load static files: %w", err)
	}
	return a, nil
}

// URL returns the versioned URL of a static file, for templates: the
// version changes with the content, so browsers may cache the URL for a
// year. A missing file is an error, which fails a page's dry run.
func (a *Assets) URL(name string) (string, error) {
	f, ok := a.files[name]
	if !ok {
		return "", fmt.Errorf("pagekit: no static file %q", name)
	}
	return a.prefix + name + "?v=" + f.hash, nil
}

// Handler serves the assets, mounted at the prefix (with or without
// http.StripPrefix); a name it does not hold goes to notFound. A request
// carrying the current ?v= is cached for a year; any other is revalidated
// with its ETag.
func (a *Assets) Handler(notFound http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, a.prefix), "/")
		f, ok := a.files[name]
		if !ok {
			notFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		if a.gzip {
			h.Set("Vary", "Accept-Encoding")
		}
		if r.URL.Query().Get("v") == f.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		body, etag := f.body, `"`+f.hash+`"`
		if f.gz != nil && AcceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = f.gz, `"`+f.hash+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("ETag", etag)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	})
}
