package cas

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

// Tickets. A service ticket is "ST-" and 128 random bits in unpadded
// base32 (26 characters of A-Z, 2-7): 29 characters in all, within both the
// character set of the CAS specification (A-Z, a-z, 0-9 and "-", section
// 3.7) and the 32 characters every CAS client must accept (section 3.1.1).
const (
	ticketPrefix  = "ST-"
	ticketBodyLen = 26
	ticketLen     = len(ticketPrefix) + ticketBodyLen
)

var ticketEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTicket returns a fresh service ticket.
func newTicket() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: the program crashes if the system has no randomness
	return ticketPrefix + ticketEncoding.EncodeToString(b[:])
}

// ParseTicket reports whether s has the form of a service ticket this
// server issues. Anything else (a proxy ticket "PT-…", another server's
// ticket, garbage) never reaches the store.
func ParseTicket(s string) bool {
	body, ok := strings.CutPrefix(s, ticketPrefix)
	if !ok || len(body) != ticketBodyLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		if c := body[i]; !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// ticketKey is the store key of a ticket: its SHA-256, so that a copy of
// the challenges (the database's table, or Redis) holds no ticket a
// service would accept.
func ticketKey(ticket string) string {
	sum := sha256.Sum256([]byte(ticket))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
