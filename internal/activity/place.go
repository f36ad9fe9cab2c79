package activity

import (
	"fmt"
	"net/netip"
)

// Place is where a request came from, as coarsely as unid can tell without
// a geolocation database: the kind of network, and for a public address
// the address with its host part hidden.
type Place struct {
	Kind    string // PlaceLocal, PlacePrivate, PlacePublic or PlaceUnknown
	Network string // PlacePublic only: "203.0.113.*", "2001:db8:85a3:*"
}

// Kinds of Place.
const (
	PlaceLocal   = "local"   // this machine (loopback): 本机网络
	PlacePrivate = "private" // an internal network: 内网
	PlacePublic  = "public"  // the internet, shown masked
	PlaceUnknown = "unknown" // no address, or not one
)

// sharedSpace is the carriers' shared address space (RFC 6598), which a
// server sees only from inside such a network: internal, like RFC 1918.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// PlaceOf returns the place of the address ip as stored with a session or
// an audit event. A public IPv4 address keeps its first three parts
// (203.0.113.*), an IPv6 address its /48 routing prefix: enough for the
// owner to tell their home or office network from a stranger's, not
// enough to single out a machine.
func PlaceOf(ip string) Place {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return Place{Kind: PlaceUnknown}
	}
	a = a.Unmap().WithZone("")
	switch {
	case a.IsUnspecified():
		return Place{Kind: PlaceUnknown}
	case a.IsLoopback():
		return Place{Kind: PlaceLocal}
	case a.IsPrivate() || a.IsLinkLocalUnicast() || sharedSpace.Contains(a):
		return Place{Kind: PlacePrivate}
	case a.Is4():
		b := a.As4()
		return Place{Kind: PlacePublic, Network: fmt.Sprintf("%d.%d.%d.*", b[0], b[1], b[2])}
	}
	b := a.As16()
	return Place{Kind: PlacePublic, Network: fmt.Sprintf("%x:%x:%x:*",
		uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3]), uint16(b[4])<<8|uint16(b[5]))}
}
