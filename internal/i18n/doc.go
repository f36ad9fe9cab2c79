// Package i18n owns the message catalog of unid: every string a user reads
// (page text, API error messages) is looked up here by a stable key, in
// Simplified Chinese (the default) or English.
//
// Messages live in embedded flat JSON files, messages/<lang>/<area>.json,
// key → text. The files of one language are merged; Load refuses a catalog in
// which a key exists in one language but not the other, or in two files of
// the same language, so a missing translation is caught at start-up and by
// the tests rather than by a citizen reading a raw key.
//
// Texts may hold {name} placeholders, filled by T from key/value pairs.
// Negotiate picks the language of a request: ?lang=, then the unid_lang
// cookie, then Accept-Language, then Chinese.
package i18n
