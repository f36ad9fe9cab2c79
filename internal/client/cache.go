package client

import (
	"sync"
	"time"

	"unid/internal/store"
)

// CacheFor is how long a registration read from the store serves the
// token endpoint and sign-ins before it is read again. Every token request
// needs its client twice (authentication, then the grant's checks); a busy
// service system asks thousands of times a second for a registration that
// changes a few times a year. A change made through this Registry is seen
// by it at once; another instance sees it within CacheFor, as it would a
// replica's lag.
const CacheFor = time.Second

// cache keeps clients found in the store. It never keeps a miss, so a
// stranger's made-up IDs cannot fill it: it holds at most the registered
// clients.
type cache struct {
	mu             sync.Mutex
	entries        map[string]cached
	listing        *listing // every client; nil when not kept
	listingExpires time.Time
	gen            uint64 // counts forgets, so a read that raced one is not kept
}

type cached struct {
	c       store.Client
	expires time.Time
}

// get returns the client id if it was read less than CacheFor ago, and the
// generation to pass to put after reading it from the store.
func (k *cache) get(id string) (store.Client, bool, uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.entries[id]
	if ok && time.Now().Before(e.expires) {
		return e.c, true, k.gen
	}
	return store.Client{}, false, k.gen
}

// put keeps c, read from the store from at on, unless a change was
// forgotten since gen was handed out. Its second counts from at, so that
// no answer is older than CacheFor.
func (k *cache) put(c store.Client, gen uint64, at time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen != k.gen {
		return
	}
	if k.entries == nil {
		k.entries = make(map[string]cached)
	}
	k.entries[c.ID] = cached{c: c, expires: at.Add(CacheFor)}
}

// getListing returns every client if they were read less than CacheFor
// ago, and the generation to pass to putListing.
func (k *cache) getListing() (*listing, bool, uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.listing != nil && time.Now().Before(k.listingExpires) {
		return k.listing, true, k.gen
	}
	return nil, false, k.gen
}

// putListing keeps l, read from the store from at on, as put keeps a
// client.
func (k *cache) putListing(l *listing, gen uint64, at time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen != k.gen {
		return
	}
	k.listing, k.listingExpires = l, at.Add(CacheFor)
}

// forget drops id after a change to it (or its creation), and the
// listing, which may include it.
func (k *cache) forget(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen++
	delete(k.entries, id)
	k.listing = nil
}
