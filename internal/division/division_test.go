package division

import (
	"errors"
	"testing"

	"unid/internal/problem"
)

func TestTable(t *testing.T) {
	provinces := Children("")
	if len(provinces) != 31 {
		t.Fatalf("%d provinces, want the mainland's 31", len(provinces))
	}
	counties := 0
	for _, p := range provinces {
		if _, ok := provincePostcodes[p.Code[:2]]; !ok || p.Code[2:] != "0000" {
			t.Errorf("province %s %s has no postcode prefixes or an odd code", p.Code, p.Name)
		}
		cities := Children(p.Code)
		if len(cities) == 0 {
			t.Errorf("province %s %s has no cities", p.Code, p.Name)
		}
		for _, c := range cities {
			if c.Level != City || c.Parent != p.Code || c.Code[:2] != p.Code[:2] {
				t.Errorf("city %+v under %s", c, p.Code)
			}
			for _, k := range Children(c.Code) {
				counties++
				if k.Level != County || k.Code[:2] != p.Code[:2] || len(Children(k.Code)) != 0 {
					t.Errorf("county %+v under %s", k, c.Code)
				}
				if pl, ok := Of(k.Code); !ok || pl.County != k || pl.City != c || pl.Province != p {
					t.Errorf("Of(%s) = %+v, %v", k.Code, pl, ok)
				}
			}
		}
	}
	if len(provincePostcodes) != 31 {
		t.Errorf("postcode table has %d provinces", len(provincePostcodes))
	}
	if counties < 2800 {
		t.Errorf("only %d counties", counties)
	}
	for _, code := range []string{"110101", "500229", "441900", "429004", "659001"} {
		if _, ok := Of(code); !ok {
			t.Errorf("Of(%s): no place", code)
		}
	}
	for _, code := range []string{"", "370000", "370100", "110100", "999999", "810001", "710000"} {
		if p, ok := Of(code); ok {
			t.Errorf("Of(%q) = %+v, want none (not a finest division of the mainland)", code, p)
		}
	}
	if d, ok := Lookup("370102"); !ok || d.Name != "历下区" || d.Parent != "370100" {
		t.Errorf("Lookup(370102) = %+v, %v", d, ok)
	}
}

func fieldCode(err error, field string) string {
	var p *problem.Problem
	if !errors.As(err, &p) {
		return ""
	}
	return p.Fields[field]
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name                   string
		province, city, county string
		want                   string // code of the place, or ""
		field, code            string
	}{
		{"county of Jinan", "370000", "370100", "370102", "370102", "", ""},
		{"Beijing district", "110000", "110100", "110105", "110105", "", ""},
		{"Chongqing county", "500000", "500100", "500229", "500229", "", ""},
		{"city without counties", "440000", "441900", "", "441900", "", ""},
		{"county-level city under the province", "420000", "429000", "429004", "429004", "", ""},
		{"no province", "", "370100", "370102", "", FieldProvince, "province_required"},
		{"unknown province", "990000", "370100", "370102", "", FieldProvince, "province_unknown"},
		{"city given as province", "370100", "370100", "370102", "", FieldProvince, "province_unknown"},
		{"no city", "370000", "", "", "", FieldCity, "city_required"},
		{"city of another province", "370000", "320100", "320102", "", FieldCity, "city_not_in_province"},
		{"county missing", "370000", "370100", "", "", FieldCounty, "county_required"},
		{"county of another city", "370000", "370100", "370202", "", FieldCounty, "county_not_in_city"},
		{"unknown county", "370000", "370100", "370199", "", FieldCounty, "county_not_in_city"},
		{"county for a city without counties", "440000", "441900", "441901", "", FieldCounty, "county_not_in_city"},
		{"not a code", "37000x", "370100", "370102", "", FieldProvince, "province_unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Resolve(tt.province, tt.city, tt.county)
			if tt.code == "" {
				if err != nil || p.Code() != tt.want {
					t.Fatalf("Resolve = %+v, %v; want %s", p, err, tt.want)
				}
				return
			}
			if got := fieldCode(err, tt.field); got != tt.code {
				t.Fatalf("Resolve: %v; want %s on %s", err, tt.code, tt.field)
			}
		})
	}
}

func TestPostcode(t *testing.T) {
	place := func(code string) Place {
		p, ok := Of(code)
		if !ok {
			t.Fatalf("no place %s", code)
		}
		return p
	}
	// The postcodes of the prefectures' seats, as the directory lists them.
	tests := []struct {
		place, postcode string
		ok              bool
	}{
		{"370102", "250014", true},  // 济南 历下区
		{"370202", "266001", true},  // 青岛 市南区
		{"371302", "276000", true},  // 临沂 兰山区
		{"110105", "100020", true},  // 北京 朝阳区
		{"310101", "200001", true},  // 上海 黄浦区
		{"120101", "300041", true},  // 天津 和平区
		{"500229", "405900", true},  // 重庆 城口县
		{"130102", "050000", true},  // 石家庄 长安区
		{"150102", "010010", true},  // 呼和浩特 新城区
		{"152201", "137400", true},  // 兴安盟 乌兰浩特市: routed through Jilin
		{"152921", "750300", true},  // 阿拉善左旗: through Ningxia
		{"152923", "735400", true},  // 额济纳旗: through Gansu
		{"150102", "137400", false}, // Jilin's digits are not Hohhot's
		{"441900", "523000", true},  // 东莞市
		{"460105", "570311", true},  // 海口 秀英区
		{"540102", "850000", true},  // 拉萨 城关区
		{"650102", "830000", true},  // 乌鲁木齐 天山区
		{"630102", "810000", true},  // 西宁 城东区
		{"640104", "750001", true},  // 银川 兴庆区
		{"370102", "100020", false}, // a Beijing postcode in Jinan
		{"110105", "250014", false}, // a Jinan postcode in Beijing
		{"440106", "430000", false}, // a Wuhan postcode in Guangzhou
	}
	for _, tt := range tests {
		err := CheckPostcode(place(tt.place), tt.postcode)
		if (err == nil) != tt.ok {
			t.Errorf("CheckPostcode(%s, %s) = %v, want ok %v", tt.place, tt.postcode, err, tt.ok)
		}
		if err != nil && fieldCode(err, FieldPostcode) != "postcode_province" {
			t.Errorf("CheckPostcode(%s, %s) = %v", tt.place, tt.postcode, err)
		}
	}
}

func TestNormalizePostcode(t *testing.T) {
	for in, want := range map[string]string{"250014": "250014", " ２５００１４ ": "250014"} {
		if got, err := NormalizePostcode(in); err != nil || got != want {
			t.Errorf("NormalizePostcode(%q) = %q, %v", in, got, err)
		}
	}
	for in, code := range map[string]string{"": "postcode_required", "25001": "postcode_format", "2500144": "postcode_format", "25o014": "postcode_format", "250 014": "postcode_format"} {
		if _, err := NormalizePostcode(in); fieldCode(err, FieldPostcode) != code {
			t.Errorf("NormalizePostcode(%q) = %v, want %s", in, err, code)
		}
	}
}
