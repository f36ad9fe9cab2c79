package web

import "net/http"

// messagesData is what the 我的消息 page receives. The messages themselves
// come from GET /api/v1/messages (messages.js), rendered in the page's
// language by the records service.
type messagesData struct {
	Me *Me
}

// Messages serves the signed-in user's messages from unid (GET
// /me/messages), or sends a visitor who is not signed in to the login
// page, to come back here afterwards.
func (p *Pages) Messages(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	me, ok := p.me(r)
	if !ok {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/login?next=/me/messages", http.StatusSeeOther)
		return
	}
	p.render(w, r, lang, 0, pageMessages, messagesData{Me: me})
}
