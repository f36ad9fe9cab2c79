// Package console serves the operator console's pages under /console/:
// server-rendered shells in the operator's language (zh-CN by default, en)
// whose scripts work through the operator API (/api/admin/v1/). It holds
// no rule of its own: who is signed in comes from operator.Service.Current,
// which roles see a section from operator.HasAny, and every action is a
// call of the operator API, which checks the role again.
//
// The console is a list of sections (sections): the dashboard (every
// role), the review queue, citizens and enterprises (secadmin), audit
// (auditor), service systems and operators (sysadmin) and the operator's
// own security page (passkeys, API tokens). Each is a page with its
// template and script; the navigation shows an operator the sections
// their roles open, and a section asked for by another role is a 403 page.
//
// A console session ends after 15 idle minutes; a page asked for after
// that, and any API call a page makes, sends the operator to the sign-in
// page, which says why.
package console
