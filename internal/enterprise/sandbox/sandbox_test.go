package sandbox

import (
	"context"
	"testing"

	"unid/internal/enterprise"
	rsandbox "unid/internal/realname/sandbox"
)

// The fixture's codes are valid, its legal representatives are the
// real-name sandbox's people, and it has the statuses the tests need.
func TestFixture(t *testing.T) {
	people := map[string]string{}
	for _, p := range rsandbox.People() {
		people[p.IDNumber] = p.RealName
	}
	statuses := map[string]int{}
	for _, e := range Enterprises() {
		if _, err := enterprise.ParseUSCC(e.USCC); err != nil {
			t.Errorf("%s: %v", e.USCC, err)
		}
		if people[e.LegalRepID] != e.LegalRepName {
			t.Errorf("%s: legal rep %s is not a real-name sandbox person", e.USCC, e.LegalRepName)
		}
		statuses[e.Status]++
	}
	if statuses[enterprise.StatusDeregistered] == 0 || statuses[enterprise.StatusRevoked] == 0 || statuses[enterprise.StatusActive] < 2 {
		t.Errorf("statuses %v", statuses)
	}
	r := New()
	e := Enterprises()[0]
	if got, ok, _ := r.Lookup(context.Background(), e.USCC); !ok || got.LegalRepName != e.LegalRepName || got.LegalRepID != e.LegalRepID {
		t.Errorf("the legal rep is not the fixture's: %+v", got)
	}
	r.SetLegalRep(e.USCC, "李四", "44030519880415001X")
	if got, _, _ := r.Lookup(context.Background(), e.USCC); got.LegalRepName != "李四" || got.LegalRepID != "44030519880415001X" {
		t.Errorf("the new legal rep is not named: %+v", got)
	}
}
