package cas

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"unid/internal/audit"
	"unid/internal/store"
)

// logoutParallel bounds how many single-logout requests one session end
// sends at once.
const logoutParallel = 8

// logoutTarget is one single-logout request to send.
type logoutTarget struct {
	clientID string
	url      string
	ticket   string // the SessionIndex
	userID   string
	sid      string // of the ended session, as in its session.logout event
}

// SingleLogout tells every CAS service that the ending session signed in
// to that the user has signed out (CAS 2.3.3, Appendix C). Register it with
// the session manager: sessions.OnEnd(casServer.SingleLogout).
//
// It first deletes the session's tickets that were never validated, so that
// a ticket issued just before the logout cannot sign the user in after it.
// Then it POSTs a SAML LogoutRequest, whose SessionIndex is the ticket the
// service validated, to the client's BackchannelLogoutURI or else to the
// service URL the ticket was issued for: concurrently, each request bounded
// by LogoutTimeout and all of them by LogoutBudget. Failures are logged and
// audited with the client ID only, never retried ("fire and forget", CAS
// 2.3.3.1). The session manager deletes the session's records afterwards.
func (s *Server) SingleLogout(ctx context.Context, sess store.Session) {
	ctx = context.WithoutCancel(ctx) // the browser leaving must not cut the logout short
	rows, err := s.d.Store.ListSessionClients(ctx, sess.SID)
	if err != nil {
		s.log.ErrorContext(ctx, "cas single logout: list session clients", "err", err)
		return
	}
	clients := make(map[string]*store.Client)
	var targets []logoutTarget
	for _, sc := range rows {
		if sc.Protocol != "cas" {
			continue
		}
		if err := s.d.Store.DeleteChallenge(ctx, KindTicket, ticketKey(sc.Ref)); err != nil && !notFound(err) {
			s.log.ErrorContext(ctx, "cas single logout: delete ticket", "client", sc.ClientID, "err", err)
		}
		c, seen := clients[sc.ClientID]
		if !seen {
			got, err := s.d.Registry.Get(ctx, sc.ClientID)
			switch {
			case err == nil && got.Type == store.ClientCAS:
				c = &got
			case err != nil && !notFound(err):
				s.log.ErrorContext(ctx, "cas single logout: get client", "client", sc.ClientID, "err", err)
			}
			clients[sc.ClientID] = c
		}
		if c == nil {
			continue // the client was deleted: nobody to tell
		}
		to := c.BackchannelLogoutURI
		if to == "" {
			to = sc.URL
		}
		targets = append(targets, logoutTarget{clientID: c.ID, url: to, ticket: sc.Ref, userID: sc.UserID, sid: sess.SID})
	}
	if len(targets) == 0 {
		return
	}
	// The budget bounds the sending only: the outcome is still logged and
	// audited with ctx once the budget is spent.
	sendCtx, cancel := context.WithTimeout(ctx, s.d.LogoutBudget)
	defer cancel()
	sem := make(chan struct{}, logoutParallel)
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-sendCtx.Done():
				s.logoutFailed(ctx, t, sendCtx.Err())
				return
			}
			defer func() { <-sem }()
			if err := s.sendLogout(sendCtx, t); err != nil {
				s.logoutFailed(ctx, t, err)
				return
			}
			s.recordLogout(ctx, t, ActionLogoutSent, audit.ResultOK)
		})
	}
	wg.Wait()
}

func (s *Server) logoutFailed(ctx context.Context, t logoutTarget, err error) {
	// A *url.Error names the URL, which may carry a query: log only the cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s.log.WarnContext(ctx, "cas single logout not delivered", "client", t.clientID, "err", err)
	s.recordLogout(ctx, t, ActionLogoutFailed, audit.ResultFailed)
}

// recordLogout audits the delivery of single logout to one service: the
// user whose session ended is the actor, the service the subject.
func (s *Server) recordLogout(ctx context.Context, t logoutTarget, action, result string) {
	if s.d.Audit == nil {
		return
	}
	s.d.Audit.Append(ctx, audit.Entry{Actor: audit.User(t.userID), Action: action, Result: result,
		Subject: t.clientID, Detail: audit.Detail{"sid": t.sid}})
}

// errLogoutStatus is a single-logout answer other than 2xx or 3xx.
type errLogoutStatus int

func (e errLogoutStatus) Error() string {
	return "cas: single logout answered " + http.StatusText(int(e))
}

func (s *Server) sendLogout(ctx context.Context, t logoutTarget) error {
	ctx, cancel := context.WithTimeout(ctx, s.d.LogoutTimeout)
	defer cancel()
	doc, err := logoutRequest(t.userID, t.ticket, s.now())
	if err != nil {
		return err
	}
	body := url.Values{"logoutRequest": {doc}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	// 2xx and 3xx mean delivered, as Apereo CAS counts them: mod_auth_cas
	// ends its session and answers with a redirect.
	if res.StatusCode < 200 || res.StatusCode > 399 {
		return errLogoutStatus(res.StatusCode)
	}
	return nil
}

// logoutDoc is the SAML 2.0 document of CAS single logout (Appendix C).
type logoutDoc struct {
	XMLName      xml.Name `xml:"samlp:LogoutRequest"`
	SAMLP        string   `xml:"xmlns:samlp,attr"`
	SAML         string   `xml:"xmlns:saml,attr"`
	ID           string   `xml:"ID,attr"`
	Version      string   `xml:"Version,attr"`
	IssueInstant string   `xml:"IssueInstant,attr"`
	NameID       string   `xml:"saml:NameID"`
	SessionIndex string   `xml:"samlp:SessionIndex"`
}

// logoutRequest renders the document for the ticket a service validated.
// NameID is the user as the service knows it (the cas:user).
func logoutRequest(user, ticket string, now time.Time) (string, error) {
	doc := logoutDoc{
		SAMLP: "urn:oasis:names:tc:SAML:2.0:protocol", SAML: "urn:oasis:names:tc:SAML:2.0:assertion",
		ID: "LR-" + rand.Text(), Version: "2.0", IssueInstant: now.UTC().Format(time.RFC3339),
		NameID: user, SessionIndex: ticket,
	}
	out, err := xml.Marshal(doc)
	return string(out), err
}
