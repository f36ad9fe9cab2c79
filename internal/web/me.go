package web

import (
	"slices"
	"strconv"

	"unid/internal/claims"
	"unid/internal/i18n"
)

type meData struct {
	Me            *Me
	Level         int
	LevelKey      string
	LevelHref     string // the 实名认证 page the level badge leads to, or "" while it is not built
	AccountTiles  []tile
	BusinessTiles []tile
}

// tile is a personal-space entry: a link to a part that is built, or, for
// one that is not, a "coming soon" mark on a plain element — never a link
// or button that leads nowhere.
type tile struct {
	ID    string // element id: tile-<name>
	Icon  string // name of an icon in templates/icons.html
	Title string
	Desc  string
	Href  string // where the tile leads; "" while the part is not built
	Soon  string // the "coming soon" mark
	// Unread is how many records of the tile's kind are unread, with
	// UnreadLabel saying so; 0 shows no badge.
	Unread      int
	UnreadLabel string
}

// tileHref is where a built part of the personal space is.
func tileHref(name string) string {
	switch {
	case name == "settings" && len(settingsSections) > 0:
		return "/settings"
	case slices.Contains(businessTiles, name):
		return "/me/" + name
	case name == "enterprise":
		return "/enterprise"
	case name == "authorize":
		return "/enterprise#apply"
	}
	return ""
}

var (
	accountTiles  = []string{"settings", "enterprise", "authorize"}
	businessTiles = []string{"cases", "consultations", "messages", "complaints", "favorites"}
)

func levelKey(level int) string { return "realname.level." + strconv.Itoa(level) + ".name" }

// meKeys lists the messages the personal space builds in Go.
func meKeys() []string {
	var keys []string
	for level := 0; level <= 3; level++ {
		keys = append(keys, levelKey(level))
	}
	for _, name := range append(append([]string{}, accountTiles...), businessTiles...) {
		keys = append(keys, "page.me.tile."+name, "page.me.tile."+name+"_desc")
	}
	keys = append(keys, "page.me.tile.unread")
	return keys
}

// meData builds the personal space; enterprise says the user holds a role
// in some enterprise, which is when 进入企业空间 is shown; unread counts
// the unread records of each kind (the tiles' badges).
func (p *Pages) meData(lang i18n.Lang, me *Me, enterprise bool, unread map[string]int) meData {
	level := claims.ClampLevel(me.RealnameLevel)
	build := func(names []string) []tile {
		ts := make([]tile, 0, len(names))
		for _, n := range names {
			if n == "enterprise" && !enterprise {
				continue
			}
			ts = append(ts, tile{
				ID:    "tile-" + n,
				Icon:  n,
				Title: p.cat.T(lang, "page.me.tile."+n),
				Desc:  p.cat.T(lang, "page.me.tile."+n+"_desc"),
				Href:  tileHref(n),
				Soon:  p.cat.T(lang, "page.site.coming_soon"),
			})
			if c := unread[n]; c > 0 {
				ts[len(ts)-1].Unread = c
				ts[len(ts)-1].UnreadLabel = p.cat.T(lang, "page.me.tile.unread", "n", strconv.Itoa(c))
			}
		}
		return ts
	}
	return meData{
		Me:            me,
		Level:         level,
		LevelKey:      levelKey(level),
		LevelHref:     realnameHref(),
		AccountTiles:  build(accountTiles),
		BusinessTiles: build(businessTiles),
	}
}

// realnameHref is the 实名认证 section of the user center, while it is
// listed.
func realnameHref() string {
	if slices.Contains(settingsSections, "realname") {
		return "/settings/realname"
	}
	return ""
}
