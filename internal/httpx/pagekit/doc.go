// Package pagekit is the plumbing the two sets of server-rendered pages —
// the citizens' pages (internal/web) and the operator console
// (internal/console) — share, so that neither copies it from the other
// (adapters do not import each other):
//
//   - a set of pages (Set): each page's templates parsed, checked and
//     rendered with its sample in every language at start-up, then
//     rendered only with data of that type, inside the adapter's own view
//     that embeds View, with the page headers and, if asked, gzipped;
//   - the start-up check that every message key a template passes to T
//     ({{.T "key"}} or {{$.T "key"}}) exists in the catalog (Keys,
//     MissingMessages);
//   - embedded static files served under content-hashed URLs, cached for a
//     year when asked for with the current hash and revalidated otherwise
//     (Assets);
//   - the headers every HTML page carries (SetHeaders), the language of a
//     request with its remembered ?lang= choice (Lang), and the messages a
//     page's scripts receive (JSMessages).
//
// What is each adapter's own stays there: the page tables, templates,
// scripts, data types, the Content-Security-Policy values and the cookies
// of a session. pagekit knows no adapter.
package pagekit
