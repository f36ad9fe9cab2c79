package cas

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unid/internal/client"

	"unid/internal/audit"
	"unid/internal/claims"
	"unid/internal/sso/acting"
	"unid/internal/store"
)

// Error codes of ticket validation (CAS 2.5.3). unid does no proxying, so
// the proxy codes never occur.
const (
	CodeInvalidRequest = "INVALID_REQUEST" // a required parameter is missing, repeated or too long
	CodeInvalidTicket  = "INVALID_TICKET"  // unknown, used, expired, or not from a new login under renew
	CodeInvalidService = "INVALID_SERVICE" // the ticket was issued for another service; it is now used up
	CodeInternalError  = "INTERNAL_ERROR"  // the store failed
)

// version is the protocol version of a validation endpoint.
type version int

const (
	v1 version = 1 // /cas/validate: plain text
	v2 version = 2 // /cas/serviceValidate: XML or JSON, no attributes
	v3 version = 3 // /cas/p3/serviceValidate: XML or JSON with attributes
)

// failure is a refused validation.
type failure struct {
	Code        string
	Description string
}

// result is a successful validation.
type result struct {
	User       string
	Attributes []attribute // v3 only
}

// validate serves one validation endpoint. Every answer is 200 with the
// protocol's own success or failure document, as CAS clients expect.
func (s *Server) validate(v version) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, ok := params(r)
		format := "XML"
		var fail *failure
		if v != v1 && ok {
			switch f := strings.ToUpper(q.Get("format")); f {
			case "", "XML":
			case "JSON":
				format = f
			default:
				fail = &failure{CodeInvalidRequest, "format must be XML or JSON"}
			}
		}
		var res result
		if fail == nil {
			res, fail = s.check(r.Context(), r, q, ok, v)
		}
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case v == v1:
			writeV1(w, res, fail)
		case format == "JSON":
			writeJSON(w, res, fail)
		default:
			writeXML(w, res, fail)
		}
	}
}

// check validates the ticket of a request. A well-formed ticket is taken
// from the store before anything else is looked at, so that it is used up
// by this attempt whatever its outcome (CAS 3.1.1). The pgtUrl parameter
// is ignored: unid issues no proxy-granting tickets.
func (s *Server) check(ctx context.Context, r *http.Request, q url.Values, ok bool, v version) (result, *failure) {
	var (
		ch      store.Challenge
		takeErr error = store.ErrNotFound
	)
	for i, t := range q["ticket"] { // more than one only in a request refused below
		if ParseTicket(t) {
			c, err := s.d.Store.TakeChallenge(ctx, KindTicket, ticketKey(t))
			if i == 0 {
				ch, takeErr = c, err
			}
		}
	}
	ticket, service := q.Get("ticket"), q.Get("service")
	switch {
	case !ok:
		return result{}, &failure{CodeInvalidRequest, "malformed query, oversized query or a repeated parameter"}
	case ticket == "" || service == "":
		return result{}, &failure{CodeInvalidRequest, "both service and ticket are required"}
	case len(service) > client.MaxServiceLen:
		return result{}, &failure{CodeInvalidRequest, "service is too long"}
	case strings.HasPrefix(ticket, "PT-"):
		return result{}, &failure{CodeInvalidTicket, "proxy tickets are not supported"}
	case notFound(takeErr):
		s.log.InfoContext(ctx, "cas ticket not recognized")
		return result{}, &failure{CodeInvalidTicket, "ticket not recognized"}
	case takeErr != nil:
		s.log.ErrorContext(ctx, "cas take ticket", "err", takeErr)
		return result{}, &failure{CodeInternalError, "internal error"}
	}
	if !hmac.Equal(ch.Subject, s.seal(ch)) {
		s.log.ErrorContext(ctx, "cas ticket record does not match its seal: the store was written by something other than unid")
		return result{}, &failure{CodeInvalidTicket, "ticket not recognized"}
	}
	var rec ticketRecord
	if err := json.Unmarshal(ch.Secret, &rec); err != nil {
		s.log.ErrorContext(ctx, "cas ticket record", "err", err)
		return result{}, &failure{CodeInternalError, "internal error"}
	}
	refuse := func(code, desc string) (result, *failure) {
		s.record(ctx, r, rec.UserID, ActionTicketRefused, code, rec.ClientID, audit.Detail{"reason": desc})
		return result{}, &failure{code, desc}
	}
	if !ch.Valid(s.now()) {
		return refuse(CodeInvalidTicket, "ticket expired")
	}
	if rec.Service != service {
		return refuse(CodeInvalidService, "ticket was issued for another service")
	}
	if flag(q, "renew") && !rec.NewLogin {
		return refuse(CodeInvalidTicket, "ticket did not come from a new login and renew was requested")
	}
	c, err := s.d.Registry.Get(ctx, rec.ClientID)
	if notFound(err) {
		return refuse(CodeInvalidService, "service is no longer registered")
	}
	if err != nil {
		s.log.ErrorContext(ctx, "cas get client", "err", err)
		return result{}, &failure{CodeInternalError, "internal error"}
	}
	if !allows(c, service) {
		return refuse(CodeInvalidService, "service is no longer registered")
	}
	if client.CheckActive(c) != nil {
		return refuse(CodeInvalidService, "service is disabled")
	}
	u, err := s.d.Store.GetUser(ctx, rec.UserID)
	if notFound(err) || err == nil && u.Status != store.UserActive {
		return refuse(CodeInvalidTicket, "account is not active")
	}
	if err != nil {
		s.log.ErrorContext(ctx, "cas get user", "err", err)
		return result{}, &failure{CodeInternalError, "internal error"}
	}
	// The sign-in must still stand. A logout after the ticket was issued
	// finds it and deletes it; a session ended or switched to another
	// identity while the ticket was being issued (a password change, an
	// operator's sign-out, a switch) may have told its clients before the
	// ticket was recorded with them.
	stands, err := s.d.Sessions.Stands(ctx, rec.UserID, rec.SID, rec.SessionActing)
	if err != nil {
		s.log.ErrorContext(ctx, "cas: check that the ticket's sign-in stands", "err", err)
		return result{}, &failure{CodeInternalError, "internal error"}
	}
	if !stands {
		return refuse(CodeInvalidTicket, "the sign-in has ended")
	}
	// The membership is read again: a role revoked since the ticket was
	// issued is released no more, and a service that requires one refuses.
	m, err := acting.Live(ctx, s.d.Enterprises, u.ID, rec.Acting)
	if err != nil {
		s.log.ErrorContext(ctx, "cas acting membership", "client", c.ID, "err", err)
		return result{}, &failure{CodeInternalError, "internal error"}
	}
	if !acting.MeetsRole(c, m) {
		return refuse(CodeInvalidTicket, "the user no longer holds the enterprise role the service requires")
	}
	res := result{User: u.ID}
	if v == v3 {
		attrs, err := release(s.d.Protector, c, u, acting.Released(m))
		if err != nil {
			s.log.ErrorContext(ctx, "cas release attributes", "client", c.ID, "err", err)
			return result{}, &failure{CodeInternalError, "internal error"}
		}
		res.Attributes = append([]attribute{
			{Name: "authenticationDate", Value: rec.AuthTime.UTC().Format(time.RFC3339)},
			{Name: "longTermAuthenticationRequestTokenUsed", Value: false},
			{Name: "isFromNewLogin", Value: rec.NewLogin},
			// How the user signed in, as the ID token's amr says it.
			{Name: "authenticationMethod", Value: strings.Join(claims.AMR(rec.AMR), " ")},
		}, attrs...)
	}
	s.record(ctx, r, u.ID, ActionTicketValidated, audit.ResultOK, c.ID, audit.Detail{"version": strconv.Itoa(int(v))})
	return res, nil
}

// allows reports whether one of c's patterns matches service.
func allows(c store.Client, service string) bool {
	if c.Type != store.ClientCAS {
		return false
	}
	u, err := client.ParseService(service)
	if err != nil {
		return false
	}
	for _, raw := range c.RedirectURIs {
		if p, err := client.ParsePattern(raw); err == nil && p.MatchURL(u) {
			return true
		}
	}
	return false
}

// writeV1 answers CAS 1.0: "yes\n<user>\n" or "no\n\n".
func writeV1(w http.ResponseWriter, res result, fail *failure) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if fail != nil {
		_, _ = w.Write([]byte("no\n\n"))
		return
	}
	_, _ = w.Write([]byte("yes\n" + res.User + "\n"))
}

// The XML document of CAS 2.0/3.0 (Appendix A). encoding/xml writes the
// "cas:" names as given and escapes every value.
type xmlResponse struct {
	XMLName xml.Name    `xml:"cas:serviceResponse"`
	NS      string      `xml:"xmlns:cas,attr"`
	Success *xmlSuccess `xml:"cas:authenticationSuccess,omitempty"`
	Failure *xmlFailure `xml:"cas:authenticationFailure,omitempty"`
}

type xmlSuccess struct {
	User       string         `xml:"cas:user"`
	Attributes *xmlAttributes `xml:"cas:attributes,omitempty"`
}

type xmlAttributes struct {
	Items []xmlAttribute
}

type xmlAttribute struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

type xmlFailure struct {
	Code        string `xml:"code,attr"`
	Description string `xml:",chardata"`
}

// casNamespace is the XML namespace of CAS responses.
const casNamespace = "http://www.yale.edu/tp/cas"

func writeXML(w http.ResponseWriter, res result, fail *failure) {
	doc := xmlResponse{NS: casNamespace}
	if fail != nil {
		doc.Failure = &xmlFailure{Code: fail.Code, Description: fail.Description}
	} else {
		doc.Success = &xmlSuccess{User: res.User}
		if len(res.Attributes) > 0 {
			items := make([]xmlAttribute, len(res.Attributes))
			for i, a := range res.Attributes {
				items[i] = xmlAttribute{XMLName: xml.Name{Local: "cas:" + a.Name}, Value: fmt.Sprint(a.Value)}
			}
			doc.Success.Attributes = &xmlAttributes{Items: items}
		}
	}
	out, err := xml.MarshalIndent(doc, "", " ")
	if err != nil { // cannot happen: every value is a string
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write(out)
	_, _ = w.Write([]byte("\n"))
}

// The JSON document of CAS 3.0 (format=JSON).
type jsonResponse struct {
	ServiceResponse jsonBody `json:"serviceResponse"`
}

type jsonBody struct {
	Success *jsonSuccess `json:"authenticationSuccess,omitempty"`
	Failure *failureJSON `json:"authenticationFailure,omitempty"`
}

type jsonSuccess struct {
	User       string         `json:"user"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

type failureJSON struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

func writeJSON(w http.ResponseWriter, res result, fail *failure) {
	var doc jsonResponse
	if fail != nil {
		doc.ServiceResponse.Failure = &failureJSON{Code: fail.Code, Description: fail.Description}
	} else {
		doc.ServiceResponse.Success = &jsonSuccess{User: res.User}
		if len(res.Attributes) > 0 {
			m := make(map[string]any, len(res.Attributes))
			for _, a := range res.Attributes {
				// Several values of one attribute (enterprise_labels) are a list.
				switch prev := m[a.Name].(type) {
				case nil:
					m[a.Name] = a.Value
				case []any:
					m[a.Name] = append(prev, a.Value)
				default:
					m[a.Name] = []any{prev, a.Value}
				}
			}
			doc.ServiceResponse.Success.Attributes = m
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(doc)
}
