package cas_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"unid/internal/app/apptest"
	"unid/internal/config"
	"unid/internal/sso/cas"
	"unid/internal/store"
)

// TestTicketsOnEveryBackend runs the ticket rules that rest on the store —
// single use under concurrent validation, expiry, single logout of the
// session's tickets — on SQLite and PostgreSQL.
func TestTicketsOnEveryBackend(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, startApp func(func(*config.Config)) *apptest.Server) {
		e := &env{t: t, srv: startApp(nil)}
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

		ticket = b.ticket(hallLogin, "")
		e.srv.Clock.Advance(time.Second)
		b.Get("/cas/logout")
		if code := failureCode(t, e.validate("/cas/serviceValidate", url.Values{"service": {hallLogin}, "ticket": {ticket}})); code != cas.CodeInvalidTicket {
			t.Fatalf("ticket of a signed-out session: %q", code)
		}
	})
}
