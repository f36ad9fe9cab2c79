// Package recordsapi is the records API under /api/records/v1/ that the
// service systems call: they write the records (cases, consultations,
// complaints, messages, favorites) of the people and enterprises that
// signed in to them, one at a time or in bulk (NDJSON), and read a
// signed-in user's records with that user's token.
//
// Every request carries an access token of unid's token endpoint
// (Authorization: Bearer): a client-credentials token for the writes and
// the system's own records, a user's token for /me. A missing or bad
// token is 401 with WWW-Authenticate error="invalid_token", a token
// without the kind's scope 403 error="insufficient_scope" (RFC 6750).
// Each handler reads one request, calls records.Ingest, and answers in
// the one error shape of httpx; the routes are in the OpenAPI document of
// internal/api.
package recordsapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"unid/internal/httpx"
	"unid/internal/i18n"
	"unid/internal/problem"
	"unid/internal/records"
	"unid/internal/store"
)

// Token is what a verified access token says.
type Token struct {
	ClientID string
	Subject  string
	Scopes   []string
	User     bool // a user's token; false for the client's own (client credentials)
	Expiry   time.Time
	Sites    []string // the client's registered redirect URIs (records.Caller.Sites)
}

// ErrInvalidToken is a Verifier's answer to a token that is not a live
// access token of unid.
var ErrInvalidToken = errors.New("recordsapi: invalid token")

// Verifier checks an access token.
type Verifier interface {
	VerifyAccessToken(ctx context.Context, raw string) (Token, error)
}

// VerifierFunc is a function that is a Verifier.
type VerifierFunc func(ctx context.Context, raw string) (Token, error)

// VerifyAccessToken calls f.
func (f VerifierFunc) VerifyAccessToken(ctx context.Context, raw string) (Token, error) {
	return f(ctx, raw)
}

// Deps are what the API is built from.
type Deps struct {
	Responder *httpx.Responder
	Tokens    Verifier
	Ingest    *records.Ingest
}

// API serves the records API.
type API struct{ d Deps }

// New returns the records API over d.
func New(d Deps) *API { return &API{d: d} }

// Routes lists the endpoints.
func (a *API) Routes() []httpx.Route {
	const users, ents = "/api/records/v1/users/{owner}/{kind}/{id}", "/api/records/v1/enterprises/{owner}/{kind}/{id}"
	return []httpx.Route{
		{Pattern: "PUT " + users, Handler: a.system(a.put(false))},
		{Pattern: "GET " + users, Handler: a.system(a.get(false))},
		{Pattern: "DELETE " + users, Handler: a.system(a.delete(false))},
		{Pattern: "PUT " + ents, Handler: a.system(a.put(true))},
		{Pattern: "GET " + ents, Handler: a.system(a.get(true))},
		{Pattern: "DELETE " + ents, Handler: a.system(a.delete(true))},
		{Pattern: "POST /api/records/v1/bulk", Handler: a.bearer(false, false, a.bulk)}, // scope and rate limit checked by bulk
		{Pattern: "GET /api/records/v1/me/{kind}", Handler: a.user(a.mine)},
	}
}

// handler is an endpoint of an authenticated caller.
type handler func(w http.ResponseWriter, r *http.Request, t Token, c records.Caller)

// system admits a system's own token (client credentials) to h, one
// request of its rate limit.
func (a *API) system(h handler) http.HandlerFunc { return a.bearer(false, true, h) }

// user admits a user's token to h, one request of the rate limit of the
// system holding the token: reading a user's records costs it as a write
// does.
func (a *API) user(h handler) http.HandlerFunc { return a.bearer(true, true, h) }

// bearer admits the token of a user (user) or of a system to h, taking
// one request from the rate limit of the system (the token's client)
// when charge is set.
func (a *API) bearer(user, charge bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, ok := bearerToken(r)
		if !ok {
			a.challenge(w, r, "", problem.New(problem.Unauthorized, "invalid_token"))
			return
		}
		t, err := a.d.Tokens.VerifyAccessToken(r.Context(), raw)
		if errors.Is(err, ErrInvalidToken) {
			a.challenge(w, r, "invalid_token", problem.New(problem.Unauthorized, "invalid_token"))
			return
		}
		if err != nil {
			a.d.Responder.Fail(w, r, problem.Wrap(err))
			return
		}
		if t.User != user {
			a.challenge(w, r, "insufficient_scope", problem.New(problem.Forbidden, "insufficient_scope"))
			return
		}
		c := records.Caller{ClientID: t.ClientID, Scopes: t.Scopes, Sites: t.Sites}
		if charge {
			if wait, ok := a.d.Ingest.Allow(t.ClientID, 0); !ok {
				a.d.Responder.Fail(w, r, &problem.Problem{Kind: problem.TooMany, Code: "records_rate_limited", RetryAfter: wait})
				return
			}
		}
		h(w, r, t, c)
	}
}

// bearerToken reads the token of the Authorization header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// challenge answers p with the WWW-Authenticate of RFC 6750 section 3.
func (a *API) challenge(w http.ResponseWriter, r *http.Request, code string, p *problem.Problem) {
	v := `Bearer realm="unid"`
	if code != "" {
		v += `, error="` + code + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	a.d.Responder.Fail(w, r, p)
}

// fail answers err, with the challenge of a missing scope.
func (a *API) fail(w http.ResponseWriter, r *http.Request, kind records.Kind, read bool, err error) {
	if p := problem.As(err); p.Code == "insufficient_scope" {
		scope := kind.WriteScope()
		if read {
			scope = kind.ReadScope()
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="unid", error="insufficient_scope", scope="`+scope+`"`)
	}
	a.d.Responder.Fail(w, r, err)
}

// address reads the kind, the owner and the id of the path.
func (a *API) address(w http.ResponseWriter, r *http.Request, enterprise bool) (records.Kind, string, string, string, bool) {
	kind, ok := records.ByPlural(r.PathValue("kind"))
	if !ok {
		a.d.Responder.Fail(w, r, problem.New(problem.NotFound, "records_kind_unknown"))
		return records.Kind{}, "", "", "", false
	}
	if enterprise {
		return kind, "", r.PathValue("owner"), r.PathValue("id"), true
	}
	return kind, r.PathValue("owner"), "", r.PathValue("id"), true
}

func (a *API) put(enterprise bool) handler {
	return func(w http.ResponseWriter, r *http.Request, t Token, c records.Caller) {
		kind, user, uscc, id, ok := a.address(w, r, enterprise)
		if !ok {
			return
		}
		if !c.May(kind.WriteScope()) {
			a.fail(w, r, kind, false, problem.New(problem.Forbidden, "insufficient_scope"))
			return
		}
		body, err := readBody(w, r, "application/json", records.MaxWriteBytes)
		var wr records.Write
		if err == nil {
			wr, err = records.DecodeFields(kind, user, uscc, id, body)
		}
		if err != nil {
			a.d.Ingest.Refused(t.ClientID, err)
			a.fail(w, r, kind, false, err)
			return
		}
		res, err := a.d.Ingest.Put(r.Context(), c, wr)
		if err != nil {
			a.fail(w, r, kind, false, err)
			return
		}
		status := http.StatusOK
		if res.Outcome == store.UpsertCreated {
			status = http.StatusCreated
		}
		httpx.WriteJSON(w, status, putAnswer{Outcome: res.Outcome, Record: sourceRecord(res.Record, nil)})
	}
}

func (a *API) get(enterprise bool) handler {
	return func(w http.ResponseWriter, r *http.Request, t Token, c records.Caller) {
		kind, user, uscc, id, ok := a.address(w, r, enterprise)
		if !ok {
			return
		}
		rec, h, err := a.d.Ingest.Get(r.Context(), c, kind, user, uscc, id)
		if err != nil {
			a.fail(w, r, kind, false, err)
			return
		}
		if h == nil {
			h = []store.StatusChange{}
		}
		httpx.WriteJSON(w, http.StatusOK, sourceRecord(rec, h))
	}
}

func (a *API) delete(enterprise bool) handler {
	return func(w http.ResponseWriter, r *http.Request, t Token, c records.Caller) {
		kind, user, uscc, id, ok := a.address(w, r, enterprise)
		if !ok {
			return
		}
		if err := a.d.Ingest.Delete(r.Context(), c, kind, user, uscc, id); err != nil {
			a.fail(w, r, kind, false, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}

// readBody reads a JSON body (mediaType application/json), at most limit
// bytes; a bulk request's is read line by line (readLines).
func readBody(w http.ResponseWriter, r *http.Request, mediaType string, limit int64) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != mediaType {
		return nil, problem.New(problem.Invalid, "content_type_json")
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, problem.New(problem.TooLarge, "body_too_large")
	}
	if err != nil {
		return nil, problem.New(problem.Invalid, "malformed_json")
	}
	return b, nil
}

// putAnswer is the answer to a write.
type putAnswer struct {
	Outcome string     `json:"outcome"`
	Record  recordJSON `json:"record"`
}

// recordJSON is a record as its system reads it back: its fields by the
// kind's names.
type recordJSON struct {
	ID          string            `json:"id"`
	Kind        string            `json:"kind"`
	User        string            `json:"user,omitempty"`
	Enterprise  string            `json:"enterprise,omitempty"`
	Handler     string            `json:"handler,omitempty"`
	Fields      map[string]string `json:"fields"`
	SubmittedAt time.Time         `json:"submitted_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	CreatedAt   time.Time         `json:"created_at"`
	History     []historyJSON     `json:"history,omitempty"`
}

type historyJSON struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

func plural(k store.RecordKind) string {
	kind, _ := records.Of(k)
	return kind.Plural
}

func sourceRecord(r store.Record, h []store.StatusChange) recordJSON {
	out := recordJSON{ID: r.ExternalID, Kind: plural(r.Kind), User: r.UserID, Enterprise: r.USCC, Handler: r.HandlerID,
		Fields: records.Fields(r), SubmittedAt: r.SubmittedAt, UpdatedAt: r.UpdatedAt, CreatedAt: r.CreatedAt}
	if h != nil {
		out.History = make([]historyJSON, len(h))
		for i, c := range h {
			out.History[i] = historyJSON{Status: c.Status, At: c.At}
		}
	}
	return out
}

// mineJSON is a user's record as a system holding the user's token reads
// it: unid's id, the system that wrote it, its fields.
type mineJSON struct {
	ID          string            `json:"id"`
	Kind        string            `json:"kind"`
	ClientID    string            `json:"client_id"`
	Fields      map[string]string `json:"fields"`
	SubmittedAt time.Time         `json:"submitted_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	Read        bool              `json:"read"`
}

type minePage struct {
	Records []mineJSON `json:"records"`
	Next    string     `json:"next,omitempty"`
}

// mine answers GET /api/records/v1/me/{kind}.
func (a *API) mine(w http.ResponseWriter, r *http.Request, t Token, c records.Caller) {
	kind, ok := records.ByPlural(r.PathValue("kind"))
	if !ok {
		a.d.Responder.Fail(w, r, problem.New(problem.NotFound, "records_kind_unknown"))
		return
	}
	q := r.URL.Query()
	p, err := a.d.Ingest.Mine(r.Context(), c, t.Subject, kind, records.MineQuery{
		Status: q.Get("status"), Since: q.Get("since"), After: q.Get("after"), Limit: q.Get("limit"),
	})
	if err != nil {
		a.fail(w, r, kind, true, err)
		return
	}
	out := minePage{Records: make([]mineJSON, 0, len(p.Records)), Next: p.Next}
	for _, rec := range p.Records {
		out.Records = append(out.Records, mineJSON{ID: rec.ID, Kind: kind.Plural, ClientID: rec.ClientID, Fields: records.Fields(rec),
			SubmittedAt: rec.SubmittedAt, UpdatedAt: rec.UpdatedAt, Read: !rec.ReadAt.IsZero()})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// lineError is the error of one line of a bulk answer, in the one shape.
type lineError struct {
	Code    string               `json:"code"`
	Message string               `json:"message"`
	Fields  map[string]fieldJSON `json:"fields,omitempty"`
}

type fieldJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// message is the text of a code in lang, as httpx's answers have it.
func (a *API) message(lang i18n.Lang, code string) string {
	cat := a.d.Responder.Catalog()
	key := "error." + code
	if !cat.Has(key) {
		key = "error.invalid"
	}
	return cat.T(lang, key, "wait", "")
}

func (a *API) lineError(lang i18n.Lang, err error) *lineError {
	p := httpx.Unavailable(problem.As(err))
	e := &lineError{Code: p.Code, Message: a.message(lang, p.Code)}
	if len(p.Fields) > 0 {
		e.Fields = make(map[string]fieldJSON, len(p.Fields))
		for f, code := range p.Fields {
			e.Fields[f] = fieldJSON{Code: code, Message: a.message(lang, code)}
		}
	}
	return e
}

// json encodes v on one line.
func jsonLine(v any) []byte {
	b, _ := json.Marshal(v)
	return append(b, '\n')
}
