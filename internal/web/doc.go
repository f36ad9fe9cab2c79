// Package web owns the HTML pages of unid that citizens see: login,
// registration and the personal space, in Simplified Chinese (the default)
// and English.
//
// Templates and static assets are embedded, so a unid binary on a government
// intranet with no internet serves everything itself: no CDN, no web fonts,
// no build step. All templates are parsed, and every message key they use is
// checked against the catalog, when New runs; a broken page stops start-up
// instead of reaching a citizen.
//
// The pages are thin. Forms are sent by static/app.js to the JSON API under
// /api/v1/ (which owns every rule); the server renders only what it already
// knows, such as the signed-in user's masked details on /me. Pages carry a
// strict Content-Security-Policy, so there is no inline script or style.
//
// Language: ?lang=zh-CN|en on any page sets the unid_lang cookie and renders
// in that language; otherwise i18n.Negotiate decides.
package web
