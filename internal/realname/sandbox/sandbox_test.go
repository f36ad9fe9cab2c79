package sandbox_test

import (
	"testing"
	"time"

	"unid/internal/account"
	"unid/internal/realname/sandbox"
)

// TestFixture: the test people pass unid's own format checks, so that the
// sandbox tests the verifier and not the form.
func TestFixture(t *testing.T) {
	people := sandbox.People()
	if len(people) < 4 {
		t.Fatalf("%d people", len(people))
	}
	faceFails := 0
	for _, p := range people {
		if _, err := account.ParseIDNumber(p.IDNumber, time.Now()); err != nil {
			t.Errorf("%s: %v", p.IDNumber, err)
		}
		if err := account.ValidateRealName(p.RealName); err != nil {
			t.Errorf("%s: %v", p.RealName, err)
		}
		for _, c := range p.Cards {
			if !luhn(c.Number) {
				t.Errorf("card %s of %s fails the Luhn check", c.Number, p.RealName)
			}
		}
		if p.Face == "fail" {
			faceFails++
		}
	}
	if people[0].IDNumber != "11010519491231002X" || len(people[0].Cards) == 0 || faceFails == 0 {
		t.Error("the fixture lost apptest.Zhang's card or its failing face")
	}
}

func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
