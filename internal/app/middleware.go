package app

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"unid/internal/i18n"
	"unid/internal/problem"
)

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request an id, logs one access line (the path only:
// queries may carry codes or tickets), counts it for the metrics by its
// route pattern, and turns a panic into a 500.
//
// Under HTTPS it also tells browsers to use HTTPS only (HSTS).
func observe(logger *slog.Logger, now func() time.Time, https bool, requests func(route string, status int, took time.Duration), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := rand.Text()[:16]
		ctx := withRequestID(r.Context(), id)
		// What the request causes away from the page (an email) speaks
		// the page's language.
		ctx = i18n.NewContext(ctx, i18n.Negotiate(r))
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		start := now()
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(ctx, "panic", "value", v)
				if sw.status == 0 {
					http.Error(sw, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
				}
			}
			took := now().Sub(start)
			logger.InfoContext(ctx, "request", "method", r.Method, "path", logPath(r.URL.Path), "status", sw.status, "duration_ms", took.Milliseconds())
			status := sw.status
			if status == 0 {
				status = http.StatusOK // what net/http sends for a handler that wrote nothing
			}
			// r.Pattern is the route the ServeMux matched (no IDs, no
			// personal data): nothing between here and the mux copies r.
			requests(r.Pattern, status, took)
		}()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if https {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(sw, r)
	})
}

// crossOrigin refuses state-changing browser requests sent from another
// site (Sec-Fetch-Site / Origin checks of net/http). Requests without those
// headers — server-to-server calls, the mobile app — pass, and so do the
// bypass patterns: OAuth endpoints that use no cookies and that web
// applications of other origins call by design (the token endpoint).
func crossOrigin(fail func(http.ResponseWriter, *http.Request, error), bypass []string, next http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	for _, pattern := range bypass {
		p.AddInsecureBypassPattern(pattern)
	}
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail(w, r, problem.New(problem.Forbidden, "cross_origin"))
	}))
	return p.Handler(next)
}

// secretSegments are path prefixes whose next segment is a bearer secret:
// a password-recovery flow's ID lets whoever holds it finish the recovery
// once proven, so the access log keeps only its first characters.
var secretSegments = []string{"/api/v1/recovery/"}

// logPath is the path as the access log keeps it.
func logPath(p string) string {
	for _, prefix := range secretSegments {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		id, tail, _ := strings.Cut(rest, "/")
		if len(id) > 4 {
			id = id[:4] + "…"
		}
		if tail != "" {
			tail = "/" + tail
		}
		return prefix + id + tail
	}
	return p
}
