package notify

import (
	"testing"

	"unid/internal/i18n"
)

// TestEveryNoticeHasAnEmail: a notice texted to an account's owner can be
// mailed to the bound address too, in both languages.
func TestEveryNoticeHasAnEmail(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for name := range smsTemplates {
		if name == TemplateSMSCode {
			continue
		}
		for _, key := range []string{"mail." + name + ".subject", "mail." + name + ".body"} {
			if !cat.Has(key) {
				t.Errorf("notice %q has no %s", name, key)
			}
		}
	}
}
