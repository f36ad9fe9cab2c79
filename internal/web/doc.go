// Package web owns the HTML pages of unid that citizens see: login,
// registration, the personal space, the ways in through providers outside
// unid such as Alipay (buttons on the login, registration and recovery
// pages, /upstream/continue, the user center's 账号绑定; upstream.go), the
// enterprise space (/enterprise and one enterprise's page, for its members
// only), the privacy notice and user agreement, and the pages of the single
// sign-on protocols (consent, errors, logout confirmation, the CAS
// notices), in Simplified Chinese (the default) and English.
//
// Every page is one entry of pageTable (render.go): its name, template,
// title, status, script and a sample of its data. New parses and dry-runs
// each, and render is the one way any page reaches a browser, with the
// same layout, headers and development banner, gzipped when the browser
// takes it. The parsing, checks, dry run, rendering and static files are
// pagekit's (internal/httpx/pagekit), shared with the operator console;
// the table, templates, scripts and Content-Security-Policy are web's.
//
// Templates and static assets are embedded, so a unid binary on a government
// intranet with no internet serves everything itself: no CDN, no web fonts,
// no build step. All templates are parsed, and every message key they use is
// checked against the catalog, when New runs; a broken page stops start-up
// instead of reaching a citizen.
//
// The pages are thin. Forms are sent by each page's script (static/login.js,
// register.js, me.js, consent.js over the shared common.js) to the JSON API under
// /api/v1/ (which owns every rule); the server renders only what it already
// knows, such as the signed-in user's masked details on /me. Pages carry a
// strict Content-Security-Policy, so there is no inline script or style.
//
// Language: ?lang=zh-CN|en on any page sets the unid_lang cookie and renders
// in that language; otherwise i18n.Negotiate decides.
package web
