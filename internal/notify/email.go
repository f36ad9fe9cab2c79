package notify

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"maps"
	"strings"

	"unid/internal/i18n"
	"unid/internal/problem"
)

// Email is one mail to one address, rendered: a subject, a plain-text body
// and the same text as HTML. Template and Params say what it was made from,
// for the dev outbox; senders send Subject, Text and HTML only.
type Email struct {
	To       string // a bare address, e.g. "zs@example.com"
	Template string // e.g. TemplateEmailCode
	Params   map[string]string
	Subject  string
	Text     string
	HTML     string
}

// EmailSender sends mail. The dev Outbox and the SMTP sender implement it.
// A sender that cannot hand the mail over answers an Unavailable problem
// with code "email_unavailable", and never tries twice.
type EmailSender interface {
	SendEmail(ctx context.Context, m Email) error
}

// Email templates. Their wording is in the message catalog, as
// mail.<template>.subject and mail.<template>.body, in every language;
// {platform} is the platform's name in the mail's language.
// TemplatePasswordChanged serves mail too (no params).
const (
	// TemplateEmailCode carries a verification code; params "code",
	// "minutes".
	TemplateEmailCode = "email_code"
	// TemplateEmailChanged tells the old address that the account's email
	// was changed; param "email" (the new address, masked).
	TemplateEmailChanged = "email_changed"
)

// Mailer renders emails in the language of the request that causes them
// (i18n.FromContext) and sends them through an EmailSender. The wording
// lives in the message catalog so that a mail reads like the pages.
type Mailer struct {
	sender   EmailSender
	cat      *i18n.Catalog
	platform map[i18n.Lang]string
}

// NewMailer returns a Mailer sending through sender, wording from cat, and
// naming the platform by platform (per language; a missing language falls
// back to Chinese).
func NewMailer(sender EmailSender, cat *i18n.Catalog, platform map[i18n.Lang]string) *Mailer {
	return &Mailer{sender: sender, cat: cat, platform: maps.Clone(platform)}
}

// ErrNoMailer is what a nil Mailer answers: no mail server is configured.
var ErrNoMailer = errors.New("notify: no mail server is configured")

// Mail renders template with params for the language of ctx and sends it
// to to.
func (m *Mailer) Mail(ctx context.Context, to, template string, params map[string]string) error {
	if m == nil || m.sender == nil {
		return unavailableEmail(ErrNoMailer)
	}
	e, err := m.Render(i18n.FromContext(ctx), to, template, params)
	if err != nil {
		return err
	}
	return m.sender.SendEmail(ctx, e)
}

// Render builds the mail template with params in lang.
func (m *Mailer) Render(lang i18n.Lang, to, tmpl string, params map[string]string) (Email, error) {
	subjectKey, bodyKey := "mail."+tmpl+".subject", "mail."+tmpl+".body"
	if !m.cat.Has(subjectKey) || !m.cat.Has(bodyKey) {
		return Email{}, errors.New("notify: unknown email template " + tmpl)
	}
	platform := m.platform[lang]
	if platform == "" {
		platform = m.platform[i18n.ZH]
	}
	kv := []string{"platform", platform}
	for k, v := range params {
		kv = append(kv, k, v)
	}
	body := m.cat.T(lang, bodyKey, kv...)
	footer := m.cat.T(lang, "mail.footer", kv...)
	text := body + "\n\n-- \n" + footer + "\n"

	var paras []string
	for p := range strings.SplitSeq(body, "\n\n") {
		paras = append(paras, strings.TrimSpace(p))
	}
	var html bytes.Buffer
	err := mailHTML.Execute(&html, map[string]any{
		"Lang": string(lang), "Title": m.cat.T(lang, subjectKey, kv...), "Paragraphs": paras, "Footer": footer,
	})
	if err != nil {
		return Email{}, err
	}
	return Email{
		To: to, Template: tmpl, Params: maps.Clone(params),
		Subject: m.cat.T(lang, subjectKey, kv...), Text: text, HTML: html.String(),
	}, nil
}

// mailHTML is the one layout of every mail's HTML part: the text's
// paragraphs, escaped, and the footer. Mail readers ignore style sheets
// and scripts, so it has neither.
var mailHTML = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}<hr>
<p><small>{{.Footer}}</small></p>
</body></html>
`))

func unavailableEmail(err error) error {
	return &problem.Problem{Kind: problem.Unavailable, Code: "email_unavailable", Err: err}
}
