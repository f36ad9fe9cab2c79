package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/store"
)

// errorBody is the one error shape of unid's JSON answers:
// {"error": {"code": "...", "message": "...", "fields": {...}, "retry_after": 60}}.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code       string               `json:"code"`
	Message    string               `json:"message"`
	Fields     map[string]fieldJSON `json:"fields,omitempty"`
	RetryAfter int64                `json:"retry_after,omitempty"` // seconds
}

type fieldJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Status maps a problem kind to its HTTP status. It is the only place that
// does.
func Status(k problem.Kind) int {
	switch k {
	case problem.Invalid:
		return http.StatusBadRequest
	case problem.Unauthorized:
		return http.StatusUnauthorized
	case problem.Forbidden:
		return http.StatusForbidden
	case problem.NotFound:
		return http.StatusNotFound
	case problem.Conflict:
		return http.StatusConflict
	case problem.Gone:
		return http.StatusGone
	case problem.TooMany:
		return http.StatusTooManyRequests
	case problem.TooLarge:
		return http.StatusRequestEntityTooLarge
	case problem.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// WriteJSON writes v with status, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Responder decodes JSON requests and answers problems in the one error
// shape, in the request's language.
type Responder struct {
	cat     *i18n.Catalog
	log     *slog.Logger
	maxBody int64
	busyLog atomic.Int64 // when a "busy" answer was last logged as a warning (Unix ns)
}

// NewResponder returns a Responder; maxBody bounds every decoded body.
func NewResponder(cat *i18n.Catalog, log *slog.Logger, maxBody int64) *Responder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Responder{cat: cat, log: log, maxBody: maxBody}
}

// Catalog returns the message catalog the answers are written from.
func (rs *Responder) Catalog() *i18n.Catalog { return rs.cat }

// RetryUnavailable is what a caller is told to wait when a backend (the
// database, Redis) cannot be reached.
const RetryUnavailable = 5 * time.Second

// Unavailable turns a fault caused by an unreachable backend into a
// problem.Unavailable ("try again shortly", 503 with Retry-After) and
// returns any other problem unchanged.
func Unavailable(p *problem.Problem) *problem.Problem {
	if p.Kind == problem.Internal && store.Unavailable(p.Err) {
		return &problem.Problem{Kind: problem.Unavailable, Code: "unavailable", RetryAfter: RetryUnavailable, Err: p.Err}
	}
	return p
}

// Fail answers err in the request's language. Internal problems are logged
// with their cause; users see only a generic message and the request id.
func (rs *Responder) Fail(w http.ResponseWriter, r *http.Request, err error) {
	p := Unavailable(problem.As(err))
	status := Status(p.Kind)
	if p.Kind == problem.Unavailable && p.Code == problem.CodeBusy {
		// A burst being shed: unid_hash_refused_total counts each; the log
		// says so once a minute, where a line for each would flood it.
		level := slog.LevelDebug
		if last, now := rs.busyLog.Load(), time.Now().UnixNano(); now-last >= int64(time.Minute) && rs.busyLog.CompareAndSwap(last, now) {
			level = slog.LevelWarn
		}
		rs.log.Log(r.Context(), level, "requests refused: the password-hash queue is longer than --hash-max-wait (unid_hash_refused_total counts them)", "err", p.Err)
	} else if p.Kind == problem.Unavailable {
		rs.log.WarnContext(r.Context(), "request failed: a backend is unavailable", "code", p.Code, "err", p.Err)
	} else if status >= 500 {
		rs.log.ErrorContext(r.Context(), "request failed", "code", p.Code, "err", p.Err)
	} else {
		rs.log.DebugContext(r.Context(), "request refused", "code", p.Code, "status", status)
	}
	lang := i18n.Negotiate(r)
	body := errorJSON{Code: p.Code, Message: rs.message(lang, p.Code, p.RetryAfter)}
	if len(p.Fields) > 0 {
		body.Fields = make(map[string]fieldJSON, len(p.Fields))
		for f, code := range p.Fields {
			body.Fields[f] = fieldJSON{Code: code, Message: rs.message(lang, code, p.RetryAfter)}
		}
	}
	if p.RetryAfter > 0 {
		secs := int64((p.RetryAfter + time.Second - 1) / time.Second)
		body.RetryAfter = secs
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	WriteJSON(w, status, errorBody{Error: body})
}

// message is the user-facing text of a code, with {wait} filled in.
func (rs *Responder) message(lang i18n.Lang, code string, wait time.Duration) string {
	key := "error." + code
	if !rs.cat.Has(key) {
		key = "error.invalid"
	}
	return rs.cat.T(lang, key, "wait", Wait(rs.cat, lang, wait))
}

// Wait says a duration the way a person would: "15 分钟", "1 minute", "30 seconds".
func Wait(cat *i18n.Catalog, lang i18n.Lang, d time.Duration) string {
	if d <= 0 {
		return ""
	}
	if d >= time.Minute {
		m := int64((d + time.Minute - 1) / time.Minute)
		if m == 1 {
			return cat.T(lang, "unit.minute")
		}
		return cat.T(lang, "unit.minutes", "n", strconv.FormatInt(m, 10))
	}
	s := int64((d + time.Second - 1) / time.Second)
	if s == 1 {
		return cat.T(lang, "unit.second")
	}
	return cat.T(lang, "unit.seconds", "n", strconv.FormatInt(s, 10))
}

// Decode reads one JSON object into dst. It refuses other content types,
// bodies over the limit, unknown fields, wrong types and trailing data, each
// with its own code, before anything else looks at the request.
func (rs *Responder) Decode(w http.ResponseWriter, r *http.Request, dst any) error {
	return DecodeLimit(w, r, dst, rs.maxBody)
}

// DecodeLimit is Decode with its own body limit, for endpoints whose bodies
// are known to be small.
func DecodeLimit(w http.ResponseWriter, r *http.Request, dst any, maxBody int64) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return problem.New(problem.Invalid, "content_type_json")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	if err := checkStrings(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return problem.New(problem.TooLarge, "body_too_large")
		}
		return problem.New(problem.Invalid, "malformed_json")
	}
	return nil
}

func decodeProblem(err error) error {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return problem.New(problem.TooLarge, "body_too_large")
	case errors.Is(err, io.EOF):
		return problem.New(problem.Invalid, "body_required")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return problem.New(problem.Invalid, "malformed_json")
		}
		return problem.Field(field, "wrong_type")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.Invalid, "malformed_json")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if len(field) > 64 {
			field = field[:64]
		}
		return problem.Field(field, "unknown_field")
	}
	return problem.New(problem.Invalid, "malformed_json")
}

// maxFieldBytes bounds every string field: no field of the API needs more,
// and a bound keeps oversize values away from hashing and the store.
const maxFieldBytes = 4096

// checkStrings refuses string fields that no person types: NUL and other
// control characters (PostgreSQL cannot even store NUL) and huge values. dst
// is a pointer to a struct of string fields with json tags.
func checkStrings(dst any) error {
	v := reflect.ValueOf(dst).Elem()
	if v.Kind() != reflect.Struct {
		return nil
	}
	f := problem.FieldSet{}
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).Kind() != reflect.String {
			continue
		}
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		s := v.Field(i).String()
		switch {
		case len(s) > maxFieldBytes:
			f.Add(name, problem.Field(name, "field_too_long"))
		case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }):
			f.Add(name, problem.Field(name, "invalid_characters"))
		}
	}
	return f.Err()
}
