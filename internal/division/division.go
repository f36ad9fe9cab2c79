package division

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"unid/internal/problem"
)

//go:embed data/divisions.tsv
var tsv []byte

// Level is how deep a division lies.
type Level int

// Levels of the table.
const (
	Province Level = 1 // 省级: province, autonomous region, municipality
	City     Level = 2 // 地级: prefecture-level city, prefecture, league (and a municipality's one entry)
	County   Level = 3 // 县级: district, county, county-level city, banner
)

// Division is one entry of the table.
type Division struct {
	Code   string // six digits
	Name   string
	Parent string // "" for a province
	Level  Level
}

// Field names of an address's place, the problem fields of its errors.
const (
	FieldProvince = "province"
	FieldCity     = "city"
	FieldCounty   = "county"
	FieldPostcode = "postcode"
)

// table is the parsed division table.
type table struct {
	byCode   map[string]Division
	children map[string][]Division // by parent code; "" → provinces; in code order
}

// load parses the embedded file once; the result is never changed.
var load = sync.OnceValue(func() *table {
	t, err := parse(tsv)
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return t
})

func parse(data []byte) (*table, error) {
	t := &table{byCode: map[string]Division{}, children: map[string][]Division{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 3 || !sixDigits(parts[0]) || parts[1] == "" {
			return nil, fmt.Errorf("division: line %d: %q", n, sc.Text())
		}
		d := Division{Code: parts[0], Name: parts[1], Parent: parts[2], Level: Province}
		if d.Parent != "" {
			p, ok := t.byCode[d.Parent]
			if !ok || p.Level == County {
				return nil, fmt.Errorf("division: line %d: parent %q of %s is not above it", n, d.Parent, d.Code)
			}
			d.Level = p.Level + 1
		}
		if _, dup := t.byCode[d.Code]; dup {
			return nil, fmt.Errorf("division: line %d: code %s twice", n, d.Code)
		}
		t.byCode[d.Code] = d
		t.children[d.Parent] = append(t.children[d.Parent], d)
	}
	return t, sc.Err()
}

func sixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Lookup returns the division with code.
func Lookup(code string) (Division, bool) {
	d, ok := load().byCode[code]
	return d, ok
}

// Children returns the divisions directly under code, in code order: the
// provinces for "", nothing for a county or an unknown code. The slice is
// shared: callers must not change it.
func Children(code string) []Division {
	return load().children[code]
}

// Place is where an address lies: a province, a city in it, and a county in
// the city, or no county for a city that has none.
type Place struct {
	Province, City, County Division
}

// Code is the finest division of p, the one an address stores.
func (p Place) Code() string {
	if p.County.Code != "" {
		return p.County.Code
	}
	return p.City.Code
}

// Resolve checks the codes an address form sends — a province, a city in
// it, a county in the city — and returns their Place. county must be given
// exactly when the city has counties. Every broken rule is reported at once
// (problem code invalid_fields): province_required, province_unknown,
// city_required, city_not_in_province, county_required, county_not_in_city.
func Resolve(province, city, county string) (Place, error) {
	t := load()
	f := problem.FieldSet{}
	var p Place
	switch d, ok := t.byCode[province]; {
	case province == "":
		f.Add(FieldProvince, problem.Field(FieldProvince, "province_required"))
	case !ok || d.Level != Province:
		f.Add(FieldProvince, problem.Field(FieldProvince, "province_unknown"))
	default:
		p.Province = d
	}
	switch d, ok := t.byCode[city]; {
	case city == "":
		f.Add(FieldCity, problem.Field(FieldCity, "city_required"))
	case !ok || d.Level != City || p.Province.Code != "" && d.Parent != p.Province.Code:
		f.Add(FieldCity, problem.Field(FieldCity, "city_not_in_province"))
	default:
		p.City = d
	}
	if p.City.Code != "" || f[FieldCity] == "" {
		hasCounties := len(t.children[p.City.Code]) > 0
		switch d, ok := t.byCode[county]; {
		case county == "" && hasCounties:
			f.Add(FieldCounty, problem.Field(FieldCounty, "county_required"))
		case county == "":
		case !ok || d.Level != County || d.Parent != p.City.Code:
			f.Add(FieldCounty, problem.Field(FieldCounty, "county_not_in_city"))
		default:
			p.County = d
		}
	} else if county != "" {
		// The city is wrong: a county cannot be checked against it, and
		// one that is no county at all is still reported.
		if d, ok := t.byCode[county]; !ok || d.Level != County {
			f.Add(FieldCounty, problem.Field(FieldCounty, "county_not_in_city"))
		}
	}
	if err := f.Err(); err != nil {
		return Place{}, err
	}
	return p, nil
}

// Of returns the Place of a stored code: a county, or a city that has no
// counties. ok is false for any other code, such as one that a newer table
// no longer has.
func Of(code string) (p Place, ok bool) {
	t := load()
	d, ok := t.byCode[code]
	if !ok || d.Level == Province || d.Level == City && len(t.children[code]) > 0 {
		return Place{}, false
	}
	if d.Level == County {
		p.County = d
		d = t.byCode[d.Parent]
	}
	p.City = d
	p.Province = t.byCode[d.Parent]
	return p, true
}
