package cas_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/config"
	"unid/internal/sso/cas"
	"unid/internal/store"
	"unid/internal/store/redis/redistest"
)

// TestTicketsOnEveryBackend runs the ticket rules that rest on the store —
// single use under concurrent validation, expiry, single logout of the
// session's tickets, a record rewritten in the store — on SQLite,
// PostgreSQL, and PostgreSQL with the tickets in Redis.
func TestTicketsOnEveryBackend(t *testing.T) {
	apptest.ForBackends(t, append(slices.Clone(apptest.Backends), apptest.PostgresRedis), func(t *testing.T, startApp func(func(*config.Config)) *apptest.Server) {
		var tickets store.Challenges
		srv := startApp(func(c *config.Config) {
			if c.RedisURL.Value != "" {
				tickets = redistest.ServerChallenges(t, c.RedisURL.Value)
			}
		})
		if tickets == nil {
			tickets = srv.App.Store
		}
		e := &env{t: t, srv: srv}
		if err := e.srv.App.Store.CreateClient(context.Background(), store.Client{
			ID: "hall", Name: "hall", Type: store.ClientCAS, RedirectURIs: []string{hall + "*"},
		}); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.MustRegister(zhang)

		// Ten back ends validate the same ticket at once: one succeeds.
		ticket := b.ticket(hallLogin, "")
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[string]int{}
		for range 10 {
			wg.Go(func() {
				res, err := http.Get(e.srv.URL + "/cas/serviceValidate?" + url.Values{"service": {hallLogin}, "ticket": {ticket}}.Encode())
				if err != nil {
					t.Error(err)
					return
				}
				code := failureCode(t, readResponse(t, res))
				mu.Lock()
				codes[code]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if codes[""] != 1 || codes[cas.CodeInvalidTicket] != 9 {
			t.Fatalf("10 concurrent validations of one ticket: %v, want 1 success and 9 INVALID_TICKET", codes)
		}

		ticket = b.ticket(hallLogin, "")
		e.srv.Clock.Advance(cas.DefaultTicketTTL)
		if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})); code != cas.CodeInvalidTicket {
			t.Fatalf("expired ticket: %q", code)
		}

		// A record rewritten by whoever can write the store (another
		// user, a later expiry) does not match its seal.
		for name, edit := range map[string]func(*store.Challenge){
			"another user": func(c *store.Challenge) {
				c.Secret = []byte(strings.Replace(string(c.Secret), `"user_id":"`, `"user_id":"x`, 1))
			},
			"a later expiry": func(c *store.Challenge) { c.ExpiresAt = c.ExpiresAt.Add(time.Hour) },
		} {
			ticket = b.ticket(hallLogin, "")
			key := sha256.Sum256([]byte(ticket))
			id := base64.RawURLEncoding.EncodeToString(key[:])
			c, err := tickets.GetChallenge(context.Background(), cas.KindTicket, id)
			if err != nil {
				t.Fatalf("%s: the ticket's record: %v", name, err)
			}
			edit(&c)
			if err := tickets.PutChallenge(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})); code != cas.CodeInvalidTicket {
				t.Fatalf("ticket whose record names %s: %q, want INVALID_TICKET", name, code)
			}
		}

		ticket = b.ticket(hallLogin, "")
		e.srv.Clock.Advance(time.Second)
		b.Get("/cas/logout")
		if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})); code != cas.CodeInvalidTicket {
			t.Fatalf("ticket of a signed-out session: %q", code)
		}
	})
}
