package pagekit

import (
	"net/http"
	"strings"
	"time"

	"unid/internal/i18n"
)

// SetHeaders sets what every HTML page of unid carries: the adapter's own
// Content-Security-Policy csp, and no type sniffing, no framing, no
// referrer beyond this origin and no caching (a page may show personal
// data and a session's state).
func SetHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// langCookieAge is how long a chosen language is remembered.
const langCookieAge = 365 * 24 * time.Hour

// Lang returns the language for r; a valid ?lang= is also remembered in the
// language cookie (i18n.CookieName, which the JSON API reads too), marked
// Secure when secure is set.
func Lang(w http.ResponseWriter, r *http.Request, secure bool) i18n.Lang {
	if l, ok := i18n.Parse(r.URL.Query().Get("lang")); ok {
		http.SetCookie(w, &http.Cookie{
			Name:     i18n.CookieName,
			Value:    string(l),
			Path:     "/",
			MaxAge:   int(langCookieAge / time.Second),
			Expires:  time.Now().Add(langCookieAge),
			SameSite: http.SameSiteLaxMode,
			Secure:   secure,
		})
		return l
	}
	return i18n.Negotiate(r)
}

// AcceptsGzip reports whether an Accept-Encoding header allows gzip.
func AcceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
