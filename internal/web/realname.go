package web

import (
	"strconv"

	"unid/internal/httpx"

	"unid/internal/claims"
	"unid/internal/i18n"
)

// The 实名认证 section of the user center (/settings/realname) shows the
// level, what each level unlocks and the paths to the next one; its script
// (settings_realname.js) reads GET /api/v1/realname and sends the forms
// to the JSON API of the realname service, which owns every rule. The
// page is also the step-up page: a service system that needs a higher
// level sends the user to /settings/realname?next=PATH&level=N, and once
// the user has level N (any success, without level) the page offers the
// way back to PATH.

// realnameRedirects are the methods whose check happens at the
// verification service's own page: the user presses a button and goes there.
var realnameRedirects = []string{"netid", "face", "netid_face"}

// realnameData is what the 实名认证 page receives.
type realnameData struct {
	settingsData
	Level  int    // the signed-in user's level as the page is rendered
	Next   string // SafeNext of ?next=: where "continue" leads after a success; "" for none
	Need   int    // ?level= with a next: the level the service needs (1…3); 0 for any success
	Levels []realnameLevel
}

// realnameLevel is one level with its name and what it unlocks.
type realnameLevel struct {
	Level         int
	Name, Unlocks string
}

func realnameLevelKey(level int, part string) string {
	return "realname.level." + strconv.Itoa(level) + "." + part
}

// realnameKeys lists the messages the page builds in Go.
func realnameKeys() []string {
	keys := settingsKeys()
	for level := 0; level <= claims.MaxLevel; level++ {
		keys = append(keys, realnameLevelKey(level, "name"), realnameLevelKey(level, "unlocks"))
	}
	for _, m := range realnameRedirects {
		keys = append(keys, "page.realname."+m+".title", "page.realname."+m+".desc", "page.realname."+m+".submit")
	}
	return keys
}

func (p *Pages) realnameData(lang i18n.Lang, me *Me, next, need string) realnameData {
	d := realnameData{settingsData: p.settingsData(lang, me, "realname"), Level: claims.ClampLevel(me.RealnameLevel), Next: httpx.SafeNext(next)}
	if n, err := strconv.Atoi(need); err == nil && d.Next != "" && n >= 1 && n <= claims.MaxLevel {
		d.Need = n
	}
	for level := 0; level <= claims.MaxLevel; level++ {
		d.Levels = append(d.Levels, realnameLevel{
			Level: level, Name: p.cat.T(lang, realnameLevelKey(level, "name")), Unlocks: p.cat.T(lang, realnameLevelKey(level, "unlocks")),
		})
	}
	return d
}

// LevelName is the name of the user's level as the page is rendered.
func (d realnameData) LevelName() string { return d.Levels[d.Level].Name }

// RedirectMethods are the methods the page offers as a button to the
// verification service's page.
func (realnameData) RedirectMethods() []string { return realnameRedirects }
