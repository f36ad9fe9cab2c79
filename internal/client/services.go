package client

import (
	"context"
	"net/url"
	"strings"
	"time"

	"unid/internal/problem"
	"unid/internal/store"
)

// Services are the registered CAS clients' service patterns, parsed and
// indexed by host, for finding the client a service URL belongs to. A CAS
// login and each ticket validation need that client; a province registers
// hundreds of systems, so neither reads nor parses the registry each time.
type Services struct {
	byHost map[string][]service
	// Invalid are the CAS clients with a stored pattern that does not
	// parse (the rules became stricter after it was registered); those
	// patterns are left out.
	Invalid []string
}

type service struct {
	client  store.Client
	pattern Pattern
}

// newServices indexes the CAS clients of clients, which are in ID order.
func newServices(clients []store.Client) *Services {
	s := &Services{byHost: map[string][]service{}}
	for _, c := range clients {
		if c.Type != store.ClientCAS {
			continue
		}
		for _, raw := range c.RedirectURIs {
			p, err := ParsePattern(raw)
			if err != nil {
				if len(s.Invalid) == 0 || s.Invalid[len(s.Invalid)-1] != c.ID {
					s.Invalid = append(s.Invalid, c.ID)
				}
				continue
			}
			s.byHost[p.host] = append(s.byHost[p.host], service{client: c, pattern: p})
		}
	}
	return s
}

// Match returns the CAS client whose patterns allow u, a URL from
// ParseService. When several do, an exact pattern wins over a prefix, and a
// longer prefix over a shorter one, so that the most specific registration
// decides which attributes are released; between equals, the client first
// in ID order. What it returns is shared: callers do not change it.
func (s *Services) Match(u *url.URL) (store.Client, bool) {
	var best store.Client
	bestScore := -1
	for _, sp := range s.byHost[strings.ToLower(u.Host)] {
		if score := sp.pattern.Specificity(); score > bestScore && sp.pattern.MatchURL(u) {
			best, bestScore = sp.client, score
		}
	}
	return best, bestScore >= 0
}

// Services returns the CAS clients' service patterns as read from the
// store at most CacheFor ago (Listed).
func (r *Registry) Services(ctx context.Context) (*Services, error) {
	l, err := r.listed(ctx)
	if err != nil {
		return nil, err
	}
	return l.services, nil
}

// Listed returns every client, in ID order, as read from the store at most
// CacheFor ago: what serves requests, where List serves the operators'
// changes. A change made through this Registry is seen at once; one made
// through another instance's, within CacheFor. What it returns is shared:
// callers do not change it.
func (r *Registry) Listed(ctx context.Context) ([]store.Client, error) {
	l, err := r.listed(ctx)
	if err != nil {
		return nil, err
	}
	return l.clients, nil
}

// listing is every client as read at once, and the CAS services among
// them.
type listing struct {
	clients  []store.Client
	services *Services
}

func (r *Registry) listed(ctx context.Context) (*listing, error) {
	l, ok, gen := r.cache.getListing()
	if ok {
		return l, nil
	}
	at := time.Now()
	cs, err := r.store.ListClients(ctx)
	if err != nil {
		return nil, problem.Wrap(err)
	}
	l = &listing{clients: cs, services: newServices(cs)}
	r.cache.putListing(l, gen, at)
	return l, nil
}
